#include "libproto/pop3/pop3_session.h"
#include "libproto/core/secret.h"

#include <array>
#include <utility>
#include <openssl/crypto.h>

namespace postern {
namespace {

// Which states a command is valid in: gating lives here and nowhere else.
enum StateMask : uint8_t { in_authorization = 1, in_transaction = 2, in_any = 3 };

struct CommandSpec {
    Pop3Verb verb;
    uint8_t states;
};

constexpr std::array<CommandSpec, 15> command_table{{
    {Pop3Verb::user, in_authorization},
    {Pop3Verb::pass, in_authorization},
    {Pop3Verb::apop, in_authorization},
    {Pop3Verb::auth, in_authorization},
    {Pop3Verb::stls, in_authorization},
    {Pop3Verb::capa, in_any},
    {Pop3Verb::quit, in_any},
    {Pop3Verb::stat, in_transaction},
    {Pop3Verb::list, in_transaction},
    {Pop3Verb::retr, in_transaction},
    {Pop3Verb::dele, in_transaction},
    {Pop3Verb::noop, in_transaction},
    {Pop3Verb::rset, in_transaction},
    {Pop3Verb::top, in_transaction},
    {Pop3Verb::uidl, in_transaction},
}};

const CommandSpec* find_spec(Pop3Verb v) {
    for (const auto& s : command_table)
        if (s.verb == v) return &s;
    return nullptr;
}

// Every -ERR that carries a response code is spelled here (RFC 2449 8,
// RFC 3206), so the texts stay consistent and never reveal whether a user
// exists.
enum class Pop3Error : uint8_t {
    auth_failed,
    auth_failed_closing,
    auth_refused,
    auth_refused_closing,
    plaintext_refused,
    in_use,
    temporary,
    permanent,
    vanished,
    auth_temporary,
    expunge_failed,
    shutting_down,
};

std::string_view error_text(Pop3Error e) {
    switch (e) {
    case Pop3Error::auth_failed: return "[AUTH] Authentication failed";
    case Pop3Error::auth_failed_closing:
        return "[AUTH] Authentication failed; too many failures, closing connection";
    case Pop3Error::auth_refused: return "[SYS/TEMP] Too many failed logins, try again later";
    case Pop3Error::auth_refused_closing:
        return "[SYS/TEMP] Too many failed logins, try again later; closing connection";
    case Pop3Error::plaintext_refused:
        return "[AUTH] Plaintext authentication is not allowed without TLS: "
               "use STLS first, or connect to the POP3S port";
    case Pop3Error::in_use:
        return "[IN-USE] Maildrop is in use by another POP3 session, try again later";
    case Pop3Error::temporary: return "[SYS/TEMP] Temporary failure, try again later";
    case Pop3Error::permanent: return "[SYS/PERM] Maildrop cannot be opened";
    case Pop3Error::vanished: return "Message was deleted by another session";
    case Pop3Error::auth_temporary:
        return "[SYS/TEMP] Authentication temporarily unavailable, try again later";
    case Pop3Error::expunge_failed:
        return "[SYS/TEMP] Some deleted messages were not removed, try again later";
    case Pop3Error::shutting_down: return "[SYS/TEMP] Server shutting down, try again later";
    }
    return "Error";
}

Pop3Error from_maildrop(MaildropError e) {
    switch (e) {
    case MaildropError::in_use: return Pop3Error::in_use;
    case MaildropError::vanished: return Pop3Error::vanished;
    case MaildropError::temporary: return Pop3Error::temporary;
    case MaildropError::permanent: return Pop3Error::permanent;
    }
    return Pop3Error::temporary;
}

// A password held across a store call; wiped however the call ends.
struct HeldSecret {
    std::string s;
    ~HeldSecret() { wipe(s); }
};

bool is_plaintext_mechanism(std::string_view mech) { return mech == "PLAIN" || mech == "LOGIN"; }

}  // namespace

Pop3Session::Pop3Session(Pop3Backend& backend, Pop3SessionOptions opts, const SessionLog* log)
    : backend_(backend), opts_(std::move(opts)), log_(log),
      login_guard_(opts_.auth_budget, opts_.client_ip, log, opts_.auth_failure_delay_ms),
      state_(Authorization{}) {}

Pop3Session::~Pop3Session() {
    wipe(check_.password);
    for (auto& l : queued_) wipe(l);
}

bool Pop3Session::authenticated() const { return std::holds_alternative<Transaction>(state_); }

const std::string& Pop3Session::user() const {
    static const std::string none;
    if (auto* t = std::get_if<Transaction>(&state_)) return t->user;
    return none;
}

// --- output ---------------------------------------------------------------------------------

void Pop3Session::ok(std::string_view text) {
    out_.append("+OK");
    if (!text.empty()) out_.append(" ").append(text);
    out_.append("\r\n");
}

void Pop3Session::err(std::string_view text) { out_.append("-ERR ").append(text).append("\r\n"); }

void Pop3Session::bad_command(std::string_view text) {
    if (++bad_commands_ >= opts_.max_bad_commands) {
        err(std::string(text) + "; too many bad commands, closing connection");
        if (log_) log_->info("closing: %u bad commands", bad_commands_);
        close_session();
        return;
    }
    err(text);
}

std::string Pop3Session::take_output() { return std::exchange(out_, {}); }

void Pop3Session::close_session() {
    state_ = Closed{};  // releases the maildrop (and its lock) without UPDATE
    wait_ = Pop3Wait::closed;
    wipe(check_.password);
    for (auto& l : queued_) wipe(l);
    queued_.clear();
}

// --- events ---------------------------------------------------------------------------------

void Pop3Session::start() {
    // No "<pid.time@host>" timestamp: that would advertise APOP (RFC 1939 7).
    ok("Postern POP3 server ready");
}

void Pop3Session::on_line(std::string_view line) {
    if (wait_ == Pop3Wait::closed || wait_ == Pop3Wait::tls) return;  // tls: plaintext after STLS
    if (queued_.size() >= opts_.max_queued_lines) {
        err("Too many pipelined commands, closing connection");
        close_session();
        return;
    }
    queued_.emplace_back(line);
    run();
}

void Pop3Session::on_line_too_long() {
    // An empty queued entry cannot be told from an empty line, so a marker
    // that no line can contain (a line never holds LF) stands for "too long".
    on_line("\n");
}

void Pop3Session::run() {
    if (running_) return;  // re-entered from a handler: the outer loop continues
    running_ = true;
    while (wait_ == Pop3Wait::input && !queued_.empty()) {
        // Copied, not moved: a moved short string leaves its bytes in the one it came
        // from (small-string buffer), which would be freed unwiped.
        std::string line = queued_.front();
        wipe(queued_.front());
        queued_.pop_front();
        dispatch(line);
        wipe(line);  // may hold a password or SASL response
    }
    if (shutting_down_ && wait_ == Pop3Wait::input) {
        err(error_text(Pop3Error::shutting_down));
        close_session();
    }
    running_ = false;
}

void Pop3Session::output_drained() {
    if (wait_ != Pop3Wait::output) return;
    pump();
    run();
}

void Pop3Session::timer_fired() {
    if (wait_ != Pop3Wait::timer) return;
    out_.append(delayed_);
    delayed_.clear();
    if (close_after_delay_) {
        close_session();
        return;
    }
    wait_ = Pop3Wait::input;
    run();
}

void Pop3Session::tls_started() {
    if (wait_ != Pop3Wait::tls) return;
    opts_.tls_active = true;
    // RFC 2595 4: forget everything learnt before TLS (e.g. a USER argument).
    state_ = Authorization{};
    wait_ = Pop3Wait::input;
    run();
}

void Pop3Session::idle_timeout() {
    if (wait_ == Pop3Wait::closed) return;
    if (log_) log_->info("idle timeout");
    // Mid-transfer an -ERR would corrupt the multi-line response: just close.
    if (wait_ != Pop3Wait::output) err("Autologout: idle for too long");
    close_session();
}

void Pop3Session::shutdown() {
    if (wait_ == Pop3Wait::closed) return;
    shutting_down_ = true;
    if (wait_ == Pop3Wait::input || wait_ == Pop3Wait::timer || wait_ == Pop3Wait::tls) {
        if (wait_ != Pop3Wait::tls) err(error_text(Pop3Error::shutting_down));
        close_session();
    }
    // Streaming or a password check under way: run() closes once it is done.
}

void Pop3Session::connection_lost() {
    if (wait_ == Pop3Wait::closed && std::holds_alternative<Closed>(state_)) return;
    if (auto* t = std::get_if<Transaction>(&state_); t && log_) {
        size_t marked = 0;
        for (bool d : t->deleted) marked += d;
        if (marked) log_->info("connection lost: %zu deletions not committed", marked);
    }
    close_session();
}

// --- dispatch -------------------------------------------------------------------------------

void Pop3Session::dispatch(std::string_view line) {
    bool too_long = line == "\n";
    if (auto* a = std::get_if<Authorization>(&state_); a && a->sasl) {
        if (too_long) {
            // Nothing of an over-long response is verified (RFC 5034 4 as RFC 4954 4).
            a->sasl.reset();
            bad_command("Authentication exchange line is too long, authentication aborted");
            return;
        }
        sasl_line(line);
        return;
    }
    if (too_long) {
        bad_command(pop3_parse_error_text(Pop3ParseError::too_long));
        return;
    }
    auto cmd = parse_pop3_command(line);
    if (!cmd) {
        bad_command(pop3_parse_error_text(cmd.error()));
        return;
    }
    const CommandSpec* spec = find_spec(cmd->verb);
    uint8_t now = std::holds_alternative<Authorization>(state_) ? in_authorization : in_transaction;
    if (!spec || !(spec->states & now)) {
        bad_command(now == in_authorization ? "Not logged in: use USER and PASS, or AUTH"
                                            : "Command not valid in TRANSACTION state");
        return;
    }
    handle(*cmd);
    wipe(cmd->arg);
    wipe(cmd->arg2);
}

void Pop3Session::handle(const Pop3Command& c) {
    auto* t = std::get_if<Transaction>(&state_);
    switch (c.verb) {
    case Pop3Verb::capa: return cmd_capa();
    case Pop3Verb::stls: return cmd_stls();
    case Pop3Verb::user: return cmd_user(c);
    case Pop3Verb::pass: return cmd_pass(c);
    case Pop3Verb::auth: return cmd_auth(c);
    case Pop3Verb::apop:
        // The store keeps only password hashes; APOP needs the plaintext secret.
        return err("APOP is not supported: use USER/PASS or AUTH over TLS");
    case Pop3Verb::quit: return cmd_quit();
    case Pop3Verb::stat: return cmd_stat(*t);
    case Pop3Verb::list: return cmd_list(*t, c);
    case Pop3Verb::uidl: return cmd_uidl(*t, c);
    case Pop3Verb::retr:
    case Pop3Verb::top: return cmd_retr_top(*t, c);
    case Pop3Verb::dele: return cmd_dele(*t, c);
    case Pop3Verb::rset: return cmd_rset(*t);
    case Pop3Verb::noop: return ok("");
    }
}

// --- AUTHORIZATION --------------------------------------------------------------------------

void Pop3Session::cmd_capa() {
    bool authz = std::holds_alternative<Authorization>(state_);
    out_.append("+OK Capability list follows\r\n");
    out_.append("TOP\r\n");
    if (plaintext_allowed()) out_.append("USER\r\n");
    out_.append("UIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
    // Mail stays until the client deletes it (RFC 2449 6.7).
    out_.append("EXPIRE NEVER\r\n");
    auto mechs = sasl_mechanisms(opts_.tls_active,
                                 SaslPolicy{.allow_plaintext = opts_.plaintext_without_tls});
    if (!mechs.empty()) {
        out_.append("SASL");
        for (auto m : mechs) out_.append(" ").append(m);
        out_.append("\r\n");
    }
    if (authz && opts_.tls_available && !opts_.tls_active) out_.append("STLS\r\n");
    out_.append("IMPLEMENTATION Postern\r\n.\r\n");
}

void Pop3Session::cmd_stls() {
    if (opts_.tls_active) return bad_command("Already using TLS");
    if (!opts_.tls_available) return bad_command("STLS not available");
    ok("Begin TLS negotiation");
    wait_ = Pop3Wait::tls;
    // Anything pipelined after STLS was sent in plaintext: never run it.
    for (auto& l : queued_) wipe(l);
    queued_.clear();
}

void Pop3Session::cmd_user(const Pop3Command& c) {
    auto& a = std::get<Authorization>(state_);
    if (!plaintext_allowed()) return bad_command(error_text(Pop3Error::plaintext_refused));
    a.user = c.arg;
    a.have_user = true;
    ok("Send your password");
}

void Pop3Session::cmd_pass(const Pop3Command& c) {
    auto& a = std::get<Authorization>(state_);
    if (!plaintext_allowed()) return bad_command(error_text(Pop3Error::plaintext_refused));
    if (!a.have_user) return bad_command("Send USER first");
    std::string login = std::move(a.user);
    a.user.clear();
    a.have_user = false;

    const SaslCallbacks& cb = backend_.sasl_callbacks();
    if (!cb.resolve_login || !cb.verify_password) return err(error_text(Pop3Error::auth_temporary));
    // The login lookup reads the accounts database: off the loop with defer_store.
    auto user = std::make_shared<std::expected<std::string, SaslLookupError>>(
        std::unexpected(SaslLookupError::temporary));
    auto password = std::make_shared<HeldSecret>();
    password->s = c.arg;  // no temporary: it would leave a copy on the stack
    store_call(
        [resolve = cb.resolve_login, login, user] { *user = resolve(login); },
        [this, login, user, password] { pass_resolved(login, std::move(*user), password->s); });
}

void Pop3Session::pass_resolved(const std::string& login,
                                std::expected<std::string, SaslLookupError> user,
                                const std::string& password) {
    const SaslCallbacks& cb = backend_.sasl_callbacks();
    if (!user && user.error() == SaslLookupError::temporary)
        return err(error_text(Pop3Error::auth_temporary));
    // Too many failures from this address or for this login: refuse without checking.
    if (!login_guard_.admit(user ? *user : login, login, "USER"))
        return auth_failed(login_guard_.refusal_delay_ms(), true);
    if (opts_.defer_password_check) {
        // The daemon verifies off the event loop; pipelined lines wait meanwhile.
        check_ = Pop3PasswordRequest{login, user ? *user : login, password, bool(user)};
        wait_ = Pop3Wait::password;
        return;
    }
    // Unknown users still cost one password check (no enumeration by timing).
    PasswordCheck check = cb.verify_password(user ? *user : login, password);
    pass_result(login, user ? &*user : nullptr, check);
}

void Pop3Session::password_checked(PasswordCheck result) {
    if (wait_ != Pop3Wait::password) return;  // closed meanwhile
    Pop3PasswordRequest req = check_;         // a copy: a moved short password stays behind
    wipe(check_.password);
    check_ = {};
    wipe(req.password);
    wait_ = Pop3Wait::input;
    pass_result(req.login, req.known_user ? &req.user : nullptr, result);
    run();
}

void Pop3Session::store_call(std::function<void()> work, std::function<void()> then) {
    if (!opts_.defer_store) {
        work();
        then();
        return;
    }
    store_work_ = std::move(work);
    store_then_ = std::move(then);
    wait_ = Pop3Wait::store;
}

void Pop3Session::store_done() {
    if (wait_ != Pop3Wait::store) return;  // closed meanwhile
    wait_ = Pop3Wait::input;
    store_work_ = nullptr;
    auto then = std::exchange(store_then_, {});
    if (then) then();
    run();
}

void Pop3Session::pass_result(const std::string& login, const std::string* user,
                              PasswordCheck check) {
    if (check == PasswordCheck::temporary) return err(error_text(Pop3Error::auth_temporary));
    if (!user || check != PasswordCheck::ok)
        return auth_failed(login_guard_.failed(user ? *user : login, login, "USER"));
    login_guard_.succeeded(*user);
    login_succeeded(*user, "USER/PASS");
}

void Pop3Session::cmd_auth(const Pop3Command& c) {
    auto& a = std::get<Authorization>(state_);
    SaslPolicy policy{.allow_plaintext = opts_.plaintext_without_tls};
    if (c.arg.empty()) {
        // Pre-RFC 5034 clients send a bare AUTH to list mechanisms.
        out_.append("+OK Supported mechanisms follow\r\n");
        for (auto m : sasl_mechanisms(opts_.tls_active, policy)) out_.append(m).append("\r\n");
        out_.append(".\r\n");
        return;
    }
    if (!sasl_mechanism_allowed(c.arg, opts_.tls_active, policy)) {
        if (is_plaintext_mechanism(c.arg) && !plaintext_allowed())
            return bad_command(error_text(Pop3Error::plaintext_refused));
        return bad_command("Unsupported authentication mechanism");
    }
    SaslOptions sopt = backend_.sasl_options();
    sopt.defer_lookups = opts_.defer_store;  // lookups then go to the pool like store calls
    auto server = make_sasl_server(c.arg, backend_.sasl_callbacks(), sopt);
    if (!server) return bad_command("Unsupported authentication mechanism");
    // The budget is asked once the login is known, before any password is checked.
    server->set_admission([this, s = server.get()](std::string_view account) {
        return login_guard_.admit(account, s->login_name(), s->mechanism());
    });
    a.user.clear();
    a.have_user = false;
    a.sasl = std::move(server);
    sasl_result(a.sasl->start(c.has_arg2 ? std::optional<std::string_view>(c.arg2) : std::nullopt));
}

void Pop3Session::sasl_line(std::string_view line) {
    auto& a = std::get<Authorization>(state_);
    sasl_result(a.sasl->step(line));
}

void Pop3Session::sasl_result(SaslStep step) {
    auto& a = std::get<Authorization>(state_);
    if (auto* p = std::get_if<SaslPending>(&step)) {
        store_call(std::move(p->work), [this] {
            auto* az = std::get_if<Authorization>(&state_);
            if (az && az->sasl) sasl_result(az->sasl->resume());
        });
        return;
    }
    if (auto* ch = std::get_if<SaslChallenge>(&step)) {
        out_.append("+ ").append(ch->base64).append("\r\n");
        return;
    }
    std::string mech(a.sasl->mechanism());
    std::string login = a.sasl->login_name();
    std::string account = a.sasl->account();
    a.sasl.reset();
    if (auto* ok = std::get_if<SaslSuccess>(&step)) {
        login_guard_.succeeded(ok->user);
        login_succeeded(ok->user, "AUTH " + mech);
        return;
    }
    switch (std::get<SaslFailed>(step).reason) {
    case SaslFailure::cancelled: return err("Authentication cancelled");
    case SaslFailure::malformed:
        return bad_command("Malformed SASL response, authentication aborted");
    case SaslFailure::too_long:
        return bad_command("Authentication exchange line is too long, authentication aborted");
    case SaslFailure::temp_failure: return err(error_text(Pop3Error::auth_temporary));
    case SaslFailure::refused: return auth_failed(login_guard_.refusal_delay_ms(), true);
    case SaslFailure::bad_credentials:
        return auth_failed(login_guard_.failed(account, login, mech));
    }
}

void Pop3Session::auth_failed(uint32_t delay_ms, bool refused) {
    ++auth_failures_;
    close_after_delay_ = auth_failures_ >= opts_.max_auth_failures;
    Pop3Error e =
        refused ? (close_after_delay_ ? Pop3Error::auth_refused_closing : Pop3Error::auth_refused)
                : (close_after_delay_ ? Pop3Error::auth_failed_closing : Pop3Error::auth_failed);
    delayed_ = "-ERR ";
    delayed_.append(error_text(e));
    delayed_.append("\r\n");
    // The reply waits: a password guesser gets at most one try per delay.
    wait_ = Pop3Wait::timer;
    timer_ms_ = delay_ms;
}

void Pop3Session::login_succeeded(const std::string& user, std::string_view how) {
    // The backend outlives the session and any work in flight (Pop3Backend).
    auto result = std::make_shared<std::expected<std::unique_ptr<Maildrop>, MaildropError>>(
        std::unexpected(MaildropError::temporary));
    store_call(
        [b = &backend_, user, result] { *result = b->open_maildrop(user); },
        [this, user, how = std::string(how), result] { opened(user, how, std::move(*result)); });
}

void Pop3Session::opened(const std::string& user, const std::string& how,
                         std::expected<std::unique_ptr<Maildrop>, MaildropError> drop) {
    if (!drop) {
        if (log_)
            log_->info("login %s by %s, maildrop not opened: %s", user.c_str(), how.c_str(),
                       std::string(error_text(from_maildrop(drop.error()))).c_str());
        return err(error_text(from_maildrop(drop.error())));
    }
    Transaction t;
    t.user = user;
    t.drop = std::move(*drop);
    t.deleted.assign(t.drop->messages().size(), false);
    uint64_t octets = 0;
    for (const auto& m : t.drop->messages()) octets += m.size;
    size_t count = t.deleted.size();
    state_ = std::move(t);
    if (log_)
        log_->info("login %s by %s%s: %zu messages, %llu octets", user.c_str(), how.c_str(),
                   opts_.tls_active ? " over TLS" : "", count,
                   static_cast<unsigned long long>(octets));
    ok("Logged in, " + std::to_string(count) + " messages (" + std::to_string(octets) + " octets)");
}

// --- TRANSACTION ----------------------------------------------------------------------------

const MaildropMessage* Pop3Session::message(Transaction& t, uint32_t msg) {
    const auto& msgs = t.drop->messages();
    if (msg == 0 || msg > msgs.size()) {
        err("No such message");
        return nullptr;
    }
    if (t.deleted[msg - 1]) {
        err("Message " + std::to_string(msg) + " already deleted");
        return nullptr;
    }
    return &msgs[msg - 1];
}

std::string Pop3Session::uid_string(const Transaction& t, const MaildropMessage& m) const {
    // UIDVALIDITY.UID: stable across sessions, unique per mailbox incarnation.
    return std::to_string(t.drop->uid_validity()) + "." + std::to_string(m.uid);
}

void Pop3Session::cmd_stat(Transaction& t) {
    uint64_t count = 0, octets = 0;
    const auto& msgs = t.drop->messages();
    for (size_t i = 0; i < msgs.size(); ++i) {
        if (t.deleted[i]) continue;
        ++count;
        octets += msgs[i].size;
    }
    ok(std::to_string(count) + " " + std::to_string(octets));
}

void Pop3Session::cmd_list(Transaction& t, const Pop3Command& c) {
    if (c.msg) {
        const MaildropMessage* m = message(t, c.msg);
        if (m) ok(std::to_string(c.msg) + " " + std::to_string(m->size));
        return;
    }
    uint64_t count = 0, octets = 0;
    std::string body;
    const auto& msgs = t.drop->messages();
    for (size_t i = 0; i < msgs.size(); ++i) {
        if (t.deleted[i]) continue;
        ++count;
        octets += msgs[i].size;
        body.append(std::to_string(i + 1)).append(" ").append(std::to_string(msgs[i].size));
        body.append("\r\n");
    }
    ok(std::to_string(count) + " messages (" + std::to_string(octets) + " octets)");
    out_.append(body).append(".\r\n");
}

void Pop3Session::cmd_uidl(Transaction& t, const Pop3Command& c) {
    if (c.msg) {
        const MaildropMessage* m = message(t, c.msg);
        if (m) ok(std::to_string(c.msg) + " " + uid_string(t, *m));
        return;
    }
    ok("");
    const auto& msgs = t.drop->messages();
    for (size_t i = 0; i < msgs.size(); ++i) {
        if (t.deleted[i]) continue;
        out_.append(std::to_string(i + 1)).append(" ").append(uid_string(t, msgs[i]));
        out_.append("\r\n");
    }
    out_.append(".\r\n");
}

void Pop3Session::cmd_retr_top(Transaction& t, const Pop3Command& c) {
    const MaildropMessage* m = message(t, c.msg);
    if (!m) return;
    auto result = std::make_shared<std::expected<std::unique_ptr<MessageStream>, MaildropError>>(
        std::unexpected(MaildropError::temporary));
    bool retr = c.verb == Pop3Verb::retr;
    std::optional<uint64_t> lines = retr ? std::nullopt : std::optional(c.lines);
    store_call([drop = t.drop, uid = m->uid, result] { *result = drop->open(uid); },
               [this, msg = c.msg, retr, lines, result] {
                   retr_opened(msg, retr, lines, std::move(*result));
               });
}

void Pop3Session::retr_opened(uint32_t msg, bool retr, std::optional<uint64_t> lines,
                              std::expected<std::unique_ptr<MessageStream>, MaildropError> stream) {
    auto* tp = std::get_if<Transaction>(&state_);
    if (!tp) return;
    Transaction& t = *tp;
    const MaildropMessage* m = &t.drop->messages()[msg - 1];
    if (!stream) {
        if (log_)
            log_->info("message %u (uid %u): %s", msg, m->uid,
                       std::string(error_text(from_maildrop(stream.error()))).c_str());
        return err(error_text(from_maildrop(stream.error())));
    }
    if (retr) {
        // Only noted: the \Seen flags of the session are committed at QUIT (Maildrop).
        if (auto r = t.drop->mark_seen(m->uid); !r && log_)
            log_->warning("uid %u: cannot set \\Seen", m->uid);
        ok(std::to_string(m->size) + " octets");
    } else {
        ok("Top of message follows");
    }
    t.transfer = std::make_unique<Transfer>(Transfer{std::move(*stream), Pop3DotStuffer(lines)});
    wait_ = Pop3Wait::output;
    pump();
}

// Sends up to about chunk_size more octets of the message being transferred.
void Pop3Session::pump() {
    auto* t = std::get_if<Transaction>(&state_);
    if (!t || !t->transfer) return;
    Transfer& x = *t->transfer;
    if (buf_.size() != opts_.chunk_size) buf_.resize(opts_.chunk_size ? opts_.chunk_size : 1);
    size_t start = out_.size();
    while (out_.size() - start < buf_.size()) {
        auto n = x.stream->read(std::span<char>(buf_.data(), buf_.size()));
        if (!n) {
            // The +OK is gone already: the only honest end is to drop the connection.
            if (log_) log_->error("read error during RETR/TOP of %s, closing", t->user.c_str());
            close_session();
            return;
        }
        if (*n > 0) x.stuffer.feed(std::string_view(buf_.data(), *n), out_);
        if (*n == 0 || x.stuffer.done()) {
            x.stuffer.finish(out_);
            t->transfer.reset();
            wait_ = Pop3Wait::input;
            return;
        }
    }
}

void Pop3Session::cmd_dele(Transaction& t, const Pop3Command& c) {
    if (!message(t, c.msg)) return;
    t.deleted[c.msg - 1] = true;
    ok("Message " + std::to_string(c.msg) + " deleted");
}

void Pop3Session::cmd_rset(Transaction& t) {
    t.deleted.assign(t.deleted.size(), false);
    uint64_t octets = 0;
    for (const auto& m : t.drop->messages()) octets += m.size;
    ok("Maildrop has " + std::to_string(t.deleted.size()) + " messages (" + std::to_string(octets) +
       " octets)");
}

void Pop3Session::cmd_quit() {
    auto* t = std::get_if<Transaction>(&state_);
    if (!t) {
        ok(opts_.hostname + " POP3 server signing off");
        close_session();
        return;
    }
    // UPDATE state (RFC 1939 6).
    std::vector<uint32_t> uids;
    const auto& msgs = t->drop->messages();
    for (size_t i = 0; i < msgs.size(); ++i)
        if (t->deleted[i]) uids.push_back(msgs[i].uid);
    size_t left = msgs.size() - uids.size();
    size_t deleted = uids.size();
    // Always called, also with nothing to delete: it commits the session's \Seen flags.
    auto result = std::make_shared<std::expected<void, MaildropError>>();
    store_call([drop = t->drop, uids = std::move(uids), result] { *result = drop->expunge(uids); },
               [this, deleted, left, result] { updated(deleted, left, *result); });
}

void Pop3Session::updated(size_t deleted, size_t left, std::expected<void, MaildropError> r) {
    auto* t = std::get_if<Transaction>(&state_);
    if (!t) return;
    if (!r) {
        if (log_) {
            if (deleted)
                log_->error("%s: expunge of %zu messages failed", t->user.c_str(), deleted);
            else
                log_->warning("%s: \\Seen flags not saved", t->user.c_str());
        }
        if (deleted) {
            err(error_text(Pop3Error::expunge_failed));
            close_session();
            return;
        }
    }
    if (log_) log_->info("logout %s: %zu deleted, %zu left", t->user.c_str(), deleted, left);
    ok(opts_.hostname + " POP3 server signing off (" + std::to_string(left) + " messages left)");
    close_session();
}

}  // namespace postern
