#include "imapd/append_spool.h"

#include <utility>

namespace postern {

// One pool job: optionally start a message, write bytes, optionally finish it.
struct AppendSpool::Job {
    bool start = false;
    bool finish = false;
    std::string bytes;
    std::optional<StoreError> error;
};

AppendSpool::AppendSpool(ImapBackend& backend, std::string user, std::function<void()> wake)
    : backend_(backend), user_(std::move(user)), wake_(std::move(wake)) {
    buf_.reserve(chunk_bytes + 64 * 1024);
}

AppendSpool::~AppendSpool() {
    // A job in flight removes them when it comes back (see submit); otherwise a job now,
    // so the files' unlink never runs on the loop.
    if (in_flight_ || files_->msgs.empty()) return;
    backend_.run_blocking([f = std::move(files_)] { f->msgs.clear(); }, [] {});
}

void AppendSpool::begin_message() { start_pending_ = true; }

void AppendSpool::write(std::string_view b) {
    if (error_) return;
    buf_.append(b);
    if (buf_.size() >= chunk_bytes && !in_flight_) submit();
}

void AppendSpool::end_message() {
    finish_pending_ = true;
    if (!in_flight_) submit();
}

bool AppendSpool::full() const {
    return in_flight_ && (buf_.size() >= chunk_bytes || finish_pending_);
}

bool AppendSpool::idle() const {
    if (in_flight_) return false;
    return error_.has_value() || (buf_.empty() && !start_pending_ && !finish_pending_);
}

void AppendSpool::submit() {
    if (error_) {
        buf_.clear();
        start_pending_ = finish_pending_ = false;
        return;
    }
    auto job = std::make_shared<Job>();
    job->start = std::exchange(start_pending_, false);
    job->finish = std::exchange(finish_pending_, false);
    job->bytes.swap(buf_);
    buf_.swap(spare_);  // the other buffer keeps its capacity: no allocation per chunk
    buf_.clear();
    in_flight_ = true;
    backend_.run_blocking(
        [job, files = files_, store = &backend_.store(), user = user_] {
            auto fail = [&](StoreError e) { job->error = e; };
            if (job->start) {
                auto m = store->stage_message(user);
                if (!m) return fail(m.error());
                files->msgs.push_back(std::move(*m));
            }
            if (files->msgs.empty()) return fail(StoreError::invalid);
            StagedMessage& msg = *files->msgs.back();
            if (!job->bytes.empty())
                if (auto w = msg.write(job->bytes); !w) return fail(w.error());
            if (job->finish)
                if (auto f = msg.finish(); !f) return fail(f.error());
        },
        [this, job, files = files_, alive = std::weak_ptr<char>(alive_), b = &backend_] {
            if (alive.expired()) {
                // The APPEND is gone: its staged messages go too, off the loop.
                if (!files->msgs.empty()) b->run_blocking([files] { files->msgs.clear(); }, [] {});
                return;
            }
            in_flight_ = false;
            if (job->error && !error_) error_ = job->error;
            spare_.swap(job->bytes);
            spare_.clear();
            if (buf_.size() >= chunk_bytes || finish_pending_) submit();
            wake_();
        });
}

}  // namespace postern
