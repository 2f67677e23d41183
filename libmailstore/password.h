#pragma once
// Password hashing for accounts. New hashes are yescrypt ("$y$...") made with libcrypt.
// Verification accepts:
//   plain crypt(3) strings: $y$ (yescrypt), $gy$, $7$, $6$ (SHA-512), $5$, $2b$/$2y$ (bcrypt)
//   Dovecot-style scheme prefixes: {CRYPT}, {SHA512-CRYPT}, {SHA256-CRYPT}, {BLF-CRYPT},
//   {YESCRYPT} followed by a crypt string, and {ARGON2ID}/{ARGON2I} followed by an
//   "$argon2id$..." encoded string (checked with libargon2).
// Intermediate copies of secrets are wiped with OPENSSL_cleanse.

#include <string>
#include <string_view>

#include "libmailstore/store_error.h"

namespace postern {

// A fresh "$y$..." hash with a random salt. temporary if libcrypt fails.
StoreResult<std::string> hash_password(std::string_view password);

// True when `password` matches `hash` (any supported form above). Unknown schemes,
// malformed hashes and empty hashes return false. Comparison is constant-time.
bool verify_password(std::string_view hash, std::string_view password);

}  // namespace postern
