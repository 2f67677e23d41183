#include "spoold/smtp_client_connection.h"

#include <openssl/x509v3.h>

#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"

namespace postern {

using Want = SmtpClientSession::Want;

SmtpClientConnection::SmtpClientConnection(Connection& c, SmtpClientConfig cfg, SslCtxPtr tls,
                                           std::string verify_host, std::string sni)
    : conn_(c), session_(std::move(cfg)), tls_(std::move(tls)),
      verify_host_(std::move(verify_host)), sni_(std::move(sni)), timer_(c.loop()) {}

SmtpClientConnection::~SmtpClientConnection() = default;

void SmtpClientConnection::on_open(Connection&) { pump(); }

void SmtpClientConnection::on_line(Connection&, std::string_view line, LineEnd) {
    session_.on_line(line);
    pump();
}

void SmtpClientConnection::on_line_too_long(Connection&) {
    session_.on_line(std::string(4096, 'x'));  // garbage: the engine gives up on the session
    pump();
}

void SmtpClientConnection::on_tls_ready(Connection&) {
    // Postfix's words for the peer: Verified (DANE match, or the chain and the name checked),
    // Untrusted (not checked: may, encrypt).
    if (dane_ && conn_.ssl()) dane_match_ = dane_match_text(conn_.ssl());
    std::string trust = !dane_match_.empty()    ? "Verified, dane " + dane_match_
                        : !verify_host_.empty() ? "Verified"
                                                : "Untrusted";
    log_msg(LogLevel::info, "smtp %s[%s]: TLS %s %s (%s)", log_escape(sni_).c_str(),
            conn_.peer().ip.c_str(), conn_.tls_version().c_str(), conn_.tls_cipher().c_str(),
            trust.c_str());
    session_.on_tls_ready();
    pump();
}

void SmtpClientConnection::on_drain(Connection&) {
    if (session_.want() == Want::body) timer_.again();
    if (owner_ && !closed_) owner_->on_drain(*this);
}

void SmtpClientConnection::on_timeout(Connection&) {
    session_.on_timeout();
    pump();
}

void SmtpClientConnection::on_shutdown(Connection&) {
    if (session_.want() == Want::transaction) session_.quit();
    pump();
    conn_.close();
}

void SmtpClientConnection::on_close(Connection&, CloseReason why) {
    timer_.stop();
    if ((why == CloseReason::tls_error || why == CloseReason::timeout) && tls_started_ &&
        !session_.tls_active()) {
        tls_failed_ = true;
        session_.on_tls_failed(why == CloseReason::timeout ? "handshake timed out"
                               : dane_ ? "certificate matches no TLSA record of " + dane_->base
                               : verify_host_.empty()
                                   ? "handshake failed"
                                   : "certificate not verified for " + verify_host_);
    } else {
        session_.on_connection_lost();
    }
    closed_ = true;
    pump();  // hands out the results of a transaction cut short
    std::string why_text = !local_failure_.empty() ? local_failure_ : session_.failure();
    if (auto* o = owner_) {
        owner_ = nullptr;
        o->on_closed(*this, why_text);
    }
}

void SmtpClientConnection::begin(SmtpClientTransaction t) {
    body_announced_ = false;
    ready_announced_ = false;
    session_.begin(std::move(t));
    pump();
}

void SmtpClientConnection::reset() {
    ready_announced_ = false;
    session_.reset();
    pump();
}

void SmtpClientConnection::quit() {
    session_.quit();
    pump();
}

void SmtpClientConnection::feed_body(std::string_view chunk, bool last) {
    session_.feed_body(chunk, last);
    timer_.again();
    pump();
}

void SmtpClientConnection::abort_with(std::string why) {
    local_failure_ = std::move(why);
    conn_.abort();
}

// Does what the engine wants until it waits for the network or the owner. Owner callbacks
// may call begin()/feed_body() again: those land in repump_ instead of nesting.
void SmtpClientConnection::pump() {
    if (pumping_) {
        repump_ = true;
        return;
    }
    pumping_ = true;
    do {
        repump_ = false;
        if (session_.has_output() && !closed_) conn_.write(session_.take_output());
        switch (session_.want()) {
        case Want::results: {
            auto r = session_.take_results();
            if (!local_failure_.empty())
                for (auto& x : r)
                    if (x.outcome == SmtpOutcome::deferred) x.reply = local_failure_;
            if (owner_) owner_->on_results(*this, std::move(r));
            repump_ = true;
            break;
        }
        case Want::tls:
            timer_.stop();
            if (!tls_started_ && !closed_) {
                tls_started_ = true;
                if (!tls_) {
                    session_.on_tls_failed("no TLS context");
                    repump_ = true;
                    break;
                }
                conn_.start_tls(tls_.get(), true, sni_);
                // The ClientHello is out; the certificate arrives on a later loop turn,
                // so the name to check can still be set (SSL_set1_host).
                if (!verify_host_.empty() && conn_.ssl()) {
                    SSL_set_hostflags(conn_.ssl(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                    SSL_set1_host(conn_.ssl(), verify_host_.c_str());
                }
                if (dane_ && conn_.ssl()) {
                    if (auto armed = dane_arm(conn_.ssl(), *dane_); !armed) {
                        log_msg(LogLevel::info, "smtp %s[%s]: dane: %s", log_escape(sni_).c_str(),
                                conn_.peer().ip.c_str(), armed.error().c_str());
                        conn_.abort(CloseReason::tls_error);
                    }
                }
            }
            break;
        case Want::body:
            // Each time the engine takes message bytes again: at the start, and after each
            // BDAT reply when the server does not pipeline (the owner ignores repeats).
            if (!body_announced_) {
                body_announced_ = true;
                timer_.start(session_.timeout_ms(), [this] {
                    session_.on_timeout();
                    pump();
                });
                if (owner_) owner_->on_body_wanted(*this);
            }
            break;
        case Want::transaction:
            timer_.stop();
            if (!owner_ && !closed_) {
                session_.quit();  // nobody wants this connection any more
                repump_ = true;
                break;
            }
            if (!ready_announced_ && owner_ && !closed_) {
                ready_announced_ = true;
                owner_->on_ready(*this);
            }
            break;
        case Want::closed:
            timer_.stop();
            if (!closed_) conn_.close();
            break;
        case Want::reply:
            body_announced_ = false;  // a BDAT reply may bring the body state back
            if (closed_) break;
            timer_.start(session_.timeout_ms(), [this] {
                session_.on_timeout();
                pump();
            });
            break;
        }
    } while (repump_);
    pumping_ = false;
}

}  // namespace postern
