// The end of a login, shared by LOGIN and AUTHENTICATE: the Authenticated state and the
// capabilities on success; on failure the budget is charged (by the caller, through the
// LoginGuard), the NO held back by the delay, and after max_auth_failures the session ends.
#include "imapd/imap_commands.h"

namespace postern {

void login_succeeded(ImapSession& s, const std::string& user, std::string_view how) {
    if (s.log() != nullptr)
        s.log()->info("login: user=%s method=%.*s", user.c_str(), int(how.size()), how.data());
    s.set_state(Authenticated{user});
    s.finish_with_code(ImapResult::ok, "CAPABILITY " + s.capabilities(), "Logged in");
}

void login_failed(ImapSession& s, uint32_t delay_ms, bool refused) {
    auto& na = std::get<NotAuthenticated>(s.state());
    na.sasl.reset();
    ++na.auth_failures;
    bool last = na.auth_failures >= s.options().max_auth_failures;
    ImapReply r = refused ? ImapReply{ImapResult::no, ImapCode::unavailable,
                                      "Too many failed logins, try again later"}
                          : ImapReply{ImapResult::no, ImapCode::authenticationfailed,
                                      "Authentication failed"};
    s.delayed_finish(delay_ms, r, last);
}

}  // namespace postern
