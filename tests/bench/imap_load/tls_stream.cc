#include "tls_stream.h"

#include <cstdio>
#include <openssl/err.h>

namespace imap_load {
namespace {

std::string ssl_error_text(const char* what, int code) {
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return std::string(what) + " (ssl error " + std::to_string(code) + "): " + buf;
}

}  // namespace

SSL_CTX* TlsStream::client_context() {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        std::fprintf(stderr, "imap_load: SSL_CTX_new failed\n");
        return nullptr;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    // Many thousand idle connections: keep no idle read/write buffers.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

TlsStream::TlsStream(SSL_CTX* ctx) {
    ssl_ = SSL_new(ctx);
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    if (ssl_ && rbio_ && wbio_) {
        SSL_set_bio(ssl_, rbio_, wbio_);
        SSL_set_connect_state(ssl_);
    } else {
        error_ = "out of memory for TLS";
    }
}

TlsStream::~TlsStream() {
    if (ssl_) {
        SSL_free(ssl_);  // frees both BIOs
    } else {
        BIO_free(rbio_);
        BIO_free(wbio_);
    }
}

bool TlsStream::start() { return error_.empty() && pump(); }

bool TlsStream::pump() {
    if (!SSL_is_init_finished(ssl_)) {
        int r = SSL_do_handshake(ssl_);
        if (r != 1) {
            int e = SSL_get_error(ssl_, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
            error_ = ssl_error_text("TLS handshake", e);
            return false;
        }
    }
    if (!pending_.empty()) {
        // A memory BIO never refuses a write, so SSL_write takes everything at once.
        int r = SSL_write(ssl_, pending_.data(), static_cast<int>(pending_.size()));
        if (r <= 0) {
            error_ = ssl_error_text("SSL_write", SSL_get_error(ssl_, r));
            return false;
        }
        pending_.clear();
    }
    return true;
}

bool TlsStream::on_network(std::string_view cipher, std::string& plain) {
    if (!error_.empty()) return false;
    if (BIO_write(rbio_, cipher.data(), static_cast<int>(cipher.size())) !=
        static_cast<int>(cipher.size())) {
        error_ = "BIO_write failed";
        return false;
    }
    if (!pump()) return false;
    if (!SSL_is_init_finished(ssl_)) return true;
    char buf[16 * 1024];
    for (;;) {
        int r = SSL_read(ssl_, buf, sizeof buf);
        if (r > 0) {
            plain.append(buf, static_cast<size_t>(r));
            continue;
        }
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
        error_ = e == SSL_ERROR_ZERO_RETURN ? "server closed the TLS session"
                                            : ssl_error_text("SSL_read", e);
        return false;
    }
}

bool TlsStream::write(std::string_view plain) {
    if (!error_.empty()) return false;
    pending_.append(plain);
    return SSL_is_init_finished(ssl_) ? pump() : true;
}

void TlsStream::network_output(std::string& out) {
    out.clear();
    char buf[16 * 1024];
    int n;
    while ((n = BIO_read(wbio_, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
}

}  // namespace imap_load
