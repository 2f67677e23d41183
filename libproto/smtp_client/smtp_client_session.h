#pragma once
// The SMTP client engine (RFC 5321, with the extensions of RFC 2920, 3207, 1870, 6152, 6531,
// 3461, 3030, 4954, 2034): a pure state machine. The driver (spoold's SmtpTransport) feeds
// it the server's reply lines, the TLS handshake's outcome and the message bytes, and
// writes what take_output() gives; it does what want() says. No sockets, no clock: the
// driver runs a timer of timeout_ms() and calls on_timeout() when it fires.
//
//   greeting -> EHLO (HELO on a 5xx) -> STARTTLS when offered and allowed -> (handshake:
//   want tls) -> EHLO -> AUTH PLAIN/LOGIN with credentials -> ready (want transaction)
//   begin(t): [RSET] MAIL FROM -> RCPT TO each -> DATA + body | BDAT chunks -> results
//   (want results) -> ready again (the next transaction on the same connection) -> quit().
//
// With PIPELINING, MAIL, every RCPT and DATA go in one group (RFC 2920 3.1). Each recipient
// gets its own result: a 4xx to its RCPT defers it, a 5xx fails it, the reply to the end
// of the data applies to every accepted recipient. A failure of the session itself
// (greeting refused, TLS required but missing, timeout, connection lost, 421, garbage)
// ends in want closed with failure() set; recipients without an answer of their own are
// then deferred with that failure.
//
// What is refused before anything is sent (each recipient fails with a local reply):
// a message larger than the server's SIZE (552 5.3.4); an 8-bit body (BODY=8BITMIME) to a
// server without 8BITMIME, or BINARYMIME without BINARYMIME+CHUNKING: 554 5.6.3, a bounce,
// not a deferral, because we do not downgrade to 7 bit (RFC 6152 3 lets the client choose
// between conversion and a non-delivery report) and the server's extensions do not change
// between retries; SMTPUTF8 needed but not offered: 553 5.6.7 (RFC 6531 3.2); REQUIRETLS
// asked for, outside TLS or to a server that does not offer it: 550 5.7.30 (RFC 8689 5).

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/smtp_client/smtp_client_caps.h"
#include "libproto/smtp_client/smtp_client_reply.h"
#include "libproto/smtp_client/smtp_dot_stuffer.h"

namespace postern {

enum class SmtpClientTls : uint8_t {
    none,           // never STARTTLS
    opportunistic,  // STARTTLS when offered; plaintext when not, or when it is refused
    required,       // STARTTLS or give up (the driver checks the certificate if it must)
};

// RFC 5321 4.5.3.2: how long to wait for each reply (milliseconds).
struct SmtpClientTimeouts {
    uint64_t greeting = 300'000;    // 4.5.3.2.1 initial 220
    uint64_t ehlo = 300'000;        // EHLO/HELO (the RFC's MAIL value)
    uint64_t starttls = 120'000;    // the 220 to STARTTLS
    uint64_t auth = 120'000;        // each AUTH step
    uint64_t mail = 300'000;        // 4.5.3.2.2
    uint64_t rcpt = 300'000;        // 4.5.3.2.3
    uint64_t data_init = 120'000;   // 4.5.3.2.4 the 354
    uint64_t data_block = 180'000;  // 4.5.3.2.5 each block of the body going out
    uint64_t data_term = 600'000;   // 4.5.3.2.6 the reply to the final "." (or BDAT)
    uint64_t rset = 120'000;        // RSET, QUIT
};

struct SmtpClientConfig {
    std::string helo_name = "localhost";  // what EHLO/HELO says
    SmtpClientTls tls = SmtpClientTls::opportunistic;
    std::optional<std::string> auth_user;  // with auth_password: AUTH PLAIN or LOGIN
    std::string auth_password;             // wiped by the session's destructor
    bool peer_is_loopback = false;         // AUTH allowed without TLS
    SmtpClientTimeouts timeouts{};
    ReplyLimits limits{};
};

// RFC 3461 NOTIFY bits (the same values as the queue's dsn_notify).
namespace smtp_notify {
inline constexpr uint8_t never = 1;
inline constexpr uint8_t success = 2;
inline constexpr uint8_t failure = 4;
inline constexpr uint8_t delay = 8;
}  // namespace smtp_notify

enum class SmtpBodyType : uint8_t { unspecified, seven_bit, eight_bit_mime, binary_mime };
enum class SmtpDsnRet : uint8_t { unspecified, full, hdrs };

struct SmtpClientRecipient {
    std::string address;  // without <>
    uint8_t notify = 0;   // smtp_notify bits; 0: none given
    std::string orcpt;    // "rfc822;bob@example.org" (not xtext-encoded), or empty
};

struct SmtpClientTransaction {
    std::string reverse_path;  // without <>; empty: the null path
    std::vector<SmtpClientRecipient> recipients;
    uint64_t size = 0;  // the message's octets as it will be sent (SIZE=)
    SmtpBodyType body = SmtpBodyType::unspecified;
    bool smtputf8 = false;
    SmtpDsnRet ret = SmtpDsnRet::unspecified;
    std::string envid;  // not xtext-encoded
    // RFC 8689: MAIL ... REQUIRETLS, only inside TLS to a server offering it. The driver
    // must also make the session require TLS with a verified certificate.
    bool requiretls = false;
};

enum class SmtpOutcome : uint8_t { delivered, deferred, failed };

struct SmtpRecipientResult {
    SmtpOutcome outcome = SmtpOutcome::deferred;
    std::string reply;         // "250 2.0.0 ok", "450 4.2.0 ...", or a local reply
    bool from_server = false;  // `reply` is what the server said (not a text of our own)
};

namespace detail {
// One transaction in flight (outside the class: clang wants its initializers complete).
struct SmtpClientTxn {
    SmtpClientTransaction t;
    std::vector<SmtpRecipientResult> results;
    std::vector<uint8_t> answered;  // the recipient has its own final result
    std::vector<uint8_t> accepted;  // 2xx to its RCPT
    size_t accepted_count = 0;
    size_t next_rcpt = 0;
    bool bdat = false;
    bool sent_mail = false;
    bool mail_failed = false;
    bool sent_data = false;  // DATA, or the first BDAT
    bool body_open = false;  // want body
    bool body_done = false;  // the last chunk went out
    bool over = false;       // results decided; waiting only for stray replies
    std::optional<ClientReply> body_failure;
    DotStuffer stuffer{true};
};
}  // namespace detail

class SmtpClientSession {
public:
    enum class Want : uint8_t {
        reply,        // write take_output(), then wait for lines (timeout_ms())
        tls,          // write take_output(), then run the handshake: on_tls_ready/failed
        transaction,  // idle and ready: begin(), reset() or quit()
        body,         // send the message with feed_body() (take_output after each)
        results,      // a transaction ended: take_results()
        closed,       // write take_output() and close; failure() says why unless quit()
    };

    explicit SmtpClientSession(SmtpClientConfig config);
    ~SmtpClientSession();
    SmtpClientSession(const SmtpClientSession&) = delete;
    SmtpClientSession& operator=(const SmtpClientSession&) = delete;

    // --- input ---
    void on_line(std::string_view line);  // one reply line without CR LF
    void on_tls_ready();                  // the handshake after STARTTLS succeeded
    void on_tls_failed(std::string_view why);
    void on_timeout();          // timeout_ms() passed without a reply
    void on_connection_lost();  // the peer closed or the socket failed

    // --- commands (only when want() == transaction) ---
    // Starts a transaction; results (one per recipient, in order) come with want results.
    void begin(SmtpClientTransaction t);
    // RSET (the check a cached connection gets before it is used again).
    void reset();
    void quit();

    // --- the message (want() == body) ---
    // Message bytes as stored, CR LF or LF line ends, in chunks split anywhere; `last` on
    // the final one (which may be empty).
    void feed_body(std::string_view chunk, bool last);

    // --- output ---
    Want want() const;
    std::string take_output();
    bool has_output() const { return !out_.empty(); }
    std::vector<SmtpRecipientResult> take_results();
    // How long to wait in the current state (0: no limit, e.g. idle).
    uint64_t timeout_ms() const;
    // Why the session ended (want closed without quit()): "421 4.4.2 ..." style.
    const std::string& failure() const { return failure_; }
    // failure() is a reply the server gave (its greeting, a 421, ...), not our own text.
    bool failure_from_server() const { return failure_from_server_; }
    // The session failed before it was ready for a transaction (greeting, EHLO, TLS, AUTH):
    // the host, not a message, is the problem.
    bool failed_in_setup() const { return failed_in_setup_; }

    const EhloCapabilities& capabilities() const { return caps_; }
    bool tls_active() const { return tls_active_; }
    bool authenticated() const { return authenticated_; }
    bool using_chunking() const { return txn_ && txn_->bdat; }
    uint64_t transactions() const { return transactions_; }

private:
    enum class Cmd : uint8_t {
        greeting,
        ehlo,
        helo,
        starttls,
        auth_plain,
        auth_login,
        auth_user,
        auth_pass,
        rset,
        mail,
        rcpt,
        data,
        dot,
        lone_dot,
        bdat,
        bdat_last,
        quit,
    };
    struct Pending {
        Cmd cmd;
        uint32_t index = 0;  // rcpt: which recipient
    };
    using Txn = detail::SmtpClientTxn;

    void send(std::string_view line, Cmd cmd, uint32_t index = 0);
    void handle(const ClientReply& r);
    void after_ehlo();
    void start_auth();
    void ready();
    void advance();
    void finish_txn();
    void txn_reply(const Pending& p, const ClientReply& r);
    void apply_to_accepted(SmtpOutcome o, const std::string& reply);
    void fatal(std::string reply, bool from_server = false);
    void refuse_all(const std::string& reply);
    const char* waiting_for() const;

    SmtpClientConfig cfg_;
    ReplyReader reader_;
    EhloCapabilities caps_;
    std::deque<Pending> pending_;
    std::string out_;
    std::optional<Txn> txn_;
    std::vector<SmtpRecipientResult> results_;
    std::string failure_;
    Want state_ = Want::reply;
    bool results_ready_ = false;
    bool tls_active_ = false;
    bool authenticated_ = false;
    bool dirty_ = false;  // a transaction was left unfinished on the server: RSET first
    bool quitting_ = false;
    bool failed_in_setup_ = false;
    bool failure_from_server_ = false;
    bool setup_done_ = false;
    uint64_t transactions_ = 0;
};

// "+HH" for the bytes xtext (RFC 3461 4) must encode: outside '!'..'~', '+' and '='.
std::string xtext_encode(std::string_view s);

}  // namespace postern
