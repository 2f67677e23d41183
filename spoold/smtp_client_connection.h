#pragma once
// One outbound SMTP connection: the ConnectionHandler that drives the client engine
// (libproto/smtp_client) over a libproto/net Connection. It writes what the engine says,
// feeds it the reply lines, runs the STARTTLS handshake (checking the host name when the
// context verifies), times each wait with the engine's RFC 5321 4.5.3.2 timeout, and tells
// its owner (SmtpTransport) when the session is ready, wants the message, has results, or
// is gone. The Connection owns this handler; the owner holds a pointer it drops in
// on_closed, and detaches itself (set_owner(nullptr)) when it goes first.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libproto/net/connection.h"
#include "libproto/net/tls.h"
#include "libproto/net/uv_handle.h"
#include "libproto/smtp_client/smtp_client_session.h"
#include "spoold/dane_tls.h"

namespace postern {

class SmtpClientConnection;

class SmtpClientOwner {
public:
    virtual ~SmtpClientOwner() = default;
    virtual void on_ready(SmtpClientConnection& c) = 0;        // idle: begin(), reset() or quit()
    virtual void on_body_wanted(SmtpClientConnection& c) = 0;  // stream with feed_body()
    virtual void on_drain(SmtpClientConnection& c) = 0;        // output fell below low water
    virtual void on_results(SmtpClientConnection& c, std::vector<SmtpRecipientResult> r) = 0;
    // The last call: the connection is closing; `why` is the engine's failure, if any.
    virtual void on_closed(SmtpClientConnection& c, const std::string& why) = 0;
};

class SmtpClientConnection final : public ConnectionHandler {
public:
    // tls: the client context for STARTTLS (null: never); verify_host: the name the
    // certificate must match (empty: no name check).
    SmtpClientConnection(Connection& c, SmtpClientConfig cfg, SslCtxPtr tls,
                         std::string verify_host, std::string sni);
    ~SmtpClientConnection() override;

    void set_owner(SmtpClientOwner* o) { owner_ = o; }
    // DANE (spoold/dane_tls.h): the peer must match one of these TLSA records. Before on_open.
    void set_dane(DaneTls d) { dane_ = std::move(d); }
    // TLS is up and the peer matched a TLSA record.
    bool dane_verified() const { return !dane_match_.empty(); }

    void begin(SmtpClientTransaction t);
    void reset();
    void quit();
    void feed_body(std::string_view chunk, bool last);
    // Stops at once (a local failure, e.g. the queued message cannot be read).
    void abort_with(std::string why);

    bool output_blocked() const { return conn_.output_blocked(); }
    size_t pending_output() const { return conn_.pending_output(); }
    const SmtpClientSession& session() const { return session_; }
    const PeerAddress& peer() const { return conn_.peer(); }
    bool tls_handshake_failed() const { return tls_failed_; }
    // The reason on_closed gives is a reply of the server (not a local text).
    bool failure_is_remote() const {
        return local_failure_.empty() && session_.failure_from_server();
    }
    bool closed() const { return closed_; }

    // ConnectionHandler
    void on_open(Connection& c) override;
    void on_line(Connection& c, std::string_view line, LineEnd end) override;
    void on_line_too_long(Connection& c) override;
    void on_tls_ready(Connection& c) override;
    void on_drain(Connection& c) override;
    void on_timeout(Connection& c) override;
    void on_shutdown(Connection& c) override;
    void on_close(Connection& c, CloseReason why) override;

private:
    void pump();

    Connection& conn_;
    SmtpClientSession session_;
    SslCtxPtr tls_;
    std::string verify_host_;
    std::string sni_;
    std::optional<DaneTls> dane_;
    std::string dane_match_;  // "TLSA 3 1 1 matched at depth 0" once verified
    Timer timer_;
    SmtpClientOwner* owner_ = nullptr;
    std::string local_failure_;
    bool pumping_ = false;
    bool repump_ = false;
    bool closed_ = false;
    bool tls_started_ = false;
    bool tls_failed_ = false;
    bool body_announced_ = false;
    bool ready_announced_ = false;  // on_ready said for this idle spell
};

}  // namespace postern
