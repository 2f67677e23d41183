#include "imapd/daemon_backend.h"

#include "libproto/net/pool_job.h"

namespace postern {
namespace {

std::unexpected<SaslLookupError> lookup_error(StoreError e) {
    return std::unexpected(e == StoreError::temporary ? SaslLookupError::temporary
                                                      : SaslLookupError::not_found);
}

}  // namespace

DaemonBackend::DaemonBackend(uv_loop_t* loop, std::shared_ptr<Accounts> accounts,
                             std::unique_ptr<MailStore> store, std::string hostname,
                             std::string fake_user_secret)
    : loop_(loop), accounts_(std::move(accounts)), store_(std::move(store)),
      hostname_(std::move(hostname)), fake_user_secret_(std::move(fake_user_secret)),
      poster_(loop) {
    // The callbacks run on pool threads; Accounts is thread-safe.
    callbacks_.resolve_login =
        [a = accounts_](std::string_view login) -> std::expected<std::string, SaslLookupError> {
        auto r = a->resolve_login(login);
        if (r) return *r;
        return lookup_error(r.error());
    };
    callbacks_.verify_password = [a = accounts_](std::string_view user, std::string_view pw) {
        // A dummy hash for unknown users (Accounts), so timing is uniform.
        return a->verify_password(user, pw) ? PasswordCheck::ok : PasswordCheck::mismatch;
    };
    callbacks_.scram_credentials =
        [a = accounts_](std::string_view user) -> std::expected<ScramKeys, SaslLookupError> {
        auto r = a->scram_credentials(user);
        if (r) return *r;
        return lookup_error(r.error());
    };
}

SaslOptions DaemonBackend::sasl_options() {
    SaslOptions o;
    o.hostname = hostname_;
    o.fake_user_secret = fake_user_secret_;
    return o;
}

StoreResult<uint64_t> DaemonBackend::quota_limit(std::string_view user) {
    // What the store's quota_of asks (quota_lookup): a user gone meanwhile has none.
    auto u = accounts_->get_user(user);
    return u ? u->quota_bytes : 0;
}

void DaemonBackend::run_blocking(std::function<void()> work, std::function<void()> done) {
    // The session guards `done` itself (a weak token), so the job is detached.
    run_on_pool_detached(loop_, std::move(work), std::move(done));
}

}  // namespace postern
