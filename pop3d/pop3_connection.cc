#include "pop3d/pop3_connection.h"

namespace postern {

bool is_loopback(const std::string& ip) { return ip.starts_with("127.") || ip == "::1"; }

Pop3Connection::Pop3Connection(Connection& c, Pop3Backend& backend, Pop3SessionOptions opts,
                               std::function<SslCtxPtr()> stls_ctx, StoreBackend* passwords)
    : stls_ctx_(std::move(stls_ctx)), timer_(c.loop()), passwords_(passwords) {
    opts.defer_password_check = passwords_ != nullptr;
    opts.defer_store = true;
    session_ = std::make_shared<Pop3Session>(backend, std::move(opts), log_.get());
    log_->info("connect from %s%s", c.peer().ip.c_str(), c.is_tls() ? " (TLS)" : "");
}

Pop3Connection::~Pop3Connection() = default;

void Pop3Connection::on_open(Connection& c) {
    session_->start();
    flush(c);
}

void Pop3Connection::on_line(Connection& c, std::string_view line, LineEnd) {
    session_->on_line(line);  // copies it (and wipes its copy once handled)
    // Any POP3 line may hold a credential (PASS, AUTH, a SASL response): none stays in
    // the input buffer. Cheap: each byte is zeroed once.
    c.wipe_consumed_input();
    flush(c);
}

void Pop3Connection::on_line_too_long(Connection& c) {
    session_->on_line_too_long();
    flush(c);
}

void Pop3Connection::on_tls_ready(Connection& c) {
    log_->info("STLS: %s %s", c.tls_version().c_str(), c.tls_cipher().c_str());
    session_->tls_started();
    flush(c);
}

void Pop3Connection::on_drain(Connection& c) {
    session_->output_drained();
    flush(c);
}

void Pop3Connection::on_timeout(Connection& c) {
    session_->idle_timeout();
    flush(c);
}

void Pop3Connection::on_shutdown(Connection& c) {
    session_->shutdown();
    flush(c);
}

void Pop3Connection::on_close(Connection&, CloseReason why) {
    timer_.stop();
    if (session_->wait() != Pop3Wait::closed)
        log_->info("connection closed (%s) without QUIT", close_reason_text(why));
    // With a call in flight the session finishes it first (see session_ in the header).
    if (!check_pending_ && !store_pending_) session_->connection_lost();
}

void Pop3Connection::flush(Connection& c) {
    // resume_reading() may deliver queued lines at once, which calls back
    // into flush(): the outer call loops instead of recursing.
    if (flushing_) {
        again_ = true;
        return;
    }
    flushing_ = true;
    do {
        again_ = false;
        if (c.closing()) break;
        std::string out = session_->take_output();
        if (!out.empty()) {
            c.write(out);
            c.reset_idle_timer();  // a long RETR to a slow client is not idleness
        }
        switch (session_->wait()) {
        case Pop3Wait::input: c.resume_reading(); break;
        case Pop3Wait::output:
            // Stream until the connection is above its high-water mark; then
            // on_drain continues.
            c.pause_reading();
            if (!c.output_blocked()) {
                session_->output_drained();
                again_ = true;
            }
            break;
        case Pop3Wait::timer:
            c.pause_reading();
            if (!timer_.active()) {
                timer_.start(session_->timer_ms(), [this, &c] {
                    session_->timer_fired();
                    flush(c);
                });
            }
            break;
        case Pop3Wait::tls: {
            if (stls_requested_) break;  // handshake under way: on_tls_ready follows
            stls_requested_ = true;
            SslCtxPtr ctx = stls_ctx_ ? stls_ctx_() : nullptr;
            if (!ctx || !c.start_tls(ctx.get())) {
                log_->error("STLS accepted but TLS cannot start");
                c.close();
            }
            break;
        }
        case Pop3Wait::password:
            c.pause_reading();
            if (!check_pending_ && passwords_) {
                // If the job cannot be queued it answers at once: the flush it calls is
                // picked up by the loop here through again_.
                check_pending_ = true;
                passwords_
                    ->check_password_async(
                        c.loop(), session_->password_request(),
                        [this, &c, alive = std::weak_ptr<char>(alive_), session = session_,
                         log = log_](PasswordCheck r) {
                            if (alive.expired()) {
                                session->password_checked(r);  // the client left: charge it
                                return;
                            }
                            check_pending_ = false;
                            session_->password_checked(r);
                            flush(c);
                        })
                    .detach();
            }
            break;
        case Pop3Wait::store:
            c.pause_reading();
            if (!store_pending_) {
                auto work = session_->take_store_work();
                if (!work) break;  // already handed out: store_done() follows
                store_pending_ = true;
                run_on_pool_detached(
                    c.loop(), std::move(work),
                    [this, &c, alive = std::weak_ptr<char>(alive_), session = session_,
                     log = log_] {
                        if (alive.expired()) {
                            // The client left: finish what is under way (a login failure is
                            // charged, an expunge completes), then let the session go.
                            session->store_done();
                            return;
                        }
                        store_pending_ = false;
                        session_->store_done();
                        flush(c);
                    });
            }
            break;
        case Pop3Wait::closed: c.close(); break;
        }
    } while (again_);
    flushing_ = false;
}

}  // namespace postern
