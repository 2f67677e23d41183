#include "spoold/delivery.h"

#include <algorithm>
#include <map>
#include <set>

#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"
#include "spoold/dsn.h"

namespace postern {

const char* rcpt_result_text(RcptResult r) {
    switch (r) {
    case RcptResult::delivered: return "delivered";
    case RcptResult::deferred: return "deferred";
    case RcptResult::failed: return "bounced";
    }
    return "?";
}

uint32_t retry_delay(const std::vector<uint32_t>& schedule, uint32_t attempts) {
    if (schedule.empty()) return 300;
    size_t i = attempts == 0 ? 0 : std::min<size_t>(attempts - 1, schedule.size() - 1);
    return schedule[i];
}

namespace {

using Kind = StateRecord::Kind;

// Store errors sorted into permanent (bounce now) and temporary (retry), with the text
// that goes into the log, the queue listing and the DSN.
struct Verdict {
    bool permanent;
    std::string text;
};

Verdict expand_error(StoreError e) {
    switch (e) {
    case StoreError::not_found: return {true, "5.1.1 no such local recipient"};
    case StoreError::loop: return {true, "5.4.6 alias expansion loop"};
    case StoreError::invalid: return {true, "5.1.3 bad recipient address"};
    default: return {false, std::string("4.3.0 recipient lookup failed: ") + describe(e)};
    }
}

Verdict store_error(StoreError e) {
    switch (e) {
    case StoreError::not_found: return {true, "5.1.1 mailbox unavailable"};
    case StoreError::invalid: return {true, "5.3.0 message refused by the store"};
    case StoreError::over_quota: return {false, "4.2.2 mailbox full"};
    case StoreError::no_space: return {false, "4.3.1 mail system full"};
    default: return {false, std::string("4.3.0 mailbox write failed: ") + describe(e)};
    }
}

bool is_final(TargetState s) { return s == TargetState::delivered || s == TargetState::failed; }

// A failure nobody hears of (NOTIFY=NEVER, or the postmaster's copy failed): logged.
void log_unreported(const Envelope& env, std::string_view address, std::string_view error) {
    log_msg(LogLevel::warning, "%s: failure to <%s> not reported (%s): %s", env.id.c_str(),
            log_escape(address).c_str(),
            env.reverse_path.empty() ? "null sender, NOTIFY=NEVER: dropped" : "NOTIFY=NEVER",
            log_escape(error).c_str());
}

// A recipient as one line of a DSN about its target t: a remote target under its own
// address, with the recipient as Original-Recipient when no ORCPT was given and an alias
// led there; a local mailbox under the recipient's address.
Recipient dsn_line(const Recipient& r, const Target& t) {
    Recipient x = r;
    x.targets.clear();
    x.last_error = t.reply;
    if (t.remote && t.address != r.address) {
        if (x.orcpt.empty()) x.orcpt = "rfc822;" + r.address;
        x.address = t.address;
    }
    return x;
}

// True when another recipient of env already has `mailbox` delivered: one copy per mailbox.
bool delivered_elsewhere(const Envelope& env, const std::string& mailbox, size_t except) {
    for (size_t i = 0; i < env.recipients.size(); ++i) {
        if (i == except) continue;
        for (const auto& t : env.recipients[i].targets)
            if (!t.remote && t.state == TargetState::delivered && t.address == mailbox) return true;
    }
    return false;
}

}  // namespace

Deliverer::Deliverer(Queue queue, std::shared_ptr<Accounts> accounts, DeliveryParams params)
    : queue_(std::move(queue)), accounts_(std::move(accounts)), params_(std::move(params)) {}

std::expected<std::string, QueueError> Deliverer::enqueue_dsn(const Envelope& env, DsnReport report,
                                                              const std::vector<Recipient>& rcpts,
                                                              std::string_view original,
                                                              int64_t now) {
    report.rcpts.clear();
    report.rcpts.reserve(rcpts.size());
    for (const auto& r : rcpts) report.rcpts.push_back(&r);
    std::string msg = build_dsn(params_.hostname, env, report, original, now);
    auto w = queue_.create();
    if (!w) return std::unexpected(w.error());
    if (auto r = w->append(msg); !r) return std::unexpected(r.error());
    Envelope b;
    b.reverse_path = "";  // a DSN never bounces to anyone...
    Recipient r;
    r.address = report.to;
    // ... but its own failure goes to postmaster once (finish): NOTIFY not given. The
    // postmaster's copy says NEVER, so its failure is only logged.
    r.notify = report.postmaster_copy ? dsn_notify::never : 0;
    b.recipients.push_back(std::move(r));
    b.smtputf8 = env.smtputf8;
    b.requiretls = env.requiretls;
    b.arrival = now;
    return w->commit(std::move(b));
}

// One entry's attempt between the steps.
struct Deliverer::Prepared {
    AttemptReport rep;
    Envelope env;
    std::string msg;  // Return-Path: + the message, as it goes into every mailbox
    size_t hdr_len = 0;
    bool msg_loaded = false;
    std::vector<StateRecord> recs;  // applied to env, not yet in the log
    bool sync = false;              // recs hold a delivery or a failure: fdatasync them
    struct Local {
        TargetRef ref;
        std::string mailbox;
    };
    std::vector<Local> local;        // due local targets
    std::vector<std::string> users;  // their distinct mailboxes
    std::map<std::string, StoreResult<Delivered>> results;
    std::map<std::string, std::vector<TargetRef>> remote;  // destination -> due targets
    std::vector<Recipient> relayed;  // NOTIFY=SUCCESS, relayed to a server without DSN
    bool go = false;                 // prepared: the attempt goes on

    void add(StateRecord r, bool durable) {
        apply_state_record(env, r);
        recs.push_back(std::move(r));
        sync = sync || durable;
    }
    // Writes recs; false (rep set) when that failed.
    bool write(Queue& q) {
        if (recs.empty()) return true;
        auto r = q.append_state(rep.id, recs, sync);
        recs.clear();
        sync = false;
        if (r) return true;
        rep.outcome = r.error() == QueueError::not_found ? AttemptReport::Outcome::gone
                                                         : AttemptReport::Outcome::error;
        rep.error = queue_error_text(r.error());
        return false;
    }
};

AttemptReport Deliverer::attempt(MailStore& store, std::string_view id, int64_t now, bool force) {
    std::string one(id);
    return std::move(attempt_batch(store, std::span(&one, 1), now, force)[0]);
}

std::vector<AttemptReport> Deliverer::attempt_batch(MailStore& store,
                                                    std::span<const std::string> ids, int64_t now,
                                                    bool force) {
    std::vector<Prepared> ps(ids.size());
    std::vector<DeliveryBatchItem> items;
    std::vector<Prepared*> owners;
    for (size_t i = 0; i < ids.size(); ++i) {
        ps[i].rep.id = ids[i];
        ps[i].go = prepare(ps[i], now, force);
        if (!ps[i].go || ps[i].users.empty()) continue;
        DeliveryOptions opts;
        opts.internal_date = now;
        items.push_back({ps[i].users, MessageSource::from_bytes(ps[i].msg), std::move(opts)});
        owners.push_back(&ps[i]);
    }
    // One copy per distinct local mailbox of each entry (written once and linked), the whole
    // batch in one store group commit.
    if (!items.empty()) {
        auto res = store.deliver_batch(items);
        for (size_t k = 0; k < owners.size() && k < res.size(); ++k)
            for (size_t j = 0; j < owners[k]->users.size() && j < res[k].size(); ++j)
                owners[k]->results.emplace(owners[k]->users[j], std::move(res[k][j]));
    }
    std::vector<AttemptReport> out;
    out.reserve(ps.size());
    for (auto& p : ps) {
        if (p.go) {
            record_local(p, now);
            notify_success(p, now);
            if (p.remote.empty()) {
                finish(p, now);
            } else if (p.write(queue_)) {
                // The local results are in the log; the remote batches go to their
                // destinations' queues.
                for (auto& [dest, refs] : p.remote) p.rep.remote.push_back({dest, std::move(refs)});
                p.rep.envelope = std::make_shared<const Envelope>(std::move(p.env));
                p.rep.outcome = AttemptReport::Outcome::remote;
            }
        }
        out.push_back(std::move(p.rep));
    }
    return out;
}

bool Deliverer::load_message(Prepared& p) {
    if (p.msg_loaded) return true;
    // Return-Path first (RFC 5321 4.4).
    p.msg = "Return-Path: <" + p.env.reverse_path + ">\r\n";
    p.hdr_len = p.msg.size();
    auto r = queue_.read_message(p.rep.id, 0, p.env.size, p.msg);
    if (!r || *r != p.env.size) {
        p.rep.outcome = AttemptReport::Outcome::error;
        p.rep.error = r ? "short message" : queue_error_text(r.error());
        return false;
    }
    p.msg_loaded = true;
    return true;
}

// Reads the entry, expands, picks the due targets. False when the attempt ends here (gone,
// held, not due, unreadable): p.rep is then final.
bool Deliverer::prepare(Prepared& p, int64_t now, bool force) {
    AttemptReport& rep = p.rep;
    auto env_or = queue_.read(rep.id);
    if (!env_or) {
        rep.outcome = env_or.error() == QueueError::not_found ? AttemptReport::Outcome::gone
                                                              : AttemptReport::Outcome::error;
        rep.error = queue_error_text(env_or.error());
        return false;
    }
    p.env = std::move(*env_or);
    Envelope& env = p.env;
    rep.arrival = env.arrival;
    rep.next_attempt = env.next_attempt;
    if (env.held) {
        rep.outcome = AttemptReport::Outcome::held;
        return false;
    }
    if (!force && env.next_attempt > now) {
        rep.outcome = AttemptReport::Outcome::not_due;
        return false;
    }
    if (!expand(p)) return false;

    for (size_t i = 0; i < env.recipients.size(); ++i) {
        const Recipient& r = env.recipients[i];
        if (r.status != RcptStatus::pending || !r.expanded) continue;
        for (size_t j = 0; j < r.targets.size(); ++j) {
            const Target& t = r.targets[j];
            if (is_final(t.state)) continue;
            if (!force && t.state == TargetState::deferred && t.next_attempt > now) continue;
            TargetRef ref{static_cast<uint32_t>(i), static_cast<uint32_t>(j)};
            if (t.remote)
                p.remote[destination_of(t.address)].push_back(ref);
            else
                p.local.push_back({ref, t.address});
        }
    }
    for (const auto& l : p.local) p.users.push_back(l.mailbox);
    std::sort(p.users.begin(), p.users.end());
    p.users.erase(std::unique(p.users.begin(), p.users.end()), p.users.end());
    if (!p.users.empty() && !load_message(p)) return false;
    return true;
}

// Expands every pending recipient that has no expansion yet. The expansion goes into the
// log before any of its targets is delivered, so that a retry after a crash tries exactly the
// targets that have no "delivered" record. One exception saves a state file per message:
// when every new expansion is a single local mailbox, its record goes in the same append as
// that delivery's result, ahead of it (a crash before that append repeats the delivery,
// which is the one repetition allowed: between a delivery and its record).
bool Deliverer::expand(Prepared& p) {
    Envelope& env = p.env;
    bool early = env.attempts > 0;
    for (size_t i = 0; i < env.recipients.size(); ++i) {
        const Recipient& r = env.recipients[i];
        if (r.status != RcptStatus::pending || r.expanded) continue;
        const auto idx = static_cast<uint32_t>(i);
        auto ex = accounts_->expand_recipient(r.address);
        StateRecord x{.kind = Kind::expand, .rcpt = idx};
        if (ex) {
            std::set<std::string> seen;
            for (auto& m : ex->local_mailboxes)
                if (seen.insert("l" + m).second) x.targets.push_back({.address = m});
            for (auto& a : ex->remote)
                if (seen.insert("r" + a).second)
                    x.targets.push_back({.address = a, .remote = true});
        }
        if (!ex || x.targets.empty()) {
            Verdict v = expand_error(ex ? StoreError::not_found : ex.error());
            p.rep.rcpts.push_back(
                {r.address, {}, v.permanent ? RcptResult::failed : RcptResult::deferred, v.text});
            p.add({.kind = v.permanent ? Kind::expand_fail : Kind::defer,
                   .rcpt = idx,
                   .error = v.text},
                  false);
            continue;
        }
        early = early || x.targets.size() > 1 || x.targets[0].remote;
        p.add(std::move(x), false);
        const auto& targets = env.recipients[i].targets;
        for (size_t j = 0; j < targets.size(); ++j)
            if (!targets[j].remote && targets[j].state != TargetState::delivered &&
                delivered_elsewhere(env, targets[j].address, i))
                p.add({.kind = Kind::target_done, .rcpt = idx, .target = static_cast<uint32_t>(j)},
                      false);
    }
    return !early || p.write(queue_);
}

// The store's answer for each due local target, as records.
void Deliverer::record_local(Prepared& p, int64_t now) {
    for (const auto& l : p.local) {
        const Recipient& r = p.env.recipients[l.ref.rcpt];
        const Target& t = r.targets[l.ref.target];
        auto it = p.results.find(l.mailbox);
        RcptReport rr{r.address, t.address, RcptResult::delivered, l.mailbox};
        if (it != p.results.end() && it->second) {
            p.add({.kind = Kind::target_done, .rcpt = l.ref.rcpt, .target = l.ref.target}, true);
        } else {
            Verdict v = it == p.results.end() ? Verdict{false, "4.3.0 no answer from the store"}
                                              : store_error(it->second.error());
            rr.detail = v.text;
            if (v.permanent) {
                rr.result = RcptResult::failed;
                p.add({.kind = Kind::target_fail,
                       .rcpt = l.ref.rcpt,
                       .error = v.text,
                       .target = l.ref.target},
                      true);
            } else {
                rr.result = RcptResult::deferred;
                uint32_t n = t.attempts + 1;
                p.add({.kind = Kind::target_defer,
                       .rcpt = l.ref.rcpt,
                       .attempts = n,
                       .next_attempt = now + retry_delay(params_.retry_schedule, n),
                       .error = v.text,
                       .target = l.ref.target},
                      false);
            }
        }
        p.rep.rcpts.push_back(std::move(rr));
    }
}

// The records of one remote batch's results, applied to p.env.
void Deliverer::add_remote_results(Prepared& p, const RemoteBatch& batch,
                                   const std::vector<TargetResult>& results, int64_t now) {
    for (size_t k = 0; k < batch.targets.size(); ++k) {
        const TargetRef& ref = batch.targets[k];
        if (ref.rcpt >= p.env.recipients.size() ||
            ref.target >= p.env.recipients[ref.rcpt].targets.size())
            continue;
        const Recipient& r = p.env.recipients[ref.rcpt];
        const Target& t = r.targets[ref.target];
        TargetResult res = k < results.size()
                               ? results[k]
                               : TargetResult{TargetState::deferred, "4.4.0 no answer for it"};
        // "host H said: ..." keeps the Remote-MTA of the DSN in the log (dsn.h).
        if (!res.remote_mta.empty()) res.reply = remote_reply_text(res.remote_mta, res.reply);
        RcptReport rr{r.address, t.address, RcptResult::deferred, res.reply};
        if (res.state == TargetState::delivered) {
            rr.result = RcptResult::delivered;
            p.add({.kind = Kind::target_done, .rcpt = ref.rcpt, .target = ref.target}, true);
            if (res.relayed && wants_success_dsn(r) &&
                std::none_of(p.relayed.begin(), p.relayed.end(),
                             [&](const Recipient& x) { return x.address == r.address; })) {
                Recipient x = r;
                x.targets.clear();
                x.last_error = res.reply;  // Remote-MTA and the server's reply
                p.relayed.push_back(std::move(x));
            }
        } else if (res.state == TargetState::failed) {
            rr.result = RcptResult::failed;
            p.add({.kind = Kind::target_fail,
                   .rcpt = ref.rcpt,
                   .error = res.reply,
                   .target = ref.target},
                  true);
        } else {
            uint32_t n = t.attempts + 1;
            p.add({.kind = Kind::target_defer,
                   .rcpt = ref.rcpt,
                   .attempts = n,
                   .next_attempt = now + retry_delay(params_.retry_schedule, n),
                   .error = res.reply,
                   .target = ref.target},
                  false);
        }
        p.rep.rcpts.push_back(std::move(rr));
    }
}

AttemptReport Deliverer::record_remote(const RemoteBatch& batch,
                                       const std::vector<TargetResult>& results, int64_t now) {
    Prepared p;
    p.rep.id = batch.id;
    p.env = *batch.envelope;
    p.rep.arrival = p.env.arrival;
    add_remote_results(p, batch, results, now);
    if (p.write(queue_)) {
        p.rep.outcome = AttemptReport::Outcome::deferred;
        notify_relayed(p, now);
    }
    return std::move(p.rep);
}

// p.env from the queue; false (rep set) when the entry is gone or unreadable.
bool Deliverer::read_entry(Prepared& p) {
    auto env_or = queue_.read(p.rep.id);
    if (!env_or) {
        p.rep.outcome = env_or.error() == QueueError::not_found ? AttemptReport::Outcome::gone
                                                                : AttemptReport::Outcome::error;
        p.rep.error = queue_error_text(env_or.error());
        return false;
    }
    p.env = std::move(*env_or);
    p.rep.arrival = p.env.arrival;
    return true;
}

AttemptReport Deliverer::complete(std::string_view id, int64_t now) {
    Prepared p;
    p.rep.id = std::string(id);
    if (read_entry(p)) finish(p, now);
    return std::move(p.rep);
}

AttemptReport Deliverer::finish_remote(const RemoteBatch& batch,
                                       const std::vector<TargetResult>& results, int64_t now,
                                       bool others_recorded) {
    Prepared p;
    p.rep.id = batch.id;
    if (others_recorded) {
        if (!read_entry(p)) return std::move(p.rep);
    } else {
        p.env = *batch.envelope;
        p.rep.arrival = p.env.arrival;
    }
    add_remote_results(p, batch, results, now);
    notify_relayed(p, now);  // before finish may remove the entry and its message
    finish(p, now);
    return std::move(p.rep);
}

// Expiry, the bounce, then removal or the next attempt time; every record in one append.
void Deliverer::finish(Prepared& p, int64_t now) {
    AttemptReport& rep = p.rep;
    Envelope& env = p.env;
    derive_status(env);

    // Expiry (never while held): what is still pending fails with 4.4.7.
    const bool expired =
        !env.held && now >= env.arrival + static_cast<int64_t>(params_.max_lifetime);
    for (size_t i = 0; expired && i < env.recipients.size(); ++i) {
        const Recipient& r = env.recipients[i];
        if (r.status != RcptStatus::pending) continue;
        const auto idx = static_cast<uint32_t>(i);
        const std::string why = "4.4.7 delivery time expired; last error: ";
        if (!r.expanded) {
            rep.rcpts.push_back({r.address, {}, RcptResult::failed, why + r.last_error});
            p.add({.kind = Kind::expand_fail, .rcpt = idx, .error = why + r.last_error}, true);
            continue;
        }
        for (size_t j = 0; j < r.targets.size(); ++j) {
            const Target& t = r.targets[j];
            if (is_final(t.state)) continue;
            std::string text = why + (t.reply.empty() ? "none" : t.reply);
            rep.rcpts.push_back({r.address, t.address, RcptResult::failed, text});
            p.add({.kind = Kind::target_fail,
                   .rcpt = idx,
                   .error = text,
                   .target = static_cast<uint32_t>(j)},
                  true);
        }
    }
    derive_status(env);

    // One bounce for every failure not yet reported (never to the null sender, so never a
    // bounce of a bounce). A remote target is reported under its own address with the
    // recipient as Original-Recipient; a local mailbox under the recipient's address.
    std::vector<Recipient> dsn_for;
    std::vector<StateRecord> notes;
    for (size_t i = 0; i < env.recipients.size(); ++i) {
        const Recipient& r = env.recipients[i];
        const auto idx = static_cast<uint32_t>(i);
        if (!r.expanded) {
            if (r.status != RcptStatus::failed || r.notified) continue;
            if (wants_failure_dsn(r))
                dsn_for.push_back(r);
            else
                log_unreported(env, r.address, r.last_error);
            notes.push_back({.kind = Kind::notified, .rcpt = idx});
            continue;
        }
        for (size_t j = 0; j < r.targets.size(); ++j) {
            const Target& t = r.targets[j];
            if (t.state != TargetState::failed || t.notified) continue;
            if (!wants_failure_dsn(r)) log_unreported(env, t.address, t.reply);
            if (wants_failure_dsn(r)) dsn_for.push_back(dsn_line(r, t));
            notes.push_back(
                {.kind = Kind::target_notified, .rcpt = idx, .target = static_cast<uint32_t>(j)});
        }
    }
    if (!dsn_for.empty()) {
        // Never a DSN to the null sender: the failure of such mail goes to postmaster.
        DsnReport report;
        report.to = env.reverse_path;
        if (env.reverse_path.empty()) {
            report.to = postmaster();
            report.postmaster_copy = true;
        }
        std::expected<std::string, QueueError> b = std::unexpected(QueueError::io);
        if (load_message(p))
            b = enqueue_dsn(env, std::move(report), dsn_for,
                            std::string_view(p.msg).substr(p.hdr_len), now);
        if (!b) {
            // What was delivered stays recorded; the bounce is tried again next time.
            p.write(queue_);
            rep.outcome = AttemptReport::Outcome::error;
            rep.error = "cannot enqueue bounce: " +
                        (rep.error.empty() ? std::string(queue_error_text(b.error())) : rep.error);
            return;
        }
        rep.bounce_ids.push_back(*b);
    }
    for (auto& n : notes) p.add(std::move(n), false);

    // Done, or record the progress and when to try again.
    bool remaining =
        std::any_of(env.recipients.begin(), env.recipients.end(),
                    [](const Recipient& r) { return r.status == RcptStatus::pending; });
    if (remaining) warn_delay(p, now);
    if (!remaining) {
        if (auto r = queue_.remove(rep.id); !r && r.error() != QueueError::not_found) {
            rep.outcome = AttemptReport::Outcome::error;
            rep.error = queue_error_text(r.error());
            return;
        }
        rep.outcome = AttemptReport::Outcome::finished;
        return;
    }
    const uint32_t attempts = env.attempts + 1;
    const int64_t retry = now + retry_delay(params_.retry_schedule, attempts);
    int64_t next = INT64_MAX;
    for (const auto& r : env.recipients) {
        if (r.status != RcptStatus::pending) continue;
        if (!r.expanded) next = std::min(next, retry);
        for (const auto& t : r.targets)
            if (!is_final(t.state))
                next = std::min(next, t.state == TargetState::deferred && t.next_attempt > now
                                          ? t.next_attempt
                                          : retry);
    }
    rep.next_attempt = next;
    p.add({.kind = Kind::attempt, .attempts = attempts, .next_attempt = next}, false);
    if (p.write(queue_)) rep.outcome = AttemptReport::Outcome::deferred;
}

}  // namespace postern

namespace postern {

std::string Deliverer::postmaster() const {
    return params_.postmaster.empty() ? "postmaster@" + params_.hostname : params_.postmaster;
}

// One success DSN (`action`) to the sender for `rcpts`, with `original`'s header. Best
// effort: a DSN that cannot be queued is logged, the delivery stands.
void Deliverer::send_success_dsn(Prepared& p, DsnAction action, const std::vector<Recipient>& rcpts,
                                 std::string_view original, int64_t now) {
    DsnReport report;
    report.action = action;
    report.to = p.env.reverse_path;
    auto b = enqueue_dsn(p.env, std::move(report), rcpts, original, now);
    if (b)
        p.rep.bounce_ids.push_back(*b);
    else
        log_msg(LogLevel::error, "%s: cannot queue the success DSN: %s", p.rep.id.c_str(),
                queue_error_text(b.error()));
}

// NOTIFY=SUCCESS for the remote targets just handed to a server without DSN: one "relayed"
// DSN for them (RFC 3461 5.2.2; a DSN-capable server got NOTIFY and reports itself). The
// message is not in memory here: its first 64 KiB are read for the header.
void Deliverer::notify_relayed(Prepared& p, int64_t now) {
    if (p.relayed.empty() || p.env.reverse_path.empty()) return;
    std::string head;
    if (auto r = queue_.read_message(p.rep.id, 0, std::min<uint64_t>(p.env.size, 64 * 1024), head);
        !r) {
        log_msg(LogLevel::error, "%s: cannot read the message for the relayed DSN: %s",
                p.rep.id.c_str(), queue_error_text(r.error()));
        return;
    }
    send_success_dsn(p, DsnAction::relayed, p.relayed, head, now);
}

// NOTIFY=SUCCESS for the local mailboxes just delivered: one "delivered" DSN for them.
void Deliverer::notify_success(Prepared& p, int64_t now) {
    if (p.env.reverse_path.empty() || !p.msg_loaded) return;
    std::vector<Recipient> ok;
    std::set<uint32_t> seen;
    for (const auto& l : p.local) {
        const Recipient& r = p.env.recipients[l.ref.rcpt];
        if (!wants_success_dsn(r) || r.targets[l.ref.target].state != TargetState::delivered ||
            !seen.insert(l.ref.rcpt).second)
            continue;
        Recipient x = r;
        x.targets.clear();
        x.last_error.clear();
        ok.push_back(std::move(x));
    }
    if (ok.empty()) return;
    send_success_dsn(p, DsnAction::delivered, ok, std::string_view(p.msg).substr(p.hdr_len), now);
}

// The one delay warning, once the entry is older than params_.delay_warning: every target
// still pending of the recipients that want it (NOTIFY given without DELAY: none), in one
// DSN. Recorded (W) even when nobody wanted it; not when it could not be queued (tried at
// the next attempt). Never to the null sender.
void Deliverer::warn_delay(Prepared& p, int64_t now) {
    const Envelope& env = p.env;
    if (params_.delay_warning == 0 || env.delay_notified || env.held ||
        now < env.arrival + static_cast<int64_t>(params_.delay_warning))
        return;
    std::vector<Recipient> late;
    for (const auto& r : env.recipients) {
        if (r.status != RcptStatus::pending || !wants_delay_dsn(r)) continue;
        if (!r.expanded) {
            Recipient x = r;
            x.targets.clear();
            late.push_back(std::move(x));
            continue;
        }
        for (const auto& t : r.targets)
            if (!is_final(t.state)) late.push_back(dsn_line(r, t));
    }
    if (!late.empty() && !env.reverse_path.empty()) {
        DsnReport report;
        report.action = DsnAction::delayed;
        report.to = env.reverse_path;
        report.retry_until = env.arrival + static_cast<int64_t>(params_.max_lifetime);
        std::expected<std::string, QueueError> b = std::unexpected(QueueError::io);
        if (load_message(p))
            b = enqueue_dsn(env, std::move(report), late, std::string_view(p.msg).substr(p.hdr_len),
                            now);
        if (!b) {
            log_msg(LogLevel::error, "%s: cannot queue the delay warning: %s", p.rep.id.c_str(),
                    p.rep.error.empty() ? queue_error_text(b.error()) : p.rep.error.c_str());
            p.rep.error.clear();  // the attempt itself stands (finish sets the outcome)
            return;
        }
        p.rep.bounce_ids.push_back(*b);
    }
    p.add({.kind = Kind::delay_notified}, false);
}

}  // namespace postern
