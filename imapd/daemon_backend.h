#pragma once
// The ImapBackend imapd gives every session: Accounts for logins, the MailStore, blocking
// work on the libuv thread pool (run_on_pool) and posts onto the loop (LoopPoster).

#include <memory>
#include <string>

#include "imapd/imap_backend.h"
#include "imapd/loop_poster.h"
#include "libmailstore/accounts.h"

namespace postern {

class DaemonBackend final : public ImapBackend {
public:
    // `fake_user_secret`: the instance secret, for unknown users' fake SCRAM salts.
    DaemonBackend(uv_loop_t* loop, std::shared_ptr<Accounts> accounts,
                  std::unique_ptr<MailStore> store, std::string hostname,
                  std::string fake_user_secret);

    MailStore& store() override { return *store_; }
    const SaslCallbacks& sasl_callbacks() override { return callbacks_; }
    SaslOptions sasl_options() override;
    StoreResult<uint64_t> quota_limit(std::string_view user) override;  // Accounts
    void run_blocking(std::function<void()> work, std::function<void()> done) override;
    void post(std::function<void()> fn) override { poster_.post(std::move(fn)); }

private:
    uv_loop_t* loop_;
    std::shared_ptr<Accounts> accounts_;
    std::unique_ptr<MailStore> store_;
    std::string hostname_;
    std::string fake_user_secret_;
    SaslCallbacks callbacks_;
    LoopPoster poster_;
};

}  // namespace postern
