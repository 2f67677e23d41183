#include "smtpd/smtp_queue_sink.h"

#include <chrono>
#include <functional>
#include <optional>
#include <utility>

#include "libproto/core/ascii.h"
#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"
#include "libproto/net/pool_job.h"
#include "smtpd/header_field_watcher.h"

namespace postern {

namespace {

SmtpVerdict queue_verdict(QueueError e) {
    return e == QueueError::no_space ? SmtpVerdict::no_room : SmtpVerdict::temp_failure;
}

using CommitDone = std::function<void(SmtpDeliveryResult)>;

// RFC 8689 5: "TLS-Required: No" (any case, blanks around) in one of the fields.
bool says_no(const std::vector<std::string>& values) {
    for (std::string_view v : values) {
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
        if (iequals(v, "no")) return true;
    }
    return false;
}

// What the pool work touches: shared with it, because an abandoned commit outlives the sink.
struct SinkState {
    QueueWriter writer;
    Envelope env;
    std::filesystem::path run_dir;
    std::string out;                  // pool thread only, while a job runs
    std::optional<QueueError> error;  // a failed write, set by the pool work
    std::expected<std::string, QueueError> result = std::unexpected(QueueError::io);

    explicit SinkState(QueueWriter w) : writer(std::move(w)) {}
};

// On a pool thread: write what is left, commit, log and wake spoold. Everything that must
// happen once the client sent its final dot happens here, so it happens even when the
// session is gone before the commit answers.
void commit_on_pool(SinkState& st, std::chrono::steady_clock::time_point started,
                    const std::string& from, size_t rcpts) {
    if (auto w = st.writer.write(st.out); !w) {
        st.writer.abort();
        st.result = std::unexpected(w.error());
    } else {
        st.out = {};
        st.result = st.writer.commit(std::move(st.env));
    }
    auto ms = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count() /
              1000.0;
    if (!st.result) {
        log_msg(LogLevel::error, "queue: commit failed after %.1f ms: %s", ms,
                queue_error_text(st.result.error()));
        return;
    }
    log_msg(LogLevel::info, "queued %s from=<%s> nrcpt=%zu (commit %.1f ms)", st.result->c_str(),
            log_escape(from).c_str(), rcpts, ms);
    queue_wake(st.run_dir, *st.result);
}

// The sink holds the PoolJob of its flush or commit: once the session drops it, nothing
// calls back. A flush in flight is cancelled (the entry is removed with the writer, and so
// is a commit still waiting for that flush: the client never saw a 250); a commit in flight
// is abandoned, i.e. it still completes, unanswered.
class QueueSink : public SmtpMessageSink {
public:
    QueueSink(uv_loop_t* loop, std::shared_ptr<SinkState> st, std::string buf)
        : loop_(loop), st_(std::move(st)), buf_(std::move(buf)) {
        buf_.reserve(smtp_sink_flush_at + 64 * 1024);
    }
    ~QueueSink() override {
        if (committing_) job_.abandon();
    }
    QueueSink(const QueueSink&) = delete;
    QueueSink& operator=(const QueueSink&) = delete;

    void append(std::string_view bytes) override {
        if (!tls_required_.header_done()) {
            tls_required_.feed(bytes);
            received_.feed(bytes);
        }
        if (!error_) buf_.append(bytes);
    }
    bool wants_flush() const override {
        return !job_.active() && buf_.size() >= smtp_sink_flush_at;
    }
    void flush(std::function<void()> done) override {
        if (job_.active() || error_ || buf_.empty()) {
            done();
            return;
        }
        std::swap(st_->out, buf_);
        job_ = run_on_pool(
            loop_,
            [st = st_] {
                if (auto w = st->writer.write(st->out); !w) st->error = w.error();
                st->out.clear();  // keeps its capacity for the next swap
            },
            [this, done = std::move(done)] {
                if (st_->error && !error_) error_ = st_->error;
                if (pending_commit_) start_commit(*std::exchange(pending_commit_, {}));
                done();
            });
    }
    void commit(bool, CommitDone done) override {
        if (job_.active())
            pending_commit_ = std::move(done);
        else
            start_commit(std::move(done));
    }

private:
    void start_commit(CommitDone done) {
        if (error_) {
            st_->writer.abort();
            done({queue_verdict(*error_), {}});
            return;
        }
        if (received_.count() >= smtp_max_received) {
            log_msg(LogLevel::warning, "queue: refused from=<%s>: %zu Received fields, a mail loop",
                    log_escape(st_->env.reverse_path).c_str(), received_.count());
            st_->writer.abort();
            done({SmtpVerdict::too_many_hops, {}});
            return;
        }
        // RFC 8689 4.1: with REQUIRETLS the header field is ignored.
        st_->env.tls_optional = !st_->env.requiretls && says_no(tls_required_.finish());
        std::swap(st_->out, buf_);
        buf_ = {};
        committing_ = true;
        job_ = run_on_pool(
            loop_,
            [st = st_, started = std::chrono::steady_clock::now(), from = st_->env.reverse_path,
             rcpts = st_->env.recipients.size()] { commit_on_pool(*st, started, from, rcpts); },
            [this, done = std::move(done)] {
                committing_ = false;
                auto& r = st_->result;
                // Last: the session may drop this sink from inside done.
                done(r ? SmtpDeliveryResult{SmtpVerdict::ok, *r}
                       : SmtpDeliveryResult{queue_verdict(r.error()), {}});
            });
    }

    uv_loop_t* loop_;
    std::shared_ptr<SinkState> st_;
    std::string buf_;  // loop thread only
    PoolJob job_;      // the flush or commit in flight
    std::optional<QueueError> error_;
    std::optional<CommitDone> pending_commit_;  // commit asked for during a flush
    bool committing_ = false;
    HeaderFieldWatcher tls_required_{"TLS-Required", 64};
    HeaderFieldWatcher received_{"Received", 0};  // counted only
};

}  // namespace

std::unique_ptr<SmtpMessageSink> make_queue_sink(uv_loop_t* loop, QueueWriter writer, Envelope env,
                                                 std::string received,
                                                 std::filesystem::path run_dir) {
    auto st = std::make_shared<SinkState>(std::move(writer));
    st->env = std::move(env);
    st->run_dir = std::move(run_dir);
    return std::make_unique<QueueSink>(loop, std::move(st), std::move(received));
}

}  // namespace postern
