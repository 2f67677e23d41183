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

}  // namespace postern
