#include "imapd/imap_connection.h"

#include <limits>

namespace postern {

ImapConnection::ImapConnection(Connection& c, ImapBackend& backend, ImapSessionOptions opts,
                               std::function<SslCtxPtr()> tls_ctx)
    : c_(c), tls_ctx_(std::move(tls_ctx)), timer_(c.loop()) {
    opts.client_ip = c.peer().ip;
    session_ = std::make_unique<ImapSession>(backend, *this, std::move(opts), &log_);
    log_.info("connect from %s%s", c.peer().ip.c_str(), c.is_tls() ? " (TLS)" : "");
}

ImapConnection::~ImapConnection() = default;

void ImapConnection::raw_mode() { c_.read_raw(std::numeric_limits<uint64_t>::max()); }

void ImapConnection::on_open(Connection&) {
    raw_mode();
    session_->start();
}

void ImapConnection::on_line(Connection&, std::string_view line, LineEnd end) {
    // Only before raw mode took over; give the parser the line as it came.
    std::string l(line);
    if (end == LineEnd::crlf) l.append("\r\n");
    if (end == LineEnd::bare_lf) l.append("\n");
    session_->on_input(l);
}

void ImapConnection::on_raw(Connection& c, std::string_view bytes, bool last) {
    session_->on_input(bytes);
    // LOGIN and SASL lines hold credentials: none stays in the input buffer.
    if (!closed_) c.wipe_consumed_input();
    if (last && !closed_) raw_mode();
}

void ImapConnection::on_tls_ready(Connection& c) {
    log_.info("STARTTLS: %s %s", c.tls_version().c_str(), c.tls_cipher().c_str());
    raw_mode();  // the handshake put the reader back into line mode
    session_->on_tls_ready();
}

void ImapConnection::on_drain(Connection&) { session_->on_drain(); }

void ImapConnection::on_timeout(Connection&) { session_->idle_timeout(); }

void ImapConnection::on_shutdown(Connection&) { session_->shutdown(); }

void ImapConnection::on_close(Connection&, CloseReason why) {
    closed_ = true;
    timer_.stop();
    log_.info("disconnected: %s", close_reason_text(why));
}

void ImapConnection::write(std::string_view bytes) {
    c_.write(bytes);
    c_.reset_idle_timer();  // a long response to a slow client is not idleness
}

bool ImapConnection::output_full() const { return c_.output_blocked(); }

void ImapConnection::pause_reading() { c_.pause_reading(); }

void ImapConnection::resume_reading() { c_.resume_reading(); }

void ImapConnection::close() { c_.close(); }

bool ImapConnection::start_tls() {
    SslCtxPtr ctx = tls_ctx_ ? tls_ctx_() : nullptr;
    if (!ctx || !c_.start_tls(ctx.get())) {
        log_.error("STARTTLS accepted but TLS cannot start");
        return false;
    }
    return true;
}

bool ImapConnection::start_compression(std::string_view received) {
    if (!c_.start_compression(received)) {
        log_.error("COMPRESS accepted but DEFLATE cannot start");
        return false;
    }
    log_.info("COMPRESS DEFLATE active");
    return true;
}

bool ImapConnection::compression_active() const { return c_.compressing(); }

bool ImapConnection::is_tls() const { return c_.is_tls(); }

bool ImapConnection::tls_available() const {
    if (!tls_ctx_) return false;
    return tls_ctx_() != nullptr;
}

void ImapConnection::start_timer(uint32_t ms) {
    timer_.start(ms, [this] {
        if (!closed_) session_->timer_fired();
    });
}

}  // namespace postern
