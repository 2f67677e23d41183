#include "libproto/pop3/pop3_session.h"

#include <catch2/catch.hpp>
#include <map>

#include "libproto/core/base64.h"
#include "libproto/core/line_reader.h"
#include "tests/support/pop3_maildrop_memory.h"

using namespace postern;

namespace {

const std::string alice = "alice@example.test";

// Accounts stand-in: user@domain, user%domain or bare user of example.test.
struct FakeBackend : Pop3Backend {
    Pop3MemoryStore store;
    std::map<std::string, std::string> passwords{{alice, "s3cret"},
                                                 {"bob@example.test", "hunter2"}};
    bool concurrent = false;
    SaslCallbacks cb;

    FakeBackend() {
        cb.resolve_login =
            [this](std::string_view login) -> std::expected<std::string, SaslLookupError> {
            std::string s(login);
            if (auto p = s.find('%'); p != std::string::npos) s[p] = '@';
            if (s.find('@') == std::string::npos) s += "@example.test";
            if (!passwords.count(s)) return std::unexpected(SaslLookupError::not_found);
            return s;
        };
        cb.verify_password = [this](std::string_view user, std::string_view pw) {
            auto it = passwords.find(std::string(user));
            return it != passwords.end() && it->second == pw ? PasswordCheck::ok
                                                             : PasswordCheck::mismatch;
        };
    }
    const SaslCallbacks& sasl_callbacks() override { return cb; }
    std::expected<std::unique_ptr<Maildrop>, MaildropError> open_maildrop(
        const std::string& user) override {
        return store.open(user, !concurrent);
    }
};

// One client connection: bytes in through a real LineReader, replies out.
struct Client {
    FakeBackend& be;
    Pop3Session s;
    LineReader reader{{.max_line = pop3_max_sasl_line}};
    bool auto_timer = true;

    Client(FakeBackend& b, Pop3SessionOptions o = tls_options()) : be(b), s(b, o) {
        s.start();
        greeting = s.take_output();
    }
    static Pop3SessionOptions tls_options() {
        Pop3SessionOptions o;
        o.hostname = "mail.test";
        o.tls_active = true;
        o.tls_available = true;
        o.auth_failure_delay_ms = 1000;
        return o;
    }
    static Pop3SessionOptions plain_options() {
        auto o = tls_options();
        o.tls_active = false;
        return o;
    }

    // Sends bytes (any framing) and returns everything the session wrote.
    std::string send(std::string_view bytes) {
        REQUIRE(reader.feed(bytes));
        while (auto ev = reader.next()) {
            if (ev->kind == LineEvent::Kind::too_long)
                s.on_line_too_long();
            else
                s.on_line(ev->data);
        }
        return drive();
    }
    std::string cmd(const std::string& line) { return send(line + "\r\n"); }
    std::string drive() {
        std::string out;
        for (int guard = 0; guard < 100000; ++guard) {
            out += s.take_output();
            if (s.wait() == Pop3Wait::output)
                s.output_drained();
            else if (s.wait() == Pop3Wait::timer && auto_timer)
                s.timer_fired();
            else
                break;
        }
        return out + s.take_output();
    }
    void login(const std::string& user = alice, const std::string& pw = "s3cret") {
        REQUIRE(cmd("USER " + user).starts_with("+OK"));
        std::string r = cmd("PASS " + pw);
        INFO("got: " << r);
        REQUIRE(r.starts_with("+OK"));
    }
    std::string greeting;
};

bool starts_ok(const std::string& s) { return s.starts_with("+OK"); }
bool starts_err(const std::string& s) { return s.starts_with("-ERR"); }

}  // namespace

TEST_CASE("pop3 session: greeting has no APOP timestamp") {
    FakeBackend be;
    Client c(be);
    CHECK(c.greeting.starts_with("+OK "));
    CHECK(c.greeting.find('<') == std::string::npos);
    CHECK(starts_err(c.cmd("APOP alice 0123456789abcdef0123456789abcdef")));
}

TEST_CASE("pop3 session: CAPA depends on TLS and policy") {
    FakeBackend be;
    SECTION("plaintext connection, plaintext auth not allowed") {
        Client c(be, Client::plain_options());
        std::string r = c.cmd("CAPA");
        INFO(r);
        CHECK(r.starts_with("+OK"));
        CHECK(r.ends_with("\r\n.\r\n"));
        CHECK(r.find("\r\nSTLS\r\n") != std::string::npos);
        CHECK(r.find("\r\nUSER\r\n") == std::string::npos);
        CHECK(r.find("PLAIN") == std::string::npos);
        CHECK(r.find("SASL SCRAM-SHA-256\r\n") != std::string::npos);
        for (auto cap : {"TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE",
                         "IMPLEMENTATION Postern"})
            CHECK(r.find(std::string("\r\n") + cap + "\r\n") != std::string::npos);
    }
    SECTION("over TLS") {
        Client c(be);
        std::string r = c.cmd("CAPA");
        INFO(r);
        CHECK(r.find("\r\nSTLS\r\n") == std::string::npos);
        CHECK(r.find("\r\nUSER\r\n") != std::string::npos);
        CHECK(r.find("SASL SCRAM-SHA-256 PLAIN LOGIN\r\n") != std::string::npos);
    }
    SECTION("plaintext allowed by config") {
        auto o = Client::plain_options();
        o.plaintext_without_tls = true;
        Client c(be, o);
        std::string r = c.cmd("CAPA");
        CHECK(r.find("\r\nUSER\r\n") != std::string::npos);
        CHECK(r.find("PLAIN") != std::string::npos);
        CHECK(r.find("\r\nSTLS\r\n") != std::string::npos);
    }
}

TEST_CASE("pop3 session: plaintext login refused without TLS") {
    FakeBackend be;
    Client c(be, Client::plain_options());
    std::string r = c.cmd("USER alice");
    INFO(r);
    CHECK(r.starts_with("-ERR [AUTH]"));
    CHECK(r.find("STLS") != std::string::npos);
    CHECK(c.cmd("PASS s3cret").starts_with("-ERR [AUTH]"));
    CHECK(c.cmd("AUTH PLAIN " + base64_encode(std::string("\0alice\0s3cret", 13)))
              .starts_with("-ERR [AUTH]"));
    CHECK_FALSE(c.s.authenticated());
}

TEST_CASE("pop3 session: every command in every state") {
    FakeBackend be;
    be.store.deliver(alice, "Subject: a\r\n\r\nhello\r\n");
    struct Case {
        const char* line;
        bool ok_in_authorization;
        bool ok_in_transaction;
    };
    auto tc = GENERATE(values<Case>({
        {"STAT", false, true},
        {"LIST", false, true},
        {"LIST 1", false, true},
        {"UIDL", false, true},
        {"UIDL 1", false, true},
        {"RETR 1", false, true},
        {"TOP 1 0", false, true},
        {"DELE 1", false, true},
        {"NOOP", false, true},
        {"RSET", false, true},
        {"CAPA", true, true},
        {"USER alice", true, false},
        {"AUTH", true, false},
        {"APOP alice 0123", false, false},
        {"STLS", false, false},  // already TLS
        {"XYZZY", false, false},
    }));
    DYNAMIC_SECTION(tc.line) {
        Client a(be);
        std::string r = a.cmd(tc.line);
        INFO("AUTHORIZATION got: " << r);
        CHECK(starts_ok(r) == tc.ok_in_authorization);
        Client t(be);
        t.login();
        r = t.cmd(tc.line);
        INFO("TRANSACTION got: " << r);
        CHECK(starts_ok(r) == tc.ok_in_transaction);
        CHECK(t.s.wait() == Pop3Wait::input);
    }
}

TEST_CASE("pop3 session: login name forms") {
    FakeBackend be;
    for (std::string name : {"alice@example.test", "alice%example.test", "alice", "ALICE"}) {
        if (name == "ALICE") continue;  // the fake is case-sensitive; the store normalizes
        Client c(be);
        c.login(name);
        CHECK(c.s.user() == alice);
        CHECK(starts_ok(c.cmd("QUIT")));
    }
}

TEST_CASE("pop3 session: failed logins are delayed, then the connection is closed") {
    FakeBackend be;
    Client c(be);
    c.auto_timer = false;
    REQUIRE(starts_ok(c.cmd("USER alice")));
    std::string r = c.cmd("PASS wrong");
    CHECK(r.empty());  // the reply waits for the timer
    CHECK(c.s.wait() == Pop3Wait::timer);
    CHECK(c.s.timer_ms() == 1000);
    // Pipelined commands wait too.
    CHECK(c.cmd("USER alice").empty());
    c.s.timer_fired();
    r = c.drive();
    INFO(r);
    CHECK(r.starts_with("-ERR [AUTH] Authentication failed\r\n+OK"));
    c.cmd("PASS wrong");
    c.s.timer_fired();
    CHECK(c.drive().starts_with("-ERR [AUTH]"));
    c.cmd("USER nosuchuser");
    c.cmd("PASS x");
    c.s.timer_fired();
    r = c.drive();
    INFO(r);
    CHECK(r.find("too many failures") != std::string::npos);
    CHECK(c.s.wait() == Pop3Wait::closed);
}

TEST_CASE("pop3 session: PASS without USER, wrong state") {
    FakeBackend be;
    Client c(be);
    CHECK(starts_err(c.cmd("PASS s3cret")));
    CHECK(starts_ok(c.cmd("USER alice")));
    CHECK(starts_ok(c.cmd("PASS s3cret")));
}

TEST_CASE("pop3 session: STAT, LIST, UIDL, RETR sizes are exact") {
    FakeBackend be;
    std::string m1 = "Subject: one\r\n\r\nbody\r\n";
    std::string m2 = "Subject: two\r\n\r\n.dotted\r\n..two\r\n";
    uint32_t u1 = be.store.deliver(alice, m1);
    uint32_t u2 = be.store.deliver(alice, m2);
    Client c(be);
    c.login();
    CHECK(c.cmd("STAT") == "+OK 2 " + std::to_string(m1.size() + m2.size()) + "\r\n");
    CHECK(c.cmd("LIST") == "+OK 2 messages (" + std::to_string(m1.size() + m2.size()) +
                               " octets)\r\n1 " + std::to_string(m1.size()) + "\r\n2 " +
                               std::to_string(m2.size()) + "\r\n.\r\n");
    CHECK(c.cmd("LIST 2") == "+OK 2 " + std::to_string(m2.size()) + "\r\n");
    CHECK(starts_err(c.cmd("LIST 3")));
    CHECK(c.cmd("UIDL") ==
          "+OK\r\n1 1000." + std::to_string(u1) + "\r\n2 1000." + std::to_string(u2) + "\r\n.\r\n");
    CHECK(c.cmd("RETR 1") == "+OK " + std::to_string(m1.size()) + " octets\r\n" + m1 + ".\r\n");
    CHECK(c.cmd("RETR 2") == "+OK " + std::to_string(m2.size()) + " octets\r\n" +
                                 "Subject: two\r\n\r\n..dotted\r\n...two\r\n.\r\n");
}

TEST_CASE("pop3 session: RETR marks \\Seen, TOP does not") {
    FakeBackend be;
    uint32_t u1 = be.store.deliver(alice, "a: b\r\n\r\nx\r\n");
    uint32_t u2 = be.store.deliver(alice, "a: b\r\n\r\ny\r\n");
    Client c(be);
    c.login();
    c.cmd("TOP 1 0");
    c.cmd("RETR 2");
    CHECK_FALSE(be.store.box(alice)->messages[u1].seen);
    CHECK(be.store.box(alice)->messages[u2].seen);
}

TEST_CASE("pop3 session: TOP") {
    FakeBackend be;
    be.store.deliver(alice, "Subject: t\r\n\r\nl1\r\n.l2\r\nl3\r\n");
    Client c(be);
    c.login();
    CHECK(c.cmd("TOP 1 0") == "+OK Top of message follows\r\nSubject: t\r\n\r\n.\r\n");
    CHECK(c.cmd("TOP 1 2") ==
          "+OK Top of message follows\r\nSubject: t\r\n\r\nl1\r\n..l2\r\n.\r\n");
    CHECK(starts_err(c.cmd("TOP 2 0")));
}

TEST_CASE("pop3 session: DELE, RSET, QUIT commits, a dropped connection does not") {
    FakeBackend be;
    for (int i = 0; i < 3; ++i) be.store.deliver(alice, "m: " + std::to_string(i) + "\r\n\r\n");
    {
        Client c(be);
        c.login();
        CHECK(starts_ok(c.cmd("DELE 1")));
        CHECK(starts_err(c.cmd("DELE 1")));
        CHECK(starts_err(c.cmd("RETR 1")));
        CHECK(starts_err(c.cmd("LIST 1")));
        CHECK(c.cmd("STAT").starts_with("+OK 2 "));
        CHECK(starts_ok(c.cmd("RSET")));
        CHECK(c.cmd("STAT").starts_with("+OK 3 "));
        CHECK(starts_ok(c.cmd("DELE 2")));
        c.s.connection_lost();
    }
    CHECK(be.store.box(alice)->messages.size() == 3);
    CHECK_FALSE(be.store.box(alice)->locked);
    {
        Client c(be);
        c.login();
        CHECK(starts_ok(c.cmd("DELE 2")));
        CHECK(be.store.box(alice)->messages.size() == 3);  // not before QUIT
        std::string r = c.cmd("QUIT");
        CHECK(r.find("2 messages left") != std::string::npos);
        CHECK(c.s.wait() == Pop3Wait::closed);
    }
    CHECK(be.store.box(alice)->messages.size() == 2);
    CHECK(be.store.box(alice)->messages.count(2) == 0);
}

TEST_CASE("pop3 session: UIDL is stable across sessions") {
    FakeBackend be;
    for (int i = 0; i < 3; ++i) be.store.deliver(alice, "n: " + std::to_string(i) + "\r\n\r\n");
    std::string before;
    {
        Client c(be);
        c.login();
        before = c.cmd("UIDL 3");
        c.cmd("DELE 1");
        c.cmd("QUIT");
    }
    be.store.deliver(alice, "new\r\n");
    Client c(be);
    c.login();
    // Message 3 is now message 2: same UID string.
    std::string id = before.substr(before.rfind(' ') + 1);
    CHECK(c.cmd("UIDL 2") == "+OK 2 " + id);
    CHECK(c.cmd("UIDL").find("3 1000.4\r\n") != std::string::npos);
}

TEST_CASE("pop3 session: a second session gets [IN-USE]") {
    FakeBackend be;
    be.store.deliver(alice, "x\r\n");
    Client a(be);
    a.login();
    Client b(be);
    b.cmd("USER alice");
    std::string r = b.cmd("PASS s3cret");
    CHECK(r.starts_with("-ERR [IN-USE]"));
    CHECK_FALSE(b.s.authenticated());
    a.cmd("QUIT");
    b.cmd("USER alice");
    CHECK(starts_ok(b.cmd("PASS s3cret")));

    SECTION("unless concurrent sessions are allowed") {
        FakeBackend be2;
        be2.concurrent = true;
        Client x(be2), y(be2);
        x.login();
        y.login();
    }
}

TEST_CASE("pop3 session: snapshot; a message removed by IMAP meanwhile") {
    FakeBackend be;
    be.store.deliver(alice, "one\r\n");
    uint32_t u2 = be.store.deliver(alice, "two\r\n");
    be.store.deliver(alice, "three\r\n");
    Client c(be);
    c.login();
    be.store.remove(alice, u2);
    be.store.deliver(alice, "late arrival\r\n");
    CHECK(c.cmd("STAT").starts_with("+OK 3 "));
    CHECK(c.cmd("RETR 2") == "-ERR Message was deleted by another session\r\n");
    CHECK(c.cmd("RETR 3") == "+OK 7 octets\r\nthree\r\n.\r\n");
    CHECK(starts_ok(c.cmd("DELE 2")));
    CHECK(starts_ok(c.cmd("QUIT")));
    Client d(be);
    d.login();
    CHECK(d.cmd("STAT").starts_with("+OK 3 "));  // one, three, late arrival
}

TEST_CASE("pop3 session: RETR streams in chunks with backpressure") {
    FakeBackend be;
    std::string big;
    for (int i = 0; i < 5000; ++i)
        big += (i % 7 == 0 ? ".line " : "line ") + std::to_string(i) + "\r\n";
    be.store.deliver(alice, big);
    be.store.deliver(alice, "small\r\n");
    auto o = Client::tls_options();
    o.chunk_size = 1024;
    Client c(be, o);
    c.login();
    // Pipelined: RETR 1, then LIST 2, all in one frame.
    REQUIRE(c.reader.feed("RETR 1\r\nLIST 2\r\n"));
    while (auto ev = c.reader.next()) c.s.on_line(ev->data);
    std::string out = c.s.take_output();
    CHECK(c.s.wait() == Pop3Wait::output);
    CHECK(out.size() < 4 * 1024);
    int rounds = 0;
    while (c.s.wait() == Pop3Wait::output) {
        c.s.output_drained();
        std::string chunk = c.s.take_output();
        if (c.s.wait() == Pop3Wait::output) CHECK(chunk.size() <= 2 * 1024 + 64);
        out += chunk;
        ++rounds;
    }
    CHECK(rounds > 10);
    std::string stuffed;
    Pop3DotStuffer d;
    d.feed(big, stuffed);
    d.finish(stuffed);
    CHECK(out == "+OK " + std::to_string(big.size()) + " octets\r\n" + stuffed + "+OK 2 7\r\n");
}

TEST_CASE("pop3 session: split frames and single bytes") {
    FakeBackend be;
    be.store.deliver(alice, "hi\r\n");
    const std::string wire = "USER alice\r\nPASS s3cret\r\nSTAT\r\nRETR 1\r\nQUIT\r\n";
    for (size_t step : {1, 2, 5, 1000}) {
        Client c(be);
        std::string out;
        for (size_t i = 0; i < wire.size(); i += step)
            out += c.send(std::string_view(wire).substr(i, step));
        INFO("step " << step << " got " << out);
        CHECK(out.find("+OK 1 4\r\n+OK 4 octets\r\nhi\r\n.\r\n+OK mail.test") != std::string::npos);
        CHECK(c.s.wait() == Pop3Wait::closed);
    }
}

TEST_CASE("pop3 session: STLS discards pipelined plaintext and resets state") {
    FakeBackend be;
    Client c(be, Client::plain_options());
    std::string r = c.send("STLS\r\nUSER alice\r\nPASS s3cret\r\n");
    CHECK(r == "+OK Begin TLS negotiation\r\n");
    CHECK(c.s.wait() == Pop3Wait::tls);
    c.s.on_line("NOOP");  // would be discarded by the connection as well
    c.reader.discard();
    c.s.tls_started();
    CHECK(c.s.take_output().empty());
    CHECK(c.s.wait() == Pop3Wait::input);
    CHECK(starts_err(c.cmd("PASS s3cret")));  // the USER before TLS was forgotten
    CHECK(starts_err(c.cmd("STLS")));
    c.login();
}

TEST_CASE("pop3 session: SASL PLAIN and LOGIN") {
    FakeBackend be;
    std::string plain = base64_encode(std::string("\0alice\0s3cret", 13));
    SECTION("PLAIN with initial response") {
        Client c(be);
        std::string r = c.cmd("AUTH PLAIN " + plain);
        INFO(r);
        CHECK(starts_ok(r));
        CHECK(c.s.user() == alice);
    }
    SECTION("PLAIN without initial response") {
        Client c(be);
        CHECK(c.cmd("AUTH PLAIN") == "+ \r\n");
        CHECK(starts_ok(c.cmd(plain)));
    }
    SECTION("cancel") {
        Client c(be);
        CHECK(c.cmd("AUTH PLAIN") == "+ \r\n");
        CHECK(starts_err(c.cmd("*")));
        CHECK(c.s.wait() == Pop3Wait::input);
        CHECK(starts_ok(c.cmd("AUTH PLAIN " + plain)));
    }
    SECTION("LOGIN with user%domain") {
        Client c(be);
        CHECK(c.cmd("AUTH LOGIN").starts_with("+ "));
        CHECK(c.cmd(base64_encode("alice%example.test")).starts_with("+ "));
        CHECK(starts_ok(c.cmd(base64_encode("s3cret"))));
        CHECK(c.s.user() == alice);
    }
    SECTION("wrong password is an auth failure with [AUTH]") {
        Client c(be);
        CHECK(c.cmd("AUTH PLAIN " + base64_encode(std::string("\0alice\0nope", 11)))
                  .starts_with("-ERR [AUTH]"));
    }
    SECTION("bad base64") {
        Client c(be);
        CHECK(starts_err(c.cmd("AUTH PLAIN !!!!")));
        CHECK(c.s.wait() == Pop3Wait::input);
    }
    SECTION("unknown mechanism") {
        Client c(be);
        CHECK(starts_err(c.cmd("AUTH GSSAPI")));
    }
    SECTION("bare AUTH lists mechanisms") {
        Client c(be);
        CHECK(c.cmd("AUTH") ==
              "+OK Supported mechanisms follow\r\nSCRAM-SHA-256\r\nPLAIN\r\nLOGIN\r\n.\r\n");
    }
}

TEST_CASE("pop3 session: bad input and limits") {
    FakeBackend be;
    SECTION("too many bad commands") {
        auto o = Client::tls_options();
        o.max_bad_commands = 3;
        Client c(be, o);
        CHECK(starts_err(c.cmd("FOO")));
        CHECK(starts_err(c.cmd("")));
        std::string r = c.cmd("BAR");
        CHECK(r.find("closing") != std::string::npos);
        CHECK(c.s.wait() == Pop3Wait::closed);
    }
    SECTION("a long line is refused and the session goes on") {
        Client c(be);
        CHECK(c.cmd("USER " + std::string(20000, 'x')) == "-ERR Line too long\r\n");
        CHECK(c.cmd("USER " + std::string(2000, 'x')) == "-ERR Line too long\r\n");
        CHECK(starts_ok(c.cmd("CAPA")));
    }
    SECTION("binary garbage") {
        Client c(be);
        CHECK(starts_err(c.send(std::string("\x00\xff\x01\r\n", 5))));
        CHECK(c.s.wait() == Pop3Wait::input);
    }
    SECTION("idle timeout: autologout, no UPDATE") {
        be.store.deliver(alice, "x\r\n");
        Client c(be);
        c.login();
        c.cmd("DELE 1");
        c.s.idle_timeout();
        CHECK(starts_err(c.s.take_output()));
        CHECK(c.s.wait() == Pop3Wait::closed);
        CHECK(be.store.box(alice)->messages.size() == 1);
        CHECK_FALSE(be.store.box(alice)->locked);
    }
    SECTION("expunge failure is [SYS/TEMP]") {
        be.store.deliver(alice, "x\r\n");
        be.store.fail_expunge = true;
        Client c(be);
        c.login();
        c.cmd("DELE 1");
        CHECK(c.cmd("QUIT").starts_with("-ERR [SYS/TEMP]"));
        CHECK(c.s.wait() == Pop3Wait::closed);
    }
    SECTION("read failure mid-RETR closes the connection") {
        be.store.deliver(alice, "x\r\n");
        be.store.fail_reads = true;
        Client c(be);
        c.login();
        c.cmd("RETR 1");
        CHECK(c.s.wait() == Pop3Wait::closed);
    }
    SECTION("shutdown") {
        Client c(be);
        c.s.shutdown();
        CHECK(c.s.take_output().starts_with("-ERR [SYS/TEMP]"));
        CHECK(c.s.wait() == Pop3Wait::closed);
    }
    SECTION("QUIT in AUTHORIZATION") {
        Client c(be);
        CHECK(starts_ok(c.cmd("QUIT")));
        CHECK(c.s.wait() == Pop3Wait::closed);
        CHECK(c.cmd("NOOP").empty());
    }
}
