#pragma once
// The IMAP session (RFC 3501 / 9051): a state machine over ImapParser that talks to the
// outside through ImapTransport (bytes, reading on/off, TLS, a timer) and ImapBackend (the
// store, credential lookups, run_blocking for every store call, post for folder watches).
// It never blocks: each store call runs through run_blocking and the command continues
// from the callback; meanwhile the session reads no further command (pipelined input is
// kept), except the one line IDLE (DONE) or AUTHENTICATE (a SASL response) waits for.
//
// States (std::variant, each with only what it has): NotAuthenticated{SASL exchange} ->
// Authenticated{user} -> Selected{user, mailbox handle, read-only, saved search} ->
// LoggedOut. There is no null mailbox: a command that needs one is only dispatched in
// Selected (the command table's state bits, checked in begin() alone).
//
// Untagged updates (selected_view.h): the snapshot moves on only in refresh(), run at the
// end of every command that does not use sequence numbers (uses_sequence_numbers() of the
// command table: so never during FETCH / STORE / SEARCH / COPY by sequence number), and
// during IDLE when the folder watch fires. EXPUNGE / VANISHED, EXISTS and FETCH FLAGS go
// out just before the tagged reply.
//
// How to add a command (FETCH, STORE, SEARCH, COPY, MOVE, APPEND, ...):
//   1. imapd/cmd_fetch.cc with `void cmd_fetch(ImapSession& s, ImapCommand& c)`; take the
//      arguments with std::get<ImapFetch>(c.args) (the parser made them; the state was
//      checked: a Selected-only command may std::get<Selected>(s.state())).
//   2. one row in imap_commands.cc's table (and the declaration in imap_commands.h).
//   Inside: resolve sequence sets with resolve_message_set (message_set.h) over
//   sel.box->messages(); write untagged lines into s.out(); run store calls with
//   s.blocking(work, then) (work on the pool: capture sel.box (a shared_ptr) and values,
//   never `s`; `then` runs on the loop and may touch `s`); end with exactly one
//   s.finish(...) (or s.finish(store_error_reply(e))). A long response streams: write a
//   batch, and when s.output_full() return s.wait_for_drain(continue_fn); the session then
//   calls continue_fn once the client has read enough. Set the command table flags right
//   (uses_seqs, may_expunge): they decide when updates may be sent.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "imapd/imap_backend.h"
#include "imapd/imap_errors.h"
#include "imapd/imap_transport.h"
#include "libproto/auth/login_guard.h"
#include "libproto/core/log.h"
#include "libproto/imap/imap_parser.h"
#include "libproto/sasl/sasl.h"

namespace postern {

struct ImapSessionOptions {
    std::string hostname = "localhost";
    // LOGIN and AUTHENTICATE PLAIN/LOGIN without TLS (imapd.allow_plaintext_auth).
    bool plaintext_auth = false;
    uint32_t max_auth_failures = 3;         // then * BYE
    uint32_t auth_failure_delay_ms = 2000;  // without a budget
    AuthBudget* auth_budget = nullptr;      // process-wide failed-login budget (may be null)
    std::string client_ip;
    uint32_t max_bad_commands = 20;       // then * BYE
    uint64_t append_limit = 64ull << 20;  // APPENDLIMIT / STATUS APPENDLIMIT
    ImapParserLimits limits{};
};

struct NotAuthenticated {
    std::unique_ptr<SaslServer> sasl;  // an AUTHENTICATE exchange in progress
    uint32_t auth_failures = 0;
};
struct Authenticated {
    std::string user;  // canonical user@domain
};
struct Selected {
    std::string user;
    std::string folder;                          // the store's name
    std::shared_ptr<Mailbox> box;                // shared with store work in flight
    bool read_only = false;                      // EXAMINE
    std::optional<std::vector<uint32_t>> saved;  // SEARCH RETURN (SAVE) result, "$"
};
struct LoggedOut {};
using ImapState = std::variant<NotAuthenticated, Authenticated, Selected, LoggedOut>;

// ENABLE (RFC 5161) and SELECT (CONDSTORE) switch these on for the session.
struct ImapEnabled {
    bool condstore = false;
    bool qresync = false;
    bool imap4rev2 = false;
    bool utf8_accept = false;
};

class ImapSession;
class ImapAppend;  // cmd_append.h
using ImapCommandHandler = void (*)(ImapSession&, ImapCommand&);

class ImapSession {
public:
    ImapSession(ImapBackend& backend, ImapTransport& transport, ImapSessionOptions opts,
                const SessionLog* log = nullptr);
    ~ImapSession();
    ImapSession(const ImapSession&) = delete;
    ImapSession& operator=(const ImapSession&) = delete;

    // --- the driver (imap_connection.cc, tests) ---
    void start();                         // the greeting
    void on_input(std::string_view raw);  // bytes from the client (copied when kept)
    void on_drain();                      // the transport's output went below its mark
    void on_tls_ready();                  // STARTTLS handshake done
    void timer_fired();
    void idle_timeout();  // autologout: * BYE, close
    void shutdown();      // the daemon stops: * BYE, close
    bool closed() const { return closed_; }

    // --- for commands (cmd_*.cc) ---
    ImapState& state() { return state_; }
    void set_state(ImapState s) { state_ = std::move(s); }
    // The authenticated user, or null before login.
    const std::string* user() const;
    ImapEnabled& enabled() { return enabled_; }
    const ImapSessionOptions& options() const { return opts_; }
    ImapBackend& backend() { return backend_; }
    ImapParser& parser() { return parser_; }
    const SessionLog* log() const { return log_; }
    LoginGuard& login_guard() { return login_guard_; }
    bool tls_active() const { return transport_.is_tls(); }
    bool tls_available() const { return transport_.tls_available(); }
    bool plaintext_auth_allowed() const { return tls_active() || opts_.plaintext_auth; }
    // The store-name form of a client's mailbox name (mailbox_name.h, with UTF8=ACCEPT).
    std::optional<std::string> store_name(std::string_view client) const;
    std::string client_name(std::string_view stored) const;
    // Why store_name(client) failed: BAD for invalid UTF-8, else NO [CANNOT].
    static ImapReply invalid_name_reply(std::string_view client);

    // Response bytes (untagged lines with their CR LF); written out when the session yields.
    std::string& out() { return out_; }
    // The tagged reply; ends the command. OK replies of commands that may announce
    // expunges first refresh the selected mailbox and send its updates.
    void finish(ImapResult status, std::string_view text, ImapCode code = ImapCode::none);
    void finish(const ImapReply& r) { finish(r.status, r.text, r.code); }
    // Like finish, but with a code that has arguments: "[" code_text "] " before text.
    void finish_with_code(ImapResult status, std::string_view code_text, std::string_view text);
    // The command's tagged reply must not trigger a refresh (SELECT: the snapshot is new).
    void skip_refresh() { skip_refresh_ = true; }
    // Blocking work off the loop, then `then` here (not called if the session is gone or
    // closed). One at a time.
    void blocking(std::function<void()> work, std::function<void()> then);
    // Output is above the transport's mark: stop producing and call wait_for_drain.
    bool output_full();
    // Runs `cont` once the output has drained below the mark.
    void wait_for_drain(std::function<void()> cont);
    // The next line is not a command but for this command (IDLE's DONE, a SASL response):
    // `on_line` gets the ImapIdleDone / ImapSaslResponse / ImapSaslCancel / ImapBad event.
    // Set the parser's mode (expect_done, expect_sasl_response) first.
    void await_line(std::function<void(ImapEvent&)> on_line);
    // While IDLE waits: the folder watch fired (from post()): refresh and send the updates.
    void set_change_handler(std::function<void()> fn) { on_change_ = std::move(fn); }
    std::function<void()> folder_change_notifier();  // thread-safe; for store watches
    // Refreshes the selected mailbox and writes its updates, then `then` (IDLE, NOOP).
    void refresh_selected(std::function<void()> then);
    // Holds the tagged reply `r` for `ms` (failed logins), then sends it; with `close` the
    // session ends after it.
    void delayed_finish(uint32_t ms, const ImapReply& r, bool close);
    // Writes the output and closes (LOGOUT, too many failures).
    void close();
    // A command that stopped the input for its own reasons (APPEND's spool, waiting() in
    // cmd_append.h) may go on: reads and parses again.
    void resume_input() { pump(); }
    // STARTTLS: after the OK, the transport starts TLS and pipelined plaintext is dropped.
    void start_tls();
    // COMPRESS: after the OK, the transport compresses; input already parsed past the
    // command goes back to it to be inflated.
    void start_compression();
    bool compression_active() const { return transport_.compression_active(); }
    // Capabilities for the current state and connection (cmd_capability.cc).
    std::string capabilities() const;

private:
    void pump();
    void handle(ImapEvent& ev);
    void begin(ImapCommand& cmd);
    void bad_input(const ImapBad& b);
    // A BAD answered: after max_bad_commands of them, * BYE and close.
    void count_bad_command();
    void write_tagged(std::string_view tag, ImapResult status, std::string_view code_text,
                      std::string_view text);
    // Why the command may not run now (state, TLS, no handler), or nothing.
    std::optional<ImapReply> gate(ImapCommandId id, bool needs_handler) const;
    void begin_append(const ImapAppendBegin& b);  // cmd_append.h takes it from there
    void end_command();
    void flush_output();
    bool busy() const;

    ImapBackend& backend_;
    ImapTransport& transport_;
    ImapSessionOptions opts_;
    const SessionLog* log_;
    LoginGuard login_guard_;
    ImapParser parser_;
    ImapState state_;
    ImapEnabled enabled_;
    std::string out_;
    std::optional<ImapCommand> current_;
    std::unique_ptr<ImapAppend> append_;  // the APPEND in progress
    // Finished ones, destroyed from a clean stack (a post): their code may be running.
    std::vector<std::unique_ptr<ImapAppend>> retired_;
    std::function<void(ImapEvent&)> on_line_;
    std::function<void()> on_change_;
    std::function<void()> drain_cont_;
    std::string delayed_;  // the tagged reply held by delayed_finish
    std::shared_ptr<char> alive_ = std::make_shared<char>(0);  // callbacks check it
    uint32_t bad_commands_ = 0;
    bool blocking_ = false;
    bool timer_wait_ = false;
    bool close_after_delay_ = false;
    bool change_pending_ = false;
    bool skip_refresh_ = false;
    bool pumping_ = false;
    bool again_ = false;
    bool closed_ = false;
};

}  // namespace postern
