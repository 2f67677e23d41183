#pragma once
// A DKIM signing key (RFC 6376 rsa-sha256, RFC 8463 ed25519-sha256) over OpenSSL's EVP:
// loaded from PEM or made fresh, it signs the canonical header data and gives the p= value
// of the DNS record to publish. RSA keys under 1024 bits are refused (RFC 8301).

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

struct evp_pkey_st;

namespace postern {

enum class DkimKeyType : uint8_t { rsa, ed25519 };

inline constexpr unsigned kDkimMinRsaBits = 1024;
inline constexpr unsigned kDkimDefaultRsaBits = 2048;
inline constexpr unsigned kDkimMaxRsaBits = 8192;

class DkimKey {
public:
    // A PEM private key (PKCS#8 "PRIVATE KEY" or "RSA PRIVATE KEY"), RSA >= 1024 bits or
    // Ed25519. Error: one line saying why not.
    static std::expected<DkimKey, std::string> from_pem(std::string_view pem);
    // A new key: RSA of `bits` (1024..8192), or Ed25519 (bits ignored).
    static std::expected<DkimKey, std::string> generate(DkimKeyType type, unsigned bits);
    // An Ed25519 key from its 32-octet seed (RFC 8032's private key), for test vectors.
    static std::expected<DkimKey, std::string> ed25519_from_seed(std::string_view seed);

    DkimKeyType type() const { return type_; }
    unsigned bits() const;                  // RSA modulus size; 256 for Ed25519
    std::string_view algorithm() const;     // "rsa-sha256" or "ed25519-sha256": a=
    std::string_view dns_key_type() const;  // "rsa" or "ed25519": k=
    // The private key as PKCS#8 PEM (to write to the key file; wipe it after).
    std::expected<std::string, std::string> private_pem() const;
    // p=: base64 of the SubjectPublicKeyInfo (RSA) or of the raw 32-octet key (Ed25519).
    std::string public_key_base64() const;
    // "v=DKIM1; k=rsa; p=..." (the TXT record's text, before splitting into strings).
    std::string dns_record() const;
    // The signature of `data` (the canonical header fields, RFC 6376 section 3.7):
    // RSASSA-PKCS1-v1_5 over SHA-256, or Ed25519 over SHA-256(data) (RFC 8463 section 3).
    // Raw octets; error: one line.
    std::expected<std::string, std::string> sign(std::string_view data) const;

private:
    struct Free {
        void operator()(evp_pkey_st* k) const;
    };
    DkimKey(evp_pkey_st* key, DkimKeyType type) : key_(key, Free{}), type_(type) {}
    static std::expected<DkimKey, std::string> adopt(evp_pkey_st* key);

    std::shared_ptr<evp_pkey_st> key_;  // immutable once made: shared between threads
    DkimKeyType type_;
};

}  // namespace postern
