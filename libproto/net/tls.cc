#include "libproto/net/tls.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <openssl/err.h>
#include <openssl/x509.h>

namespace postern {
namespace {

// The TLS 1.2 list; TLS 1.3 suites are OpenSSL's defaults (all AEAD).
constexpr const char* kCiphers12 =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";

std::expected<void, std::string> readable(const std::filesystem::path& p, const char* what) {
    if (p.empty()) return std::unexpected(std::string("no TLS ") + what + " configured");
    FILE* f = std::fopen(p.c_str(), "r");
    if (!f) return std::unexpected(p.string() + ": cannot read: " + std::strerror(errno));
    std::fclose(f);
    return {};
}

void common_options(SSL_CTX* ctx) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    // Idle IMAP sessions are many: free the record buffers between reads.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_cipher_list(ctx, kCiphers12);
}

}  // namespace

std::string tls_error_text(const char* fallback) {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out.empty() ? std::string(fallback) : out;
}

std::expected<SslCtxPtr, std::string> make_server_tls(const std::filesystem::path& cert,
                                                      const std::filesystem::path& key) {
    if (auto r = readable(cert, "certificate"); !r) return std::unexpected(r.error());
    if (auto r = readable(key, "key"); !r) return std::unexpected(r.error());
    ERR_clear_error();
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) return std::unexpected("cannot create TLS context: " + tls_error_text());
    common_options(ctx.get());
    SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_dh_auto(ctx.get(), 1);
    static const unsigned char sid[] = "postern";
    SSL_CTX_set_session_id_context(ctx.get(), sid, sizeof sid - 1);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1)
        return std::unexpected(cert.string() +
                               ": not a usable PEM certificate: " + tls_error_text());
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            return std::unexpected(key.string() + ": private key does not match certificate " +
                                   cert.string());
        }
        return std::unexpected(key.string() +
                               ": not a usable PEM private key: " + tls_error_text());
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
        ERR_clear_error();
        return std::unexpected(key.string() + ": private key does not match certificate " +
                               cert.string());
    }
    return ctx;
}

std::expected<SslCtxPtr, std::string> make_client_tls(bool verify,
                                                      const std::filesystem::path& ca_file) {
    ERR_clear_error();
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) return std::unexpected("cannot create TLS context: " + tls_error_text());
    common_options(ctx.get());
    if (verify && !ca_file.empty()) {
        if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1)
            return std::unexpected(ca_file.string() +
                                   ": not a usable PEM CA bundle: " + tls_error_text());
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    } else if (verify) {
        if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1)
            return std::unexpected("cannot load the system trust store: " + tls_error_text());
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    } else {
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    }
    return ctx;
}

SslCtxPtr share_tls(SSL_CTX* ctx) {
    if (ctx) SSL_CTX_up_ref(ctx);
    return SslCtxPtr(ctx);
}

std::expected<void, std::string> TlsServer::load(const std::filesystem::path& cert,
                                                 const std::filesystem::path& key) {
    auto ctx = make_server_tls(cert, key);
    if (!ctx) return std::unexpected(ctx.error());
    ctx_ = std::move(*ctx);
    return {};
}

}  // namespace postern
