#include "ctl/store_errors.h"

#include "ctl/ctl.h"

namespace postern::ctl {

int exit_code_for(StoreError e) { return e == StoreError::invalid ? exit_usage : exit_failed; }

int store_fail(StoreError e, const std::string& what) {
    return fail(exit_code_for(e), what + ": " + describe(e));
}

}  // namespace postern::ctl
