#include "libmailstore/queue/queue_async.h"

namespace postern {

std::shared_ptr<QueueCommit> queue_commit_async(uv_loop_t* loop, QueueWriter writer, Envelope env,
                                                QueueCommitCallback cb) {
    std::shared_ptr<QueueCommit> req(new QueueCommit(std::move(writer)));
    req->env_ = std::move(env);
    req->cb_ = std::move(cb);
    req->self_ = req;
    req->work_.data = req.get();
    int rc = uv_queue_work(
        loop, &req->work_,
        [](uv_work_t* w) {
            auto* r = static_cast<QueueCommit*>(w->data);
            r->result_ = r->writer_.commit(std::move(r->env_));
        },
        [](uv_work_t* w, int status) {
            auto* r = static_cast<QueueCommit*>(w->data);
            std::shared_ptr<QueueCommit> keep = std::move(r->self_);
            if (status == UV_ECANCELED) r->result_ = std::unexpected(QueueError::io);
            if (r->cb_) {
                auto cb = std::move(r->cb_);
                cb(std::move(r->result_));
            }
        });
    if (rc != 0) {
        // Could not queue the work: commit inline rather than fail the message.
        req->self_.reset();
        req->result_ = req->writer_.commit(std::move(req->env_));
        if (req->cb_) {
            auto cb = std::move(req->cb_);
            cb(std::move(req->result_));
        }
    }
    return req;
}

namespace {

struct WorkRequest {
    uv_work_t work{};
    std::function<void()> fn;
    std::function<void()> after;
};

}  // namespace

void queue_work_async(uv_loop_t* loop, std::function<void()> work, std::function<void()> after) {
    auto* req = new WorkRequest{{}, std::move(work), std::move(after)};
    req->work.data = req;
    int rc = uv_queue_work(
        loop, &req->work, [](uv_work_t* w) { static_cast<WorkRequest*>(w->data)->fn(); },
        [](uv_work_t* w, int) {
            std::unique_ptr<WorkRequest> r(static_cast<WorkRequest*>(w->data));
            r->after();
        });
    if (rc != 0) {
        std::unique_ptr<WorkRequest> r(req);
        r->fn();
        r->after();
    }
}

}  // namespace postern
