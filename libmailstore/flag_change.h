#pragma once
// The flag arithmetic of STORE and APPEND, shared by every backend: a FlagChange applied to
// a message's system flags and keywords. Keywords compare case-insensitively and keep the
// case they were first given in; empty keywords are never added.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/store.h"

namespace postern {

// True when `ks` holds `k` (case-insensitively).
bool has_keyword(const std::vector<std::string>& ks, std::string_view k);

// Appends the keywords of `ks` that `to` does not hold yet (no empty ones, no duplicates).
void add_keywords(std::vector<std::string>& to, const std::vector<std::string>& ks);

// Applies `change` (set, add or remove) to flags and keywords; true when either changed.
// Flag bits outside all_flags are ignored.
bool apply_flag_change(uint8_t& flags, std::vector<std::string>& keywords,
                       const FlagChange& change);

}  // namespace postern
