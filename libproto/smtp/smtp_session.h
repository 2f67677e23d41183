#pragma once
// The SMTP server protocol engine (RFC 5321 and the extensions it announces:
// PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES, STARTTLS, AUTH, SMTPUTF8,
// DSN, CHUNKING). No sockets, no clock, no store: it consumes events and talks
// to two interfaces:
//   SmtpTransport - what the connection does for it (write, start TLS, pause
//                   reading, raw byte counts, a timer, close). smtpd adapts a
//                   libproto Connection; tests use an in-memory fake.
//   SmtpHandler   - policy, implemented by smtpd: sender/recipient checks,
//                   room before DATA, the queue hand-off, SASL credentials.
//                   Every check is asynchronous: the session pauses reading
//                   until the handler's callback runs (it may run at once).
//
// Replies go out in command order; the transport sends what was written in
// one batch per loop turn, so a pipelined group is answered together.
// Callbacks arriving after the session is destroyed are ignored (weak token).

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "libproto/core/line_reader.h"
#include "libproto/core/log.h"
#include "libproto/auth/login_guard.h"
#include "libproto/sasl/sasl.h"
#include "libproto/smtp/smtp_address.h"
#include "libproto/smtp/smtp_command.h"
#include "libproto/smtp/smtp_data.h"
#include "libproto/smtp/smtp_received.h"
#include "libproto/smtp/smtp_reply.h"

namespace postern {

enum class SmtpListenerKind : uint8_t {
    mx,          // port 25: no AUTH requirement
    submission,  // port 587: AUTH required before MAIL (RFC 6409 4.3)
    smtps,       // port 465: implicit TLS submission (RFC 8314), AUTH required
};

struct SmtpSessionConfig {
    std::string hostname = "localhost";
    SmtpListenerKind kind = SmtpListenerKind::mx;
    uint64_t max_message_size = 50 * 1024 * 1024;
    uint32_t max_recipients = 100;
    uint32_t max_bad_commands = 20;
    uint32_t max_auth_failures = 3;
    uint32_t auth_failure_delay_ms = 1000;  // before a failed AUTH is answered (no budget)
    // Failed-login budget across sessions (process-wide, outlives the session); null:
    // none, every failure waits auth_failure_delay_ms.
    AuthBudget* auth_budget = nullptr;
    bool tls_available = false;  // STARTTLS can be offered
    // AUTH exists on this listener at all (smtpd decides per listener: not on the MX port
    // unless smtpd.auth_on_mx). false: not in EHLO, and AUTH answers 503 5.5.1.
    bool auth_enabled = true;
    bool allow_plaintext_auth = false;  // AUTH without TLS
    bool cram_md5 = false;
    bool vrfy = false;  // false: VRFY answers 252
    // A message (DATA, or BDAT chunks) must arrive at this rate after a grace
    // of data_grace_seconds, else 421 4.4.2 and close (Postfix's
    // smtpd_min_data_rate): the idle timer alone lets a client dribble one
    // line per timeout for ever. 0: no limit.
    uint32_t min_data_rate = 0;  // bytes per second
    uint32_t data_grace_seconds = 300;
    std::function<std::time_t()> clock;  // null: time(nullptr)
};

// Longest command line (content, without CR LF): RFC 5321 4.5.3.1.4 says 512
// with CRLF, extensions add to it; we take 1000 as the team limit. AUTH lines
// (and SASL responses) may be up to 12288 (RFC 4954 4).
inline constexpr size_t smtp_max_command_line = 998;
inline constexpr size_t smtp_max_auth_line = 12288;

// What the connection provides.
class SmtpTransport {
public:
    virtual ~SmtpTransport() = default;
    virtual void write(std::string_view bytes) = 0;
    // Flushes pending output, then closes.
    virtual void close() = 0;
    // Switches to TLS after the pending output (the 220) is sent; every byte
    // already received is discarded. Then on_tls_ready (or a close).
    virtual void start_tls() = 0;
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;
    // The next `count` bytes arrive through on_raw.
    virtual void read_raw(uint64_t count) = 0;
    // Line length limit for on_line (content bytes); longer lines -> on_line_too_long.
    virtual void set_max_line(size_t max_line) = 0;
    // DATA: longer lines come to on_line in pieces (LineEnd::none) instead of
    // on_line_too_long (LineReaderLimits::split_long_lines). Reset by set_max_line.
    virtual void set_split_lines(bool /*on*/) {}
    // One-shot timer -> on_timer. A new call replaces the previous one.
    virtual void start_timer(uint64_t ms) = 0;
    // The line just handed to on_line may have held a credential (any line but a message
    // line): zero it and every stale copy in the input buffers (LineReader::wipe_consumed).
    virtual void wipe_input() {}
};

struct SmtpClientInfo {
    std::string ip;
    uint16_t port = 0;
    bool tls = false;
    std::string tls_version;
    std::string tls_cipher;
    std::string helo;  // empty before HELO/EHLO
    bool esmtp = false;
    std::string auth_user;  // empty unless authenticated
    SmtpListenerKind kind = SmtpListenerKind::mx;
};

struct SmtpRecipient {
    std::string address;  // "local@domain" (<Postmaster>: "postmaster@<hostname>"), no brackets
    RcptParams dsn;
};

struct SmtpEnvelope {
    std::string reverse_path;  // empty: null sender
    MailParams params;
    std::vector<SmtpRecipient> recipients;
};

struct SmtpMessage {
    SmtpEnvelope envelope;
    ReceivedInfo received;  // call format_received(received, queue_id) and put it first
    std::string body;       // the message, CRLF line ends, without the Received header
    bool eight_bit = false;
};

struct SmtpDeliveryResult {
    SmtpVerdict verdict = SmtpVerdict::ok;  // ok: committed durably (fsync'd)
    std::string queue_id;
};

// One message's body on its way in (DATA or BDAT): the session appends the
// stored bytes (unstuffed, CRLF line ends) as they arrive, so no whole message
// is ever held in memory. Destroying a sink that was not committed aborts it.
class SmtpMessageSink {
public:
    virtual ~SmtpMessageSink() = default;
    // Takes body bytes. An error is remembered and reported by commit.
    virtual void append(std::string_view bytes) = 0;
    // True when buffered bytes should be written out (flush) before more come.
    virtual bool wants_flush() const { return false; }
    // Writes buffered bytes out, off the caller's thread if it likes; `done`
    // runs (maybe at once) when append may be called again. The session does
    // not read meanwhile (backpressure).
    virtual void flush(std::function<void()> done) { done(); }
    // The message is complete: make it durable, then done (ok: fsync'd). The session keeps
    // the sink until done runs and may drop it from inside done (call it last). A sink
    // dropped before that never calls done, but a commit it started still completes.
    virtual void commit(bool eight_bit, std::function<void(SmtpDeliveryResult)> done) = 0;
};

// What open_message answers: the verdict, and where the message goes when it is ok.
struct SmtpOpened {
    SmtpVerdict verdict = SmtpVerdict::temp_failure;
    std::unique_ptr<SmtpMessageSink> sink;  // set exactly when verdict is ok
};

class SmtpHandler {
public:
    using Done = std::function<void(SmtpVerdict)>;
    using OpenDone = std::function<void(SmtpOpened)>;
    virtual ~SmtpHandler() = default;
    virtual void check_mail(const SmtpClientInfo& c, const ParsedPath& from,
                            const MailParams& params, Done done) = 0;
    virtual void check_rcpt(const SmtpClientInfo& c, const ParsedPath& to, Done done) = 0;
    // Before 354 / the first BDAT chunk, in one call (one round trip for a handler that
    // works off the loop): is there room for the message, and where does it go? The
    // Received header (format_received(received, id)) goes first into the sink; the body
    // is appended after it. The default asks check_data, then collects the body in memory
    // and hands it to deliver() (test doubles); smtpd creates the queue file on its pool.
    virtual void open_message(const SmtpClientInfo& c, const SmtpEnvelope& env,
                              const ReceivedInfo& received, OpenDone done);
    // The default open_message's room check.
    virtual void check_data(const SmtpClientInfo&, const SmtpEnvelope&, Done done) {
        done(SmtpVerdict::ok);
    }
    // Must call done only once the message is durable (or failed). Only used by
    // the default open_message.
    virtual void deliver(const SmtpClientInfo&, SmtpMessage,
                         std::function<void(SmtpDeliveryResult)> done) {
        done({SmtpVerdict::temp_failure, {}});
    }
    // The SASL server for a mechanism (already checked against policy); nullptr: unknown.
    virtual std::unique_ptr<SaslServer> sasl(std::string_view mechanism) = 0;
    // SaslPending work (a server made with defer_lookups): run `work` where it may block
    // (smtpd: the thread pool), then `done` on the loop thread. `done` checks itself that
    // the session still lives. The default runs both at once.
    virtual void run_blocking(std::function<void()> work, std::function<void()> done) {
        work();
        done();
    }
};

class SmtpSession {
public:
    // `log` (may be null) carries the session id of AUTH log lines; it outlives the session.
    SmtpSession(SmtpSessionConfig config, SmtpClientInfo client, SmtpTransport& transport,
                SmtpHandler& handler, const SessionLog* log = nullptr);
    ~SmtpSession();
    SmtpSession(const SmtpSession&) = delete;
    SmtpSession& operator=(const SmtpSession&) = delete;

    // --- events ---
    void on_open();  // the greeting
    void on_line(std::string_view line, LineEnd end);
    void on_line_too_long();
    void on_raw(std::string_view bytes, bool last);
    void on_tls_ready(std::string version, std::string cipher);
    void on_timer();
    void on_idle_timeout();
    void on_shutdown();

    bool closed() const { return closed_; }
    const SmtpClientInfo& client() const { return client_; }
    uint64_t messages_accepted() const { return accepted_; }

private:
    struct Transaction {
        std::string reverse_path;
        MailParams params;
        std::vector<SmtpRecipient> recipients;
        std::optional<ChunkReader> chunks;  // BDAT started
        // The message on its way in (DATA or BDAT); dropping it aborts it.
        std::unique_ptr<SmtpMessageSink> sink;
    };
    // Input modes: what the next line / raw bytes mean.
    struct CommandMode {};
    struct DataMode {
        DataReader reader;
    };
    struct BdatMode {
        bool last = false;
        bool discard = false;  // chunk refused: read and drop it
        SmtpReply refusal;     // the reply for a discarded chunk
    };
    struct AuthMode {
        std::shared_ptr<SaslServer> sasl;  // shared with a check in flight (auth_step)
        bool pending = false;              // SaslPending work is running: input waits
    };
    struct WaitMode {};  // a handler call, the auth delay or the TLS handshake
    using Mode = std::variant<CommandMode, DataMode, BdatMode, AuthMode, WaitMode>;

    void command(std::string_view line);
    bool gate(const SmtpCommand& cmd);
    void cmd_helo(const SmtpCommand& cmd);
    void cmd_mail(SmtpCommand& cmd);
    void cmd_rcpt(SmtpCommand& cmd);
    void cmd_data();
    void cmd_bdat(const SmtpCommand& cmd);
    void cmd_starttls();
    void cmd_auth(const SmtpCommand& cmd);
    void cmd_vrfy(const SmtpCommand& cmd);
    void auth_step(const SaslStep& step);
    void auth_failed(SmtpReply reply, uint32_t delay_ms);
    void data_line(std::string_view line, LineEnd end);
    // Asks the handler for the message's sink (open_message); `then` runs with the
    // verdict once it is in txn_->sink (ok) or refused.
    void open_message(std::function<void(SmtpVerdict)> then);
    // Hands the reader's stored bytes to the sink; pauses reading while it flushes.
    void drain_to_sink(std::string& stored);
    void finish_message(bool eight_bit, bool too_big);
    void bdat_chunk_done();
    void start_data_clock();
    bool data_in_time(size_t bytes);  // false: too slow, the session is closed

    void reply(const SmtpReply& r);
    void reply(int code, std::string_view status, std::string_view text);
    void bad_command(const SmtpReply& r);
    void close_with(int code, std::string_view status, std::string_view text);
    void wait();
    void resume();
    uint8_t phase() const;
    bool auth_offered() const;
    std::time_t now() const;
    // Wraps a handler callback so it does nothing once the session is gone.
    template <class Arg>
    std::function<void(Arg)> guarded(std::function<void(Arg)> fn);

    SmtpSessionConfig config_;
    SmtpClientInfo client_;
    SmtpTransport& transport_;
    SmtpHandler& handler_;
    Mode mode_{CommandMode{}};
    std::optional<Transaction> txn_;
    std::unique_ptr<SmtpMessageSink> committing_;  // the sink whose commit has not answered
    SaslPolicy sasl_policy_;
    LoginGuard login_guard_;
    bool flushing_ = false;                        // sink_->flush in progress: reading paused
    std::optional<SmtpReply> pending_auth_reply_;  // sent when the delay timer fires
    bool close_after_auth_reply_ = false;
    std::time_t data_started_ = 0;  // start_data_clock()
    uint64_t data_bytes_ = 0;       // message bytes since then
    uint32_t bad_commands_ = 0;
    uint32_t auth_failures_ = 0;
    uint64_t accepted_ = 0;
    bool greeted_ = false;
    bool closed_ = false;
    bool shutdown_ = false;
    std::shared_ptr<char> alive_ = std::make_shared<char>(0);
    const SessionLog* log_ = nullptr;  // for a login charged after the session went
};

}  // namespace postern
