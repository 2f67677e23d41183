#pragma once
// Turning store errors into mailctl's one-line messages and exit codes, in one place.

#include <string>

#include "libmailstore/store_error.h"

namespace postern::ctl {

// The exit code for a store error: invalid -> 2 (bad input), everything else -> 1.
int exit_code_for(StoreError e);

// Prints "mailctl: WHAT: <describe(e)>" and returns exit_code_for(e).
int store_fail(StoreError e, const std::string& what);

}  // namespace postern::ctl
