#pragma once
// Glue between one Connection (libproto/net/connection.h) and one Pop3Session:
// lines in, replies out, and the session's waits turned into libuv actions
// (backpressure for RETR, the failed-login timer, STLS, close).

#include <functional>
#include <memory>

#include "libproto/net/connection.h"
#include "libproto/core/log.h"
#include "libproto/pop3/pop3_session.h"
#include "libproto/net/pool_job.h"
#include "libproto/net/uv_handle.h"
#include "pop3d/store_maildrop.h"

namespace postern {

class Pop3Connection : public ConnectionHandler {
public:
    // `stls_ctx` gives the TLS context for STLS at the time it is asked for
    // (SIGHUP may have swapped it); null: STLS is not offered.
    // With a `passwords` backend USER/PASS is verified on the thread pool
    // (opts.defer_password_check is then set here). Maildrop calls always run there
    // (opts.defer_store is set here); `backend` must outlive the work in flight.
    Pop3Connection(Connection& c, Pop3Backend& backend, Pop3SessionOptions opts,
                   std::function<SslCtxPtr()> stls_ctx, StoreBackend* passwords = nullptr);
    ~Pop3Connection() override;

    void on_open(Connection& c) override;
    void on_line(Connection& c, std::string_view line, LineEnd end) override;
    void on_line_too_long(Connection& c) override;
    void on_tls_ready(Connection& c) override;
    void on_drain(Connection& c) override;
    void on_timeout(Connection& c) override;
    void on_shutdown(Connection& c) override;
    void on_close(Connection& c, CloseReason why) override;

private:
    // Writes what the session produced and acts on what it waits for.
    void flush(Connection& c);

    // Shared with pool work in flight: a session whose client left while a check or store
    // call ran lives until the answer is in (a failed login is still charged, an open
    // maildrop released), then goes. Its output is dropped.
    std::shared_ptr<SessionLog> log_ = std::make_shared<SessionLog>();
    std::shared_ptr<Pop3Session> session_;
    std::shared_ptr<char> alive_ = std::make_shared<char>(0);  // expires with the connection
    std::function<SslCtxPtr()> stls_ctx_;
    Timer timer_;
    StoreBackend* passwords_ = nullptr;
    bool check_pending_ = false;  // USER/PASS verification in flight
    bool store_pending_ = false;  // a maildrop or lookup call in flight (Pop3Wait::store)
    bool stls_requested_ = false;
    bool flushing_ = false;
    bool again_ = false;
};

// True for 127.0.0.0/8 and ::1 (pop3d.allow_plaintext_on_loopback).
bool is_loopback(const std::string& ip);

}  // namespace postern
