#pragma once
// TLS contexts (OpenSSL 3). One server context per process, built from
// config.tls_cert / config.tls_key before privileges are dropped: TLS 1.2+,
// forward-secret AEAD ciphers only, no compression, no renegotiation,
// session tickets on. Connections take their own reference (SSL_new), so a
// reload that swaps the context never pulls it from under a live session.

#include <expected>
#include <filesystem>
#include <memory>
#include <string>

#include <openssl/ssl.h>

namespace postern {

struct SslCtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

// A server context from PEM files (the cert file may hold the chain). Errors
// are one line naming the file, e.g. "tls/key.pem: cannot read: No such file
// or directory" or "tls/key.pem: private key does not match certificate".
std::expected<SslCtxPtr, std::string> make_server_tls(const std::filesystem::path& cert,
                                                      const std::filesystem::path& key);

// A client context (spoold's outbound STARTTLS): opportunistic by default,
// i.e. no certificate verification; verify=true uses the system trust store.
std::expected<SslCtxPtr, std::string> make_client_tls(bool verify = false);

// The server context of this process; reload() swaps in a fresh one.
class TlsServer {
public:
    TlsServer() = default;
    explicit TlsServer(SslCtxPtr ctx) : ctx_(std::move(ctx)) {}
    // Loads cert+key; on error keeps the current context and returns the error.
    std::expected<void, std::string> load(const std::filesystem::path& cert,
                                          const std::filesystem::path& key);
    SSL_CTX* ctx() const { return ctx_.get(); }  // null when TLS is not configured
    explicit operator bool() const { return ctx_ != nullptr; }

private:
    SslCtxPtr ctx_;
};

// The OpenSSL error queue as one line (and clears it); `fallback` if empty.
std::string tls_error_text(const char* fallback = "TLS error");

}  // namespace postern
