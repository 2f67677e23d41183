#pragma once
// The POP3 protocol engine (RFC 1939, 2449, 2595, 3206, 5034): a state
// machine over lines in and bytes out. It never touches a socket, a clock or
// the disk: the daemon (pop3d/pop3_connection.cc) feeds it lines, writes what
// take_output() returns, and honours wait():
//
//   input   ready for the next line
//   output  streaming a RETR/TOP: call output_drained() when the socket has
//           room (backpressure: one chunk per call)
//   timer   failed-login delay: call timer_fired() after timer_ms()
//   tls     STLS accepted: write the output, start the TLS handshake (which
//           discards plaintext received after STLS), then tls_started()
//   closed  write the output and close the connection
//   password  (only with defer_password_check) USER/PASS waits for the daemon to
//           verify password_request() off the event loop, then password_checked()
//   store   (only with defer_store) a maildrop call (open at login, RETR/TOP open, the
//           UPDATE at QUIT) waits: run take_store_work() off the loop, then store_done()
//
// Lines that arrive while the session is not waiting for input are queued
// (PIPELINING) and run in order once it is; the daemon should pause reading
// meanwhile.
//
// States (std::variant): Authorization{pending USER, SASL exchange, failure
// count} -> Transaction{maildrop snapshot, deletion marks, transfer} ->
// Closed. QUIT in TRANSACTION is the UPDATE state: deletions are committed
// (expunged); any other end of the session deletes nothing.

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <utility>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "libproto/core/log.h"
#include "libproto/auth/login_guard.h"
#include "libproto/pop3/pop3_command.h"
#include "libproto/pop3/pop3_dotstuff.h"
#include "libproto/pop3/pop3_maildrop.h"
#include "libproto/sasl/sasl.h"

namespace postern {

// Policy and identity of one connection, decided by the daemon.
struct Pop3SessionOptions {
    std::string hostname = "localhost";
    bool tls_active = false;     // implicit TLS (POP3S) or after STLS
    bool tls_available = false;  // STLS may be offered
    // USER/PASS and SASL PLAIN/LOGIN without TLS (pop3d.allow_plaintext_auth,
    // or allow_plaintext_on_loopback on a loopback connection).
    bool plaintext_without_tls = false;
    uint32_t max_auth_failures = 3;         // then the connection is closed
    uint32_t max_bad_commands = 20;         // then the connection is closed
    uint32_t auth_failure_delay_ms = 2000;  // the -ERR waits this long (no budget)
    // Failed-login budget across sessions (process-wide, outlives the session); null:
    // none, every failure waits auth_failure_delay_ms.
    AuthBudget* auth_budget = nullptr;
    std::string client_ip;          // for the budget and the failed-login log line
    size_t chunk_size = 64 * 1024;  // RETR/TOP bytes per output_drained()
    size_t max_queued_lines = 256;  // pipelined lines held while busy
    // USER/PASS: instead of calling SaslCallbacks::verify_password inline, wait
    // (Pop3Wait::password) for the daemon to check password_request() elsewhere, e.g. on
    // a thread pool, and to call password_checked(). SASL PLAIN/LOGIN stay inline.
    bool defer_password_check = false;
    // Maildrop calls (Pop3Backend::open_maildrop, Maildrop::open, the QUIT update) are
    // handed to the daemon as Pop3Wait::store work for its thread pool instead of running
    // inline. The work owns what it touches (the backend must outlive it).
    bool defer_store = false;
};

// The password check a session waits for (Pop3Wait::password). `user` is the canonical
// user, or the login name as typed when it resolved to nobody (known_user false: the
// daemon should still spend one hash verification, so timing does not reveal users).
struct Pop3PasswordRequest {
    std::string login;  // as typed, for logs
    std::string user;
    std::string password;
    bool known_user = false;
};

// What the session asks of the daemon's world.
class Pop3Backend {
public:
    virtual ~Pop3Backend() = default;
    // Credential lookups for USER/PASS and SASL (resolve_login,
    // verify_password, scram_credentials).
    virtual const SaslCallbacks& sasl_callbacks() = 0;
    virtual SaslOptions sasl_options() { return {}; }
    // Opens the canonical user's maildrop, taking the POP3 lock (in_use when
    // another session holds it, unless the daemon allows concurrent sessions). With
    // defer_store it is called on a pool thread: it must be thread-safe.
    virtual std::expected<std::unique_ptr<Maildrop>, MaildropError> open_maildrop(
        const std::string& user) = 0;
};

enum class Pop3Wait : uint8_t { input, output, timer, tls, closed, password, store };

class Pop3Session {
public:
    Pop3Session(Pop3Backend& backend, Pop3SessionOptions opts, const SessionLog* log = nullptr);
    ~Pop3Session();
    Pop3Session(const Pop3Session&) = delete;
    Pop3Session& operator=(const Pop3Session&) = delete;

    // The greeting (no APOP timestamp: APOP is not offered, see docs/pop3.md).
    void start();
    // One complete line without CR LF.
    void on_line(std::string_view line);
    // The line reader skipped a line over its limit.
    void on_line_too_long();
    void output_drained();
    void timer_fired();
    void tls_started();
    // The idle timer (pop3d.idle_timeout_seconds) expired: autologout, no UPDATE.
    void idle_timeout();
    // The daemon is stopping: say so and close, no UPDATE.
    void shutdown();
    // The connection is gone: release the maildrop, delete nothing.
    void connection_lost();
    // Pop3Wait::password: what to verify, and the verdict.
    const Pop3PasswordRequest& password_request() const { return check_; }
    void password_checked(PasswordCheck result);
    // Pop3Wait::store: the blocking part (run it on a pool thread; it holds what it needs,
    // so it may outlive the session), then store_done() on the loop thread.
    std::function<void()> take_store_work() { return std::exchange(store_work_, {}); }
    void store_done();

    std::string take_output();
    bool has_output() const { return !out_.empty(); }
    Pop3Wait wait() const { return wait_; }
    uint32_t timer_ms() const { return timer_ms_; }

    // For logs and tests.
    bool authenticated() const;
    const std::string& user() const;
    bool plaintext_allowed() const { return opts_.tls_active || opts_.plaintext_without_tls; }

private:
    struct Authorization {
        std::string user;  // from USER, canonical form not yet known
        bool have_user = false;
        std::unique_ptr<SaslServer> sasl;  // an AUTH exchange in progress
    };
    struct Transfer {
        std::unique_ptr<MessageStream> stream;
        Pop3DotStuffer stuffer;
    };
    struct Transaction {
        std::string user;
        std::shared_ptr<Maildrop> drop;  // shared with store work in flight
        std::vector<bool> deleted;       // by message number - 1
        std::unique_ptr<Transfer> transfer;
    };
    struct Closed {};

    void run();
    void dispatch(std::string_view line);
    void handle(const Pop3Command& cmd);
    void sasl_line(std::string_view line);

    // Commands.
    void cmd_capa();
    void cmd_stls();
    void cmd_user(const Pop3Command& c);
    void cmd_pass(const Pop3Command& c);
    void cmd_auth(const Pop3Command& c);
    void cmd_quit();
    void cmd_stat(Transaction& t);
    void cmd_list(Transaction& t, const Pop3Command& c);
    void cmd_uidl(Transaction& t, const Pop3Command& c);
    void cmd_retr_top(Transaction& t, const Pop3Command& c);
    void cmd_dele(Transaction& t, const Pop3Command& c);
    void cmd_rset(Transaction& t);

    // Authentication outcome.
    void sasl_result(SaslStep step);
    void login_succeeded(const std::string& user, std::string_view how);
    // A failed or refused login: the -ERR waits delay_ms; enough of them close the session.
    void auth_failed(uint32_t delay_ms, bool refused = false);
    void pass_result(const std::string& login, const std::string* user, PasswordCheck check);
    void pass_resolved(const std::string& login, std::expected<std::string, SaslLookupError> user,
                       const std::string& password);
    // A message number valid and not deleted; otherwise writes -ERR, returns null.
    const MaildropMessage* message(Transaction& t, uint32_t msg);
    void pump();
    // Runs `work` (blocking store call) inline, or as Pop3Wait::store work with
    // defer_store; `then` continues on the loop thread.
    void store_call(std::function<void()> work, std::function<void()> then);
    void opened(const std::string& user, const std::string& how,
                std::expected<std::unique_ptr<Maildrop>, MaildropError> drop);
    void retr_opened(uint32_t msg, bool retr, std::optional<uint64_t> lines,
                     std::expected<std::unique_ptr<MessageStream>, MaildropError> stream);
    void updated(size_t deleted, size_t left, std::expected<void, MaildropError> r);

    void ok(std::string_view text);
    void err(std::string_view text);
    void bad_command(std::string_view text);
    void close_session();
    std::string uid_string(const Transaction& t, const MaildropMessage& m) const;

    Pop3Backend& backend_;
    Pop3SessionOptions opts_;
    const SessionLog* log_;
    LoginGuard login_guard_;
    std::variant<Authorization, Transaction, Closed> state_;
    std::deque<std::string> queued_;
    std::string out_;
    std::string delayed_;               // auth failure reply, released by timer_fired()
    Pop3PasswordRequest check_;         // USER/PASS awaiting password_checked()
    std::function<void()> store_work_;  // Pop3Wait::store: for the pool
    std::function<void()> store_then_;  // and what follows on the loop
    Pop3Wait wait_ = Pop3Wait::input;
    uint32_t timer_ms_ = 0;
    uint32_t auth_failures_ = 0;
    uint32_t bad_commands_ = 0;
    std::vector<char> buf_;  // transfer read buffer
    bool close_after_delay_ = false;
    bool shutting_down_ = false;
    bool running_ = false;
};

}  // namespace postern
