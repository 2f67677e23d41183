#include "spoold/delivery.h"

#include <algorithm>
#include <map>

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

struct Work {
    size_t idx = 0;
    std::vector<std::string> mailboxes;
    std::vector<std::string> remote;
    bool failed = false, deferred = false;
    std::string error;
};

}  // namespace

Deliverer::Deliverer(Queue queue, std::shared_ptr<Accounts> accounts, DeliveryParams params)
    : queue_(std::move(queue)), accounts_(std::move(accounts)), params_(std::move(params)) {}

std::expected<std::string, QueueError> Deliverer::enqueue_bounce(
    const Envelope& env, const std::vector<const Recipient*>& failed, std::string_view original,
    int64_t now) {
    std::string msg = build_failure_dsn(params_.hostname, env, failed, original, now);
    auto w = queue_.create();
    if (!w) return std::unexpected(w.error());
    if (auto r = w->append(msg); !r) return std::unexpected(r.error());
    Envelope b;
    b.reverse_path = "";  // a bounce never bounces
    Recipient r;
    r.address = env.reverse_path;
    r.notify = dsn_notify::never;
    b.recipients.push_back(std::move(r));
    b.smtputf8 = env.smtputf8;
    b.arrival = now;
    return w->commit(std::move(b));
}

// One entry's attempt between the phases of attempt_batch.
struct Deliverer::Prepared {
    AttemptReport rep;
    Envelope env;
    std::string msg;  // Return-Path: + the message, as it goes into every mailbox
    size_t hdr_len = 0;
    std::vector<Work> work;
    std::vector<std::string> users;  // distinct local mailboxes
    std::map<std::string, StoreResult<Delivered>> results;
    bool go = false;  // prepared: the attempt goes on to finish()
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
    // 2. One copy per distinct local mailbox of each entry (written once and linked), the
    // whole batch in one store group commit.
    if (!items.empty()) {
        auto res = store.deliver_batch(items);
        for (size_t k = 0; k < owners.size() && k < res.size(); ++k)
            for (size_t j = 0; j < owners[k]->users.size() && j < res[k].size(); ++j)
                owners[k]->results.emplace(owners[k]->users[j], std::move(res[k][j]));
    }
    std::vector<AttemptReport> out;
    out.reserve(ps.size());
    for (auto& p : ps) {
        if (p.go) finish(p, now);
        out.push_back(std::move(p.rep));
    }
    return out;
}

// Reads the entry and expands its pending recipients. False when the attempt ends here
// (gone, not due, unreadable): p.rep is then final.
bool Deliverer::prepare(Prepared& p, int64_t now, bool force) {
    AttemptReport& rep = p.rep;
    const std::string& id = rep.id;
    auto env_or = queue_.read(id);
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
    if (!force && env.next_attempt > now) {
        rep.outcome = AttemptReport::Outcome::not_due;
        return false;
    }

    // The message as it goes into every mailbox: Return-Path first (RFC 5321 4.4).
    p.msg = "Return-Path: <" + env.reverse_path + ">\r\n";
    p.hdr_len = p.msg.size();
    if (auto r = queue_.read_message(id, 0, env.size, p.msg); !r || *r != env.size) {
        rep.outcome = AttemptReport::Outcome::error;
        rep.error = r ? "short message" : queue_error_text(r.error());
        return false;
    }

    // 1. Expand every pending recipient.
    for (size_t i = 0; i < env.recipients.size(); ++i) {
        const Recipient& r = env.recipients[i];
        if (r.status != RcptStatus::pending) continue;
        Work w;
        w.idx = i;
        auto ex = accounts_->expand_recipient(r.address);
        if (!ex) {
            Verdict v = expand_error(ex.error());
            (v.permanent ? w.failed : w.deferred) = true;
            w.error = v.text;
        } else {
            if (!r.local_done) w.mailboxes = std::move(ex->local_mailboxes);
            w.remote = std::move(ex->remote);
        }
        p.work.push_back(std::move(w));
    }
    for (const auto& w : p.work)
        for (const auto& m : w.mailboxes) p.users.push_back(m);
    std::sort(p.users.begin(), p.users.end());
    p.users.erase(std::unique(p.users.begin(), p.users.end()), p.users.end());
    return true;
}

// Verdicts, bounces, then removal or the progress record.
void Deliverer::finish(Prepared& p, int64_t now) {
    AttemptReport& rep = p.rep;
    const std::string& id = rep.id;
    Envelope& env = p.env;
    const std::string& msg = p.msg;
    const size_t hdr_len = p.hdr_len;
    auto& work = p.work;
    auto& results = p.results;

    // 3. Per recipient verdicts and the progress records.
    const bool expired = now >= env.arrival + static_cast<int64_t>(params_.max_lifetime);
    std::vector<StateRecord> recs;
    bool sync = false, remaining = false;
    std::vector<size_t> newly_failed;
    for (auto& w : work) {
        Recipient& r = env.recipients[w.idx];
        bool local_ok = !w.failed && !w.deferred;
        for (const auto& m : w.mailboxes) {
            auto it = results.find(m);
            if (it == results.end() || it->second) continue;
            Verdict v = store_error(it->second.error());
            local_ok = false;
            if (v.permanent)
                w.failed = true, w.error = v.text;
            else if (!w.failed)
                w.deferred = true, w.error = v.text;
        }
        if (local_ok && !w.remote.empty()) {
            if (!w.mailboxes.empty()) {
                recs.push_back(
                    {StateRecord::Kind::local_done, static_cast<uint32_t>(w.idx), 0, 0, {}});
                sync = true;
            }
            w.deferred = true;
            w.error = "4.4.0 remote delivery not implemented yet (" + w.remote.front() +
                      (w.remote.size() > 1 ? ", ..." : "") + ")";
        }
        if (w.deferred && expired) {
            w.deferred = false;
            w.failed = true;
            w.error = "4.4.7 delivery time expired; last error: " + w.error;
        }
        RcptReport rr{r.address, RcptResult::delivered, {}};
        if (w.failed) {
            rr.result = RcptResult::failed;
            rr.detail = w.error;
            r.status = RcptStatus::failed;
            r.last_error = w.error;
            recs.push_back({StateRecord::Kind::fail, static_cast<uint32_t>(w.idx), 0, 0, w.error});
            newly_failed.push_back(w.idx);
            sync = true;
        } else if (w.deferred) {
            rr.result = RcptResult::deferred;
            rr.detail = w.error;
            r.last_error = w.error;
            recs.push_back({StateRecord::Kind::defer, static_cast<uint32_t>(w.idx), 0, 0, w.error});
            remaining = true;
        } else {
            for (const auto& m : w.mailboxes) rr.detail += (rr.detail.empty() ? "" : ",") + m;
            r.status = RcptStatus::delivered;
            recs.push_back({StateRecord::Kind::done, static_cast<uint32_t>(w.idx), 0, 0, {}});
            sync = true;
        }
        rep.rcpts.push_back(std::move(rr));
    }

    // 4. Bounce what failed for good (never to the null sender, never a bounce of a bounce).
    std::vector<const Recipient*> dsn_for;
    for (size_t i : newly_failed)
        if (wants_failure_dsn(env.recipients[i])) dsn_for.push_back(&env.recipients[i]);
    if (!dsn_for.empty() && !env.reverse_path.empty()) {
        auto b = enqueue_bounce(env, dsn_for, std::string_view(msg).substr(hdr_len), now);
        if (!b) {
            // Keep the entry as it was: the failure is recorded next time.
            rep.outcome = AttemptReport::Outcome::error;
            rep.error = std::string("cannot enqueue bounce: ") + queue_error_text(b.error());
            return;
        }
        rep.bounce_ids.push_back(*b);
    }

    // 5. Done, or record the progress and when to try again.
    if (!remaining) {
        if (auto r = queue_.remove(id); !r && r.error() != QueueError::not_found) {
            rep.outcome = AttemptReport::Outcome::error;
            rep.error = queue_error_text(r.error());
            return;
        }
        rep.outcome = AttemptReport::Outcome::finished;
        return;
    }
    uint32_t attempts = env.attempts + 1;
    rep.next_attempt = now + retry_delay(params_.retry_schedule, attempts);
    recs.push_back({StateRecord::Kind::attempt, 0, attempts, rep.next_attempt, {}});
    if (auto r = queue_.append_state(id, recs, sync); !r) {
        rep.outcome = AttemptReport::Outcome::error;
        rep.error = queue_error_text(r.error());
        return;
    }
    rep.outcome = AttemptReport::Outcome::deferred;
}

}  // namespace postern
