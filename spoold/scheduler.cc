#include "spoold/scheduler.h"

#include <algorithm>
#include <filesystem>

#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"
#include "libproto/net/pool_job.h"

namespace postern {

namespace {
constexpr int64_t kMaxSleepSeconds = 60;  // the timer never sleeps longer (clock changes)
constexpr uint64_t kSweepMs = 60'000;     // directory listing for lost wake-ups
constexpr size_t kMaxBatch = 32;          // entries per local attempt (one store group commit)
constexpr int64_t kErrorRetrySeconds = 60;
}  // namespace

struct Scheduler::Job {
    MailStore* store = nullptr;
    std::vector<std::string> ids;
    int64_t now = 0;
    std::vector<AttemptReport> reports;  // written by the pool work
};

Scheduler::Scheduler(uv_loop_t* loop, Deliverer deliverer,
                     std::vector<std::unique_ptr<MailStore>> stores, Clock now,
                     std::unique_ptr<RemoteTransport> transport, DestinationLimits limits)
    : loop_(loop), deliverer_(std::move(deliverer)), stores_(std::move(stores)),
      now_(std::move(now)), transport_(std::move(transport)), destinations_(limits) {
    if (!transport_) transport_ = std::make_unique<DeferringTransport>();
    for (auto& s : stores_) free_stores_.push_back(s.get());
}

Scheduler::~Scheduler() = default;

void Scheduler::start() {
    size_t cleaned = deliverer_.queue().clean_incoming();
    if (cleaned) log_msg(LogLevel::info, "removed %zu incomplete queue file(s)", cleaned);
    auto list = deliverer_.queue().list();
    if (!list)
        log_msg(LogLevel::error, "cannot read the queue: %s", queue_error_text(list.error()));
    else
        for (const auto& env : *list) {
            if (env.held)
                schedule_.hold(env.id);
            else
                schedule_.set(env.id, env.next_attempt);
        }
    log_msg(LogLevel::info, "queue: %zu entries, %zu held", schedule_.size(),
            schedule_.held_count());
    timer_ = std::make_unique<Timer>(loop_);
    sweep_ = std::make_unique<Timer>(loop_);
    sweep_->start(
        kSweepMs, [this] { sweep(); }, kSweepMs);
    poke();
}

void Scheduler::stop() {
    stopping_ = true;
    timer_.reset();
    sweep_.reset();
    for (const auto& id : ready_) busy_.erase(id);
    ready_.clear();
}

// Reads one entry the schedule does not know (or must re-read) and files it.
void Scheduler::learn(const std::string& id) {
    auto env = deliverer_.queue().read(id);
    if (!env) {
        if (env.error() == QueueError::not_found) schedule_.erase(id);
        return;
    }
    if (env->held)
        schedule_.hold(id);
    else
        schedule_.set(id, env->next_attempt);
}

// The directory against the schedule: entries whose wake-up was lost are read, entries that
// vanished are forgotten. Known entries are not re-read.
void Scheduler::sweep() {
    if (stopping_) return;
    auto ids = deliverer_.queue().ids();
    if (!ids) {
        log_msg(LogLevel::error, "cannot list the queue: %s", queue_error_text(ids.error()));
        return;
    }
    std::unordered_set<std::string> present(ids->begin(), ids->end());
    for (const auto& id : schedule_.ids())
        if (!present.count(id) && !busy_.count(id)) schedule_.erase(id);
    for (const auto& id : *ids)
        if (!busy_.count(id) && !schedule_.contains(id)) learn(id);
    poke();
}

void Scheduler::wake(std::string_view id_sv) {
    if (stopping_) return;
    if (id_sv.empty() || !Queue::valid_id(id_sv)) {
        sweep();  // a bare wake (an older mailctl, or a newer smtpd): look at the directory
        return;
    }
    std::string id(id_sv);
    if (busy_.count(id)) return;  // a removal shows up in the attempt's outcome
    std::error_code ec;
    if (!std::filesystem::exists(deliverer_.queue().dir() / "active" / id, ec)) {
        schedule_.erase(id);  // inotify reports removals too
        return;
    }
    if (schedule_.contains(id)) return;
    schedule_.set(id, 0);  // a new entry: due now (its attempt says if it is not)
    poke();
}

void Scheduler::flush_all() {
    if (stopping_) return;
    schedule_.all_due(now_());
    sweep();
}

void Scheduler::reread(std::string_view id_sv) {
    if (stopping_ || !Queue::valid_id(id_sv)) return;
    std::string id(id_sv);
    if (busy_.count(id)) {
        reread_.insert(id);  // after the attempt
        return;
    }
    learn(id);
    poke();
}

// Moves what is due to the local workers and sets the timer for the next due entry.
void Scheduler::poke() {
    if (stopping_) return;
    for (auto& id : schedule_.take_due(now_())) {
        if (!busy_.insert(id).second) continue;
        ready_.push_back(std::move(id));
    }
    dispatch();
    arm();
}

void Scheduler::arm() {
    if (!timer_) return;
    auto next = schedule_.next_time();
    if (!next) {
        timer_->stop();
        return;
    }
    int64_t wait = std::clamp<int64_t>(*next - now_(), 0, kMaxSleepSeconds);
    // A second more than the difference: the clock has one-second resolution.
    timer_->start(static_cast<uint64_t>(wait) * 1000 + (wait > 0 ? 1000 : 10), [this] { poke(); });
}

// Ready entries go out in batches, shared fairly between the free workers: under load a
// worker takes everything that piled up while it was busy, so each fsync serves many messages;
// when idle an entry goes out alone at once.
void Scheduler::dispatch() {
    while (!stopping_ && !ready_.empty() && !free_stores_.empty()) {
        size_t n = (ready_.size() + free_stores_.size() - 1) / free_stores_.size();
        n = std::min(n, kMaxBatch);
        auto job = std::make_shared<Job>();
        for (size_t i = 0; i < n; ++i) {
            job->ids.push_back(std::move(ready_.front()));
            ready_.pop_front();
        }
        job->store = free_stores_.back();
        free_stores_.pop_back();
        job->now = now_();
        ++in_flight_;
        // Detached: the Scheduler lives as long as the loop, which waits for the attempt.
        auto started = try_run_on_pool(
            loop_,
            [this, job] {
                job->reports = deliverer_.attempt_batch(*job->store, job->ids, job->now);
            },
            [this, job] { finished(*job); });
        if (started) {
            started->detach();
            continue;
        }
        // Never a delivery on the loop thread: the entries wait for the next try.
        log_msg(LogLevel::error, "uv_queue_work: %s", uv_error_text(started.error()));
        for (const auto& id : job->ids) {
            AttemptReport r;
            r.id = id;
            r.outcome = AttemptReport::Outcome::error;
            r.error = "cannot start the attempt";
            job->reports.push_back(std::move(r));
        }
        finished(*job);
        break;
    }
}

void Scheduler::finished(Job& job) {
    --in_flight_;
    free_stores_.push_back(job.store);
    for (auto& r : job.reports) handle(std::move(r), job.now);
    dispatch();
    arm();
}

void Scheduler::log_report(const AttemptReport& r, int64_t now) {
    int64_t delay = r.arrival ? now - r.arrival : 0;
    for (const auto& rc : r.rcpts) {
        const std::string& to = rc.target.empty() ? rc.address : rc.target;
        std::string orig =
            to == rc.address ? std::string() : " orig_to=<" + log_escape(rc.address) + ">";
        log_msg(rc.result == RcptResult::delivered ? LogLevel::info : LogLevel::warning,
                "id=%s to=<%s>%s result=%s delay=%llds %s", r.id.c_str(), log_escape(to).c_str(),
                orig.c_str(), rcpt_result_text(rc.result), static_cast<long long>(delay),
                log_escape(rc.detail, 512).c_str());
    }
    for (const auto& b : r.bounce_ids) {
        log_msg(LogLevel::info, "id=%s bounce queued as %s", r.id.c_str(), b.c_str());
        if (!busy_.count(b)) schedule_.set(b, 0);
    }
}

// A step-1 or step-3 report: remote work goes to the destinations, anything else settles.
void Scheduler::handle(AttemptReport r, int64_t now) {
    log_report(r, now);
    if (r.outcome != AttemptReport::Outcome::remote) {
        settle(r, now);
        return;
    }
    remote_left_[r.id] = {r.remote.size(), r.remote.size() > 1};
    for (auto& w : r.remote)
        destinations_.push({r.id, std::move(w.destination), r.envelope, std::move(w.targets)});
    pump_remote();
}

// The attempt is over: the entry's next place in the schedule.
void Scheduler::settle(const AttemptReport& r, int64_t now) {
    busy_.erase(r.id);
    switch (r.outcome) {
    case AttemptReport::Outcome::finished:
        log_msg(LogLevel::info, "id=%s removed from queue", r.id.c_str());
        schedule_.erase(r.id);
        break;
    case AttemptReport::Outcome::gone: schedule_.erase(r.id); break;
    case AttemptReport::Outcome::held: schedule_.hold(r.id); break;
    case AttemptReport::Outcome::deferred:
    case AttemptReport::Outcome::not_due:
    case AttemptReport::Outcome::remote: schedule_.set(r.id, r.next_attempt); break;
    case AttemptReport::Outcome::error:
        log_msg(LogLevel::error, "id=%s attempt failed: %s", r.id.c_str(), r.error.c_str());
        schedule_.set(r.id, now + kErrorRetrySeconds);
        break;
    }
    if (reread_.erase(r.id)) learn(r.id);
}

// Starts every remote batch the limits allow. The transport may answer before deliver()
// returns; the guard turns that recursion into another turn of this loop.
void Scheduler::pump_remote() {
    if (pumping_) {
        pump_again_ = true;
        return;
    }
    pumping_ = true;
    do {
        pump_again_ = false;
        while (!stopping_) {
            auto b = destinations_.start_next();
            if (!b) break;
            auto batch = std::make_shared<RemoteBatch>(std::move(*b));
            transport_->deliver(*batch, [this, batch](std::vector<TargetResult> res) {
                remote_done(batch, std::move(res));
            });
        }
    } while (pump_again_);
    pumping_ = false;
}

void Scheduler::remote_done(const std::shared_ptr<RemoteBatch>& batch,
                            std::vector<TargetResult> results) {
    destinations_.finished(batch->destination);
    // The last batch not yet recorded (every other one is): steps 2 and 3 in one job.
    if (auto it = remote_left_.find(batch->id); it != remote_left_.end() && it->second.left == 1) {
        bool others = it->second.several;
        remote_left_.erase(it);
        remote_finished(batch, std::move(results), others);
        pump_remote();
        return;
    }
    struct Rec {
        std::vector<TargetResult> results;
        int64_t now = 0;
        AttemptReport report;
    };
    auto rec = std::make_shared<Rec>();
    rec->results = std::move(results);
    rec->now = now_();
    auto started = try_run_on_pool(
        loop_,
        [this, batch, rec] {
            rec->report = deliverer_.record_remote(*batch, rec->results, rec->now);
        },
        [this, batch, rec] {
            log_report(rec->report, rec->now);
            remote_recorded(batch->id, rec->report);
        });
    if (started) {
        started->detach();
    } else {
        log_msg(LogLevel::error, "uv_queue_work: %s", uv_error_text(started.error()));
        AttemptReport r;
        r.id = batch->id;
        r.outcome = AttemptReport::Outcome::error;
        remote_recorded(batch->id, r);
    }
    pump_remote();
}

// One remote batch of entry `id` is recorded; after the last, step 3 on the pool.
void Scheduler::remote_recorded(const std::string& id, const AttemptReport& r) {
    if (r.outcome == AttemptReport::Outcome::error)
        log_msg(LogLevel::error, "id=%s recording remote results failed: %s", id.c_str(),
                r.error.c_str());
    auto it = remote_left_.find(id);
    if (it == remote_left_.end() || --it->second.left > 0) return;
    remote_left_.erase(it);
    auto rep = std::make_shared<AttemptReport>();
    int64_t now = now_();
    auto started = try_run_on_pool(
        loop_, [this, id, rep, now] { *rep = deliverer_.complete(id, now); },
        [this, rep, now] {
            handle(std::move(*rep), now);
            arm();
        });
    if (started) {
        started->detach();
        return;
    }
    AttemptReport e;
    e.id = id;
    e.outcome = AttemptReport::Outcome::error;
    e.error = "cannot start the attempt";
    settle(e, now);
}

void Scheduler::remote_finished(const std::shared_ptr<RemoteBatch>& batch,
                                std::vector<TargetResult> results, bool others_recorded) {
    struct Rec {
        std::vector<TargetResult> results;
        int64_t now = 0;
        AttemptReport report;
    };
    auto rec = std::make_shared<Rec>();
    rec->results = std::move(results);
    rec->now = now_();
    auto started = try_run_on_pool(
        loop_,
        [this, batch, rec, others_recorded] {
            rec->report = deliverer_.finish_remote(*batch, rec->results, rec->now, others_recorded);
        },
        [this, rec] {
            handle(std::move(rec->report), rec->now);
            arm();
        });
    if (started) {
        started->detach();
        return;
    }
    log_msg(LogLevel::error, "uv_queue_work: %s", uv_error_text(started.error()));
    AttemptReport e;
    e.id = batch->id;
    e.outcome = AttemptReport::Outcome::error;
    e.error = "cannot start the attempt";
    settle(e, rec->now);
}

}  // namespace postern
