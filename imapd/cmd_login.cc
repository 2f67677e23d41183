// LOGIN (RFC 3501 6.2.3): the login name as everywhere (Accounts::resolve_login: user@domain,
// user%domain, a unique bare user), resolved and verified off the loop. The budget is asked
// before the password is checked; an unknown user costs one (dummy) hash too. Refused
// without TLS unless imapd.allow_plaintext_auth (the command table's needs_tls: the session
// answers NO [PRIVACYREQUIRED] before this runs).
#include "imapd/imap_commands.h"
#include "libproto/core/secret.h"

namespace postern {
namespace {

struct LoginJob {
    std::string login;
    std::string password;
    std::expected<std::string, SaslLookupError> user = std::unexpected(SaslLookupError::temporary);
    PasswordCheck check = PasswordCheck::temporary;
    ~LoginJob() { wipe(password); }
};

const ImapReply unavailable{ImapResult::no, ImapCode::unavailable,
                            "Authentication is temporarily unavailable"};

void verified(ImapSession& s, const std::shared_ptr<LoginJob>& job) {
    wipe(job->password);
    const std::string& account = job->user ? *job->user : job->login;
    if (job->check == PasswordCheck::temporary) return s.finish(unavailable);
    if (!job->user || job->check != PasswordCheck::ok)
        return login_failed(s, s.login_guard().failed(account, job->login, "LOGIN"), false);
    s.login_guard().succeeded(*job->user);
    login_succeeded(s, *job->user, "LOGIN");
}

void resolved(ImapSession& s, const std::shared_ptr<LoginJob>& job) {
    if (!job->user && job->user.error() == SaslLookupError::temporary) {
        wipe(job->password);
        return s.finish(unavailable);
    }
    const std::string& account = job->user ? *job->user : job->login;
    if (!s.login_guard().admit(account, job->login, "LOGIN")) {
        wipe(job->password);
        return login_failed(s, s.login_guard().refusal_delay_ms(), true);
    }
    s.blocking(
        [verify = s.backend().sasl_callbacks().verify_password, job] {
            // Unknown users: the login as typed, so the hash is still spent.
            job->check = verify(job->user ? *job->user : job->login, job->password);
        },
        [&s, job] { verified(s, job); });
}

}  // namespace

void cmd_login(ImapSession& s, ImapCommand& c) {
    auto& l = std::get<ImapLogin>(c.args);
    const SaslCallbacks& cb = s.backend().sasl_callbacks();
    if (!cb.resolve_login || !cb.verify_password) {
        wipe(l.password);
        return s.finish(unavailable);
    }
    auto job = std::make_shared<LoginJob>();
    job->login = l.user;
    job->password = l.password;
    wipe(l.password);
    s.blocking([resolve = cb.resolve_login, job] { job->user = resolve(job->login); },
               [&s, job] { resolved(s, job); });
}

}  // namespace postern
