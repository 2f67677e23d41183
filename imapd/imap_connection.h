#pragma once
// Glue between one libproto/net Connection and one ImapSession: the connection runs in raw
// mode for the whole session (the IMAP parser wants bytes, literals included, not lines),
// and is the session's ImapTransport (writes, pausing, STARTTLS, the failed-login timer).
// Idle timeout and connection caps are the Connection's and the listener's.

#include <functional>
#include <memory>

#include "imapd/imap_session.h"
#include "libproto/net/connection.h"
#include "libproto/net/uv_handle.h"

namespace postern {

class ImapConnection final : public ConnectionHandler, public ImapTransport {
public:
    // `tls_ctx` gives the context for STARTTLS when asked (SIGHUP may swap it); null or
    // returning null: STARTTLS is not offered. `backend` outlives the connection.
    ImapConnection(Connection& c, ImapBackend& backend, ImapSessionOptions opts,
                   std::function<SslCtxPtr()> tls_ctx);
    ~ImapConnection() override;

    // ConnectionHandler
    void on_open(Connection& c) override;
    void on_line(Connection& c, std::string_view line, LineEnd end) override;
    void on_raw(Connection& c, std::string_view bytes, bool last) override;
    void on_tls_ready(Connection& c) override;
    void on_drain(Connection& c) override;
    void on_timeout(Connection& c) override;
    void on_shutdown(Connection& c) override;
    void on_close(Connection& c, CloseReason why) override;

    // ImapTransport
    void write(std::string_view bytes) override;
    bool output_full() const override;
    void pause_reading() override;
    void resume_reading() override;
    void close() override;
    bool start_tls() override;
    bool is_tls() const override;
    bool tls_available() const override;
    bool start_compression(std::string_view received) override;
    bool compression_active() const override;
    void start_timer(uint32_t ms) override;

private:
    void raw_mode();

    Connection& c_;
    std::function<SslCtxPtr()> tls_ctx_;
    SessionLog log_;
    Timer timer_;
    std::unique_ptr<ImapSession> session_;
    bool closed_ = false;
};

}  // namespace postern
