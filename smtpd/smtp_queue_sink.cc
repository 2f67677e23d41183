#include "smtpd/smtp_queue_sink.h"

#include <chrono>
#include <functional>
#include <optional>
#include <utility>

#include "libmailstore/queue/queue_async.h"
#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"

namespace postern {

namespace {

SmtpVerdict queue_verdict(QueueError e) {
    return e == QueueError::no_space ? SmtpVerdict::no_room : SmtpVerdict::temp_failure;
}

using CommitDone = std::function<void(SmtpDeliveryResult)>;

// Shared with the work in flight: the session may drop the sink meanwhile.
struct SinkState {
    uv_loop_t* loop = nullptr;
    QueueWriter writer;
    Envelope env;
    std::filesystem::path run_dir;
    std::string buf;  // loop thread only
    std::string out;  // pool thread only, while in_flight
    bool in_flight = false;
    std::optional<QueueError> error;
    std::optional<CommitDone> pending_commit;  // commit asked for during a flush

    explicit SinkState(QueueWriter w) : writer(std::move(w)) {}
};

void start_commit(const std::shared_ptr<SinkState>& st, CommitDone done) {
    if (st->error) {
        st->writer.abort();
        done({queue_verdict(*st->error), {}});
        return;
    }
    std::swap(st->out, st->buf);
    st->buf = {};
    st->in_flight = true;
    auto result =
        std::make_shared<std::expected<std::string, QueueError>>(std::unexpected(QueueError::io));
    auto started = std::chrono::steady_clock::now();
    // For the log line: commit takes the envelope.
    std::string from = st->env.reverse_path;
    size_t rcpts = st->env.recipients.size();
    queue_work_async(
        st->loop,
        [st, result] {
            if (auto w = st->writer.write(st->out); !w) {
                st->writer.abort();
                *result = std::unexpected(w.error());
                return;
            }
            st->out = {};
            *result = st->writer.commit(std::move(st->env));
        },
        [st, result, started, from = std::move(from), rcpts, done = std::move(done)] {
            st->in_flight = false;
            auto ms = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count() /
                      1000.0;
            auto& r = *result;
            if (!r) {
                log_msg(LogLevel::error, "queue: commit failed after %.1f ms: %s", ms,
                        queue_error_text(r.error()));
                done({queue_verdict(r.error()), {}});
                return;
            }
            log_msg(LogLevel::info, "queued %s from=<%s> nrcpt=%zu (commit %.1f ms)", r->c_str(),
                    log_escape(from).c_str(), rcpts, ms);
            queue_wake(st->run_dir, *r);
            done({SmtpVerdict::ok, *r});
        });
}

class QueueSink : public SmtpMessageSink {
public:
    // Dropped before commit: the writer aborts (its destructor) when the last
    // reference goes, i.e. now or once a flush in flight is done.
    explicit QueueSink(std::shared_ptr<SinkState> st) : st_(std::move(st)) {}

    void append(std::string_view bytes) override {
        if (!st_->error) st_->buf.append(bytes);
    }
    bool wants_flush() const override {
        return !st_->in_flight && st_->buf.size() >= smtp_sink_flush_at;
    }
    void flush(std::function<void()> done) override {
        if (st_->in_flight || st_->error || st_->buf.empty()) {
            done();
            return;
        }
        std::swap(st_->out, st_->buf);
        st_->in_flight = true;
        auto st = st_;
        auto err = std::make_shared<std::optional<QueueError>>();
        queue_work_async(
            st->loop,
            [st, err] {
                if (auto w = st->writer.write(st->out); !w) *err = w.error();
                st->out.clear();  // keeps its capacity for the next swap
            },
            [st, err, done = std::move(done)] {
                st->in_flight = false;
                if (*err && !st->error) st->error = *err;
                if (st->pending_commit) {
                    auto c = std::move(*st->pending_commit);
                    st->pending_commit.reset();
                    start_commit(st, std::move(c));
                }
                done();
            });
    }
    void commit(bool, CommitDone done) override {
        if (st_->in_flight)
            st_->pending_commit = std::move(done);
        else
            start_commit(st_, std::move(done));
    }

private:
    std::shared_ptr<SinkState> st_;
};

class FailedSink : public SmtpMessageSink {
public:
    explicit FailedSink(SmtpVerdict v) : verdict_(v) {}
    void append(std::string_view) override {}
    void commit(bool, CommitDone done) override { done({verdict_, {}}); }

private:
    SmtpVerdict verdict_;
};

}  // namespace

std::unique_ptr<SmtpMessageSink> make_queue_sink(uv_loop_t* loop, QueueWriter writer, Envelope env,
                                                 std::string received,
                                                 std::filesystem::path run_dir) {
    auto st = std::make_shared<SinkState>(std::move(writer));
    st->loop = loop;
    st->env = std::move(env);
    st->run_dir = std::move(run_dir);
    st->buf = std::move(received);
    st->buf.reserve(smtp_sink_flush_at + 64 * 1024);
    return std::make_unique<QueueSink>(std::move(st));
}

std::unique_ptr<SmtpMessageSink> make_failed_sink(SmtpVerdict verdict) {
    return std::make_unique<FailedSink>(verdict);
}

}  // namespace postern
