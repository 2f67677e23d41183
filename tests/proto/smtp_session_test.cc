// Session tests: the SMTP engine over an in-memory transport (a LineReader,
// like the real Connection) and a fake policy handler.
#include "libproto/core/base64.h"
#include "libproto/smtp/smtp_session.h"

#include <catch2/catch.hpp>
#include <deque>
#include <map>

using namespace postern;

namespace {

struct FakeTransport : SmtpTransport {
    LineReader reader{LineReaderLimits{smtp_max_auth_line, 64u << 20}};
    SmtpSession* session = nullptr;
    std::string out;
    bool closed = false;
    bool tls_started = false;
    bool paused = false;
    bool dispatching = false;
    bool timer = false;

    void write(std::string_view b) override {
        if (!closed) out += b;
    }
    void close() override { closed = true; }
    void start_tls() override {
        tls_started = true;
        reader.discard();
    }
    void pause_reading() override { paused = true; }
    void resume_reading() override {
        paused = false;
        if (!dispatching) pump();
    }
    void read_raw(uint64_t n) override { reader.read_raw(n); }
    void set_max_line(size_t n) override {
        reader.set_limits(LineReaderLimits{n, std::max<size_t>(n + 65536, 64u << 20)});
    }
    void set_split_lines(bool on) override {
        auto l = reader.limits();
        l.split_long_lines = on;
        reader.set_limits(l);
    }
    void start_timer(uint64_t) override { timer = true; }

    void send(std::string_view bytes) {
        REQUIRE(reader.feed(bytes));
        pump();
    }
    void pump() {
        dispatching = true;
        while (!paused && !closed) {
            auto ev = reader.next();
            if (!ev) break;
            switch (ev->kind) {
            case LineEvent::Kind::line: session->on_line(ev->data, ev->end); break;
            case LineEvent::Kind::too_long: session->on_line_too_long(); break;
            case LineEvent::Kind::raw: session->on_raw(ev->data, ev->raw_last); break;
            }
        }
        dispatching = false;
    }
    void fire_timer() {
        REQUIRE(timer);
        timer = false;
        session->on_timer();
    }
    // The output since the last call.
    std::string take() { return std::exchange(out, {}); }
};

struct FakeHandler : SmtpHandler {
    std::map<std::string, SmtpVerdict> rcpt_verdicts;  // default ok
    SmtpVerdict mail_verdict = SmtpVerdict::ok;
    SmtpVerdict data_verdict = SmtpVerdict::ok;
    bool async = false;  // hold callbacks until run_pending()
    std::deque<std::function<void()>> pending;
    std::vector<SmtpMessage> delivered;
    int next_id = 1;

    void later(std::function<void()> fn) {
        if (async)
            pending.push_back(std::move(fn));
        else
            fn();
    }
    void run_pending() {
        while (!pending.empty()) {
            auto fn = std::move(pending.front());
            pending.pop_front();
            fn();
        }
    }
    void check_mail(const SmtpClientInfo&, const ParsedPath&, const MailParams&,
                    Done done) override {
        later([this, done] { done(mail_verdict); });
    }
    void check_rcpt(const SmtpClientInfo&, const ParsedPath& to, Done done) override {
        auto it = rcpt_verdicts.find(to.local + "@" + to.domain);
        SmtpVerdict v = it == rcpt_verdicts.end() ? SmtpVerdict::ok : it->second;
        later([v, done] { done(v); });
    }
    void check_data(const SmtpClientInfo&, const SmtpEnvelope&, Done done) override {
        later([this, done] { done(data_verdict); });
    }
    void deliver(const SmtpClientInfo&, SmtpMessage msg,
                 std::function<void(SmtpDeliveryResult)> done) override {
        delivered.push_back(std::move(msg));
        std::string id = "Q" + std::to_string(next_id++);
        later([id, done] { done({SmtpVerdict::ok, id}); });
    }
    std::unique_ptr<SaslServer> sasl(std::string_view mech) override {
        SaslCallbacks cb;
        cb.resolve_login =
            [](std::string_view login) -> std::expected<std::string, SaslLookupError> {
            if (login == "alice" || login == "alice@example.test") return "alice@example.test";
            return std::unexpected(SaslLookupError::not_found);
        };
        cb.verify_password = [](std::string_view user, std::string_view pw) {
            return user == "alice@example.test" && pw == "secret" ? PasswordCheck::ok
                                                                  : PasswordCheck::mismatch;
        };
        return make_sasl_server(mech, cb);
    }
};

struct Harness {
    FakeTransport t;
    FakeHandler h;
    SmtpSessionConfig cfg;
    std::unique_ptr<SmtpSession> s;

    explicit Harness(std::function<void(SmtpSessionConfig&)> tweak = {}) {
        cfg.hostname = "mx.test";
        cfg.max_message_size = 10000;
        cfg.max_recipients = 3;
        cfg.max_bad_commands = 3;
        cfg.tls_available = true;
        cfg.clock = [] { return std::time_t{1704189600}; };
        if (tweak) tweak(cfg);
        SmtpClientInfo client;
        client.ip = "192.0.2.7";
        s = std::make_unique<SmtpSession>(cfg, client, t, h);
        t.session = s.get();
        s->on_open();
    }
    std::string say(std::string_view bytes) {
        t.take();
        t.send(bytes);
        return t.take();
    }
    void tls() {
        say("EHLO c\r\n");
        REQUIRE(say("STARTTLS\r\n") == "220 2.0.0 Ready to start TLS\r\n");
        s->on_tls_ready("TLSv1.3", "TLS_AES_256_GCM_SHA384");
    }
};

std::string plain(std::string_view user, std::string_view pw) {
    std::string raw =
        std::string("\0", 1) + std::string(user) + std::string("\0", 1) + std::string(pw);
    return base64_encode(raw);
}

}  // namespace

TEST_CASE("smtp_session: greeting and EHLO extensions") {
    Harness x;
    CHECK(x.t.take() == "220 mx.test ESMTP Postern\r\n");
    auto ehlo = x.say("EHLO client.example\r\n");
    INFO(ehlo);
    CHECK(ehlo.starts_with("250-mx.test\r\n"));
    for (const char* ext : {"250-PIPELINING\r\n", "250-SIZE 10000\r\n", "250-8BITMIME\r\n",
                            "250-ENHANCEDSTATUSCODES\r\n", "250-STARTTLS\r\n", "250-SMTPUTF8\r\n",
                            "250-DSN\r\n", "250-CHUNKING\r\n", "250 HELP\r\n"})
        CHECK(ehlo.find(ext) != std::string::npos);
    CHECK(ehlo.find("AUTH") == std::string::npos);        // not before TLS
    CHECK(ehlo.find("REQUIRETLS") == std::string::npos);  // RFC 8689 4: only inside TLS

    x.tls();
    auto after = x.say("EHLO client.example\r\n");
    CHECK(after.find("STARTTLS") == std::string::npos);
    CHECK(after.find("250-REQUIRETLS\r\n") != std::string::npos);
    CHECK(after.find("250-AUTH SCRAM-SHA-256 PLAIN LOGIN\r\n") != std::string::npos);

    CHECK(x.say("HELO client.example\r\n") == "250 mx.test\r\n");
}

TEST_CASE("smtp_session: a full transaction delivers the unstuffed body and envelope") {
    Harness x;
    auto out = x.say(
        "EHLO c\r\nMAIL FROM:<s@src.example> BODY=8BITMIME\r\n"
        "RCPT TO:<u@dst.example> NOTIFY=FAILURE\r\nDATA\r\n");
    CHECK(out.ends_with("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"));
    out = x.say("Subject: hi\r\n\r\n..dot\r\n\xc3\xa9\r\n.\r\n");
    CHECK(out == "250 2.0.0 Ok: queued as Q1\r\n");
    REQUIRE(x.h.delivered.size() == 1);
    const auto& m = x.h.delivered[0];
    CHECK(m.body == "Subject: hi\r\n\r\n.dot\r\n\xc3\xa9\r\n");
    CHECK(m.eight_bit);
    CHECK(m.envelope.reverse_path == "s@src.example");
    REQUIRE(m.envelope.recipients.size() == 1);
    CHECK(m.envelope.recipients[0].address == "u@dst.example");
    CHECK(m.envelope.recipients[0].dsn.notify == notify_failure);
    CHECK(m.envelope.params.body == SmtpBody::eight_bit_mime);
    auto rcv = format_received(m.received, "Q1");
    INFO(rcv);
    CHECK(rcv.starts_with(
        "Received: from c ([192.0.2.7])\r\n\tby mx.test (Postern) with ESMTP id Q1\r\n"));
    CHECK(rcv.ends_with("\tfor <u@dst.example>; Tue, 02 Jan 2024 10:00:00 +0000\r\n"));
    // The session is ready for the next message.
    CHECK(x.say("MAIL FROM:<>\r\n") == "250 2.1.0 Ok\r\n");
}

TEST_CASE("smtp_session: <Postmaster> is recorded as the postmaster of this host") {
    Harness x;
    x.say("EHLO c\r\nMAIL FROM:<s@src.example>\r\nRCPT TO:<Postmaster>\r\nDATA\r\n");
    CHECK(x.say("x\r\n.\r\n") == "250 2.0.0 Ok: queued as Q1\r\n");
    REQUIRE(x.h.delivered.size() == 1);
    REQUIRE(x.h.delivered[0].envelope.recipients.size() == 1);
    CHECK(x.h.delivered[0].envelope.recipients[0].address == "postmaster@mx.test");
}

TEST_CASE("smtp_session: pipelined replies come in command order, also when the handler is slow") {
    Harness x;
    x.h.rcpt_verdicts["nobody@dst.example"] = SmtpVerdict::unknown_user;
    x.h.rcpt_verdicts["far@away.example"] = SmtpVerdict::relay_denied;
    x.h.async = true;
    x.say("EHLO c\r\n");
    auto out = x.say(
        "MAIL FROM:<s@x.example>\r\nRCPT TO:<a@dst.example>\r\n"
        "RCPT TO:<nobody@dst.example>\r\nRCPT TO:<far@away.example>\r\n"
        "RCPT TO:<b@dst.example>\r\nDATA\r\nbody\r\n.\r\nNOOP\r\n");
    CHECK(out.empty());  // waiting for the handler
    x.h.run_pending();
    // Each answer releases the next command; run until idle.
    for (int i = 0; i < 20 && !x.h.pending.empty(); ++i) x.h.run_pending();
    CHECK(x.t.take() ==
          "250 2.1.0 Ok\r\n"
          "250 2.1.5 Ok\r\n"
          "550 5.1.1 Recipient address rejected: User unknown\r\n"
          "554 5.7.1 Relay access denied\r\n"
          "250 2.1.5 Ok\r\n"
          "354 End data with <CR><LF>.<CR><LF>\r\n"
          "250 2.0.0 Ok: queued as Q1\r\n"
          "250 2.0.0 Ok\r\n");
    REQUIRE(x.h.delivered.size() == 1);
    CHECK(x.h.delivered[0].envelope.recipients.size() == 2);
}

TEST_CASE("smtp_session: STARTTLS drops pipelined plaintext and resets the session") {
    Harness x;
    x.say("EHLO c\r\n");
    CHECK(x.say("STARTTLS\r\nRSET\r\nMAIL FROM:<evil@x.example>\r\n") ==
          "220 2.0.0 Ready to start TLS\r\n");
    CHECK(x.t.tls_started);
    x.s->on_tls_ready("TLSv1.3", "TLS_AES_128_GCM_SHA256");
    CHECK(x.t.take().empty());  // the injected RSET/MAIL were never answered
    CHECK(x.say("MAIL FROM:<a@b.example>\r\n") == "503 5.5.1 Error: send HELO/EHLO first\r\n");
    x.say("EHLO c\r\n");
    CHECK(x.say("STARTTLS\r\n") == "503 5.5.1 Error: TLS already active\r\n");
}

TEST_CASE("smtp_session: STARTTLS without TLS configured") {
    Harness x([](SmtpSessionConfig& c) { c.tls_available = false; });
    CHECK(x.say("EHLO c\r\n").find("STARTTLS") == std::string::npos);
    CHECK(x.say("STARTTLS\r\n") == "454 4.7.0 TLS not available\r\n");
}

TEST_CASE("smtp_session: command gating") {
    struct Case {
        const char* label;
        std::string input;
        const char* want;  // last reply
    };
    auto tc = GENERATE(values<Case>({
        {"MAIL before EHLO", "MAIL FROM:<a@b.example>\r\n",
         "503 5.5.1 Error: send HELO/EHLO first\r\n"},
        {"RCPT before MAIL", "EHLO c\r\nRCPT TO:<a@b.example>\r\n",
         "503 5.5.1 Error: need MAIL command\r\n"},
        {"DATA before RCPT", "EHLO c\r\nMAIL FROM:<>\r\nDATA\r\n",
         "503 5.5.1 Error: need RCPT command\r\n"},
        {"nested MAIL", "EHLO c\r\nMAIL FROM:<>\r\nMAIL FROM:<>\r\n",
         "503 5.5.1 Error: nested MAIL command\r\n"},
        {"unknown", "EHLO c\r\nFROB\r\n", "500 5.5.1 Error: command not recognized\r\n"},
        {"syntax", "EHLO c\r\nMAIL FROM:x\r\n", "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"},
        {"bad param", "EHLO c\r\nMAIL FROM:<> X=1\r\n", "555 5.5.4 unsupported parameter X\r\n"},
        {"source route", "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<@a.example:u@b.example>\r\n",
         "553 5.1.3"},
        {"double at", "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<u@v@b.example>\r\n", "553 5.1.3"},
        {"utf8 without SMTPUTF8", "EHLO c\r\nMAIL FROM:<\xc3\xa9@b.example>\r\n", "553 5.6.7"},
        {"vrfy off", "VRFY alice\r\n",
         "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery\r\n"},
        {"expn", "EXPN list\r\n", "502 5.5.1 Error: EXPN not available\r\n"},
        {"auth before tls", "EHLO c\r\nAUTH PLAIN\r\n",
         "538 5.7.11 Encryption required for requested authentication mechanism\r\n"},
        {"line too long", "EHLO c\r\nNOOP " + std::string(1200, 'x') + "\r\n",
         "500 5.5.2 Error: line too long\r\n"},
        {"size too big", "EHLO c\r\nMAIL FROM:<> SIZE=10001\r\n",
         "552 5.3.4 Message size exceeds fixed maximum message size\r\n"},
        {"size ok", "EHLO c\r\nMAIL FROM:<> SIZE=10000\r\n", "250 2.1.0 Ok\r\n"},
        {"quit", "QUIT\r\n", "221 2.0.0 Bye\r\n"},
    }));
    DYNAMIC_SECTION(tc.label) {
        Harness x;
        auto out = x.say(tc.input);
        auto last = out.substr(out.rfind("\r\n", out.size() - 3) == std::string::npos
                                   ? 0
                                   : out.rfind("\r\n", out.size() - 3) + 2);
        INFO("got: " << out);
        CHECK(last.starts_with(tc.want));
    }
}

TEST_CASE("smtp_session: MAIL with REQUIRETLS only inside TLS") {
    Harness x;
    x.say("EHLO c\r\n");
    CHECK(x.say("MAIL FROM:<a@b.example> REQUIRETLS\r\n") ==
          "530 5.7.10 REQUIRETLS needs a TLS session\r\n");
    x.tls();
    x.say("EHLO c\r\n");
    CHECK(x.say("MAIL FROM:<a@b.example> REQUIRETLS\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
                "hi\r\n.\r\n")
              .ends_with("250 2.0.0 Ok: queued as Q1\r\n"));
    CHECK(x.h.delivered.at(0).envelope.params.requiretls);
}

TEST_CASE("smtp_session: submission requires AUTH before MAIL") {
    Harness x([](SmtpSessionConfig& c) { c.kind = SmtpListenerKind::submission; });
    x.say("EHLO c\r\n");
    CHECK(x.say("MAIL FROM:<a@b.example>\r\n") == "530 5.7.0 Authentication required\r\n");
    x.tls();
    x.say("EHLO c\r\n");
    CHECK(x.say("AUTH PLAIN " + plain("alice", "secret") + "\r\n") ==
          "235 2.7.0 Authentication successful\r\n");
    CHECK(x.s->client().auth_user == "alice@example.test");
    CHECK(x.say("AUTH PLAIN " + plain("alice", "secret") + "\r\n") ==
          "503 5.5.1 Error: already authenticated\r\n");
    CHECK(x.say("MAIL FROM:<alice@example.test>\r\nRCPT TO:<x@far.example>\r\nDATA\r\nhi\r\n.\r\n")
              .ends_with("250 2.0.0 Ok: queued as Q1\r\n"));
    auto rcv = format_received(x.h.delivered.at(0).received, "Q1");
    INFO(rcv);
    CHECK(rcv.find("with ESMTPSA id Q1") != std::string::npos);
    CHECK(rcv.find("(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384; authenticated user "
                   "alice@example.test)") != std::string::npos);
}

TEST_CASE("smtp_session: AUTH LOGIN challenge/response and failures with delay") {
    Harness x([](SmtpSessionConfig& c) { c.max_auth_failures = 2; });
    x.tls();
    x.say("EHLO c\r\n");
    CHECK(x.say("AUTH LOGIN\r\n") == "334 VXNlcm5hbWU6\r\n");
    CHECK(x.say(base64_encode("alice") + "\r\n") == "334 UGFzc3dvcmQ6\r\n");
    // Wrong password: no answer until the delay timer fires; pipelined input waits.
    CHECK(x.say(base64_encode("wrong") + "\r\nNOOP\r\n").empty());
    x.t.fire_timer();
    CHECK(x.t.take() == "535 5.7.8 Authentication credentials invalid\r\n250 2.0.0 Ok\r\n");
    CHECK(x.say("AUTH PLAIN " + plain("alice", "nope") + "\r\n").empty());
    x.t.fire_timer();
    CHECK(x.t.take() ==
          "535 5.7.8 Authentication credentials invalid\r\n"
          "421 4.7.0 mx.test Error: too many authentication failures\r\n");
    CHECK(x.t.closed);
}

TEST_CASE("smtp_session: AUTH cancel and unknown mechanism") {
    Harness x;
    x.tls();
    x.say("EHLO c\r\n");
    CHECK(x.say("AUTH FOO\r\n") == "504 5.5.4 Unrecognized authentication type\r\n");
    CHECK(x.say("AUTH PLAIN\r\n") == "334 \r\n");
    CHECK(x.say("*\r\n") == "501 5.0.0 Authentication cancelled\r\n");
    CHECK(x.say("NOOP\r\n") == "250 2.0.0 Ok\r\n");
}

TEST_CASE("smtp_session: too many bad commands end the session") {
    Harness x;  // max_bad_commands = 3
    x.t.take();
    auto out = x.say("FOO\r\nBAR\r\nBAZ\r\nQUX\r\nNOOP\r\n");
    CHECK(out ==
          "500 5.5.1 Error: command not recognized\r\n"
          "500 5.5.1 Error: command not recognized\r\n"
          "500 5.5.1 Error: command not recognized\r\n"
          "421 4.7.0 mx.test Error: too many errors, closing\r\n");
    CHECK(x.t.closed);
}

TEST_CASE("smtp_session: recipient limit") {
    Harness x;  // max_recipients = 3
    auto out = x.say(
        "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@d.example>\r\nRCPT TO:<b@d.example>\r\n"
        "RCPT TO:<c@d.example>\r\nRCPT TO:<e@d.example>\r\n");
    CHECK(out.ends_with("250 2.1.5 Ok\r\n452 4.5.3 Error: too many recipients\r\n"));
}

TEST_CASE("smtp_session: an oversized body is read to its end, then refused") {
    Harness x;  // max 10000
    x.say("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@d.example>\r\nDATA\r\n");
    std::string line(99, 'x');
    std::string body;
    for (int i = 0; i < 200; ++i) body += line + "\r\n";
    CHECK(x.say(body + ".\r\nNOOP\r\n") ==
          "552 5.3.4 Message size exceeds fixed limit\r\n250 2.0.0 Ok\r\n");
    CHECK(x.h.delivered.empty());
    CHECK(x.say("RCPT TO:<a@d.example>\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
}

TEST_CASE("smtp_session: smuggling attempts stay inside one message") {
    for (std::string sep : {"\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r", "\r\n.\r"}) {
        DYNAMIC_SECTION("separator " << sep.size()) {
            Harness x;
            x.say("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@d.example>\r\nDATA\r\n");
            auto out = x.say("Subject: one\r\n\r\nfirst" + sep +
                             "MAIL FROM:<admin@d.example>\r\nRCPT TO:<u@d.example>\r\nDATA\r\n"
                             "Subject: smuggled\r\n\r\n.\r\n");
            CHECK(out == "250 2.0.0 Ok: queued as Q1\r\n");
            REQUIRE(x.h.delivered.size() == 1);
            CHECK(x.h.delivered[0].body.find("Subject: smuggled") != std::string::npos);
        }
    }
}

TEST_CASE("smtp_session: BDAT chunks") {
    Harness x;
    x.say("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@d.example>\r\n");
    CHECK(x.say("BDAT 5\r\nab\r\n.BDAT 3 LAST\r\nxyz") ==
          "250 2.0.0 5 octets received\r\n250 2.0.0 Ok: queued as Q1\r\n");
    REQUIRE(x.h.delivered.size() == 1);
    CHECK(x.h.delivered[0].body == "ab\r\n.xyz");

    // BDAT without a transaction: the chunk is still read and dropped.
    CHECK(x.say("BDAT 6\r\nNOOP\r\nNOOP\r\n") ==
          "503 5.5.1 Error: need RCPT command\r\n250 2.0.0 Ok\r\n");
    // DATA after BDAT is refused; an oversized chunk fails the transaction.
    x.say("MAIL FROM:<>\r\nRCPT TO:<u@d.example>\r\nBDAT 1\r\nx");
    CHECK(x.say("DATA\r\n") == "503 5.5.1 Error: DATA after BDAT\r\n");
    CHECK(x.say("BDAT 6000\r\n" + std::string(6000, 'z')) == "250 2.0.0 6001 octets received\r\n");
    CHECK(x.say("BDAT 6000 LAST\r\n" + std::string(6000, 'z')) ==
          "552 5.3.4 Message size exceeds fixed limit\r\n");
    CHECK(x.say("BDAT 0 LAST\r\n") == "503 5.5.1 Error: need RCPT command\r\n");
}

TEST_CASE("smtp_session: a BDAT chunk larger than the size limit is refused at once") {
    for (const char* size : {"10001", "18446744073709551615"}) {
        DYNAMIC_SECTION(size) {
            Harness x;
            x.say("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@d.example>\r\n");
            // Nothing of the chunk is sent: the reply comes without reading it.
            CHECK(x.say(std::string("BDAT ") + size + " LAST\r\n") ==
                  "552 5.3.4 Message size exceeds fixed limit\r\n");
            CHECK(x.t.closed);
            CHECK(x.h.delivered.empty());
        }
    }
    Harness y;  // also outside a transaction (the chunk would be read and dropped)
    y.say("EHLO c\r\n");
    CHECK(y.say("BDAT 18446744073709551615\r\n") ==
          "552 5.3.4 Message size exceeds fixed limit\r\n");
    CHECK(y.t.closed);
}

TEST_CASE("smtp_session: a message must arrive at the minimum data rate") {
    std::time_t clock = 1704189600;
    auto slow = [&](SmtpSessionConfig& c) {
        c.clock = [&clock] { return clock; };
        c.min_data_rate = 100;
        c.data_grace_seconds = 30;
    };
    SECTION("DATA") {
        Harness x(slow);
        x.say("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@d.example>\r\nDATA\r\n");
        clock += 29;  // within the grace
        CHECK(x.say("Subject: one line\r\n").empty());
        clock += 5;  // 34 s for 37 bytes: allowed is 30 + 37/100
        CHECK(x.say("second\r\n") == "421 4.4.2 mx.test Error: message transfer too slow\r\n");
        CHECK(x.t.closed);
        CHECK(x.h.delivered.empty());
    }
    SECTION("BDAT chunks count as one message") {
        Harness x(slow);
        x.say("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@d.example>\r\n");
        CHECK(x.say("BDAT 4000\r\n" + std::string(4000, 'a')) ==
              "250 2.0.0 4000 octets received\r\n");
        clock += 60;  // 4000 bytes earn 40 s beyond the 30 s grace
        CHECK(x.say("BDAT 10 LAST\r\n0123456789") == "250 2.0.0 Ok: queued as Q1\r\n");
        x.say("MAIL FROM:<a@b.example>\r\nRCPT TO:<u@d.example>\r\n");
        CHECK(x.say("BDAT 10\r\n0123456789") == "250 2.0.0 10 octets received\r\n");
        clock += 31;
        CHECK(x.say("BDAT 1 LAST\r\nx") ==
              "421 4.4.2 mx.test Error: message transfer too slow\r\n");
        CHECK(x.h.delivered.size() == 1);
    }
    SECTION("a fast message is not affected") {
        Harness x(slow);
        x.say("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@d.example>\r\nDATA\r\n");
        CHECK(x.say("Subject: quick\r\n\r\nbody\r\n.\r\n") == "250 2.0.0 Ok: queued as Q1\r\n");
    }
}

TEST_CASE("smtp_session: no room refuses DATA") {
    Harness x;
    x.h.data_verdict = SmtpVerdict::no_room;
    CHECK(x.say("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<u@d.example>\r\nDATA\r\n")
              .ends_with("452 4.3.1 Insufficient system storage\r\n"));
}

TEST_CASE("smtp_session: idle timeout and shutdown") {
    Harness x;
    x.t.take();
    x.s->on_idle_timeout();
    CHECK(x.t.take() == "421 4.4.2 mx.test Error: timeout exceeded\r\n");
    CHECK(x.t.closed);

    Harness y;
    y.h.async = true;
    y.say("EHLO c\r\nMAIL FROM:<>\r\n");
    y.h.run_pending();
    y.say("RCPT TO:<u@d.example>\r\n");
    y.h.run_pending();
    y.say("DATA\r\n");
    y.h.run_pending();
    y.say("x\r\n.\r\n");
    y.s->on_shutdown();  // the commit in flight gets its answer first
    CHECK_FALSE(y.t.closed);
    y.h.run_pending();
    CHECK(y.t.take() ==
          "250 2.0.0 Ok: queued as Q1\r\n421 4.3.2 mx.test Service shutting down\r\n");
    CHECK(y.t.closed);
}

TEST_CASE("smtp_session: a callback after the session is gone is ignored") {
    auto x = std::make_unique<Harness>();
    x->h.async = true;
    x->say("EHLO c\r\nMAIL FROM:<>\r\n");
    auto pending = std::move(x->h.pending);
    x->s.reset();
    for (auto& fn : pending) fn();  // must not touch the destroyed session
    SUCCEED();
}

TEST_CASE("smtp_session: single-byte feeding gives the same conversation") {
    Harness x;
    x.t.take();
    std::string in =
        "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@d.example>\r\nDATA\r\n"
        "x\r\n..y\r\n.\r\nQUIT\r\n";
    for (char c : in) x.t.send(std::string_view(&c, 1));
    auto out = x.t.take();
    CHECK(out.ends_with("250 2.0.0 Ok: queued as Q1\r\n221 2.0.0 Bye\r\n"));
    REQUIRE(x.h.delivered.size() == 1);
    CHECK(x.h.delivered[0].body == "x\r\n.y\r\n");
}

TEST_CASE("smtp_session: web clients are dropped") {
    Harness x;
    x.t.take();
    CHECK(x.say("GET / HTTP/1.0\r\n").empty());
    CHECK(x.t.closed);
}

namespace {

// The body DataReader stores for `in` fed at once (the reference).
std::string stored_body(std::string_view in, uint64_t max) {
    DataReader r(max);
    r.feed(in);
    REQUIRE(r.done());
    return r.message();
}

}  // namespace

TEST_CASE("smtp_session: body lines longer than the line limit stream through in pieces") {
    // A dot-stuffed long line, a long line ended by a bare LF, a bare CR at a
    // piece boundary, a long "." line that is content: all byte-exact, whatever the split.
    std::string body = "Subject: long\r\n\r\n.." + std::string(50000, 'a') + "\r\n" +
                       std::string(30000, 'b') + "\n." + std::string(20000, 'c') + "\r\n" +
                       std::string(smtp_max_auth_line + 1, 'd') + "\rX\r\n" +
                       std::string(smtp_max_auth_line, 'e') + "\r\n.\r\n";
    const std::string want = stored_body(body, 1 << 20);
    CHECK(want.size() > 120000);
    for (size_t step : {size_t{0}, size_t{1}, size_t{4097}, smtp_max_auth_line + size_t{2}}) {
        DYNAMIC_SECTION("step " << step) {
            Harness x([](SmtpSessionConfig& c) { c.max_message_size = 1 << 20; });
            x.say("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@d.example>\r\nDATA\r\n");
            // The line limit stays the command limit: the reader buffers no whole line.
            CHECK(x.t.reader.limits().max_line == smtp_max_auth_line);
            CHECK(x.t.reader.limits().split_long_lines);
            std::string in = body + "NOOP\r\n";
            x.t.take();
            for (size_t i = 0; i < in.size(); i += step == 0 ? in.size() : step)
                x.t.send(std::string_view(in).substr(i, step == 0 ? in.size() : step));
            CHECK(x.t.take() == "250 2.0.0 Ok: queued as Q1\r\n250 2.0.0 Ok\r\n");
            REQUIRE(x.h.delivered.size() == 1);
            CHECK(x.h.delivered[0].body == want);
            // Back to commands: an over-long command line is refused again.
            CHECK_FALSE(x.t.reader.limits().split_long_lines);
            CHECK(x.say("NOOP " + std::string(smtp_max_auth_line + 10, 'x') + "\r\n") ==
                  "500 5.5.2 Error: line too long\r\n");
        }
    }
}

TEST_CASE("smtp_session: a body line longer than the whole message limit is read, then 552") {
    Harness x;  // max 10000
    x.say("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@d.example>\r\nDATA\r\n");
    CHECK(x.say(std::string(100000, 'x') + "\r\n.\r\nNOOP\r\n") ==
          "552 5.3.4 Message size exceeds fixed limit\r\n250 2.0.0 Ok\r\n");
    CHECK(x.h.delivered.empty());
    CHECK_FALSE(x.t.closed);
}

namespace {

// A sink that wants a flush every `flush_at` bytes and finishes the flush
// only when the test says so (the pool write in smtpd).
struct StreamHandler : FakeHandler {
    struct Sink : SmtpMessageSink {
        StreamHandler& h;
        explicit Sink(StreamHandler& hh) : h(hh) {}
        ~Sink() override {
            if (!h.committed) h.aborted = true;
        }
        void append(std::string_view b) override {
            REQUIRE_FALSE(h.flush_done);  // nothing arrives while a flush runs
            h.buffered += b.size();
            h.max_buffered = std::max(h.max_buffered, h.buffered);
            h.body.append(b);
        }
        bool wants_flush() const override { return h.buffered >= h.flush_at; }
        void flush(std::function<void()> done) override {
            ++h.flushes;
            h.flush_done = std::move(done);
        }
        void commit(bool, std::function<void(SmtpDeliveryResult)> done) override {
            h.committed = true;
            done({SmtpVerdict::ok, "S1"});
        }
    };
    size_t flush_at = 1000;
    size_t buffered = 0;
    size_t max_buffered = 0;
    int flushes = 0;
    int begun = 0;
    bool committed = false;
    bool aborted = false;
    std::string body;
    std::string received_for;
    std::function<void()> flush_done;

    void open_message(const SmtpClientInfo&, const SmtpEnvelope&, const ReceivedInfo& r,
                      OpenDone done) override {
        ++begun;
        received_for = r.for_rcpt;
        done({SmtpVerdict::ok, std::make_unique<Sink>(*this)});
    }
    // Finishes the pending flush; false if there was none.
    bool finish_flush() {
        if (!flush_done) return false;
        buffered = 0;
        std::exchange(flush_done, nullptr)();
        return true;
    }
};

struct StreamHarness : Harness {
    StreamHandler sh;
    StreamHarness() {
        SmtpClientInfo client;
        client.ip = "192.0.2.7";
        s = std::make_unique<SmtpSession>(cfg, client, t, sh);
        t.session = s.get();
        s->on_open();
    }
};

}  // namespace

TEST_CASE("smtp_session: DATA streams into the sink and pauses reading while it flushes") {
    StreamHarness x;
    x.say("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@d.example>\r\nDATA\r\n");
    CHECK(x.sh.begun == 1);
    CHECK(x.sh.received_for == "u@d.example");
    std::string body;
    for (int i = 0; i < 60; ++i) body += std::string(99, 'a' + i % 26) + "\r\n";
    CHECK(x.say(body + ".\r\nNOOP\r\n").empty());  // paused at the first flush
    CHECK(x.t.paused);
    int rounds = 0;
    while (x.sh.finish_flush() && rounds < 100) ++rounds;
    CHECK(rounds >= 5);
    CHECK(x.t.take() == "250 2.0.0 Ok: queued as S1\r\n250 2.0.0 Ok\r\n");
    CHECK(x.sh.body == body);
    CHECK(x.sh.committed);
    CHECK(x.sh.max_buffered <= x.sh.flush_at + 101);  // at most one line past the mark
}

TEST_CASE("smtp_session: BDAT chunks stream into the sink with backpressure") {
    StreamHarness x;
    x.say("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@d.example>\r\n");
    std::string a(2500, 'a'), b(3000, 'b');
    x.t.take();
    x.t.send("BDAT 2500\r\n" + a + "BDAT 3000 LAST\r\n" + b);
    CHECK(x.t.paused);  // the first chunk is being flushed: the second waits
    CHECK(x.t.take() == "250 2.0.0 2500 octets received\r\n");
    CHECK(x.sh.body == a);
    int rounds = 0;
    while (x.sh.finish_flush() && rounds < 100) ++rounds;
    CHECK(rounds == 1);  // the last chunk goes to the commit unflushed
    CHECK(x.t.take() == "250 2.0.0 Ok: queued as S1\r\n");
    CHECK(x.sh.body == a + b);
    CHECK(x.sh.committed);
}

TEST_CASE("smtp_session: an oversized or abandoned message drops its sink") {
    StreamHarness x;  // max 10000
    x.sh.flush_at = 1 << 20;
    x.say("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@d.example>\r\nDATA\r\n");
    CHECK(x.say(std::string(20000, 'x') + "\r\n.\r\n") ==
          "552 5.3.4 Message size exceeds fixed limit\r\n");
    CHECK(x.sh.aborted);
    CHECK_FALSE(x.sh.committed);

    x.sh.aborted = false;
    x.say("MAIL FROM:<>\r\nRCPT TO:<a@d.example>\r\nBDAT 10\r\n0123456789");
    CHECK(x.say("RSET\r\n") == "250 2.0.0 Ok\r\n");
    CHECK(x.sh.aborted);
}
