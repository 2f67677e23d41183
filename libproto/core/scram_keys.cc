#include "libproto/core/scram_keys.h"
#include "libproto/core/secret.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <random>

namespace postern {
namespace {

void hmac_sha256(const uint8_t* key, size_t key_len, std::string_view msg, uint8_t out[32]) {
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, int(key_len), reinterpret_cast<const unsigned char*>(msg.data()),
         msg.size(), out, &len);
}

}  // namespace

ScramKeys scram_derive_keys(std::string_view password, std::string_view salt, uint32_t iterations) {
    ScramKeys keys;
    keys.salt = std::string(salt);
    keys.iterations = iterations == 0 ? 1 : iterations;
    uint8_t salted[32];
    uint8_t client_key[32];
    PKCS5_PBKDF2_HMAC(password.data(), int(password.size()),
                      reinterpret_cast<const unsigned char*>(salt.data()), int(salt.size()),
                      int(keys.iterations), EVP_sha256(), sizeof salted, salted);
    hmac_sha256(salted, sizeof salted, "Client Key", client_key);
    SHA256(client_key, sizeof client_key, keys.stored_key.data());
    hmac_sha256(salted, sizeof salted, "Server Key", keys.server_key.data());
    wipe(salted, sizeof salted);
    wipe(client_key, sizeof client_key);
    return keys;
}

ScramKeys scram_make_keys(std::string_view password, uint32_t iterations) {
    unsigned char salt[scram_salt_bytes];
    if (RAND_bytes(salt, sizeof salt) != 1) {
        // No entropy from OpenSSL: the salt only needs to be unique, so the OS source is
        // good enough.
        std::random_device rd;
        for (auto& b : salt) b = static_cast<unsigned char>(rd());
    }
    return scram_derive_keys(password, std::string_view(reinterpret_cast<char*>(salt), sizeof salt),
                             iterations);
}

}  // namespace postern
