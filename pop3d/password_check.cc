#include "pop3d/password_check.h"

#include <openssl/crypto.h>

#include "libmailstore/password.h"

namespace postern {
namespace {

void wipe(std::string& s) {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

}  // namespace

PasswordJob::~PasswordJob() { wipe(password_); }

std::shared_ptr<PasswordJob> verify_password_async(uv_loop_t* loop, std::string hash,
                                                   std::string password,
                                                   std::function<void(bool)> cb) {
    std::shared_ptr<PasswordJob> job(new PasswordJob());
    job->hash_ = std::move(hash);
    job->password_ = std::move(password);
    job->cb_ = std::move(cb);
    job->self_ = job;
    job->work_.data = job.get();
    int rc = uv_queue_work(
        loop, &job->work_,
        [](uv_work_t* w) {
            auto* j = static_cast<PasswordJob*>(w->data);
            j->ok_ = verify_password(j->hash_, j->password_);
            wipe(j->password_);
        },
        [](uv_work_t* w, int status) {
            auto* j = static_cast<PasswordJob*>(w->data);
            std::shared_ptr<PasswordJob> keep = std::move(j->self_);
            if (status == UV_ECANCELED) j->ok_ = false;
            if (j->cb_) {
                auto cb = std::move(j->cb_);
                cb(j->ok_);
            }
        });
    if (rc != 0) {
        job->self_.reset();
        job->ok_ = verify_password(job->hash_, job->password_);
        wipe(job->password_);
        if (job->cb_) {
            auto f = std::move(job->cb_);
            f(job->ok_);
        }
    }
    return job;
}

}  // namespace postern
