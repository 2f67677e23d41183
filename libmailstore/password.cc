#include "libmailstore/password.h"

#include <argon2.h>
#include <crypt.h>
#include <openssl/crypto.h>

#include <cstring>
#include <memory>

namespace postern {
namespace {

// Copies a secret into a NUL-terminated buffer that is wiped on destruction.
class SecretString {
public:
    explicit SecretString(std::string_view s) : s_(s) {}
    ~SecretString() { OPENSSL_cleanse(s_.data(), s_.size()); }
    SecretString(const SecretString&) = delete;
    SecretString& operator=(const SecretString&) = delete;
    const char* c_str() const { return s_.c_str(); }
    size_t size() const { return s_.size(); }

private:
    std::string s_;
};

struct CryptData {
    crypt_data data;
    CryptData() { std::memset(&data, 0, sizeof data); }
    ~CryptData() { OPENSSL_cleanse(&data, sizeof data); }
};

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        char a = s[i], b = prefix[i];
        if (a >= 'a' && a <= 'z') a = char(a - 'a' + 'A');
        if (b >= 'a' && b <= 'z') b = char(b - 'a' + 'A');
        if (a != b) return false;
    }
    return true;
}

bool verify_crypt(std::string_view hash, std::string_view password) {
    if (hash.empty() || hash.front() == '*' || hash.find('\0') != std::string_view::npos)
        return false;
    SecretString pw(password);
    std::string setting(hash);
    auto cd = std::make_unique<CryptData>();
    const char* out = crypt_rn(pw.c_str(), setting.c_str(), &cd->data, sizeof cd->data);
    if (out == nullptr || out[0] == '*') return false;
    size_t n = std::strlen(out);
    return n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
}

bool verify_argon2(std::string_view encoded, std::string_view password) {
    if (encoded.find('\0') != std::string_view::npos) return false;
    SecretString pw(password);
    std::string enc(encoded);
    if (enc.starts_with("$argon2id$"))
        return argon2id_verify(enc.c_str(), pw.c_str(), pw.size()) == ARGON2_OK;
    if (enc.starts_with("$argon2i$"))
        return argon2i_verify(enc.c_str(), pw.c_str(), pw.size()) == ARGON2_OK;
    return false;
}

}  // namespace

StoreResult<std::string> hash_password(std::string_view password) {
    if (password.find('\0') != std::string_view::npos) return std::unexpected(StoreError::invalid);
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    // rbytes == nullptr: libcrypt takes the salt from the OS random source.
    if (crypt_gensalt_rn("$y$", 0, nullptr, 0, setting, sizeof setting) == nullptr)
        return std::unexpected(StoreError::temporary);
    SecretString pw(password);
    auto cd = std::make_unique<CryptData>();
    const char* out = crypt_rn(pw.c_str(), setting, &cd->data, sizeof cd->data);
    if (out == nullptr || out[0] == '*') return std::unexpected(StoreError::temporary);
    return std::string(out);
}

bool verify_password(std::string_view hash, std::string_view password) {
    if (hash.empty()) return false;
    if (hash.front() == '{') {
        auto close = hash.find('}');
        if (close == std::string_view::npos) return false;
        std::string_view scheme = hash.substr(0, close + 1);
        std::string_view rest = hash.substr(close + 1);
        if (starts_with_ci(scheme, "{ARGON2ID}") || starts_with_ci(scheme, "{ARGON2I}"))
            return verify_argon2(rest, password);
        static constexpr std::string_view crypt_schemes[] = {
            "{CRYPT}",     "{SHA512-CRYPT}", "{SHA256-CRYPT}",
            "{BLF-CRYPT}", "{YESCRYPT}",     "{MD5-CRYPT}",
        };
        for (auto s : crypt_schemes) {
            if (scheme.size() == s.size() && starts_with_ci(scheme, s))
                return verify_crypt(rest, password);
        }
        return false;  // plain-text and unsalted schemes are deliberately not supported
    }
    if (hash.starts_with("$argon2")) return verify_argon2(hash, password);
    if (hash.front() != '$') return false;  // no DES crypt
    return verify_crypt(hash, password);
}

}  // namespace postern
