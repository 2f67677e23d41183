#pragma once
// Wiping secrets (passwords, SASL responses, derived keys) once they are used:
// OPENSSL_cleanse, which the compiler cannot optimise away.

#include <cstddef>
#include <string>

#include <openssl/crypto.h>

namespace postern {

inline void wipe(void* p, size_t n) {
    if (n) OPENSSL_cleanse(p, n);
}
// Wipes the string's bytes, then clears it.
inline void wipe(std::string& s) {
    wipe(s.data(), s.size());
    s.clear();
}

}  // namespace postern
