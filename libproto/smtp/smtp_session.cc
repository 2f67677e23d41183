#include "libproto/smtp/smtp_session.h"
#include "libproto/core/ascii.h"
#include "libproto/core/secret.h"

#include <algorithm>
#include <cctype>

namespace postern {

namespace {

// The default sink (SmtpHandler::open_message): collects the body in memory
// and passes it to deliver(). Only test doubles use it; smtpd streams.
class MemorySink : public SmtpMessageSink {
public:
    MemorySink(SmtpHandler& h, SmtpClientInfo c, SmtpMessage msg)
        : handler_(h), client_(std::move(c)), msg_(std::move(msg)) {}
    void append(std::string_view bytes) override { msg_.body.append(bytes); }
    void commit(bool eight_bit, std::function<void(SmtpDeliveryResult)> done) override {
        msg_.eight_bit = eight_bit;
        handler_.deliver(client_, std::move(msg_), std::move(done));
    }

private:
    SmtpHandler& handler_;
    SmtpClientInfo client_;
    SmtpMessage msg_;
};

// "local@domain" without the brackets ("" for the null path).
std::string bare_address(const ParsedPath& p) {
    if (p.is_null) return {};
    std::string s = format_smtp_path(p);
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
    return s;
}

SmtpReply path_reply(PathError e, bool mail) {
    std::string text = std::string(mail ? "Sender" : "Recipient") +
                       " address rejected: " + std::string(path_error_text(e));
    switch (e) {
    case PathError::utf8_not_allowed: return smtp_reply(553, "5.6.7", text);
    case PathError::source_route:
    case PathError::multiple_at: return smtp_reply(553, mail ? "5.1.7" : "5.1.3", text);
    default: return smtp_reply(501, mail ? "5.1.7" : "5.1.3", text);
    }
}

}  // namespace

void SmtpHandler::open_message(const SmtpClientInfo& c, const SmtpEnvelope& env,
                               const ReceivedInfo& received, OpenDone done) {
    SmtpMessage msg;
    msg.envelope = env;
    msg.received = received;
    check_data(c, env,
               [this, c, msg = std::move(msg), done = std::move(done)](SmtpVerdict v) mutable {
                   if (v != SmtpVerdict::ok) {
                       done({v, nullptr});
                       return;
                   }
                   done({v, std::make_unique<MemorySink>(*this, c, std::move(msg))});
               });
}

SmtpSession::SmtpSession(SmtpSessionConfig config, SmtpClientInfo client, SmtpTransport& transport,
                         SmtpHandler& handler, const SessionLog* log)
    : config_(std::move(config)), client_(std::move(client)), transport_(transport),
      handler_(handler),
      login_guard_(config_.auth_budget, client_.ip, log, config_.auth_failure_delay_ms), log_(log) {
    client_.kind = config_.kind;
    sasl_policy_.allow_plaintext = config_.allow_plaintext_auth;
    sasl_policy_.cram_md5 = config_.cram_md5;
}

SmtpSession::~SmtpSession() = default;

template <class Arg>
std::function<void(Arg)> SmtpSession::guarded(std::function<void(Arg)> fn) {
    std::weak_ptr<char> token = alive_;
    return [token, fn = std::move(fn)](Arg a) {
        if (!token.expired()) fn(std::move(a));
    };
}

std::time_t SmtpSession::now() const {
    return config_.clock ? config_.clock() : std::time(nullptr);
}

// --- output ---------------------------------------------------------------------------

void SmtpSession::reply(const SmtpReply& r) {
    if (closed_) return;
    transport_.write(r.format());
}

void SmtpSession::reply(int code, std::string_view status, std::string_view text) {
    reply(smtp_reply(code, status, text));
}

void SmtpSession::close_with(int code, std::string_view status, std::string_view text) {
    reply(code, status, text);
    if (closed_) return;
    closed_ = true;
    mode_ = WaitMode{};
    transport_.close();
}

void SmtpSession::bad_command(const SmtpReply& r) {
    if (++bad_commands_ > config_.max_bad_commands) {
        close_with(421, "4.7.0", config_.hostname + " Error: too many errors, closing");
        return;
    }
    reply(r);
}

void SmtpSession::wait() {
    mode_ = WaitMode{};
    transport_.pause_reading();
}

void SmtpSession::resume() {
    if (closed_) return;
    if (std::holds_alternative<WaitMode>(mode_)) mode_ = CommandMode{};
    if (shutdown_ && std::holds_alternative<CommandMode>(mode_)) {
        close_with(421, "4.3.2", config_.hostname + " Service shutting down");
        return;
    }
    if (flushing_) return;  // the sink's flush callback resumes
    transport_.resume_reading();
}

uint8_t SmtpSession::phase() const {
    if (!greeted_) return phase_fresh;
    if (!txn_) return phase_ready;
    if (txn_->chunks) return phase_bdat;
    return txn_->recipients.empty() ? phase_mail : phase_rcpt;
}

bool SmtpSession::auth_offered() const {
    return config_.auth_enabled && (client_.tls || config_.allow_plaintext_auth);
}

// --- events ---------------------------------------------------------------------------

void SmtpSession::on_open() {
    transport_.set_max_line(smtp_max_auth_line);
    if (shutdown_) {
        close_with(421, "4.3.2", config_.hostname + " Service shutting down");
        return;
    }
    // No enhanced status code in the greeting (RFC 2034 3).
    transport_.write("220 " + config_.hostname + " ESMTP Postern\r\n");
}

void SmtpSession::on_line(std::string_view line, LineEnd end) {
    if (closed_) return;
    if (std::holds_alternative<DataMode>(mode_)) {
        data_line(line, end);
        return;
    }
    if (std::holds_alternative<CommandMode>(mode_)) {
        command(line);
    } else if (auto* a = std::get_if<AuthMode>(&mode_); a && !a->pending) {
        // (pending: reading is paused; nothing may be pipelined into AUTH)
        auto step = a->sasl->step(line);
        auth_step(step);
    }
    // WaitMode / BdatMode: reading is paused or raw; a stray line is dropped
    // (after STARTTLS this is exactly what must happen to injected commands).
    // Every line but a message line may carry a credential: an AUTH command and its
    // initial response, a SASL response, or one sent after a refused AUTH. Once it is
    // handled no copy of it stays in the input buffers (each byte is zeroed once).
    transport_.wipe_input();
}

void SmtpSession::on_line_too_long() {
    if (closed_) return;
    if (std::holds_alternative<DataMode>(mode_)) {
        // Longer than the whole message may be: the message fails, and we cannot
        // know how the skipped line ended, so we do not try to resynchronise.
        close_with(552, "5.3.4", "Message size exceeds fixed limit");
        return;
    }
    if (std::holds_alternative<AuthMode>(mode_)) {
        // RFC 4954 4: an over-long response ends the exchange; nothing was verified.
        mode_ = CommandMode{};
        auth_failed(smtp_reply(500, "5.5.6", "Authentication exchange line is too long"),
                    config_.auth_failure_delay_ms);
        return;
    }
    if (std::holds_alternative<CommandMode>(mode_))
        bad_command(smtp_reply(500, "5.5.2", "Error: line too long"));
}

void SmtpSession::on_raw(std::string_view bytes, bool last) {
    if (closed_) return;
    auto* b = std::get_if<BdatMode>(&mode_);
    if (!b) return;
    if (!data_in_time(bytes.size())) return;
    if (!b->discard && txn_ && txn_->chunks) {
        auto& chunks = *txn_->chunks;
        chunks.feed(bytes);
        if (chunks.too_big()) txn_->sink.reset();  // aborts; the chunk is still read
        // The last chunk's bytes go to the sink in finish_message (no flush then).
        if (!(last && b->last)) drain_to_sink(chunks.message());
    }
    if (last) bdat_chunk_done();
}

void SmtpSession::on_tls_ready(std::string version, std::string cipher) {
    if (closed_) return;
    // RFC 3207 4.2: forget everything learnt before the handshake.
    client_.tls = true;
    client_.tls_version = std::move(version);
    client_.tls_cipher = std::move(cipher);
    client_.helo.clear();
    client_.esmtp = false;
    client_.auth_user.clear();
    greeted_ = false;
    txn_.reset();
    mode_ = CommandMode{};
    transport_.resume_reading();
}

void SmtpSession::on_timer() {
    if (closed_ || !pending_auth_reply_) return;
    auto r = std::move(*pending_auth_reply_);
    pending_auth_reply_.reset();
    reply(r);
    if (close_after_auth_reply_) {
        close_with(421, "4.7.0", config_.hostname + " Error: too many authentication failures");
        return;
    }
    resume();
}

void SmtpSession::on_idle_timeout() {
    if (closed_) return;
    close_with(421, "4.4.2", config_.hostname + " Error: timeout exceeded");
}

void SmtpSession::on_shutdown() {
    if (closed_) return;
    shutdown_ = true;
    // A message being committed gets its answer first (resume() then closes).
    if (std::holds_alternative<WaitMode>(mode_) && !pending_auth_reply_) return;
    close_with(421, "4.3.2", config_.hostname + " Service shutting down");
}

// --- commands -------------------------------------------------------------------------

void SmtpSession::command(std::string_view line) {
    if (line.size() > smtp_max_command_line && !istarts_with(line, "AUTH ")) {
        bad_command(smtp_reply(500, "5.5.2", "Error: line too long"));
        return;
    }
    if (!greeted_ && (istarts_with(line, "GET ") || istarts_with(line, "POST ") ||
                      istarts_with(line, "CONNECT "))) {
        // A web client or proxy pointed at us: do not talk SMTP to it.
        closed_ = true;
        mode_ = WaitMode{};
        transport_.close();
        return;
    }
    auto parsed = parse_smtp_command(line);
    if (!parsed) {
        bad_command(smtp_syntax_reply(parsed.error()));
        return;
    }
    SmtpCommand& cmd = *parsed;
    // An AUTH initial response carries credentials: wiped whatever path the command takes.
    struct WipeOnExit {
        std::string& s;
        ~WipeOnExit() { wipe(s); }
    } wipe_initial{cmd.auth_initial};
    if (cmd.verb == SmtpVerb::bdat) {
        cmd_bdat(cmd);  // gates itself: a refused chunk must still be read
        return;
    }
    if (!gate(cmd)) return;
    switch (cmd.verb) {
    case SmtpVerb::helo:
    case SmtpVerb::ehlo: cmd_helo(cmd); break;
    case SmtpVerb::mail: cmd_mail(cmd); break;
    case SmtpVerb::rcpt: cmd_rcpt(cmd); break;
    case SmtpVerb::data: cmd_data(); break;
    case SmtpVerb::rset:
        txn_.reset();
        reply(250, "2.0.0", "Ok");
        break;
    case SmtpVerb::noop: reply(250, "2.0.0", "Ok"); break;
    case SmtpVerb::quit:
        reply(221, "2.0.0", "Bye");
        closed_ = true;
        mode_ = WaitMode{};
        transport_.close();
        break;
    case SmtpVerb::vrfy: cmd_vrfy(cmd); break;
    case SmtpVerb::expn: reply(502, "5.5.1", "Error: EXPN not available"); break;
    case SmtpVerb::help:
        reply(214, "2.0.0",
              "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH");
        break;
    case SmtpVerb::starttls: cmd_starttls(); break;
    case SmtpVerb::auth: cmd_auth(cmd); break;
    case SmtpVerb::bdat:
    case SmtpVerb::unknown: break;
    }
}

// Phase and policy gating for every command, in one place.
bool SmtpSession::gate(const SmtpCommand& cmd) {
    const auto& spec = smtp_command_spec(cmd.verb);
    const uint8_t ph = phase();
    if (!(spec.phases & ph)) {
        std::string text = "Error: bad sequence of commands";
        if (ph == phase_fresh)
            text = "Error: send HELO/EHLO first";
        else if (cmd.verb == SmtpVerb::mail)
            text = "Error: nested MAIL command";
        else if (cmd.verb == SmtpVerb::rcpt)
            text = "Error: need MAIL command";
        else if (cmd.verb == SmtpVerb::data && ph == phase_bdat)
            text = "Error: DATA after BDAT";
        else if (cmd.verb == SmtpVerb::data)
            text = "Error: need RCPT command";
        else if (cmd.verb == SmtpVerb::auth || cmd.verb == SmtpVerb::starttls)
            text = "Error: not allowed during a mail transaction";
        bad_command(smtp_reply(503, "5.5.1", text));
        return false;
    }
    if ((spec.flags & cmd_needs_auth_on_submission) && config_.kind != SmtpListenerKind::mx &&
        client_.auth_user.empty()) {
        reply(530, "5.7.0", "Authentication required");
        return false;
    }
    return true;
}

void SmtpSession::cmd_helo(const SmtpCommand& cmd) {
    txn_.reset();
    greeted_ = true;
    client_.helo = cmd.arg;
    client_.esmtp = cmd.verb == SmtpVerb::ehlo;
    if (cmd.verb == SmtpVerb::helo) {
        transport_.write("250 " + config_.hostname + "\r\n");
        return;
    }
    std::vector<std::string> lines{config_.hostname, "PIPELINING",
                                   "SIZE " + std::to_string(config_.max_message_size), "8BITMIME",
                                   "ENHANCEDSTATUSCODES"};
    if (config_.tls_available && !client_.tls) lines.push_back("STARTTLS");
    if (auth_offered() && client_.auth_user.empty()) {
        std::string auth = "AUTH";
        for (auto m : sasl_mechanisms(client_.tls, sasl_policy_)) auth += " " + std::string(m);
        lines.push_back(auth);
    }
    // RFC 8689 4: only inside TLS, where a REQUIRETLS message may be accepted.
    if (client_.tls) lines.push_back("REQUIRETLS");
    for (const char* ext : {"SMTPUTF8", "DSN", "CHUNKING", "HELP"}) lines.push_back(ext);
    reply(SmtpReply{250, "", std::move(lines)});
}

void SmtpSession::cmd_mail(SmtpCommand& cmd) {
    auto path = parse_smtp_path("<" + cmd.path + ">", PathKind::reverse_path, cmd.mail.smtputf8);
    if (!path) {
        reply(path_reply(path.error(), true));
        return;
    }
    if (cmd.mail.size && *cmd.mail.size > config_.max_message_size) {
        reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
        return;
    }
    if (cmd.mail.requiretls && !client_.tls) {
        reply(530, "5.7.10", "REQUIRETLS needs a TLS session");
        return;
    }
    wait();
    auto from = std::move(*path);
    auto params = cmd.mail;
    std::string reverse = bare_address(from);
    handler_.check_mail(client_, from, params,
                        guarded<SmtpVerdict>([this, reverse, params](SmtpVerdict v) {
                            if (v == SmtpVerdict::ok) {
                                txn_.emplace();
                                txn_->reverse_path = reverse;
                                txn_->params = params;
                            }
                            reply(smtp_verdict_reply(v, SmtpStage::mail));
                            resume();
                        }));
}

void SmtpSession::cmd_rcpt(SmtpCommand& cmd) {
    auto path =
        parse_smtp_path("<" + cmd.path + ">", PathKind::forward_path, txn_->params.smtputf8);
    if (!path) {
        reply(path_reply(path.error(), false));
        return;
    }
    if (txn_->recipients.size() >= config_.max_recipients) {
        reply(452, "4.5.3", "Error: too many recipients");
        return;
    }
    wait();
    auto to = std::move(*path);
    // <Postmaster> (RFC 5321 4.5.1) is the postmaster of this host; the policy checks the same name.
    SmtpRecipient rcpt{to.is_postmaster ? "postmaster@" + config_.hostname : bare_address(to),
                       cmd.rcpt};
    handler_.check_rcpt(client_, to, guarded<SmtpVerdict>([this, rcpt](SmtpVerdict v) {
                            if (v == SmtpVerdict::ok && txn_) txn_->recipients.push_back(rcpt);
                            reply(smtp_verdict_reply(v, SmtpStage::rcpt));
                            resume();
                        }));
}

void SmtpSession::cmd_data() {
    wait();
    open_message([this](SmtpVerdict v) {
        if (v != SmtpVerdict::ok) {
            reply(smtp_verdict_reply(v, SmtpStage::data));
            resume();
            return;
        }
        // The usual line limit: longer body lines come in pieces,
        // so a session's memory does not grow with the message.
        transport_.set_max_line(smtp_max_auth_line);
        transport_.set_split_lines(true);
        mode_ = DataMode{DataReader(config_.max_message_size)};
        start_data_clock();
        reply(smtp_verdict_reply(SmtpVerdict::ok, SmtpStage::data));
        transport_.resume_reading();
    });
}

void SmtpSession::start_data_clock() {
    data_started_ = now();
    data_bytes_ = 0;
}

bool SmtpSession::data_in_time(size_t bytes) {
    data_bytes_ += bytes;
    if (config_.min_data_rate == 0) return true;
    const uint64_t allowed = config_.data_grace_seconds + data_bytes_ / config_.min_data_rate;
    if (now() <= data_started_ + static_cast<std::time_t>(allowed)) return true;
    txn_.reset();
    close_with(421, "4.4.2", config_.hostname + " Error: message transfer too slow");
    return false;
}

void SmtpSession::open_message(std::function<void(SmtpVerdict)> then) {
    ReceivedInfo r;
    r.helo = client_.helo;
    r.client_ip = client_.ip;
    r.hostname = config_.hostname;
    r.esmtp = client_.esmtp;
    r.tls = client_.tls;
    r.tls_version = client_.tls_version;
    r.tls_cipher = client_.tls_cipher;
    r.authenticated = !client_.auth_user.empty();
    r.auth_user = client_.auth_user;
    r.smtputf8 = txn_->params.smtputf8;
    if (txn_->recipients.size() == 1) r.for_rcpt = txn_->recipients.front().address;
    r.when = now();
    SmtpEnvelope env{txn_->reverse_path, txn_->params, txn_->recipients};
    handler_.open_message(client_, env, r,
                          guarded<SmtpOpened>([this, then = std::move(then)](SmtpOpened o) {
                              if (o.verdict == SmtpVerdict::ok && (!o.sink || !txn_))
                                  o.verdict = SmtpVerdict::temp_failure;
                              if (o.verdict == SmtpVerdict::ok) txn_->sink = std::move(o.sink);
                              then(o.verdict);
                          }));
}

void SmtpSession::drain_to_sink(std::string& stored) {
    auto* sink = txn_ ? txn_->sink.get() : nullptr;
    if (!sink) return;
    if (!stored.empty()) sink->append(stored);
    stored.clear();
    if (flushing_ || !sink->wants_flush()) return;
    // Backpressure: no more input until the sink has written its buffer out.
    flushing_ = true;
    transport_.pause_reading();
    std::weak_ptr<char> token = alive_;
    sink->flush([this, token] {
        if (token.expired()) return;
        flushing_ = false;
        if (!closed_ &&
            (std::holds_alternative<DataMode>(mode_) || std::holds_alternative<BdatMode>(mode_) ||
             std::holds_alternative<CommandMode>(mode_)))
            transport_.resume_reading();
    });
}

void SmtpSession::data_line(std::string_view line, LineEnd end) {
    if (!data_in_time(line.size() + (end == LineEnd::none ? 0 : 2))) return;
    auto& reader = std::get<DataMode>(mode_).reader;
    reader.feed(line);
    if (end != LineEnd::none)
        reader.feed(end == LineEnd::crlf ? std::string_view("\r\n") : std::string_view("\n"));
    if (reader.too_big()) txn_->sink.reset();  // aborts; reading goes on to the end
    if (!reader.done()) {
        drain_to_sink(reader.message());
        return;
    }
    transport_.set_max_line(smtp_max_auth_line);
    bool too_big = reader.too_big();
    bool eight_bit = reader.eight_bit();
    if (txn_->sink && !reader.message().empty()) txn_->sink->append(reader.message());
    mode_ = CommandMode{};
    finish_message(eight_bit, too_big);
}

void SmtpSession::cmd_bdat(const SmtpCommand& cmd) {
    // A chunk larger than a whole message is refused at once: reading (or
    // discarding) 2^64 bytes is no way to say no, and what follows the
    // command cannot be told apart from the chunk, so the session ends.
    if (cmd.chunk_size > config_.max_message_size) {
        txn_.reset();
        close_with(552, "5.3.4", "Message size exceeds fixed limit");
        return;
    }
    const uint8_t ph = phase();
    std::optional<SmtpReply> refusal;
    if (!(ph & (phase_rcpt | phase_bdat))) {
        ++bad_commands_;
        refusal = smtp_reply(
            503, "5.5.1",
            ph == phase_fresh ? "Error: send HELO/EHLO first" : "Error: need RCPT command");
    }
    auto start_chunk = [this, cmd,
                        continuing = ph == phase_bdat](std::optional<SmtpReply> refused) {
        if (refused || !continuing) start_data_clock();  // a message's first chunk
        BdatMode b;
        b.last = cmd.last;
        if (refused) {
            b.discard = true;
            b.refusal = std::move(*refused);
        } else {
            txn_->chunks->begin_chunk(cmd.chunk_size);
        }
        mode_ = std::move(b);
        if (cmd.chunk_size == 0) {
            bdat_chunk_done();
            return;
        }
        transport_.read_raw(cmd.chunk_size);
        transport_.resume_reading();
    };
    if (refusal || ph == phase_bdat) {
        start_chunk(std::move(refusal));
        return;
    }
    // First chunk of the transaction: is there room, and where does it go?
    wait();
    open_message([this, start_chunk](SmtpVerdict v) {
        if (v == SmtpVerdict::ok) {
            txn_->chunks.emplace(config_.max_message_size);
            start_chunk(std::nullopt);
        } else {
            start_chunk(smtp_verdict_reply(v, SmtpStage::data));
        }
    });
}

void SmtpSession::bdat_chunk_done() {
    auto b = std::get<BdatMode>(std::move(mode_));
    mode_ = CommandMode{};
    if (b.discard) {
        // RFC 3030 4.1: after a refused chunk the transaction is over.
        txn_.reset();
        if (bad_commands_ > config_.max_bad_commands) {
            close_with(421, "4.7.0", config_.hostname + " Error: too many errors, closing");
            return;
        }
        reply(b.refusal);
        return;
    }
    auto& chunks = *txn_->chunks;
    if (chunks.too_big()) {
        txn_.reset();
        reply(552, "5.3.4", "Message size exceeds fixed limit");
        return;
    }
    if (!b.last) {
        reply(250, "2.0.0", std::to_string(chunks.size()) + " octets received");
        return;
    }
    if (txn_->sink && !chunks.message().empty()) txn_->sink->append(chunks.message());
    finish_message(chunks.eight_bit(), false);
}

void SmtpSession::finish_message(bool eight_bit, bool too_big) {
    auto sink = std::move(txn_->sink);
    txn_.reset();
    if (too_big) {
        reply(552, "5.3.4", "Message size exceeds fixed limit");
        return;
    }
    if (!sink) {
        reply(smtp_verdict_reply(SmtpVerdict::temp_failure, SmtpStage::data));
        return;
    }
    wait();
    // Kept until the commit answers: a session destroyed first drops it, so the sink calls
    // nobody back (its commit still completes).
    committing_ = std::move(sink);
    SmtpMessageSink* s = committing_.get();
    s->commit(eight_bit, guarded<SmtpDeliveryResult>([this, s](const SmtpDeliveryResult& res) {
                  auto finished = committing_.get() == s ? std::move(committing_) : nullptr;
                  if (res.verdict == SmtpVerdict::ok) {
                      ++accepted_;
                      reply(250, "2.0.0", "Ok: queued as " + res.queue_id);
                  } else {
                      reply(smtp_verdict_reply(res.verdict, SmtpStage::data));
                  }
                  resume();
              }));
}

void SmtpSession::cmd_starttls() {
    if (client_.tls) {
        bad_command(smtp_reply(503, "5.5.1", "Error: TLS already active"));
        return;
    }
    if (!config_.tls_available) {
        reply(454, "4.7.0", "TLS not available");
        return;
    }
    reply(220, "2.0.0", "Ready to start TLS");
    // Nothing more is read until the handshake is done; the transport drops
    // whatever was pipelined after STARTTLS (CVE-2011-0411 class).
    mode_ = WaitMode{};
    transport_.start_tls();
}

void SmtpSession::cmd_auth(const SmtpCommand& cmd) {
    if (!client_.auth_user.empty()) {
        bad_command(smtp_reply(503, "5.5.1", "Error: already authenticated"));
        return;
    }
    if (!config_.auth_enabled) {
        reply(503, "5.5.1", "Error: authentication not enabled");
        return;
    }
    if (!auth_offered()) {
        reply(538, "5.7.11", "Encryption required for requested authentication mechanism");
        return;
    }
    if (!sasl_mechanism_allowed(cmd.arg, client_.tls, sasl_policy_)) {
        if (!client_.tls && (cmd.arg == "PLAIN" || cmd.arg == "LOGIN"))
            reply(538, "5.7.11", "Encryption required for requested authentication mechanism");
        else
            reply(504, "5.5.4", "Unrecognized authentication type");
        return;
    }
    auto sasl = handler_.sasl(cmd.arg);
    if (!sasl) {
        reply(504, "5.5.4", "Unrecognized authentication type");
        return;
    }
    std::optional<std::string_view> initial;
    if (!cmd.auth_initial.empty()) initial = cmd.auth_initial;
    // The budget is asked once the login is known, before any password is checked.
    // A session gone while a lookup ran admits nothing more (auth_step).
    std::weak_ptr<char> token = alive_;
    sasl->set_admission([this, token, s = sasl.get()](std::string_view account) {
        return !token.expired() && login_guard_.admit(account, s->login_name(), s->mechanism());
    });
    auto step = sasl->start(initial);
    mode_ = AuthMode{std::move(sasl)};
    auth_step(step);
}

void SmtpSession::auth_step(const SaslStep& step) {
    if (auto* p = std::get_if<SaslPending>(&step)) {
        // A lookup or password check runs off the loop; input waits for its answer.
        auto* a = std::get_if<AuthMode>(&mode_);
        if (!a) return;
        a->pending = true;
        transport_.pause_reading();
        std::weak_ptr<char> token = alive_;
        handler_.run_blocking(
            p->work, [this, token, sasl = a->sasl, budget = config_.auth_budget, ip = client_.ip,
                      delay = config_.auth_failure_delay_ms,
                      slog = log_ ? std::make_shared<SessionLog>(*log_) : nullptr] {
                if (token.expired()) {
                    // The client left while its password was checked: a failure still counts
                    // (else disconnecting would be a free guess).
                    SaslStep r = sasl->resume();
                    if (auto* f = std::get_if<SaslFailed>(&r);
                        f && f->reason == SaslFailure::bad_credentials)
                        LoginGuard(budget, ip, slog.get(), delay)
                            .failed(sasl->account(), sasl->login_name(), sasl->mechanism());
                    return;
                }
                if (closed_) return;
                auto* am = std::get_if<AuthMode>(&mode_);
                if (!am || !am->pending) return;
                am->pending = false;
                auth_step(am->sasl->resume());
                if (!closed_ && !std::holds_alternative<WaitMode>(mode_)) resume();
            });
        return;
    }
    if (auto* c = std::get_if<SaslChallenge>(&step)) {
        transport_.write("334 " + c->base64 + "\r\n");
        return;
    }
    std::string mech, login, account;
    if (auto* a = std::get_if<AuthMode>(&mode_)) {
        mech = std::string(a->sasl->mechanism());
        login = a->sasl->login_name();
        account = a->sasl->account();
    }
    mode_ = CommandMode{};
    if (auto* s = std::get_if<SaslSuccess>(&step)) {
        client_.auth_user = s->user;
        login_guard_.succeeded(s->user);
        reply(235, "2.7.0", "Authentication successful");
        return;
    }
    auto reason = std::get<SaslFailed>(step).reason;
    switch (reason) {
    case SaslFailure::bad_credentials:
        auth_failed(smtp_reply(535, "5.7.8", "Authentication credentials invalid"),
                    login_guard_.failed(account, login, mech));
        break;
    case SaslFailure::refused:
        // Too many failures from this address or for this login: nothing was checked.
        auth_failed(smtp_reply(454, "4.7.0", "Too many failed logins, try again later"),
                    login_guard_.refusal_delay_ms());
        break;
    case SaslFailure::too_long:
        auth_failed(smtp_reply(500, "5.5.6", "Authentication exchange line is too long"),
                    config_.auth_failure_delay_ms);
        break;
    case SaslFailure::malformed:
        auth_failed(smtp_reply(501, "5.5.2", "Cannot decode authentication response"),
                    config_.auth_failure_delay_ms);
        break;
    case SaslFailure::cancelled: reply(501, "5.0.0", "Authentication cancelled"); break;
    case SaslFailure::temp_failure: reply(454, "4.7.0", "Temporary authentication failure"); break;
    }
}

// A failed attempt is answered after a delay (slows down password guessing);
// reading stays paused meanwhile, so pipelined guesses wait too.
void SmtpSession::auth_failed(SmtpReply r, uint32_t delay_ms) {
    ++auth_failures_;
    close_after_auth_reply_ = auth_failures_ >= config_.max_auth_failures;
    pending_auth_reply_ = std::move(r);
    wait();
    transport_.start_timer(delay_ms);
}

void SmtpSession::cmd_vrfy(const SmtpCommand& cmd) {
    static constexpr const char* kCannot =
        "Cannot VRFY user, but will accept message and attempt delivery";
    if (!config_.vrfy) {
        reply(252, "2.5.2", kCannot);
        return;
    }
    std::string arg = cmd.arg;
    if (arg.front() != '<') arg = "<" + arg + ">";
    auto path = parse_smtp_path(arg, PathKind::forward_path, false);
    if (!path || path->is_postmaster) {
        reply(252, "2.5.2", kCannot);
        return;
    }
    wait();
    std::string addr = bare_address(*path);
    handler_.check_rcpt(client_, *path, guarded<SmtpVerdict>([this, addr](SmtpVerdict v) {
                            if (v == SmtpVerdict::ok)
                                reply(250, "2.1.5", "<" + addr + ">");
                            else if (v == SmtpVerdict::unknown_user)
                                reply(smtp_verdict_reply(v, SmtpStage::rcpt));
                            else
                                reply(252, "2.5.2", kCannot);
                            resume();
                        }));
}

}  // namespace postern
