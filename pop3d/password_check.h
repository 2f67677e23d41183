#pragma once
// USER/PASS password verification on libuv's thread pool (uv_queue_work): a yescrypt
// check takes tens of milliseconds of CPU, and on the loop thread it would stall every
// other session of the process and leave the other cores idle. The hash is looked up on
// the loop thread; only the pure verify_password(hash, password) runs on the pool.

#include <functional>
#include <memory>
#include <string>
#include <uv.h>

namespace postern {

// A check in flight; it keeps itself alive until the work is done. After cancel() the
// callback is not called (the session that asked is gone).
class PasswordJob {
public:
    ~PasswordJob();
    void cancel() { cb_ = nullptr; }

private:
    friend std::shared_ptr<PasswordJob> verify_password_async(uv_loop_t*, std::string, std::string,
                                                              std::function<void(bool)>);
    PasswordJob() = default;
    uv_work_t work_{};
    std::string hash_;
    std::string password_;  // wiped as soon as it was checked
    bool ok_ = false;
    std::function<void(bool)> cb_;
    std::shared_ptr<PasswordJob> self_;  // keeps the request alive until after_work
};

// Runs verify_password(hash, password) on the pool; `cb(match)` runs on `loop`. If the
// work cannot be queued the check runs inline.
std::shared_ptr<PasswordJob> verify_password_async(uv_loop_t* loop, std::string hash,
                                                   std::string password,
                                                   std::function<void(bool)> cb);

}  // namespace postern
