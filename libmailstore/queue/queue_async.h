#pragma once
// Committing a queue entry from a libuv loop: the fsyncs run on libuv's thread pool
// (uv_queue_work), the callback runs on the loop thread. No thread per connection;
// concurrent commits share directory fsyncs (group commit, see queue.h).

#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <uv.h>

#include "libmailstore/queue/queue.h"

namespace postern {

using QueueCommitCallback = std::function<void(std::expected<std::string, QueueError>)>;

// A commit in flight; it keeps itself alive until the work is done. After cancel() the
// callback is not called, but the commit itself still completes (it cannot be undone
// halfway). A session that dies while its commit is in flight calls cancel() from its
// destructor.
class QueueCommit {
public:
    void cancel() { cb_ = nullptr; }

private:
    friend std::shared_ptr<QueueCommit> queue_commit_async(uv_loop_t*, QueueWriter, Envelope,
                                                           QueueCommitCallback);
    uv_work_t work_{};
    QueueWriter writer_;
    Envelope env_;
    QueueCommitCallback cb_;
    std::expected<std::string, QueueError> result_;
    std::shared_ptr<QueueCommit> self_;  // keeps the request alive until after_work
    explicit QueueCommit(QueueWriter w)
        : writer_(std::move(w)), result_(std::unexpected(QueueError::io)) {}
};

// Starts writer.commit(env) on the thread pool; `cb` runs on `loop` with the queue id or
// the error. After success the caller replies 250 and calls queue_wake(run_dir).
std::shared_ptr<QueueCommit> queue_commit_async(uv_loop_t* loop, QueueWriter writer, Envelope env,
                                                QueueCommitCallback cb);

// Runs `work` on the thread pool, then `after` on `loop` (both run exactly once; inline
// if the work cannot be queued). Whatever `work` touches must stay alive until `after`.
void queue_work_async(uv_loop_t* loop, std::function<void()> work, std::function<void()> after);

}  // namespace postern
