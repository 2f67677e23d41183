// parse_size (mailctl user quota SIZE, user add --quota SIZE) on arbitrary text.
// Invariants: an error is one non-empty line; an accepted size prints (format_size) as a
// form that parses back to the same number, and only "none" or a leading digit is accepted.
#include "ctl/size_arg.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace postern::ctl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto n = parse_size(text);
    if (!n) {
        if (n.error().empty() || n.error().find('\n') != std::string::npos) __builtin_trap();
        return 0;
    }
    if (text != "none" && (text.empty() || text[0] < '0' || text[0] > '9')) __builtin_trap();
    auto back = parse_size(format_size(*n));
    if (!back || *back != *n) __builtin_trap();
    return 0;
}
