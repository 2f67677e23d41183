#include "libproto/smtp_client/smtp_client_session.h"

#include <algorithm>

#include "libproto/core/base64.h"
#include "libproto/core/secret.h"

namespace postern {

namespace {

// An address (or name) that could not be put on a command line without changing its meaning.
bool unsafe_on_wire(std::string_view s) {
    for (char c : s)
        if (c == '\r' || c == '\n' || c == '\0' || c == '<' || c == '>') return true;
    return false;
}

bool is_ascii(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

SmtpOutcome outcome_of(const ClientReply& r) {
    if (r.positive()) return SmtpOutcome::delivered;
    return r.temporary() ? SmtpOutcome::deferred : SmtpOutcome::failed;
}

}  // namespace

std::string xtext_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c < '!' || c > '~' || c == '+' || c == '=') {
            out += '+';
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += ch;
        }
    }
    return out;
}

SmtpClientSession::SmtpClientSession(SmtpClientConfig config)
    : cfg_(std::move(config)), reader_(cfg_.limits) {
    pending_.push_back({Cmd::greeting});
}

SmtpClientSession::~SmtpClientSession() {
    wipe(cfg_.auth_password);
    wipe(out_);
}

SmtpClientSession::Want SmtpClientSession::want() const {
    return results_ready_ ? Want::results : state_;
}

std::string SmtpClientSession::take_output() {
    std::string o;
    o.swap(out_);
    return o;
}

std::vector<SmtpRecipientResult> SmtpClientSession::take_results() {
    results_ready_ = false;
    return std::move(results_);
}

void SmtpClientSession::send(std::string_view line, Cmd cmd, uint32_t index) {
    out_.append(line);
    out_ += "\r\n";
    pending_.push_back({cmd, index});
    if (state_ != Want::closed) state_ = Want::reply;
}

uint64_t SmtpClientSession::timeout_ms() const {
    const auto& t = cfg_.timeouts;
    if (state_ == Want::body) return t.data_block;
    if (state_ != Want::reply || pending_.empty()) return 0;
    switch (pending_.front().cmd) {
    case Cmd::greeting: return t.greeting;
    case Cmd::ehlo:
    case Cmd::helo: return t.ehlo;
    case Cmd::starttls: return t.starttls;
    case Cmd::auth_plain:
    case Cmd::auth_login:
    case Cmd::auth_user:
    case Cmd::auth_pass: return t.auth;
    case Cmd::mail: return t.mail;
    case Cmd::rcpt: return t.rcpt;
    case Cmd::data: return t.data_init;
    case Cmd::bdat:
    case Cmd::bdat_last:
    case Cmd::dot:
    case Cmd::lone_dot: return t.data_term;
    case Cmd::rset:
    case Cmd::quit: return t.rset;
    }
    return t.mail;
}

const char* SmtpClientSession::waiting_for() const {
    if (state_ == Want::body) return "the message to go out";
    if (state_ == Want::tls) return "the TLS handshake";
    if (pending_.empty()) return "nothing";
    switch (pending_.front().cmd) {
    case Cmd::greeting: return "the greeting";
    case Cmd::ehlo: return "EHLO";
    case Cmd::helo: return "HELO";
    case Cmd::starttls: return "STARTTLS";
    case Cmd::auth_plain:
    case Cmd::auth_login:
    case Cmd::auth_user:
    case Cmd::auth_pass: return "AUTH";
    case Cmd::mail: return "MAIL FROM";
    case Cmd::rcpt: return "RCPT TO";
    case Cmd::data: return "DATA";
    case Cmd::dot:
    case Cmd::lone_dot: return "end of data";
    case Cmd::bdat:
    case Cmd::bdat_last: return "BDAT";
    case Cmd::rset: return "RSET";
    case Cmd::quit: return "QUIT";
    }
    return "a reply";
}

// --- session failure ---

void SmtpClientSession::fatal(std::string reply, bool from_server) {
    if (state_ == Want::closed) return;
    failure_ = std::move(reply);
    failure_from_server_ = from_server;
    failed_in_setup_ = !setup_done_;
    if (txn_) {
        // Recipients without an answer of their own are deferred with the session's failure;
        // the accepted ones too unless the end of data was already answered.
        auto& x = *txn_;
        if (!x.over)
            for (size_t i = 0; i < x.results.size(); ++i)
                if (!x.answered[i] || x.accepted[i])
                    x.results[i] = {SmtpOutcome::deferred, failure_, failure_from_server_};
        results_ = std::move(x.results);
        results_ready_ = true;
        txn_.reset();
    }
    pending_.clear();
    state_ = Want::closed;
}

void SmtpClientSession::on_timeout() {
    if (state_ == Want::closed || state_ == Want::transaction) return;
    fatal(std::string("421 4.4.2 timed out waiting for ") + waiting_for());
}

void SmtpClientSession::on_connection_lost() {
    if (quitting_) {
        pending_.clear();
        state_ = Want::closed;
        return;
    }
    fatal(std::string("421 4.4.2 connection lost while waiting for ") + waiting_for());
}

void SmtpClientSession::on_tls_failed(std::string_view why) {
    fatal("421 4.7.0 TLS handshake failed: " + std::string(why));
}

void SmtpClientSession::on_tls_ready() {
    if (state_ != Want::tls) return;
    tls_active_ = true;
    caps_ = {};  // RFC 3207 4.2: forget what was said in plaintext
    send("EHLO " + cfg_.helo_name, Cmd::ehlo);
}

// --- replies ---

void SmtpClientSession::on_line(std::string_view line) {
    if (state_ == Want::closed) return;
    switch (reader_.feed(line)) {
    case ReplyReader::Result::need_more: return;
    case ReplyReader::Result::error:
        fatal("421 4.5.0 protocol error: " + reader_.error_text());
        return;
    case ReplyReader::Result::reply: break;
    }
    const ClientReply& r = reader_.reply();
    if (pending_.empty() || state_ == Want::tls) {
        // Unasked: a 421 before the server hangs up, or garbage.
        if (r.code == 421)
            fatal(r.text(), true);
        else
            fatal("421 4.5.0 protocol error: unexpected reply " + r.text());
        return;
    }
    handle(r);
}

void SmtpClientSession::handle(const ClientReply& r) {
    Pending p = pending_.front();
    pending_.pop_front();
    if (p.cmd == Cmd::quit) {
        state_ = Want::closed;
        return;
    }
    // 421: the server is closing the channel whatever the command was (RFC 5321 3.8).
    if (r.code == 421) {
        fatal(r.text(), true);
        return;
    }
    switch (p.cmd) {
    case Cmd::greeting:
        if (r.code != 220) {
            fatal(r.text(), true);
            return;
        }
        send("EHLO " + cfg_.helo_name, Cmd::ehlo);
        return;
    case Cmd::ehlo:
        if (r.positive()) {
            caps_ = parse_ehlo(r);
            after_ehlo();
        } else if (r.permanent() && !tls_active_) {
            send("HELO " + cfg_.helo_name, Cmd::helo);
        } else {
            fatal(r.text(), true);
        }
        return;
    case Cmd::helo:
        if (!r.positive()) {
            fatal(r.text(), true);
            return;
        }
        caps_ = {};
        after_ehlo();
        return;
    case Cmd::starttls:
        if (r.code == 220) {
            state_ = Want::tls;
        } else if (cfg_.tls == SmtpClientTls::required) {
            fatal("451 4.7.10 STARTTLS refused, and TLS is required: " + r.text());
        } else {
            start_auth();
        }
        return;
    case Cmd::auth_plain:
    case Cmd::auth_pass:
        if (r.code == 235) {
            authenticated_ = true;
            ready();
        } else {
            fatal("451 4.7.0 authentication failed: " + r.text());
        }
        return;
    case Cmd::auth_login:
    case Cmd::auth_user:
        if (r.code != 334) {
            fatal("451 4.7.0 authentication failed: " + r.text());
            return;
        }
        if (p.cmd == Cmd::auth_login) {
            send(base64_encode(*cfg_.auth_user), Cmd::auth_user);
        } else {
            std::string line = base64_encode(cfg_.auth_password);
            send(line, Cmd::auth_pass);
            wipe(line);
        }
        return;
    case Cmd::rset:
        if (!r.positive()) {
            fatal(r.text(), true);
            return;
        }
        dirty_ = false;
        if (txn_)
            advance();
        else
            state_ = Want::transaction;
        return;
    default: txn_reply(p, r); return;
    }
}

void SmtpClientSession::after_ehlo() {
    if (!tls_active_ && cfg_.tls != SmtpClientTls::none && caps_.starttls) {
        send("STARTTLS", Cmd::starttls);
        return;
    }
    if (!tls_active_ && cfg_.tls == SmtpClientTls::required) {
        fatal("451 4.7.10 TLS is required but the server does not offer STARTTLS");
        return;
    }
    start_auth();
}

void SmtpClientSession::start_auth() {
    if (!cfg_.auth_user || authenticated_) {
        ready();
        return;
    }
    if (!tls_active_ && !cfg_.peer_is_loopback) {
        fatal("451 4.7.10 credentials are never sent without TLS");
        return;
    }
    if (caps_.has_auth("PLAIN")) {
        std::string resp;
        resp += '\0';
        resp += *cfg_.auth_user;
        resp += '\0';
        resp += cfg_.auth_password;
        std::string line = "AUTH PLAIN " + base64_encode(resp);
        send(line, Cmd::auth_plain);
        wipe(resp);
        wipe(line);
    } else if (caps_.has_auth("LOGIN")) {
        send("AUTH LOGIN", Cmd::auth_login);
    } else {
        fatal("451 4.7.0 the server offers neither AUTH PLAIN nor AUTH LOGIN");
    }
}

void SmtpClientSession::ready() {
    setup_done_ = true;
    state_ = Want::transaction;
}

// --- transactions ---

void SmtpClientSession::reset() {
    if (state_ != Want::transaction || results_ready_) return;
    send("RSET", Cmd::rset);
}

void SmtpClientSession::quit() {
    if (state_ == Want::closed) return;
    quitting_ = true;
    out_ += "QUIT\r\n";
    pending_.push_back({Cmd::quit});
    state_ = Want::closed;
}

void SmtpClientSession::refuse_all(const std::string& reply) {
    auto& x = *txn_;
    for (auto& res : x.results) res = {SmtpOutcome::failed, reply, false};
    x.over = true;
    finish_txn();
}

void SmtpClientSession::begin(SmtpClientTransaction t) {
    if (state_ != Want::transaction || results_ready_) return;
    txn_.emplace();
    auto& x = *txn_;
    size_t n = t.recipients.size();
    x.results.assign(n, {SmtpOutcome::deferred, "451 4.4.0 not tried", false});
    x.answered.assign(n, 0);
    x.accepted.assign(n, 0);
    x.t = std::move(t);
    ++transactions_;
    const auto& tt = x.t;
    bool utf8 = tt.smtputf8 || !is_ascii(tt.reverse_path);
    for (const auto& r : tt.recipients) utf8 = utf8 || !is_ascii(r.address);
    if (n == 0) {
        x.over = true;
        finish_txn();
        return;
    }
    if (unsafe_on_wire(tt.reverse_path) || unsafe_on_wire(tt.envid)) {
        refuse_all("501 5.1.7 the sender address cannot be sent in SMTP");
        return;
    }
    if (caps_.size && caps_.size_limit > 0 && tt.size > caps_.size_limit) {
        refuse_all("552 5.3.4 message size " + std::to_string(tt.size) +
                   " exceeds the server's limit of " + std::to_string(caps_.size_limit));
        return;
    }
    if (tt.body == SmtpBodyType::binary_mime && !(caps_.binary_mime && caps_.chunking)) {
        refuse_all("554 5.6.3 binary message, and the server does not offer BINARYMIME");
        return;
    }
    if (tt.body == SmtpBodyType::eight_bit_mime && !caps_.eight_bit_mime) {
        refuse_all("554 5.6.3 8-bit message, and the server does not offer 8BITMIME");
        return;
    }
    if (utf8 && !caps_.smtputf8) {
        refuse_all("553 5.6.7 the message needs SMTPUTF8, which the server does not offer");
        return;
    }
    if (tt.requiretls && (!tls_active_ || !caps_.requiretls)) {
        refuse_all(std::string("550 5.7.30 REQUIRETLS support required: ") +
                   (tls_active_ ? "the server does not offer REQUIRETLS"
                                : "the connection is not encrypted"));
        return;
    }
    for (size_t i = 0; i < n; ++i)
        if (unsafe_on_wire(tt.recipients[i].address) || unsafe_on_wire(tt.recipients[i].orcpt)) {
            x.results[i] = {SmtpOutcome::failed,
                            "501 5.1.3 the recipient address cannot be sent in SMTP", false};
            x.answered[i] = 1;
        }
    x.bdat = caps_.chunking;
    if (x.bdat) x.stuffer = DotStuffer(false);
    if (dirty_) send("RSET", Cmd::rset);
    if (!caps_.pipelining && !pending_.empty()) return;  // MAIL after the RSET reply
    advance();
}

void SmtpClientSession::advance() {
    auto& x = *txn_;
    const auto& t = x.t;
    bool group = caps_.pipelining;
    while (group || pending_.empty()) {
        if (!x.sent_mail) {
            std::string line = "MAIL FROM:<" + t.reverse_path + ">";
            if (caps_.size) line += " SIZE=" + std::to_string(t.size);
            if (t.body == SmtpBodyType::eight_bit_mime)
                line += " BODY=8BITMIME";
            else if (t.body == SmtpBodyType::binary_mime)
                line += " BODY=BINARYMIME";
            else if (t.body == SmtpBodyType::seven_bit && caps_.eight_bit_mime)
                line += " BODY=7BIT";
            if (caps_.smtputf8 && (t.smtputf8 || !is_ascii(t.reverse_path) ||
                                   std::any_of(t.recipients.begin(), t.recipients.end(),
                                               [](const auto& r) { return !is_ascii(r.address); })))
                line += " SMTPUTF8";
            if (t.requiretls) line += " REQUIRETLS";
            if (caps_.dsn) {
                if (t.ret == SmtpDsnRet::full) line += " RET=FULL";
                if (t.ret == SmtpDsnRet::hdrs) line += " RET=HDRS";
                if (!t.envid.empty()) line += " ENVID=" + xtext_encode(t.envid);
            }
            x.sent_mail = true;
            dirty_ = true;
            send(line, Cmd::mail);
            continue;
        }
        if (x.mail_failed || x.over) return;
        if (x.next_rcpt < t.recipients.size()) {
            size_t i = x.next_rcpt++;
            if (x.answered[i]) continue;  // refused locally
            const auto& r = t.recipients[i];
            std::string line = "RCPT TO:<" + r.address + ">";
            if (caps_.dsn && r.notify) {
                if (r.notify & smtp_notify::never) {
                    line += " NOTIFY=NEVER";
                } else {
                    std::string n;
                    if (r.notify & smtp_notify::success) n += ",SUCCESS";
                    if (r.notify & smtp_notify::failure) n += ",FAILURE";
                    if (r.notify & smtp_notify::delay) n += ",DELAY";
                    if (!n.empty()) line += " NOTIFY=" + n.substr(1);
                }
            }
            if (caps_.dsn && !r.orcpt.empty()) {
                size_t semi = r.orcpt.find(';');
                if (semi == std::string::npos)
                    line += " ORCPT=rfc822;" + xtext_encode(r.orcpt);
                else
                    line += " ORCPT=" + r.orcpt.substr(0, semi) + ";" +
                            xtext_encode(std::string_view(r.orcpt).substr(semi + 1));
            }
            send(line, Cmd::rcpt, uint32_t(i));
            continue;
        }
        if (!x.sent_data) {
            // Without a group the RCPT replies are known: nobody to send to, nothing sent.
            if (!group && x.accepted_count == 0) {
                x.over = true;
                finish_txn();
                return;
            }
            if (x.bdat) {
                // BDAT carries the message itself: wait for the RCPT replies first.
                if (!pending_.empty()) return;
                if (x.accepted_count == 0) {
                    x.over = true;
                    finish_txn();
                    return;
                }
                x.sent_data = true;
                x.body_open = true;
                state_ = Want::body;
                return;
            }
            x.sent_data = true;
            send("DATA", Cmd::data);
            return;
        }
        return;
    }
}

void SmtpClientSession::apply_to_accepted(SmtpOutcome o, const std::string& reply) {
    auto& x = *txn_;
    for (size_t i = 0; i < x.results.size(); ++i)
        if (x.accepted[i]) x.results[i] = {o, reply, true};
}

void SmtpClientSession::txn_reply(const Pending& p, const ClientReply& r) {
    if (!txn_) {
        fatal("421 4.5.0 protocol error: unexpected reply " + r.text());
        return;
    }
    auto& x = *txn_;
    switch (p.cmd) {
    case Cmd::mail:
        if (!r.positive()) {
            x.mail_failed = true;
            x.over = true;
            for (size_t i = 0; i < x.results.size(); ++i)
                if (!x.answered[i]) x.results[i] = {outcome_of(r), r.text(), true};
        }
        break;
    case Cmd::rcpt:
        if (x.mail_failed) break;  // pipelined after a refused MAIL: a 503, meaningless
        x.answered[p.index] = 1;
        if (r.positive()) {
            x.accepted[p.index] = 1;
            ++x.accepted_count;
            // Provisional: the end of data decides (a lost connection defers it).
            x.results[p.index] = {SmtpOutcome::deferred, "451 4.4.2 no reply to the data", false};
        } else {
            x.results[p.index] = {outcome_of(r), r.text(), true};
        }
        break;
    case Cmd::data:
        if (r.code == 354) {
            if (x.accepted_count == 0 || x.mail_failed) {
                // RFC 2920 3.1: nobody was accepted but the server wants the data anyway.
                out_ += ".\r\n";
                pending_.push_back({Cmd::lone_dot});
                x.over = true;
            } else {
                x.body_open = true;
                state_ = Want::body;
                return;
            }
        } else {
            if (!x.mail_failed && x.accepted_count > 0) apply_to_accepted(outcome_of(r), r.text());
            x.over = true;
        }
        break;
    case Cmd::dot:
        apply_to_accepted(outcome_of(r), r.text());
        x.over = true;
        dirty_ = false;
        break;
    case Cmd::lone_dot: dirty_ = false; break;
    case Cmd::bdat:
    case Cmd::bdat_last:
        if (!r.positive() && !x.body_failure) x.body_failure = r;
        if (x.body_failure) {
            // RFC 3030 2: after a failed chunk the server refuses the rest until RSET.
            x.body_open = false;
            dirty_ = true;
            if (!pending_.empty()) {
                state_ = Want::reply;
                return;
            }
            apply_to_accepted(outcome_of(*x.body_failure), x.body_failure->text());
            x.over = true;
            break;
        }
        if (p.cmd == Cmd::bdat_last) {
            apply_to_accepted(SmtpOutcome::delivered, r.text());
            dirty_ = false;
            x.over = true;
            break;
        }
        // An intermediate chunk's 250: without PIPELINING the next one may go now.
        if (x.body_open && pending_.empty()) state_ = Want::body;
        return;
    default: break;
    }
    if (x.over) {
        if (pending_.empty()) finish_txn();
        return;
    }
    advance();
}

void SmtpClientSession::feed_body(std::string_view chunk, bool last) {
    if (state_ != Want::body || !txn_) return;
    auto& x = *txn_;
    if (!x.bdat) {
        x.stuffer.feed(chunk, out_);
        if (last) {
            x.stuffer.finish(out_);
            x.body_done = true;
            x.body_open = false;
            pending_.push_back({Cmd::dot});
            state_ = Want::reply;
        }
        return;
    }
    std::string data;
    x.stuffer.feed(chunk, data);
    if (last) x.stuffer.finish(data);
    if (data.empty() && !last) return;
    out_ += "BDAT " + std::to_string(data.size()) + (last ? " LAST\r\n" : "\r\n");
    out_ += data;
    pending_.push_back({last ? Cmd::bdat_last : Cmd::bdat});
    if (last) {
        x.body_done = true;
        x.body_open = false;
        state_ = Want::reply;
    } else if (!caps_.pipelining) {
        state_ = Want::reply;  // one chunk at a time: the next after this one's reply
    }
}

void SmtpClientSession::finish_txn() {
    results_ = std::move(txn_->results);
    results_ready_ = true;
    txn_.reset();
    state_ = Want::transaction;
}

}  // namespace postern
