#include "spoold/scheduler.h"

#include <algorithm>
#include <filesystem>

#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"
#include "libproto/net/pool_job.h"

namespace postern {

namespace {
constexpr uint64_t kTickMs = 2000;        // check deferred entries this often
constexpr int64_t kFullScanSeconds = 60;  // and re-read the directory this often
constexpr size_t kMaxBatch = 32;          // entries per attempt (one store group commit)
}  // namespace

struct Scheduler::Job {
    MailStore* store = nullptr;
    std::vector<std::string> ids;
    int64_t now = 0;
    std::vector<AttemptReport> reports;  // written by the pool work
};

Scheduler::Scheduler(uv_loop_t* loop, Deliverer deliverer,
                     std::vector<std::unique_ptr<MailStore>> stores, Clock now)
    : loop_(loop), deliverer_(std::move(deliverer)), stores_(std::move(stores)),
      now_(std::move(now)) {
    for (auto& s : stores_) free_stores_.push_back(s.get());
}

Scheduler::~Scheduler() = default;

void Scheduler::start() {
    size_t cleaned = deliverer_.queue().clean_incoming();
    if (cleaned) log_msg(LogLevel::info, "removed %zu incomplete queue file(s)", cleaned);
    timer_ = std::make_unique<Timer>(loop_);
    timer_->start(
        kTickMs, [this] { tick(); }, kTickMs);
    scan(true);
}

void Scheduler::stop() {
    stopping_ = true;
    timer_.reset();
    ready_.clear();
}

void Scheduler::wake(std::string_view id) {
    if (stopping_) return;
    if (id.empty() || !Queue::valid_id(id)) {
        scan(true);  // a bare wake (mailctl queue flush, or a newer smtpd): look at everything
        return;
    }
    // Removals also show up here (inotify): only entries still present are worth a try.
    std::error_code ec;
    if (busy_.count(std::string(id)) ||
        !std::filesystem::exists(deliverer_.queue().dir() / "active" / std::string(id), ec))
        return;
    enqueue(std::string(id));
    dispatch();
}

void Scheduler::rescan() {
    if (stopping_) return;
    scan(true);
}

void Scheduler::enqueue(const std::string& id) {
    if (busy_.count(id)) return;
    deferred_.erase(id);
    busy_.insert(id);
    ready_.push_back(id);
}

// reread: also re-read entries we know to be deferred (their schedule may have changed).
void Scheduler::scan(bool reread) {
    int64_t now = now_();
    if (reread) last_full_scan_ = now;
    auto ids = deliverer_.queue().ids();
    if (!ids) {
        log_msg(LogLevel::error, "cannot list the queue: %s", queue_error_text(ids.error()));
        return;
    }
    std::set<std::string> present(ids->begin(), ids->end());
    for (auto it = deferred_.begin(); it != deferred_.end();)
        it = present.count(it->first) ? std::next(it) : deferred_.erase(it);
    for (const auto& id : *ids) {
        if (busy_.count(id)) continue;
        // Known deferred entries are re-read only on request (their schedule may have
        // been changed by `mailctl queue flush`).
        if (!reread && deferred_.count(id)) continue;
        auto env = deliverer_.queue().read(id);
        if (!env) continue;
        if (env->next_attempt > now)
            deferred_[id] = env->next_attempt;
        else
            enqueue(id);
    }
    dispatch();
}

void Scheduler::tick() {
    int64_t now = now_();
    if (now - last_full_scan_ >= kFullScanSeconds) {
        scan(true);
        return;
    }
    // A wake-up may have been lost (datagram queue full): pick up unknown entries.
    scan(false);
    std::vector<std::string> due;
    for (const auto& [id, next] : deferred_)
        if (next <= now) due.push_back(id);
    for (const auto& id : due) enqueue(id);
    dispatch();
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
    for (const auto& id : job.ids) busy_.erase(id);
    for (const auto& r : job.reports) report(r, job.now);
    dispatch();
}

void Scheduler::report(const AttemptReport& r, int64_t now) {
    int64_t delay = r.arrival ? now - r.arrival : 0;
    for (const auto& rc : r.rcpts)
        log_msg(rc.result == RcptResult::delivered ? LogLevel::info : LogLevel::warning,
                "id=%s to=<%s> result=%s delay=%llds %s", r.id.c_str(),
                log_escape(rc.address).c_str(), rcpt_result_text(rc.result),
                static_cast<long long>(delay), log_escape(rc.detail, 512).c_str());
    for (const auto& b : r.bounce_ids) {
        log_msg(LogLevel::info, "id=%s bounce queued as %s", r.id.c_str(), b.c_str());
        enqueue(b);
    }
    switch (r.outcome) {
    case AttemptReport::Outcome::finished:
        log_msg(LogLevel::info, "id=%s removed from queue", r.id.c_str());
        break;
    case AttemptReport::Outcome::deferred:
    case AttemptReport::Outcome::not_due: deferred_[r.id] = r.next_attempt; break;
    case AttemptReport::Outcome::gone: break;
    case AttemptReport::Outcome::error:
        log_msg(LogLevel::error, "id=%s attempt failed: %s", r.id.c_str(), r.error.c_str());
        deferred_[r.id] = now + 60;
        break;
    }
}

}  // namespace postern
