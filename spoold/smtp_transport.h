#pragma once
// Remote delivery over SMTP: the RemoteTransport spoold uses for mail that leaves. Per
// batch (one queue entry, one destination domain, one transaction):
//
//   1. the NextHopPlanner gives the hops (spoold/next_hop.h); a plan failure answers all;
//   2. the optional `prefix` (DKIM's signature field) is computed on the pool;
//   3. each hop's addresses are tried in order, then the fallback hops: a connection (a
//      cached idle one to the same host when there is one, checked with RSET) runs the
//      transaction for the targets still open. A host that decided about someone (a 2xx or
//      5xx to any recipient) ends the search: who it deferred stays deferred. A host that
//      deferred everyone (connect failure, greeting, TLS, timeout, 4xx to MAIL) passes them
//      on to the next address, then the next hop;
//   4. the message is read from the queue in chunks on the pool (never whole) and sent as
//      the connection drains;
//   5. one TargetResult per target; what no host took is deferred with the last reply.
//
// Connections: an idle one is kept per host for idle_ms (at most max_idle overall), and at
// most max_per_host are open to one host at a time (the rest of the batches wait).
// TLS: none never, may opportunistic (a failed handshake retries that address in
// plaintext), encrypt requires STARTTLS, verify also checks the certificate chain (system
// trust store) and that it names NextHop::host. AUTH only after TLS unless on loopback.
// A REQUIRETLS message (RFC 8689) keeps only the hops whose name can be trusted, raises them
// to verify (spoold/requiretls_hops.h) and asks the server for REQUIRETLS, or fails with
// 550 5.7.30 when no hop is left or the server does not offer it.
//
// Threading: everything on the loop except the queue reads and the prefix (pool jobs).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "libmailstore/store.h"
#include "libproto/net/tls.h"
#include "libproto/smtp_client/smtp_client_session.h"
#include "spoold/next_hop.h"
#include "spoold/remote_transport.h"

namespace postern {

struct SmtpTransportOptions {
    std::string helo_name = "localhost";
    SmtpClientTimeouts timeouts{};
    uint64_t connect_timeout_ms = 30'000;
    uint64_t handshake_timeout_ms = 30'000;
    uint64_t idle_ms = 5'000;           // an idle cached connection is closed (QUIT) after this
    size_t max_idle = 32;               // idle connections kept, all hosts together
    size_t max_per_host = 4;            // connections open to one host (host, port) at a time
    size_t chunk_bytes = 128 * 1024;    // one queue read
    std::filesystem::path tls_ca_file;  // verify: trust only this PEM bundle; empty: the system's
    // Blocking, on the pool, once per batch before MAIL: bytes to put before the message
    // (DKIM-Signature). Empty: nothing.
    std::function<std::string(const Envelope&, MessageReader&)> prefix;
};

class SmtpTransport final : public RemoteTransport {
public:
    SmtpTransport(uv_loop_t* loop, Queue queue, NextHopPlanner& planner, SmtpTransportOptions opts);
    ~SmtpTransport() override;  // batches in flight end without calling back
    SmtpTransport(const SmtpTransport&) = delete;
    SmtpTransport& operator=(const SmtpTransport&) = delete;

    void deliver(const RemoteBatch& batch, Done done) override;

    // Tests and logs.
    size_t idle_connections() const;
    uint64_t connections_opened() const { return opened_; }
    size_t batches_in_flight() const { return jobs_.size(); }

    struct Job;       // one batch (smtp_transport.cc)
    struct HostSlot;  // per (host, port): open count, idle connections, waiting jobs
    struct Link;      // one connection and who uses it

private:
    friend struct Job;
    friend struct Link;
    SSL_CTX* tls_context(bool verify);
    void finish(Job* j);
    void release(Link& l);

    uv_loop_t* loop_;
    Queue queue_;
    NextHopPlanner& planner_;
    SmtpTransportOptions opts_;
    SslCtxPtr tls_plain_;
    SslCtxPtr tls_verify_;
    std::map<uint64_t, std::unique_ptr<Job>> jobs_;
    std::map<std::string, std::unique_ptr<HostSlot>> hosts_;
    std::map<uint64_t, std::unique_ptr<Link>> links_;
    uint64_t next_job_ = 1;
    uint64_t next_link_ = 1;
    uint64_t opened_ = 0;
    std::shared_ptr<bool> alive_;
};

// A MessageReader over a queued message's bytes (Queue::read_message), with `prefix`
// before them (blocking; for the pool).
class QueueMessageReader final : public MessageReader {
public:
    QueueMessageReader(Queue q, std::string id, uint64_t size)
        : q_(std::move(q)), id_(std::move(id)), size_(size) {}
    uint64_t size() const override { return size_; }
    StoreResult<size_t> read_at(uint64_t offset, std::span<char> buf) override;

private:
    Queue q_;
    std::string id_;
    uint64_t size_;
    std::string tmp_;
};

}  // namespace postern
