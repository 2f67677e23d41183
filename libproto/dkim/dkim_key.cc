#include "libproto/dkim/dkim_key.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <memory>

#include "libproto/core/base64.h"

namespace postern {
namespace {

std::string openssl_error(const char* what) {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    std::string out = what;
    if (e != 0) {
        std::array<char, 256> buf{};
        ERR_error_string_n(e, buf.data(), buf.size());
        out += std::string(": ") + buf.data();
    }
    return out;
}

struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct CtxFree {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

void DkimKey::Free::operator()(evp_pkey_st* k) const { EVP_PKEY_free(k); }

std::expected<DkimKey, std::string> DkimKey::adopt(EVP_PKEY* key) {
    int id = EVP_PKEY_get_base_id(key);
    if (id == EVP_PKEY_ED25519) return DkimKey(key, DkimKeyType::ed25519);
    if (id == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(key);
        if (bits < int(kDkimMinRsaBits)) {
            EVP_PKEY_free(key);
            return std::unexpected("an RSA key of " + std::to_string(bits) +
                                   " bits is too weak for DKIM (at least 1024, RFC 8301)");
        }
        return DkimKey(key, DkimKeyType::rsa);
    }
    EVP_PKEY_free(key);
    return std::unexpected(std::string("not an RSA or Ed25519 key"));
}

std::expected<DkimKey, std::string> DkimKey::from_pem(std::string_view pem) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
    if (!bio) return std::unexpected(openssl_error("out of memory"));
    // No passphrase: an encrypted key fails here instead of prompting on a terminal.
    auto no_passphrase = [](char*, int, int, void*) { return 0; };
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
    if (!key) return std::unexpected(openssl_error("not a PEM private key"));
    return adopt(key);
}

std::expected<DkimKey, std::string> DkimKey::generate(DkimKeyType type, unsigned bits) {
    if (type == DkimKeyType::rsa && (bits < kDkimMinRsaBits || bits > kDkimMaxRsaBits))
        return std::unexpected("RSA keys are 1024 to 8192 bits, not " + std::to_string(bits));
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(
        EVP_PKEY_CTX_new_id(type == DkimKeyType::rsa ? EVP_PKEY_RSA : EVP_PKEY_ED25519, nullptr));
    EVP_PKEY* key = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0 ||
        (type == DkimKeyType::rsa && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), int(bits)) <= 0) ||
        EVP_PKEY_keygen(ctx.get(), &key) <= 0)
        return std::unexpected(openssl_error("key generation failed"));
    return adopt(key);
}

std::expected<DkimKey, std::string> DkimKey::ed25519_from_seed(std::string_view seed) {
    if (seed.size() != 32) return std::unexpected(std::string("an Ed25519 seed is 32 octets"));
    EVP_PKEY* key = EVP_PKEY_new_raw_private_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), 32);
    if (!key) return std::unexpected(openssl_error("bad Ed25519 seed"));
    return adopt(key);
}

unsigned DkimKey::bits() const { return unsigned(EVP_PKEY_get_bits(key_.get())); }

std::string_view DkimKey::algorithm() const {
    return type_ == DkimKeyType::rsa ? "rsa-sha256" : "ed25519-sha256";
}

std::string_view DkimKey::dns_key_type() const {
    return type_ == DkimKeyType::rsa ? "rsa" : "ed25519";
}

std::expected<std::string, std::string> DkimKey::private_pem() const {
    std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_secmem()));
    if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                              nullptr) != 1)
        return std::unexpected(openssl_error("cannot write the key"));
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, size_t(n));
}

std::string DkimKey::public_key_base64() const {
    if (type_ == DkimKeyType::ed25519) {
        std::array<unsigned char, 32> raw{};
        size_t n = raw.size();
        if (EVP_PKEY_get_raw_public_key(key_.get(), raw.data(), &n) != 1) return {};
        return base64_encode(std::string_view(reinterpret_cast<char*>(raw.data()), n));
    }
    unsigned char* der = nullptr;
    int n = i2d_PUBKEY(key_.get(), &der);
    if (n <= 0) return {};
    std::string out = base64_encode(std::string_view(reinterpret_cast<char*>(der), size_t(n)));
    OPENSSL_free(der);
    return out;
}

std::string DkimKey::dns_record() const {
    return "v=DKIM1; k=" + std::string(dns_key_type()) + "; p=" + public_key_base64();
}

std::expected<std::string, std::string> DkimKey::sign(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
    if (!md) return std::unexpected(openssl_error("out of memory"));
    std::array<unsigned char, 32> digest{};
    std::string_view input = data;
    const EVP_MD* hash = EVP_sha256();
    if (type_ == DkimKeyType::ed25519) {
        // RFC 8463 section 3: PureEdDSA over the SHA-256 hash of the data.
        unsigned len = 0;
        if (EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1)
            return std::unexpected(openssl_error("SHA-256 failed"));
        input = std::string_view(reinterpret_cast<char*>(digest.data()), len);
        hash = nullptr;  // Ed25519 takes no digest of its own
    }
    size_t size = 0;
    auto in = reinterpret_cast<const unsigned char*>(input.data());
    if (EVP_DigestSignInit(md.get(), nullptr, hash, nullptr, key_.get()) != 1 ||
        EVP_DigestSign(md.get(), nullptr, &size, in, input.size()) != 1)
        return std::unexpected(openssl_error("signing failed"));
    std::string sig(size, '\0');
    if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &size, in,
                       input.size()) != 1)
        return std::unexpected(openssl_error("signing failed"));
    sig.resize(size);
    return sig;
}

}  // namespace postern
