#pragma once
// The POP3 Maildrop (libproto/pop3_maildrop.h) over libmailstore: an INBOX
// snapshot, the POP3 maildrop lock, message files read with pread, \Seen and
// expunge through the shared index. Also the backend pop3d gives every
// session: Accounts for logins, MailStore for maildrops.

#include <memory>
#include <string>

#include "libmailstore/accounts.h"
#include "libmailstore/store.h"
#include "libproto/pop3_session.h"

namespace postern {

// Opens `user`'s INBOX; with `exclusive` takes the POP3 lock first (in_use).
std::expected<std::unique_ptr<Maildrop>, MaildropError> open_store_maildrop(
    MailStore& store, const std::string& user, bool exclusive);

class StoreBackend : public Pop3Backend {
public:
    StoreBackend(std::shared_ptr<Accounts> accounts, std::unique_ptr<MailStore> store,
                 std::string hostname);
    const SaslCallbacks& sasl_callbacks() override { return callbacks_; }
    SaslOptions sasl_options() override;
    std::expected<std::unique_ptr<Maildrop>, MaildropError> open_maildrop(
        const std::string& user) override;

    // pop3d.allow_concurrent_sessions (changes on SIGHUP).
    void set_allow_concurrent(bool on) { allow_concurrent_ = on; }

private:
    std::shared_ptr<Accounts> accounts_;
    std::unique_ptr<MailStore> store_;
    std::string hostname_;
    SaslCallbacks callbacks_;
    bool allow_concurrent_ = false;
};

}  // namespace postern
