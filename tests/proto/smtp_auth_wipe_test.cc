// SMTP AUTH and the input buffer: after an AUTH command (with or without its initial
// response, accepted or refused) or a SASL response line, the session has the transport wipe
// its input (SmtpTransport::wipe_input), so no copy of the credential stays in the
// LineReader. A transport that does not wipe keeps it: the check can see it.

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "libproto/core/base64.h"
#include "libproto/core/line_reader.h"
#include "libproto/smtp/smtp_session.h"

using namespace postern;

namespace {

struct Transport : SmtpTransport {
    LineReader reader{LineReaderLimits{smtp_max_auth_line, 1u << 20}};
    SmtpSession* session = nullptr;
    bool wipes = true;  // false: ignore wipe_input (what a transport without it would do)
    int wiped = 0;
    std::string out;
    bool paused = false;

    void write(std::string_view b) override { out += b; }
    void close() override {}
    void start_tls() override {}
    void pause_reading() override { paused = true; }
    void resume_reading() override { paused = false; }
    void read_raw(uint64_t n) override { reader.read_raw(n); }
    void set_max_line(size_t n) override { reader.set_limits({n, 1u << 20}); }
    void start_timer(uint64_t) override {}
    void wipe_input() override {
        ++wiped;
        if (wipes) reader.wipe_consumed();
    }
    // Hands over every line, as Connection::dispatch does (all of them: a pause only
    // delays lines, and the session drops the ones that arrive in one).
    void say(std::string_view bytes) {
        REQUIRE(reader.feed(bytes));
        while (auto ev = reader.next())
            if (ev->kind == LineEvent::Kind::line) session->on_line(ev->data, ev->end);
    }
};

struct Handler : SmtpHandler {
    void check_mail(const SmtpClientInfo&, const ParsedPath&, const MailParams&, Done d) override {
        d(SmtpVerdict::ok);
    }
    void check_rcpt(const SmtpClientInfo&, const ParsedPath&, Done d) override {
        d(SmtpVerdict::ok);
    }
    void check_data(const SmtpClientInfo&, const SmtpEnvelope&, Done d) override {
        d(SmtpVerdict::ok);
    }
    std::unique_ptr<SaslServer> sasl(std::string_view mech) override {
        SaslCallbacks cb;
        cb.resolve_login = [](std::string_view l) -> std::expected<std::string, SaslLookupError> {
            return std::string(l);
        };
        cb.verify_password = [](std::string_view, std::string_view pw) {
            return pw == "correct-horse-battery" ? PasswordCheck::ok : PasswordCheck::mismatch;
        };
        return make_sasl_server(mech, cb);
    }
};

struct Client {
    Transport t;
    Handler h;
    std::unique_ptr<SmtpSession> s;
    explicit Client(bool tls = true, bool wipes = true) {
        SmtpSessionConfig cfg;
        cfg.hostname = "mx.test";
        cfg.kind = SmtpListenerKind::submission;
        cfg.auth_failure_delay_ms = 0;
        SmtpClientInfo c;
        c.ip = "192.0.2.7";
        c.tls = tls;
        t.wipes = wipes;
        s = std::make_unique<SmtpSession>(cfg, c, t, h);
        t.session = s.get();
        s->on_open();
    }
};

bool holds_piece(std::string_view storage, std::string_view secret) {
    for (size_t i = 0; i + 8 <= secret.size(); ++i)
        if (storage.find(secret.substr(i, 8)) != std::string_view::npos) return true;
    return false;
}

const std::string kPlain = base64_encode(std::string("\0alice\0correct-horse-battery", 28));
const std::string kPassword = base64_encode("correct-horse-battery");

}  // namespace

TEST_CASE("smtp auth wipe: AUTH PLAIN with an initial response leaves no copy",
          "[smtp][auth][secret]") {
    Client c;
    c.t.say("EHLO client.test\r\nAUTH PLAIN " + kPlain + "\r\n");
    CHECK(c.t.out.find("235 ") != std::string::npos);
    CHECK_FALSE(holds_piece(c.t.reader.raw_buffer_for_tests(), kPlain));
}

TEST_CASE("smtp auth wipe: the check sees a credential a transport did not wipe",
          "[smtp][auth][secret]") {
    Client c(true, false);
    c.t.say("EHLO client.test\r\nAUTH PLAIN " + kPlain + "\r\n");
    CHECK(c.t.wiped > 0);  // the session asked
    CHECK(holds_piece(c.t.reader.raw_buffer_for_tests(), kPlain));
}

TEST_CASE("smtp auth wipe: AUTH LOGIN responses leave no copy", "[smtp][auth][secret]") {
    Client c;
    c.t.say("EHLO client.test\r\nAUTH LOGIN\r\n");
    c.t.say(base64_encode("alice") + "\r\n");
    c.t.say(kPassword + "\r\n");
    CHECK(c.t.out.find("235 ") != std::string::npos);
    CHECK_FALSE(holds_piece(c.t.reader.raw_buffer_for_tests(), kPassword));
}

TEST_CASE("smtp auth wipe: a refused AUTH and a bad password leave no copy",
          "[smtp][auth][secret]") {
    SECTION("AUTH before EHLO") {
        Client c;
        c.t.say("AUTH PLAIN " + kPlain + "\r\n");
        CHECK(c.t.out.find("503 ") != std::string::npos);
        CHECK_FALSE(holds_piece(c.t.reader.raw_buffer_for_tests(), kPlain));
    }
    SECTION("AUTH without TLS, plaintext not allowed") {
        Client c(false);
        c.t.say("EHLO client.test\r\nauth plain " + kPlain + "\r\n");
        CHECK(c.t.out.find("235 ") == std::string::npos);
        CHECK_FALSE(holds_piece(c.t.reader.raw_buffer_for_tests(), kPlain));
    }
    SECTION("a wrong password") {
        Client c;
        std::string wrong = base64_encode(std::string("\0alice\0wrong-horse-battery!", 27));
        c.t.say("EHLO client.test\r\nAUTH PLAIN " + wrong + "\r\n");
        CHECK(c.t.out.find("235 ") == std::string::npos);  // the 535 waits for the delay
        CHECK_FALSE(holds_piece(c.t.reader.raw_buffer_for_tests(), wrong));
    }
}
