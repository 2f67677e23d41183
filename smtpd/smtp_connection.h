#pragma once
// Glue between one Connection (libproto/net/connection.h) and one SmtpSession:
// the Connection's events go to the session; the session's transport calls
// (write, STARTTLS, pause, raw reads, the auth-delay timer) go to the
// Connection.

#include <functional>
#include <memory>

#include "libproto/net/connection.h"
#include "libproto/core/log.h"
#include "libproto/smtp/smtp_session.h"
#include "libproto/net/uv_handle.h"

namespace postern {

class SmtpConnection : public ConnectionHandler, private SmtpTransport {
public:
    // `stls_ctx` gives the TLS context when STARTTLS is asked for (a SIGHUP may
    // have swapped it).
    SmtpConnection(Connection& c, SmtpHandler& handler, SmtpSessionConfig config,
                   std::function<SslCtxPtr()> stls_ctx);
    ~SmtpConnection() override;

    void on_open(Connection& c) override;
    void on_line(Connection& c, std::string_view line, LineEnd end) override;
    void on_line_too_long(Connection& c) override;
    void on_raw(Connection& c, std::string_view bytes, bool last) override;
    void on_tls_ready(Connection& c) override;
    void on_timeout(Connection& c) override;
    void on_shutdown(Connection& c) override;
    void on_close(Connection& c, CloseReason why) override;

private:
    // SmtpTransport
    void write(std::string_view bytes) override;
    void close() override;
    void start_tls() override;
    void pause_reading() override;
    void resume_reading() override;
    void read_raw(uint64_t count) override;
    void set_max_line(size_t max_line) override;
    void set_split_lines(bool on) override;
    void start_timer(uint64_t ms) override;
    void wipe_input() override;

    Connection& conn_;
    SessionLog log_;
    std::function<SslCtxPtr()> stls_ctx_;
    Timer timer_;
    LineReaderLimits limits_;  // what set_max_line / set_split_lines gave the Connection
    std::unique_ptr<SmtpSession> session_;
};

}  // namespace postern
