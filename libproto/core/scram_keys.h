#pragma once
// SCRAM-SHA-256 key derivation (RFC 5802 section 3, RFC 7677). OpenSSL only.
//   SaltedPassword = PBKDF2-HMAC-SHA256(password, salt, iterations)
//   ClientKey      = HMAC(SaltedPassword, "Client Key")
//   StoredKey      = SHA256(ClientKey)
//   ServerKey      = HMAC(SaltedPassword, "Server Key")
// The store keeps StoredKey and ServerKey (never the password) for every user.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace postern {

inline constexpr uint32_t scram_default_iterations = 4096;
inline constexpr size_t scram_salt_bytes = 16;

struct ScramKeys {
    std::string salt;  // raw salt octets (base64-encode for the server-first-message)
    uint32_t iterations = 0;
    std::array<uint8_t, 32> stored_key{};
    std::array<uint8_t, 32> server_key{};
};

// Derives the keys for a given salt (raw octets). The password should already be
// SASLprep-normalized by the caller (ASCII passwords are unchanged by SASLprep).
// iterations of 0 are treated as 1. Intermediate SaltedPassword/ClientKey are wiped.
ScramKeys scram_derive_keys(std::string_view password, std::string_view salt, uint32_t iterations);

// As above with scram_salt_bytes fresh random salt bytes (RAND_bytes).
ScramKeys scram_make_keys(std::string_view password,
                          uint32_t iterations = scram_default_iterations);

}  // namespace postern
