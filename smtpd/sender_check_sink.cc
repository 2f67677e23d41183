#include "smtpd/sender_check_sink.h"

#include <utility>
#include <vector>

#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"
#include "libproto/net/pool_job.h"
#include "smtpd/from_header_watcher.h"
#include "smtpd/sender_owner.h"

namespace postern {

namespace {

using CommitDone = std::function<void(SmtpDeliveryResult)>;

class SenderCheckSink : public SmtpMessageSink {
public:
    SenderCheckSink(uv_loop_t* loop, std::unique_ptr<SmtpMessageSink> inner,
                    std::shared_ptr<Accounts> accounts, std::string user, std::string sender)
        : loop_(loop), inner_(std::move(inner)), accounts_(std::move(accounts)),
          user_(std::move(user)), sender_(std::move(sender)) {}

    void append(std::string_view bytes) override {
        if (!watcher_.header_done()) watcher_.feed(bytes);
        inner_->append(bytes);
    }
    bool wants_flush() const override { return inner_->wants_flush(); }
    void flush(std::function<void()> done) override { inner_->flush(std::move(done)); }

    void commit(bool eight_bit, CommitDone done) override {
        FromHeaderAddresses from = watcher_.finish();
        if (from.unreadable) {
            refuse("unreadable From: header", done);
            return;
        }
        // The user's own address and the envelope sender (checked at MAIL) need no lookup.
        std::vector<std::string> ask;
        for (auto& a : from.addresses)
            if (!sender_is_user(user_, a) && !(!sender_.empty() && sender_is_user(sender_, a)))
                ask.push_back(std::move(a));
        if (ask.empty()) {
            inner_->commit(eight_bit, std::move(done));
            return;
        }
        struct Lookup {
            SenderOwnership verdict = SenderOwnership::owned;
            std::string address;  // the first one not owned
        };
        auto l = std::make_shared<Lookup>();
        auto done_once = std::move(done);
        // try_: a job that could not be queued must not run `done` before job_ is set (the
        // session may drop this sink from inside done).
        auto job = try_run_on_pool(
            loop_,
            [l, accounts = accounts_, user = user_, ask = std::move(ask)] {
                for (const auto& a : ask) {
                    auto v = sender_owner(*accounts, user, a);
                    if (v == SenderOwnership::owned) continue;
                    l->verdict = v;
                    l->address = a;
                    return;
                }
            },
            [this, l, eight_bit, done = done_once]() mutable {
                switch (l->verdict) {
                case SenderOwnership::owned: inner_->commit(eight_bit, std::move(done)); return;
                case SenderOwnership::not_owned:
                    refuse("From: <" + l->address + "> is not the user's", done);
                    return;
                case SenderOwnership::temp_failure:
                    inner_.reset();
                    done({SmtpVerdict::temp_failure, {}});
                    return;
                }
            });
        if (job) {
            job_ = std::move(*job);
            return;
        }
        inner_.reset();
        done_once({SmtpVerdict::temp_failure, {}});
    }

private:
    void refuse(const std::string& why, const CommitDone& done) {
        log_msg(LogLevel::info, "sender refused: user=%s %s", log_escape(user_).c_str(),
                log_escape(why).c_str());
        inner_.reset();  // aborts the entry: nothing is queued
        done({SmtpVerdict::sender_mismatch, {}});
    }

    uv_loop_t* loop_;
    std::unique_ptr<SmtpMessageSink> inner_;
    std::shared_ptr<Accounts> accounts_;
    std::string user_;
    std::string sender_;
    FromHeaderWatcher watcher_;
    PoolJob job_;  // the alias lookup; dropping the sink cancels it (and the entry)
};

}  // namespace

std::unique_ptr<SmtpMessageSink> make_sender_check_sink(uv_loop_t* loop,
                                                        std::unique_ptr<SmtpMessageSink> inner,
                                                        std::shared_ptr<Accounts> accounts,
                                                        std::string user,
                                                        std::string envelope_sender) {
    return std::make_unique<SenderCheckSink>(loop, std::move(inner), std::move(accounts),
                                             std::move(user), std::move(envelope_sender));
}

}  // namespace postern
