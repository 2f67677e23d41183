#include "ctl/cert.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace postern::ctl {
namespace {

template <auto Fn>
struct Deleter {
    template <typename T>
    void operator()(T* p) const {
        Fn(p);
    }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using FilePtr = std::unique_ptr<FILE, Deleter<::fclose>>;

std::string ssl_error(const char* what) {
    char buf[256] = "unknown error";
    if (unsigned long e = ERR_get_error()) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return std::string(what) + ": " + buf;
}

bool add_ext(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// Opens `path` for writing, failing if it exists; `mode` applies from creation on.
std::expected<FilePtr, std::string> create_file(const std::filesystem::path& path, mode_t mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return std::unexpected(path.string() + ": " + std::strerror(errno));
    ::fchmod(fd, mode);  // not narrowed by the umask
    FILE* f = ::fdopen(fd, "w");
    if (!f) {
        ::close(fd);
        return std::unexpected(path.string() + ": " + std::strerror(errno));
    }
    return FilePtr(f);
}

// "DNS:host, IP:a, ..." (wildcard listen addresses name no host).
std::string alt_names(const std::string& hostname, const std::vector<std::string>& addresses) {
    std::string names = "DNS:" + hostname;
    for (const std::string& a : addresses)
        if (a != "0.0.0.0" && a != "::") names += ", IP:" + a;
    return names;
}

std::expected<X509Ptr, std::string> build_cert(const std::string& hostname,
                                               const std::vector<std::string>& addresses,
                                               EVP_PKEY* key) {
    X509Ptr cert(X509_new());
    if (!cert) return std::unexpected(ssl_error("X509_new"));
    X509_set_version(cert.get(), X509_VERSION_3);

    // A random positive 127-bit serial, as RFC 5280 4.1.2.2 asks (unique, at most 20 octets).
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) return std::unexpected(ssl_error("RAND_bytes"));
    raw[0] &= 0x7f;
    BnPtr bn(BN_bin2bn(raw, sizeof raw, nullptr));
    if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())))
        return std::unexpected(ssl_error("serial"));

    // Valid from an hour ago (clock skew) for 10 years.
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_time_adj_ex(X509_getm_notAfter(cert.get()), 3650, 0, nullptr);

    X509_NAME* name = X509_get_subject_name(cert.get());
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    reinterpret_cast<const unsigned char*>(hostname.c_str()), -1,
                                    -1, 0))
        return std::unexpected(ssl_error("subject"));
    X509_set_issuer_name(cert.get(), name);
    X509_set_pubkey(cert.get(), key);

    // The same extensions `openssl req -x509` gives a self-signed certificate, so clients
    // that are told to trust this file accept it as its own anchor, plus the host name.
    if (!add_ext(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
        !add_ext(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign") ||
        !add_ext(cert.get(), NID_ext_key_usage, "serverAuth") ||
        !add_ext(cert.get(), NID_subject_key_identifier, "hash") ||
        !add_ext(cert.get(), NID_authority_key_identifier, "keyid:always") ||
        !add_ext(cert.get(), NID_subject_alt_name, alt_names(hostname, addresses)))
        return std::unexpected(ssl_error("certificate extensions"));

    if (X509_sign(cert.get(), key, EVP_sha256()) <= 0)
        return std::unexpected(ssl_error("X509_sign"));
    return cert;
}

}  // namespace

std::expected<void, std::string> make_self_signed_cert(const std::string& hostname,
                                                       const std::vector<std::string>& addresses,
                                                       const std::filesystem::path& cert_file,
                                                       const std::filesystem::path& key_file) {
    PKey key(EVP_EC_gen("P-256"));
    if (!key) return std::unexpected(ssl_error("EC key generation"));
    auto cert = build_cert(hostname, addresses, key.get());
    if (!cert) return std::unexpected(cert.error());

    auto remove_both = [&] {
        std::error_code ec;
        std::filesystem::remove(key_file, ec);
        std::filesystem::remove(cert_file, ec);
    };
    {
        auto kf = create_file(key_file, 0600);
        if (!kf) return std::unexpected(kf.error());
        if (PEM_write_PrivateKey(kf->get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
                1 ||
            std::fflush(kf->get()) != 0 || ::fsync(::fileno(kf->get())) != 0) {
            auto why = ssl_error(key_file.c_str());
            kf->reset();
            remove_both();
            return std::unexpected(why);
        }
    }
    auto cf = create_file(cert_file, 0644);
    if (!cf) {
        std::error_code ec;
        std::filesystem::remove(key_file, ec);  // but not a cert_file that was there before
        return std::unexpected(cf.error());
    }
    if (PEM_write_X509(cf->get(), cert->get()) != 1 || std::fflush(cf->get()) != 0 ||
        ::fsync(::fileno(cf->get())) != 0) {
        auto why = ssl_error(cert_file.c_str());
        cf->reset();
        remove_both();
        return std::unexpected(why);
    }
    return {};
}

}  // namespace postern::ctl
