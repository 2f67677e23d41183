#include "ctl/ctl.h"

#include <cstdio>

namespace postern::ctl {

int fail(int code, const std::string& message) {
    std::fprintf(stderr, "mailctl: %s\n", message.c_str());
    return code;
}

}  // namespace postern::ctl
