#pragma once
// TLS contexts (OpenSSL 3). One server context per process, built from
// config.tls_cert / config.tls_key before privileges are dropped: TLS 1.2+,
// forward-secret AEAD ciphers only, no compression, no renegotiation,
// session tickets on. Connections take their own reference (SSL_new), so a
// reload that swaps the context never pulls it from under a live session.
//
// Nobody holds a borrowed SSL_CTX* beyond one call: TlsServer hands out
// counted references only (SSL_CTX_up_ref), so a session that keeps the
// context for a later STARTTLS keeps it alive across a SIGHUP reload.

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
// i.e. no certificate verification; verify=true uses the system trust store, or only the
// PEM bundle `ca_file` when it is given (an unreadable or empty bundle is an error naming it).
std::expected<SslCtxPtr, std::string> make_client_tls(bool verify = false,
                                                      const std::filesystem::path& ca_file = {});

// A counted reference to `ctx` (SSL_CTX_up_ref); null for null.
SslCtxPtr share_tls(SSL_CTX* ctx);

// The server context of this process; load() swaps in a fresh one.
class TlsServer {
public:
    TlsServer() = default;
    explicit TlsServer(SslCtxPtr ctx) : ctx_(std::move(ctx)) {}
    // Loads cert+key; on error keeps the current context and returns the error.
    // References handed out earlier stay valid (each holds a count).
    std::expected<void, std::string> load(const std::filesystem::path& cert,
                                          const std::filesystem::path& key);
    // A counted reference to the current context; null when TLS is not configured.
    SslCtxPtr current() const { return share_tls(ctx_.get()); }
    bool available() const { return ctx_ != nullptr; }

private:
    SslCtxPtr ctx_;
};

// The OpenSSL error queue as one line (and clears it); `fallback` if empty.
std::string tls_error_text(const char* fallback = "TLS error");

}  // namespace postern
