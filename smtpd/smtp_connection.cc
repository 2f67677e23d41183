#include "smtpd/smtp_connection.h"

#include <algorithm>

#include "libproto/core/log_escape.h"

namespace postern {

SmtpConnection::SmtpConnection(Connection& c, SmtpHandler& handler, SmtpSessionConfig config,
                               std::function<SslCtxPtr()> stls_ctx)
    : conn_(c), stls_ctx_(std::move(stls_ctx)), timer_(c.loop()) {
    SmtpClientInfo client;
    client.ip = c.peer().ip;
    client.port = c.peer().port;
    client.tls = c.is_tls();
    if (client.tls) {
        client.tls_version = c.tls_version();
        client.tls_cipher = c.tls_cipher();
    }
    config.tls_available = config.tls_available && !client.tls;
    session_ = std::make_unique<SmtpSession>(std::move(config), std::move(client),
                                             static_cast<SmtpTransport&>(*this), handler, &log_);
    log_.info("connect from [%s]:%u", c.peer().ip.c_str(), c.peer().port);
}

SmtpConnection::~SmtpConnection() = default;

void SmtpConnection::on_open(Connection& c) {
    if (c.is_tls()) {
        // Implicit TLS: the handshake finished before on_open.
        session_->on_tls_ready(c.tls_version(), c.tls_cipher());
        log_.info("TLS %s %s", c.tls_version().c_str(), c.tls_cipher().c_str());
    }
    session_->on_open();
}

void SmtpConnection::on_line(Connection&, std::string_view line, LineEnd end) {
    session_->on_line(line, end);
}

void SmtpConnection::on_line_too_long(Connection&) { session_->on_line_too_long(); }

void SmtpConnection::on_raw(Connection&, std::string_view bytes, bool last) {
    session_->on_raw(bytes, last);
}

void SmtpConnection::on_tls_ready(Connection& c) {
    log_.info("STARTTLS: %s %s", c.tls_version().c_str(), c.tls_cipher().c_str());
    session_->on_tls_ready(c.tls_version(), c.tls_cipher());
}

void SmtpConnection::on_timeout(Connection&) {
    log_.info("idle timeout");
    session_->on_idle_timeout();
}

void SmtpConnection::on_shutdown(Connection&) { session_->on_shutdown(); }

void SmtpConnection::on_close(Connection&, CloseReason why) {
    timer_.stop();
    // The HELO name is the client's text: escaped (log_escape.h) like every client string.
    const auto& client = session_->client();
    log_.info("disconnect (%s), %llu message(s) accepted%s%s, helo=\"%s\"", close_reason_text(why),
              static_cast<unsigned long long>(session_->messages_accepted()),
              client.auth_user.empty() ? "" : ", user ", client.auth_user.c_str(),
              log_escape(client.helo).c_str());
}

void SmtpConnection::write(std::string_view bytes) {
    conn_.write(bytes);
    conn_.reset_idle_timer();
}

void SmtpConnection::close() { conn_.close(); }

void SmtpConnection::start_tls() {
    SslCtxPtr ctx = stls_ctx_ ? stls_ctx_() : nullptr;
    if (!ctx || !conn_.start_tls(ctx.get())) {
        log_.error("STARTTLS accepted but TLS cannot start");
        conn_.close();
    }
}

void SmtpConnection::pause_reading() { conn_.pause_reading(); }
void SmtpConnection::resume_reading() { conn_.resume_reading(); }
void SmtpConnection::read_raw(uint64_t count) { conn_.read_raw(count); }

void SmtpConnection::set_max_line(size_t max_line) {
    limits_ = LineReaderLimits{max_line, std::max<size_t>(max_line + 65536, 256 * 1024)};
    conn_.set_line_limits(limits_);
}

void SmtpConnection::set_split_lines(bool on) {
    limits_.split_long_lines = on;
    conn_.set_line_limits(limits_);
}

void SmtpConnection::wipe_input() { conn_.wipe_consumed_input(); }

void SmtpConnection::start_timer(uint64_t ms) {
    timer_.start(ms, [this] { session_->on_timer(); });
}

}  // namespace postern
