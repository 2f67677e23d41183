// The TLS half of Connection: OpenSSL over two memory BIOs. Ciphertext from
// libuv goes into rbio, SSL_read yields plaintext for the LineReader; SSL_write
// fills wbio, which is drained into the same output queue as plaintext.
#include "libproto/net/connection.h"

#include <algorithm>

#include <openssl/err.h>

#include "libproto/core/log.h"
#include "libproto/core/secret.h"

namespace postern {

bool Connection::tls_setup(SSL_CTX* ctx, bool client, const std::string& sni) {
    ERR_clear_error();
    ssl_.reset(SSL_new(ctx));
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    if (!ssl_ || !rbio_ || !wbio_) {
        BIO_free(rbio_);
        BIO_free(wbio_);
        rbio_ = wbio_ = nullptr;
        log_msg(LogLevel::error, "connection %llu: %s", static_cast<unsigned long long>(id_),
                tls_error_text("cannot create TLS session").c_str());
        abort(CloseReason::tls_error);
        return false;
    }
    BIO_set_mem_eof_return(rbio_, -1);  // empty rbio means "want read", not EOF
    SSL_set_bio(ssl_.get(), rbio_, wbio_);
    start_handshake_timer();
    if (client) {
        if (!sni.empty()) SSL_set_tlsext_host_name(ssl_.get(), sni.c_str());
        SSL_set_connect_state(ssl_.get());
        on_ciphertext(nullptr, 0);  // sends the ClientHello
    } else {
        SSL_set_accept_state(ssl_.get());
    }
    return !handle_closed_;
}

bool Connection::start_tls(SSL_CTX* ctx, bool client, const std::string& sni) {
    if (ssl_ || !ctx || closing_) return false;
    // Everything the peer sent after the STARTTLS line (or, as a client,
    // after the 220) was sent in plaintext: never treat it as protected.
    size_t dropped = reader_.discard();
    reader_.reset();
    if (dropped > 0)
        log_msg(LogLevel::info,
                "connection %llu from %s: discarded %zu bytes pipelined after STARTTLS",
                static_cast<unsigned long long>(id_), peer_.ip.c_str(), dropped);
    starttls_ = true;
    // The reply already queued in out_ goes out in plaintext before any TLS record.
    return tls_setup(ctx, client, sni);
}

void Connection::on_ciphertext(const char* data, size_t n) {
    if (n > 0 && BIO_write(rbio_, data, static_cast<int>(n)) != static_cast<int>(n)) {
        abort(CloseReason::tls_error);
        return;
    }
    if (!handshake_done_) {
        ERR_clear_error();
        int r = SSL_do_handshake(ssl_.get());
        drain_tls_output();
        if (r != 1) {
            int e = SSL_get_error(ssl_.get(), r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
            log_msg(LogLevel::info, "connection %llu from %s: TLS handshake failed: %s",
                    static_cast<unsigned long long>(id_), peer_.ip.c_str(),
                    tls_error_text("handshake failed").c_str());
            // Flush the alert we may have produced, then close.
            close(CloseReason::tls_error);
            return;
        }
        handshake_done_ = true;
        reset_idle_timer();  // from the handshake deadline back to the idle timeout
        after_handshake();
        if (closing_) return;
    }
    // The plaintext may be a password: it does not stay behind on the stack.
    struct Plain {
        char buf[16 * 1024];
        size_t used = 0;
        ~Plain() { wipe(buf, used); }
    } plain;
    char* buf = plain.buf;
    for (;;) {
        ERR_clear_error();
        int r = SSL_read(ssl_.get(), buf, sizeof plain.buf);
        if (r > 0) {
            plain.used = std::max(plain.used, static_cast<size_t>(r));
            if (!take_plain(std::string_view(buf, static_cast<size_t>(r)))) return;
            continue;
        }
        int e = SSL_get_error(ssl_.get(), r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            eof_ = true;  // close_notify
            break;
        }
        log_msg(LogLevel::info, "connection %llu from %s: TLS error: %s",
                static_cast<unsigned long long>(id_), peer_.ip.c_str(), tls_error_text().c_str());
        abort(CloseReason::tls_error);
        return;
    }
    drain_tls_output();  // e.g. TLS 1.3 session tickets, key updates
    dispatch();
}

void Connection::after_handshake() {
    if (!tls_plain_.empty()) {
        std::string pending;
        pending.swap(tls_plain_);
        tls_write(pending);
    }
    reader_.reset();
    if (starttls_) {
        handler_->on_tls_ready(*this);
    } else {
        opened_ = true;
        handler_->on_open(*this);
    }
}

void Connection::tls_write(std::string_view bytes) {
    if (!handshake_done_) {
        tls_plain_.append(bytes);
        return;
    }
    while (!bytes.empty()) {
        int chunk = static_cast<int>(std::min<size_t>(bytes.size(), 1 << 20));
        int r = SSL_write(ssl_.get(), bytes.data(), chunk);
        if (r <= 0) {
            abort(CloseReason::tls_error);
            return;
        }
        bytes.remove_prefix(static_cast<size_t>(r));
    }
    drain_tls_output();
}

void Connection::drain_tls_output() {
    if (!wbio_) return;
    while (size_t n = BIO_ctrl_pending(wbio_)) {
        size_t old = out_.size();
        out_.resize(old + n);
        int r = BIO_read(wbio_, out_.data() + old, static_cast<int>(n));
        out_.resize(old + (r > 0 ? static_cast<size_t>(r) : 0));
        if (r <= 0) break;
    }
}

std::string Connection::tls_version() const {
    return is_tls() ? std::string(SSL_get_version(ssl_.get())) : std::string();
}

std::string Connection::tls_cipher() const {
    if (!is_tls()) return {};
    const char* c = SSL_get_cipher_name(ssl_.get());
    return c ? c : "";
}

}  // namespace postern
