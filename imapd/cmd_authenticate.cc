// AUTHENTICATE (RFC 3501 6.2.2, SASL-IR RFC 4959) through libproto/sasl: PLAIN, LOGIN (both
// only with TLS unless imapd.allow_plaintext_auth) and SCRAM-SHA-256 (unknown users get fake
// salts from the instance secret). Lookups run off the loop (defer_lookups); the budget is
// asked once the login is known. A "*" line cancels (BAD, RFC 3501).
#include "imapd/imap_commands.h"
#include "libproto/core/secret.h"

namespace postern {
namespace {

void sasl_step(ImapSession& s, SaslStep step);

void on_sasl_line(ImapSession& s, ImapEvent& ev) {
    auto* na = std::get_if<NotAuthenticated>(&s.state());
    if (na == nullptr || !na->sasl) return;
    if (auto* r = std::get_if<ImapSaslResponse>(&ev)) {
        SaslStep step = na->sasl->step(r->line);
        wipe(r->line);
        return sasl_step(s, std::move(step));
    }
    na->sasl.reset();
    if (std::holds_alternative<ImapSaslCancel>(ev))
        return s.finish(ImapResult::bad, "Authentication cancelled");
    s.finish(ImapResult::bad, "Malformed authentication response");
}

void sasl_step(ImapSession& s, SaslStep step) {
    auto& na = std::get<NotAuthenticated>(s.state());
    if (auto* p = std::get_if<SaslPending>(&step)) {
        return s.blocking(std::move(p->work), [&s] {
            auto* n = std::get_if<NotAuthenticated>(&s.state());
            if (n != nullptr && n->sasl) sasl_step(s, n->sasl->resume());
        });
    }
    if (auto* ch = std::get_if<SaslChallenge>(&step)) {
        s.out().append("+ ").append(ch->base64).append("\r\n");
        s.parser().expect_sasl_response();
        return s.await_line([&s](ImapEvent& ev) { on_sasl_line(s, ev); });
    }
    std::string mech(na.sasl->mechanism());
    std::string login = na.sasl->login_name();
    std::string account = na.sasl->account();
    if (auto* ok = std::get_if<SaslSuccess>(&step)) {
        na.sasl.reset();
        s.login_guard().succeeded(ok->user);
        return login_succeeded(s, ok->user, "AUTHENTICATE " + mech);
    }
    switch (std::get<SaslFailed>(step).reason) {
    case SaslFailure::cancelled:
        na.sasl.reset();
        return s.finish(ImapResult::bad, "Authentication cancelled");
    case SaslFailure::malformed:
    case SaslFailure::too_long:
        na.sasl.reset();
        return s.finish(ImapResult::bad, "Malformed authentication exchange");
    case SaslFailure::temp_failure:
        na.sasl.reset();
        return s.finish(ImapResult::no, "Authentication is temporarily unavailable",
                        ImapCode::unavailable);
    case SaslFailure::refused: return login_failed(s, s.login_guard().refusal_delay_ms(), true);
    case SaslFailure::bad_credentials:
        return login_failed(s, s.login_guard().failed(account, login, mech), false);
    }
}

}  // namespace

void cmd_authenticate(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapAuthenticate>(c.args);
    SaslPolicy policy{.allow_plaintext = s.options().plaintext_auth};
    if (!sasl_mechanism_allowed(a.mechanism, s.tls_active(), policy)) {
        if ((a.mechanism == "PLAIN" || a.mechanism == "LOGIN") && !s.plaintext_auth_allowed())
            return s.finish(refusal_reply(ImapRefusal::privacy_required));
        return s.finish(ImapResult::no, "Unsupported authentication mechanism");
    }
    SaslOptions so = s.backend().sasl_options();
    so.defer_lookups = true;
    auto server = make_sasl_server(a.mechanism, s.backend().sasl_callbacks(), so);
    if (!server) return s.finish(ImapResult::no, "Unsupported authentication mechanism");
    server->set_admission([&s, srv = server.get()](std::string_view account) {
        return s.login_guard().admit(account, srv->login_name(), srv->mechanism());
    });
    auto& na = std::get<NotAuthenticated>(s.state());
    na.sasl = std::move(server);
    std::optional<std::string_view> initial;
    if (a.initial) initial = a.initial->empty() ? std::string_view("=") : *a.initial;
    SaslStep step = na.sasl->start(initial);
    if (a.initial) wipe(*a.initial);
    sasl_step(s, std::move(step));
}

}  // namespace postern
