#include "spoold/smtp_transport.h"

#include <algorithm>
#include <cstring>
#include <deque>

#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"
#include "libproto/net/pool_job.h"
#include "libproto/net/uv_handle.h"
#include "spoold/dane_hops.h"
#include "spoold/dane_tls.h"
#include "spoold/requiretls_hops.h"
#include "spoold/smtp_client_connection.h"

namespace postern {

namespace {

bool is_loopback(const std::string& ip) { return ip.starts_with("127.") || ip == "::1"; }

bool is_ip_literal(const std::string& host) {
    return !host.empty() && (host.find(':') != std::string::npos ||
                             host.find_first_not_of("0123456789.") == std::string::npos);
}

SmtpBodyType body_of(BodyType b) {
    switch (b) {
    case BodyType::seven_bit: return SmtpBodyType::seven_bit;
    case BodyType::eight_bit_mime: return SmtpBodyType::eight_bit_mime;
    case BodyType::binary_mime: return SmtpBodyType::binary_mime;
    case BodyType::unspecified: break;
    }
    return SmtpBodyType::unspecified;
}

SmtpDsnRet ret_of(DsnRet r) {
    if (r == DsnRet::full) return SmtpDsnRet::full;
    if (r == DsnRet::hdrs) return SmtpDsnRet::hdrs;
    return SmtpDsnRet::unspecified;
}

}  // namespace

StoreResult<size_t> QueueMessageReader::read_at(uint64_t offset, std::span<char> buf) {
    if (offset >= size_ || buf.empty()) return size_t(0);
    tmp_.clear();
    auto n = q_.read_message(id_, offset, std::min<uint64_t>(buf.size(), size_ - offset), tmp_);
    if (!n) return std::unexpected(StoreError::temporary);
    std::memcpy(buf.data(), tmp_.data(), tmp_.size());
    return tmp_.size();
}

// One connection, and the batch using it (none while it is idle in its host's cache).
struct SmtpTransport::Link final : SmtpClientOwner {
    SmtpTransport* t = nullptr;
    uint64_t id = 0;
    std::string key;
    std::string label;                     // "host[ip]:port" for logs and replies
    SmtpClientConnection* conn = nullptr;  // null while connecting
    uint64_t job = 0;                      // 0: idle (or being closed)
    std::unique_ptr<Timer> idle_timer;

    void on_ready(SmtpClientConnection& c) override;
    void on_body_wanted(SmtpClientConnection& c) override;
    void on_drain(SmtpClientConnection& c) override;
    void on_results(SmtpClientConnection& c, std::vector<SmtpRecipientResult> r) override;
    void on_closed(SmtpClientConnection& c, const std::string& why) override;
    // The connection is gone (or never came): `this` is destroyed before it returns.
    void gone(const std::string& why, bool tls_failed, bool remote = false);
};

struct SmtpTransport::HostSlot {
    size_t open = 0;               // links connecting or connected (idle ones too)
    std::deque<uint64_t> idle;     // link ids, oldest first
    std::deque<uint64_t> waiting;  // job ids waiting for a slot
};

struct ReadBuf {
    std::string data;
    bool ok = true;
};

struct SmtpTransport::Job {
    SmtpTransport* t = nullptr;
    uint64_t id = 0;
    RemoteBatch batch;
    Done done;
    std::vector<TargetResult> results;
    std::vector<uint8_t> open;   // the target still looks for a host
    std::vector<NextHop> order;  // hops, then fallback hops
    size_t hop = 0;
    size_t addr = 0;
    bool plaintext = false;  // this address again without TLS (may: the handshake failed)
    std::string last_reply = "451 4.4.0 no host to deliver to";
    std::string last_mta;  // who said last_reply, when a server did
    std::string prefix;
    uint64_t link = 0;
    uint64_t avoid = 0;        // a link whose host deferred everyone: not reused for them
    bool reused = false;       // the link came from the cache (RSET probe)
    bool txn_started = false;  // begin() on the current link
    int extra_txns = 0;        // transactions after a "452 4.5.3 too many recipients"
    std::vector<size_t> sent;  // targets in the current transaction
    // Streaming the message.
    uint64_t offset = 0;
    bool prefix_sent = false;
    bool body_done = false;
    bool streaming = false;
    std::shared_ptr<ReadBuf> buf = std::make_shared<ReadBuf>();
    PoolJob read;
    PoolJob prefix_job;

    const NextHop& cur() const { return order[hop]; }
    std::string key() const {
        const auto& h = cur();
        return h.host + "|" + std::to_string(h.port) + "|" + tls_policy_name(h.tls) + "|" +
               (h.auth ? h.auth->user : "") + (plaintext ? "|plain" : "");
    }
    void start();
    void next_address();
    void connect();
    void start_txn(Link& l);
    void read_next(Link& l);
    void results_in(Link& l, std::vector<SmtpRecipientResult> r);
    void link_closed(const std::string& why, bool tls_failed, bool remote);
    bool more_on_same_link(Link& l, const std::vector<SmtpRecipientResult>& r);
    void finish_all();
};

SmtpTransport::SmtpTransport(uv_loop_t* loop, Queue queue, NextHopPlanner& planner,
                             SmtpTransportOptions opts)
    : loop_(loop), queue_(std::move(queue)), planner_(planner), opts_(std::move(opts)),
      alive_(std::make_shared<bool>(true)) {}

SmtpTransport::~SmtpTransport() {
    alive_.reset();
    for (auto& [id, l] : links_)
        if (l->conn) {
            l->conn->set_owner(nullptr);
            l->conn->abort_with("421 4.3.2 spoold is stopping");
        }
    jobs_.clear();
    links_.clear();
}

size_t SmtpTransport::idle_connections() const {
    size_t n = 0;
    for (const auto& [k, s] : hosts_) n += s->idle.size();
    return n;
}

SSL_CTX* SmtpTransport::tls_context(bool verify) {
    SslCtxPtr& slot = verify ? tls_verify_ : tls_plain_;
    if (!slot) {
        auto c = make_client_tls(verify, opts_.tls_ca_file);
        if (!c) {
            log_msg(LogLevel::error, "smtp: client TLS context: %s", c.error().c_str());
            return nullptr;
        }
        slot = std::move(*c);
        if (!verify && !dane_enable_context(slot.get()))  // DANE hops use this context
            log_msg(LogLevel::error, "smtp: client TLS context: DANE not available: %s",
                    tls_error_text().c_str());
    }
    return slot.get();
}

void SmtpTransport::deliver(const RemoteBatch& batch, Done done) {
    auto job = std::make_unique<Job>();
    Job& j = *job;
    j.t = this;
    j.id = next_job_++;
    j.batch = batch;
    j.done = std::move(done);
    j.results.assign(batch.targets.size(), {TargetState::deferred, ""});
    j.open.assign(batch.targets.size(), 1);
    jobs_[j.id] = std::move(job);
    std::weak_ptr<bool> alive = alive_;
    uint64_t id = j.id;
    PlanFor what;
    what.recipient_tls_policies = !batch.envelope->tls_optional;  // "TLS-Required: No"
    planner_.plan(batch.destination, what, [this, alive, id](HopPlan plan) {
        if (alive.expired()) return;
        auto it = jobs_.find(id);
        if (it == jobs_.end()) return;
        Job& jj = *it->second;
        if (jj.batch.envelope->requiretls) apply_requiretls(plan, jj.batch.destination);
        if (plan.failure) {
            for (auto& r : jj.results) r = *plan.failure;
            std::fill(jj.open.begin(), jj.open.end(), 0);
            finish(&jj);
            return;
        }
        jj.order = std::move(plan.hops);
        for (auto& h : plan.fallback) jj.order.push_back(std::move(h));
        jj.start();
    });
}

void SmtpTransport::finish(Job* j) {
    std::vector<TargetResult> out = std::move(j->results);
    for (size_t i = 0; i < out.size(); ++i)
        if (j->open[i]) out[i] = {TargetState::deferred, j->last_reply, j->last_mta};
    Done done = std::move(j->done);
    jobs_.erase(j->id);
    done(std::move(out));
}

// --- a batch ---

void SmtpTransport::Job::start() {
    if (!t->opts_.prefix) {
        next_address();
        return;
    }
    std::weak_ptr<bool> alive = t->alive_;
    auto env = batch.envelope;
    auto out = std::make_shared<std::string>();
    Queue q = t->queue_;
    std::string qid = batch.id;
    auto fn = t->opts_.prefix;
    prefix_job = run_on_pool(
        t->loop_,
        [q, qid, env, out, fn] {
            QueueMessageReader reader(q, qid, env->size);
            *out = fn(*env, reader);
        },
        [this, out] {
            prefix = std::move(*out);
            next_address();
        });
}

void SmtpTransport::Job::next_address() {
    while (hop < order.size()) {
        if (cur().dane.outcome == DaneOutcome::defer) {
            last_reply = dane_defer_reply(cur());  // RFC 7672 2.1.1: this host is unusable
            last_mta.clear();
        } else if (addr < cur().addresses.size()) {
            connect();
            return;
        }
        if (cur().addresses.empty()) {
            last_reply = "451 4.4.4 no address for " + cur().host;
            last_mta.clear();
        }
        ++hop;
        addr = 0;
        plaintext = false;
    }
    t->finish(this);
}

void SmtpTransport::Job::connect() {
    SmtpTransport* tr = t;
    std::string k = key();
    auto& slot_ptr = tr->hosts_[k];
    if (!slot_ptr) slot_ptr = std::make_unique<HostSlot>();
    HostSlot& slot = *slot_ptr;
    txn_started = false;
    std::vector<uint64_t> skipped;
    struct PutBack {
        HostSlot& s;
        std::vector<uint64_t>& ids;
        ~PutBack() { s.idle.insert(s.idle.end(), ids.rbegin(), ids.rend()); }
    } put_back{slot, skipped};
    // A cached connection to the same host: RSET first (it may have died meanwhile).
    while (!slot.idle.empty()) {
        uint64_t lid = slot.idle.back();
        slot.idle.pop_back();
        auto it = tr->links_.find(lid);
        if (it == tr->links_.end() || !it->second->conn) continue;
        if (lid == avoid) {
            skipped.push_back(lid);
            continue;
        }
        Link& l = *it->second;
        l.idle_timer.reset();
        l.job = id;
        link = lid;
        reused = true;
        l.conn->reset();
        return;
    }
    if (slot.open >= tr->opts_.max_per_host) {
        slot.waiting.push_back(id);
        return;
    }
    reused = false;
    const NextHop& h = cur();
    const std::string& ip = h.addresses[addr];
    auto lk = std::make_unique<Link>();
    Link& l = *lk;
    l.t = tr;
    l.id = tr->next_link_++;
    l.key = k;
    l.label = h.host + "[" + ip + "]:" + std::to_string(h.port);
    l.job = id;
    link = l.id;
    tr->links_[l.id] = std::move(lk);
    ++slot.open;
    ++tr->opened_;

    SmtpClientConfig cfg;
    cfg.helo_name = tr->opts_.helo_name;
    cfg.timeouts = tr->opts_.timeouts;
    TlsPolicy pol = plaintext ? TlsPolicy::none : h.tls;
    cfg.tls = pol == TlsPolicy::none  ? SmtpClientTls::none
              : pol == TlsPolicy::may ? SmtpClientTls::opportunistic
                                      : SmtpClientTls::required;
    if (h.auth) {
        cfg.auth_user = h.auth->user;
        cfg.auth_password = h.auth->password;
    }
    cfg.peer_is_loopback = is_loopback(ip);
    SslCtxPtr ctx;
    if (pol != TlsPolicy::none) ctx = share_tls(tr->tls_context(pol == TlsPolicy::verify));
    std::string verify_host = pol == TlsPolicy::verify ? h.host : "";
    std::shared_ptr<DaneTls> dane;  // TLSA records the peer must match (spoold/dane_tls.h)
    if (pol == TlsPolicy::dane) dane = std::make_shared<DaneTls>(DaneTls{h.host, h.dane.records});
    std::string sni = is_ip_literal(h.host) ? "" : h.host;

    ConnectionOptions co;
    co.idle_timeout_ms = 0;  // the engine's timeouts run instead
    co.handshake_timeout_ms = tr->opts_.handshake_timeout_ms;
    co.lines.max_line = 2048;
    std::weak_ptr<bool> alive = tr->alive_;
    uint64_t lid = l.id;
    auto shared_cfg = std::make_shared<SmtpClientConfig>(std::move(cfg));
    auto shared_ctx = std::make_shared<SslCtxPtr>(std::move(ctx));
    log_msg(LogLevel::debug, "smtp %s: connecting for %s", l.label.c_str(), batch.id.c_str());
    connect_tcp(
        tr->loop_, ip, h.port, co,
        [tr, alive, lid, shared_cfg, shared_ctx, verify_host, sni,
         dane](Connection& c) -> std::unique_ptr<ConnectionHandler> {
            auto handler = std::make_unique<SmtpClientConnection>(
                c, std::move(*shared_cfg), share_tls(shared_ctx->get()), verify_host, sni);
            if (dane) handler->set_dane(*dane);
            if (!alive.expired()) {
                auto it = tr->links_.find(lid);
                if (it != tr->links_.end()) {
                    it->second->conn = handler.get();
                    handler->set_owner(it->second.get());
                }
            }
            return handler;
        },
        [tr, alive, lid](const std::string& err) {
            if (alive.expired()) return;
            auto it = tr->links_.find(lid);
            if (it == tr->links_.end()) return;
            Link& dead = *it->second;
            dead.gone("451 4.4.1 cannot connect to " + dead.label + ": " + err, false);
        },
        tr->opts_.connect_timeout_ms);
}

void SmtpTransport::Job::start_txn(Link& l) {
    txn_started = true;
    const Envelope& env = *batch.envelope;
    SmtpClientTransaction tx;
    tx.reverse_path = env.reverse_path;
    tx.size = env.size + prefix.size();
    tx.body = body_of(env.body);
    tx.smtputf8 = env.smtputf8;
    tx.ret = ret_of(env.ret);
    tx.envid = env.envid;
    tx.requiretls = env.requiretls;
    sent.clear();
    for (size_t i = 0; i < batch.targets.size(); ++i) {
        if (!open[i]) continue;
        const auto& ref = batch.targets[i];
        if (ref.rcpt >= env.recipients.size() ||
            ref.target >= env.recipients[ref.rcpt].targets.size()) {
            results[i] = {TargetState::failed, "554 5.3.0 no such target in the entry"};
            open[i] = 0;
            continue;
        }
        const Recipient& r = env.recipients[ref.rcpt];
        SmtpClientRecipient cr;
        cr.address = r.targets[ref.target].address;
        cr.notify = r.notify;
        cr.orcpt = !r.orcpt.empty()          ? r.orcpt
                   : cr.address != r.address ? "rfc822;" + r.address
                                             : "";
        tx.recipients.push_back(std::move(cr));
        sent.push_back(i);
    }
    offset = 0;
    prefix_sent = false;
    body_done = false;
    streaming = false;
    l.conn->begin(std::move(tx));
}

void SmtpTransport::Job::read_next(Link& l) {
    if (!streaming || body_done || read.active() || !l.conn) return;
    if (l.conn->session().want() != SmtpClientSession::Want::body) return;
    if (!prefix_sent) {
        prefix_sent = true;
        if (!prefix.empty()) l.conn->feed_body(prefix, false);
    }
    if (l.conn->output_blocked()) return;  // on_drain brings us back
    size_t want = t->opts_.chunk_bytes;
    auto buf_ = buf;
    Queue q = t->queue_;
    std::string qid = batch.id;
    uint64_t off = offset;
    uint64_t lid = l.id;
    read = run_on_pool(
        t->loop_,
        [q, qid, off, want, buf_] {
            buf_->data.clear();
            auto n = q.read_message(qid, off, want, buf_->data);
            buf_->ok = n.has_value();
        },
        [this, lid, want] {
            auto it = t->links_.find(lid);
            if (it == t->links_.end() || !it->second->conn || link != lid) return;
            Link& lk = *it->second;
            if (!buf->ok) {
                lk.conn->abort_with("451 4.3.0 cannot read the queued message");
                return;
            }
            size_t n = buf->data.size();
            offset += n;
            bool last = n < want;
            if (last) body_done = true;
            lk.conn->feed_body(buf->data, last);
            if (!last) read_next(lk);
        });
}

void SmtpTransport::Job::results_in(Link& l, std::vector<SmtpRecipientResult> r) {
    bool decided = false;
    read.cancel();
    streaming = false;
    for (size_t k = 0; k < r.size() && k < sent.size(); ++k) {
        size_t i = sent[k];
        const auto& addr = batch.envelope->recipients[batch.targets[i].rcpt]
                               .targets[batch.targets[i].target]
                               .address;
        const char* status = "deferred";
        // The DSN\'s Remote-MTA: the host that said it, when a server said it.
        std::string mta = r[k].from_server ? cur().host : std::string();
        switch (r[k].outcome) {
        case SmtpOutcome::delivered:
            results[i] = {TargetState::delivered, r[k].reply, mta,
                          !l.conn->session().capabilities().dsn};
            open[i] = 0;
            decided = true;
            status = "sent";
            break;
        case SmtpOutcome::failed:
            results[i] = {TargetState::failed, r[k].reply, mta};
            open[i] = 0;
            decided = true;
            status = "bounced";
            break;
        case SmtpOutcome::deferred:
            results[i] = {TargetState::deferred, r[k].reply, mta};
            last_reply = r[k].reply;
            last_mta = mta;
            break;
        }
        log_msg(LogLevel::info, "smtp %s: %s to=<%s> relay=%s%s status=%s (%s)", batch.id.c_str(),
                batch.destination.c_str(), log_escape(addr).c_str(), l.label.c_str(),
                !l.conn || !l.conn->session().tls_active() ? ""
                : l.conn->dane_verified()                  ? " tls dane"
                                                           : " tls",
                status, log_escape(r[k].reply).c_str());
    }
    if (more_on_same_link(l, r)) return;
    // The connection is done with this batch: back to its host (or to a waiting batch).
    l.job = 0;
    link = 0;
    t->release(l);
    bool any_open = std::find(open.begin(), open.end(), 1) != open.end();
    if (decided || !any_open) {
        t->finish(this);
        return;
    }
    ++addr;  // everyone deferred: the next address, then the next hop
    plaintext = false;
    avoid = l.id;
    next_address();
}

// RFC 5321 4.5.3.1.10: recipients refused as too many ("452 4.5.3") while others of the same
// transaction were taken go in a new transaction on the same connection at once, instead of
// waiting for the next attempt. The other deferred ones keep their reply.
bool SmtpTransport::Job::more_on_same_link(Link& l, const std::vector<SmtpRecipientResult>& r) {
    auto too_many = [](const std::string& reply) {
        return reply.starts_with("452 4.5.3") || (reply.starts_with("452 ") && reply.size() > 4 &&
                                                  reply[4] != '4');  // no enhanced code
    };
    bool took = false;
    std::vector<size_t> again;
    for (size_t k = 0; k < r.size() && k < sent.size(); ++k) {
        if (r[k].outcome == SmtpOutcome::delivered) took = true;
        if (r[k].outcome == SmtpOutcome::deferred && too_many(r[k].reply)) again.push_back(sent[k]);
    }
    if (!took || again.empty() || ++extra_txns > 50 || !l.conn || l.conn->closed() ||
        l.conn->session().want() != SmtpClientSession::Want::transaction)
        return false;
    for (size_t i = 0; i < open.size(); ++i)
        if (open[i] && std::find(again.begin(), again.end(), i) == again.end()) open[i] = 0;
    start_txn(l);
    return true;
}

void SmtpTransport::Job::link_closed(const std::string& why, bool tls_failed, bool remote) {
    // Gone before this batch had results from it: setup, the RSET probe, or the connect.
    link = 0;
    if (!why.empty()) {
        last_reply = why;
        last_mta = remote ? cur().host : std::string();
    }
    if (reused && !txn_started) {
        reused = false;
        connect();  // a stale cached connection: a fresh one to the same address
        return;
    }
    if (tls_failed && cur().tls == TlsPolicy::may && !plaintext) {
        plaintext = true;  // opportunistic: once more in plaintext (as Postfix does)
        connect();
        return;
    }
    ++addr;
    plaintext = false;
    next_address();
}

// --- connections ---

void SmtpTransport::release(Link& l) {
    if (!l.conn || l.conn->closed() ||
        l.conn->session().want() != SmtpClientSession::Want::transaction)
        return;  // closing: on_closed cleans up
    auto sit = hosts_.find(l.key);
    if (sit == hosts_.end()) return;
    HostSlot& slot = *sit->second;
    while (!slot.waiting.empty()) {
        uint64_t jid = slot.waiting.front();
        slot.waiting.pop_front();
        auto jt = jobs_.find(jid);
        if (jt == jobs_.end()) continue;
        Job& j = *jt->second;
        l.job = jid;
        j.link = l.id;
        j.reused = false;
        j.txn_started = false;
        return;  // its on_ready follows in this connection's pump
    }
    if (idle_connections() >= opts_.max_idle) {
        l.conn->quit();
        return;
    }
    slot.idle.push_back(l.id);
    l.idle_timer = std::make_unique<Timer>(loop_);
    Link* lp = &l;
    l.idle_timer->start(opts_.idle_ms, [lp] {
        if (lp->conn) lp->conn->quit();
    });
}

void SmtpTransport::Link::on_ready(SmtpClientConnection&) {
    auto it = t->jobs_.find(job);
    if (job == 0 || it == t->jobs_.end()) return;
    Job& j = *it->second;
    if (!j.txn_started) j.start_txn(*this);
}

void SmtpTransport::Link::on_body_wanted(SmtpClientConnection&) {
    auto it = t->jobs_.find(job);
    if (job == 0 || it == t->jobs_.end()) {
        conn->abort_with("451 4.3.0 batch gone");
        return;
    }
    it->second->streaming = true;
    it->second->read_next(*this);
}

void SmtpTransport::Link::on_drain(SmtpClientConnection&) {
    auto it = t->jobs_.find(job);
    if (job == 0 || it == t->jobs_.end()) return;
    it->second->read_next(*this);
}

void SmtpTransport::Link::on_results(SmtpClientConnection&, std::vector<SmtpRecipientResult> r) {
    auto it = t->jobs_.find(job);
    if (job == 0 || it == t->jobs_.end()) return;
    it->second->results_in(*this, std::move(r));
}

void SmtpTransport::Link::on_closed(SmtpClientConnection& c, const std::string& why) {
    gone(why, c.tls_handshake_failed(), c.failure_is_remote());
}

void SmtpTransport::Link::gone(const std::string& why, bool tls_failed, bool remote) {
    SmtpTransport* tr = t;
    uint64_t jid = job;
    uint64_t self = id;
    std::string k = key;
    if (idle_timer) idle_timer.reset();
    auto sit = tr->hosts_.find(k);
    if (sit != tr->hosts_.end()) {
        auto& s = *sit->second;
        if (s.open > 0) --s.open;
        std::erase(s.idle, self);
    }
    auto jt = tr->jobs_.find(jid);
    if (jid != 0 && jt != tr->jobs_.end() && jt->second->link == self) {
        if (!why.empty())
            log_msg(LogLevel::info, "smtp %s: %s: %s", jt->second->batch.id.c_str(), label.c_str(),
                    log_escape(why).c_str());
        jt->second->link_closed(why, tls_failed, remote);
    }
    conn = nullptr;
    // A slot is free: the first batch waiting for this host goes on.
    if (sit != tr->hosts_.end()) {
        auto& s = *sit->second;
        while (!s.waiting.empty() && s.open < tr->opts_.max_per_host) {
            uint64_t w = s.waiting.front();
            s.waiting.pop_front();
            auto wt = tr->jobs_.find(w);
            if (wt != tr->jobs_.end()) wt->second->connect();
        }
    }
    tr->links_.erase(self);  // last: `this` dies here
}

}  // namespace postern
