#pragma once
// The POP3 Maildrop (libproto/pop3/pop3_maildrop.h) over libmailstore: an INBOX
// snapshot, the POP3 maildrop lock, message files read with pread, \Seen and
// expunge through the shared index. Also the backend pop3d gives every
// session: Accounts for logins, MailStore for maildrops.

#include <atomic>
#include <memory>
#include <string>

#include "libmailstore/accounts.h"
#include "libmailstore/store.h"
#include "libproto/pop3/pop3_session.h"
#include "libproto/net/pool_job.h"

namespace postern {

// Opens `user`'s INBOX; with `exclusive` takes the POP3 lock first (in_use).
std::expected<std::unique_ptr<Maildrop>, MaildropError> open_store_maildrop(MailStore& store,
                                                                            const std::string& user,
                                                                            bool exclusive);

class StoreBackend : public Pop3Backend {
public:
    // `fake_user_secret`: the instance secret (instance_secret.h) for unknown users' fake
    // SCRAM salts, the same in every daemon.
    StoreBackend(std::shared_ptr<Accounts> accounts, std::unique_ptr<MailStore> store,
                 std::string hostname, std::string fake_user_secret);
    const SaslCallbacks& sasl_callbacks() override { return callbacks_; }
    SaslOptions sasl_options() override;
    std::expected<std::unique_ptr<Maildrop>, MaildropError> open_maildrop(
        const std::string& user) override;

    // Pop3Wait::password: looks the hash up and verifies it on the thread pool, then calls
    // `done` on the loop unless the returned job was dropped first (the session went).
    PoolJob check_password_async(uv_loop_t* loop, const Pop3PasswordRequest& req,
                                 std::function<void(PasswordCheck)> done);

    // pop3d.allow_concurrent_sessions (changes on SIGHUP).
    void set_allow_concurrent(bool on) { allow_concurrent_ = on; }

private:
    std::shared_ptr<Accounts> accounts_;
    std::unique_ptr<MailStore> store_;
    std::string hostname_;
    std::string fake_user_secret_;
    SaslCallbacks callbacks_;
    std::string dummy_hash_;  // verified for unknown users: same cost, no enumeration
    std::atomic<bool> allow_concurrent_{false};  // read by pool threads (open_maildrop)
};

}  // namespace postern
