// The SMTP client engine without sockets: replies, EHLO capabilities, dot stuffing, and
// the session driven line by line with the bytes it writes checked at each step.
#include "libproto/smtp_client/smtp_client_session.h"

#include <catch2/catch.hpp>

using namespace postern;

namespace {

using Want = SmtpClientSession::Want;

// Feeds a multi-line server answer ("250-a\r\n250 b\r\n" or lines split by '\n').
void serve(SmtpClientSession& s, std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        size_t lf = text.find('\n', i);
        if (lf == std::string_view::npos) lf = text.size();
        std::string_view line = text.substr(i, lf - i);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        s.on_line(line);
        i = lf + 1;
    }
}

const char* kEhloAll =
    "250-mx.example\n250-PIPELINING\n250-SIZE 1000\n250-8BITMIME\n250-SMTPUTF8\n250-DSN\n"
    "250 ENHANCEDSTATUSCODES\n";

SmtpClientTransaction txn(std::vector<std::string> rcpts, uint64_t size = 100) {
    SmtpClientTransaction t;
    t.reverse_path = "alice@example.test";
    for (auto& r : rcpts) t.recipients.push_back({r, 0, ""});
    t.size = size;
    return t;
}

// Greeting + EHLO answered with `ehlo`; leaves the session ready.
void open_session(SmtpClientSession& s, std::string_view ehlo) {
    REQUIRE(s.want() == Want::reply);
    REQUIRE(s.timeout_ms() == 300'000);
    serve(s, "220 mx.example ESMTP\n");
    REQUIRE(s.take_output() == "EHLO client.test\r\n");
    serve(s, ehlo);
    REQUIRE(s.want() == Want::transaction);
}

SmtpClientConfig plain_config() {
    SmtpClientConfig c;
    c.helo_name = "client.test";
    c.tls = SmtpClientTls::none;
    return c;
}

}  // namespace

TEST_CASE("reply reader: single, multi-line, enhanced status", "[smtp_client]") {
    ReplyReader r;
    REQUIRE(r.feed("250-2.1.0 first") == ReplyReader::Result::need_more);
    REQUIRE(r.feed("250-2.1.0 second") == ReplyReader::Result::need_more);
    REQUIRE(r.feed("250 2.1.0 last") == ReplyReader::Result::reply);
    CHECK(r.reply().code == 250);
    CHECK(r.reply().status == "2.1.0");
    CHECK(r.reply().lines == std::vector<std::string>{"first", "second", "last"});
    CHECK(r.reply().text() == "250 2.1.0 first second last");
    REQUIRE(r.feed("354") == ReplyReader::Result::reply);  // a bare code is a reply
    CHECK(r.reply().code == 354);
    CHECK(r.reply().status.empty());
    // A status whose class is not the code's is text.
    REQUIRE(r.feed("550 4.1.1 odd") == ReplyReader::Result::reply);
    CHECK(r.reply().status.empty());
    CHECK(r.reply().lines[0] == "4.1.1 odd");
    REQUIRE(r.feed("451 4.7.1") == ReplyReader::Result::reply);
    CHECK(r.reply().status == "4.7.1");
    CHECK(r.idle());
}

TEST_CASE("reply reader: garbage and limits are protocol errors", "[smtp_client]") {
    struct Case {
        const char* label;
        std::vector<std::string> lines;
    };
    auto c = GENERATE(values<Case>({
        {"not digits", {"hello"}},
        {"short", {"25"}},
        {"bad separator", {"250x ok"}},
        {"1xx", {"150 ok"}},
        {"6xx", {"650 ok"}},
        {"code changes", {"250-a", "251 b"}},
        {"NUL", {std::string("250 a\0b", 7)}},
        {"too long", {"250 " + std::string(3000, 'x')}},
    }));
    DYNAMIC_SECTION(c.label) {
        ReplyReader r;
        ReplyReader::Result last = ReplyReader::Result::need_more;
        for (const auto& l : c.lines) last = r.feed(l);
        CHECK(last == ReplyReader::Result::error);
        CHECK(!r.error_text().empty());
        CHECK(r.feed("250 ok") == ReplyReader::Result::error);  // stays failed
    }
}

TEST_CASE("reply reader: too many lines", "[smtp_client]") {
    ReplyReader r({.max_line = 100, .max_lines = 3});
    CHECK(r.feed("250-a") == ReplyReader::Result::need_more);
    CHECK(r.feed("250-b") == ReplyReader::Result::need_more);
    CHECK(r.feed("250-c") == ReplyReader::Result::need_more);
    CHECK(r.feed("250 d") == ReplyReader::Result::error);
}

TEST_CASE("EHLO capabilities", "[smtp_client]") {
    ReplyReader r;
    for (const char* l :
         {"250-mx.example greets you", "250-pipelining", "250-SIZE 35882577", "250-8BITMIME",
          "250-SMTPUTF8", "250-DSN", "250-CHUNKING", "250-BINARYMIME", "250-STARTTLS",
          "250-AUTH PLAIN login", "250-AUTH=CRAM-MD5 LOGIN", "250-X-UNKNOWN foo",
          "250 ENHANCEDSTATUSCODES"})
        r.feed(l);
    auto caps = parse_ehlo(r.reply());
    CHECK(caps.pipelining);
    CHECK(caps.size);
    CHECK(caps.size_limit == 35882577);
    CHECK(caps.eight_bit_mime);
    CHECK(caps.smtputf8);
    CHECK(caps.dsn);
    CHECK(caps.chunking);
    CHECK(caps.binary_mime);
    CHECK(caps.starttls);
    CHECK(caps.enhanced_status);
    CHECK(caps.auth == std::vector<std::string>{"PLAIN", "LOGIN", "CRAM-MD5"});
    CHECK(caps.has_auth("plain"));
    CHECK(!caps.has_auth("SCRAM-SHA-256"));

    ReplyReader r2;
    r2.feed("250-mx.example");
    r2.feed("250-SIZE");  // no number: no limit
    r2.feed("250 SIZE 12x");
    auto c2 = parse_ehlo(r2.reply());
    CHECK(c2.size);
    CHECK(c2.size_limit == 0);
    CHECK(!c2.pipelining);
    // The greeting line is never a keyword.
    ReplyReader r3;
    r3.feed("250 PIPELINING");
    CHECK(!parse_ehlo(r3.reply()).pipelining);
}

TEST_CASE("dot stuffer: dots, bare LF, chunks split anywhere", "[smtp_client]") {
    const std::string in = "Subject: x\n.leading\r\n..two\r\nbare\rcr\nend.";
    const std::string want = "Subject: x\r\n..leading\r\n...two\r\nbare\rcr\r\nend.\r\n.\r\n";
    for (size_t step : {size_t(1), size_t(2), size_t(3), size_t(7), in.size()}) {
        DotStuffer d;
        std::string out;
        for (size_t i = 0; i < in.size(); i += step)
            d.feed(std::string_view(in).substr(i, step), out);
        d.finish(out);
        INFO("step " << step);
        CHECK(out == want);
    }
    // CR LF split between chunks stays one line end; a line ending in CR LF gets no extra one.
    DotStuffer d;
    std::string out;
    d.feed("a\r", out);
    d.feed("\n.b\r\n", out);
    d.finish(out);
    CHECK(out == "a\r\n..b\r\n.\r\n");
    // Without stuffing (BDAT): line ends only.
    DotStuffer b(false);
    std::string bo;
    b.feed(".x\nmore", bo);
    b.finish(bo);
    CHECK(bo == ".x\r\nmore\r\n");
    CHECK(!b.saw_eight_bit());
    DotStuffer e;
    std::string eo;
    e.feed("caf\xc3\xa9\n", eo);
    CHECK(e.saw_eight_bit());
}

TEST_CASE("xtext", "[smtp_client]") {
    CHECK(xtext_encode("a+b=c d") == "a+2Bb+3Dc+20d");
    CHECK(xtext_encode("\xc3\xa9") == "+C3+A9");
}

TEST_CASE("session: pipelined transaction with per-recipient results", "[smtp_client]") {
    SmtpClientSession s(plain_config());
    open_session(s, kEhloAll);
    auto t = txn({"bob@remote.example", "carol@remote.example", "dave@remote.example"});
    t.body = SmtpBodyType::eight_bit_mime;
    t.ret = SmtpDsnRet::hdrs;
    t.envid = "id+1";
    t.recipients[0].notify = smtp_notify::success | smtp_notify::failure;
    t.recipients[0].orcpt = "rfc822;Bob@remote.example";
    t.recipients[1].notify = smtp_notify::never;
    s.begin(t);
    // One group: MAIL, every RCPT, DATA (RFC 2920).
    CHECK(s.take_output() ==
          "MAIL FROM:<alice@example.test> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=id+2B1\r\n"
          "RCPT TO:<bob@remote.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@remote.example\r\n"
          "RCPT TO:<carol@remote.example> NOTIFY=NEVER\r\n"
          "RCPT TO:<dave@remote.example>\r\n"
          "DATA\r\n");
    CHECK(s.want() == Want::reply);
    CHECK(s.timeout_ms() == 300'000);
    serve(s, "250 2.1.0 ok\n250 2.1.5 ok\n");
    CHECK(s.timeout_ms() == 300'000);  // still an RCPT
    serve(s, "450 4.2.0 greylisted\n550 5.1.1 no such user\n");
    CHECK(s.timeout_ms() == 120'000);  // DATA's 354
    serve(s, "354 go ahead\n");
    REQUIRE(s.want() == Want::body);
    CHECK(s.timeout_ms() == 180'000);
    s.feed_body("Subject: hi\r\n\r\n.hello\r\n", false);
    s.feed_body("bye", true);
    CHECK(s.take_output() == "Subject: hi\r\n\r\n..hello\r\nbye\r\n.\r\n");
    CHECK(s.want() == Want::reply);
    CHECK(s.timeout_ms() == 600'000);
    serve(s, "250 2.0.0 queued as X\n");
    REQUIRE(s.want() == Want::results);
    auto res = s.take_results();
    REQUIRE(res.size() == 3);
    CHECK(res[0].outcome == SmtpOutcome::delivered);
    CHECK(res[0].reply == "250 2.0.0 queued as X");
    CHECK(res[1].outcome == SmtpOutcome::deferred);
    CHECK(res[1].reply == "450 4.2.0 greylisted");
    CHECK(res[2].outcome == SmtpOutcome::failed);
    CHECK(res[2].reply == "550 5.1.1 no such user");
    CHECK(res[2].from_server);
    REQUIRE(s.want() == Want::transaction);
    CHECK(s.timeout_ms() == 0);

    // The same connection again: no RSET needed after a finished DATA.
    s.begin(txn({"erin@remote.example"}));
    CHECK(s.take_output() ==
          "MAIL FROM:<alice@example.test> SIZE=100\r\nRCPT TO:<erin@remote.example>\r\nDATA\r\n");
    serve(s, "250 ok\n250 ok\n354 go\n");
    s.feed_body("x\n", true);
    CHECK(s.take_output() == "x\r\n.\r\n");
    serve(s, "554 5.7.1 spam\n");
    res = s.take_results();
    REQUIRE(res.size() == 1);
    CHECK(res[0].outcome == SmtpOutcome::failed);
    CHECK(res[0].reply == "554 5.7.1 spam");
    CHECK(s.transactions() == 2);
    s.quit();
    CHECK(s.take_output() == "QUIT\r\n");
    CHECK(s.want() == Want::closed);
    CHECK(s.failure().empty());
}

TEST_CASE("session: without PIPELINING each command waits for its reply", "[smtp_client]") {
    SmtpClientSession s(plain_config());
    open_session(s, "250 mx.example\n");
    auto t = txn({"bob@remote.example", "carol@remote.example"});
    s.begin(t);
    CHECK(s.take_output() == "MAIL FROM:<alice@example.test>\r\n");  // no SIZE= unless offered
    serve(s, "250 ok\n");
    CHECK(s.take_output() == "RCPT TO:<bob@remote.example>\r\n");
    serve(s, "550 no\n");
    CHECK(s.take_output() == "RCPT TO:<carol@remote.example>\r\n");
    serve(s, "550 no\n");
    // Nobody accepted: no DATA; the transaction is left open on the server.
    REQUIRE(s.want() == Want::results);
    CHECK(s.take_output().empty());
    auto res = s.take_results();
    CHECK(res[0].outcome == SmtpOutcome::failed);
    CHECK(res[1].outcome == SmtpOutcome::failed);
    // The next transaction starts with RSET.
    s.begin(txn({"dave@remote.example"}));
    CHECK(s.take_output() == "RSET\r\n");
    serve(s, "250 ok\n");
    CHECK(s.take_output() == "MAIL FROM:<alice@example.test>\r\n");
    serve(s, "451 4.3.0 try later\n");
    res = s.take_results();
    REQUIRE(res.size() == 1);
    CHECK(res[0].outcome == SmtpOutcome::deferred);
    CHECK(res[0].reply == "451 4.3.0 try later");
}

TEST_CASE("session: pipelined MAIL refused fails everyone, stray replies ignored",
          "[smtp_client]") {
    SmtpClientSession s(plain_config());
    open_session(s, kEhloAll);
    s.begin(txn({"bob@remote.example", "carol@remote.example"}));
    s.take_output();
    serve(s, "553 5.7.1 sender refused\n503 5.5.1 no MAIL\n503 5.5.1 no MAIL\n");
    CHECK(s.want() == Want::reply);  // DATA's reply is still due
    serve(s, "503 5.5.1 no MAIL\n");
    auto res = s.take_results();
    REQUIRE(res.size() == 2);
    for (auto& r : res) {
        CHECK(r.outcome == SmtpOutcome::failed);
        CHECK(r.reply == "553 5.7.1 sender refused");
    }
}

TEST_CASE("session: 354 with nobody accepted gets a lone dot", "[smtp_client]") {
    SmtpClientSession s(plain_config());
    open_session(s, kEhloAll);
    s.begin(txn({"bob@remote.example"}));
    s.take_output();
    serve(s, "250 ok\n450 4.2.1 later\n354 go\n");
    CHECK(s.take_output() == ".\r\n");
    CHECK(s.want() == Want::reply);
    serve(s, "554 no valid recipients\n");
    auto res = s.take_results();
    CHECK(res[0].outcome == SmtpOutcome::deferred);
    CHECK(res[0].reply == "450 4.2.1 later");
}

TEST_CASE("session: DATA refused applies to the accepted recipients only", "[smtp_client]") {
    SmtpClientSession s(plain_config());
    open_session(s, kEhloAll);
    s.begin(txn({"bob@remote.example", "carol@remote.example"}));
    s.take_output();
    serve(s, "250 ok\n250 ok\n550 5.1.1 carol unknown\n451 4.3.0 no room\n");
    auto res = s.take_results();
    CHECK(res[0].outcome == SmtpOutcome::deferred);
    CHECK(res[0].reply == "451 4.3.0 no room");
    CHECK(res[1].outcome == SmtpOutcome::failed);
}

TEST_CASE("session: what is refused before anything is sent", "[smtp_client]") {
    struct Case {
        const char* label;
        const char* ehlo;
        SmtpClientTransaction t;
        const char* reply_start;
    };
    auto big = txn({"bob@remote.example", "carol@remote.example"}, 1001);
    auto eight = txn({"bob@remote.example"});
    eight.body = SmtpBodyType::eight_bit_mime;
    auto binary = txn({"bob@remote.example"});
    binary.body = SmtpBodyType::binary_mime;
    auto utf8 = txn({"bob@remote.example"});
    utf8.smtputf8 = true;
    auto utf8_addr = txn({"b\xc3\xb6@remote.example"});
    auto rtls = txn({"bob@remote.example"});
    rtls.requiretls = true;
    auto c = GENERATE_COPY(values<Case>({
        {"SIZE", "250-mx\n250 SIZE 1000\n", big, "552 5.3.4 "},
        {"8BITMIME", "250-mx\n250 SIZE 1000\n", eight, "554 5.6.3 "},
        {"BINARYMIME", "250-mx\n250 8BITMIME\n", binary, "554 5.6.3 "},
        {"SMTPUTF8 flag", "250-mx\n250 8BITMIME\n", utf8, "553 5.6.7 "},
        {"SMTPUTF8 address", "250-mx\n250 8BITMIME\n", utf8_addr, "553 5.6.7 "},
        {"REQUIRETLS without TLS", "250-mx\n250 REQUIRETLS\n", rtls, "550 5.7.30 "},
    }));
    DYNAMIC_SECTION(c.label) {
        SmtpClientSession s(plain_config());
        open_session(s, c.ehlo);
        s.begin(c.t);
        CHECK(s.take_output().empty());
        REQUIRE(s.want() == Want::results);
        auto res = s.take_results();
        REQUIRE(res.size() == c.t.recipients.size());
        for (auto& r : res) {
            CHECK(r.outcome == SmtpOutcome::failed);
            CHECK(r.reply.starts_with(c.reply_start));
            CHECK(!r.from_server);
        }
        CHECK(s.want() == Want::transaction);
    }
}

TEST_CASE("session: a size within the limit, SMTPUTF8 offered", "[smtp_client]") {
    SmtpClientSession s(plain_config());
    open_session(s, kEhloAll);
    auto t = txn({"b\xc3\xb6@remote.example"}, 1000);
    s.begin(t);
    CHECK(s.take_output() ==
          "MAIL FROM:<alice@example.test> SIZE=1000 SMTPUTF8\r\n"
          "RCPT TO:<b\xc3\xb6@remote.example>\r\nDATA\r\n");
}

TEST_CASE("session: addresses that would inject commands are refused", "[smtp_client]") {
    SmtpClientSession s(plain_config());
    open_session(s, kEhloAll);
    s.begin(txn({"bob@remote.example>\r\nRCPT TO:<x@y", "carol@remote.example"}));
    CHECK(s.take_output() ==
          "MAIL FROM:<alice@example.test> SIZE=100\r\nRCPT TO:<carol@remote.example>\r\nDATA\r\n");
    serve(s, "250 ok\n250 ok\n354 go\n");
    s.feed_body("", true);
    serve(s, "250 ok\n");
    auto res = s.take_results();
    CHECK(res[0].outcome == SmtpOutcome::failed);
    CHECK(res[0].reply.starts_with("501 5.1.3"));
    CHECK(res[1].outcome == SmtpOutcome::delivered);
}

TEST_CASE("session: HELO fallback when EHLO is refused", "[smtp_client]") {
    SmtpClientSession s(plain_config());
    serve(s, "220 old.example\n");
    s.take_output();
    serve(s, "502 5.5.2 what\n");
    CHECK(s.take_output() == "HELO client.test\r\n");
    serve(s, "250 old.example\n");
    REQUIRE(s.want() == Want::transaction);
    CHECK(!s.capabilities().pipelining);
}

TEST_CASE("session: setup failures close with a reason", "[smtp_client]") {
    SECTION("greeting refused") {
        SmtpClientSession s(plain_config());
        serve(s, "554 5.7.1 go away\n");
        CHECK(s.want() == Want::closed);
        CHECK(s.failure() == "554 5.7.1 go away");
        CHECK(s.failure_from_server());
        CHECK(s.failed_in_setup());
    }
    SECTION("garbage greeting") {
        SmtpClientSession s(plain_config());
        serve(s, "HTTP/1.1 400 Bad Request\n");
        CHECK(s.want() == Want::closed);
        CHECK(s.failure().starts_with("421 4.5.0 protocol error"));
    }
    SECTION("TLS required, not offered") {
        auto cfg = plain_config();
        cfg.tls = SmtpClientTls::required;
        SmtpClientSession s(cfg);
        serve(s, "220 mx\n");
        s.take_output();
        serve(s, "250-mx\n250 PIPELINING\n");
        CHECK(s.want() == Want::closed);
        CHECK(s.failure().starts_with("451 4.7.10"));
    }
    SECTION("timeout in the greeting") {
        SmtpClientSession s(plain_config());
        s.on_timeout();
        CHECK(s.want() == Want::closed);
        CHECK(s.failure() == "421 4.4.2 timed out waiting for the greeting");
        CHECK(!s.failure_from_server());
    }
    SECTION("credentials without TLS to a remote host") {
        auto cfg = plain_config();
        cfg.auth_user = "relay";
        cfg.auth_password = "secret";
        SmtpClientSession s(cfg);
        serve(s, "220 mx\n");
        s.take_output();
        serve(s, "250-mx\n250 AUTH PLAIN\n");
        CHECK(s.want() == Want::closed);
        CHECK(s.take_output().empty());  // nothing of the password went out
        CHECK(s.failure().starts_with("451 4.7.10"));
    }
}

TEST_CASE("session: STARTTLS, EHLO again, AUTH PLAIN", "[smtp_client]") {
    auto cfg = plain_config();
    cfg.tls = SmtpClientTls::opportunistic;
    cfg.auth_user = "relay";
    cfg.auth_password = "secret";
    SmtpClientSession s(cfg);
    serve(s, "220 mx\n");
    s.take_output();
    serve(s, "250-mx\n250-PIPELINING\n250 STARTTLS\n");
    CHECK(s.take_output() == "STARTTLS\r\n");
    CHECK(s.timeout_ms() == 120'000);
    serve(s, "220 2.0.0 go ahead\n");
    REQUIRE(s.want() == Want::tls);
    s.on_tls_ready();
    CHECK(s.tls_active());
    CHECK(!s.capabilities().pipelining);  // forgotten
    CHECK(s.take_output() == "EHLO client.test\r\n");
    serve(s, "250-mx\n250-AUTH LOGIN PLAIN\n250 PIPELINING\n");
    // base64("\0relay\0secret")
    CHECK(s.take_output() == "AUTH PLAIN AHJlbGF5AHNlY3JldA==\r\n");
    serve(s, "235 2.7.0 ok\n");
    CHECK(s.want() == Want::transaction);
    CHECK(s.authenticated());
}

TEST_CASE("session: REQUIRETLS goes only over TLS to a server that offers it", "[smtp_client]") {
    auto cfg = plain_config();
    cfg.tls = SmtpClientTls::required;
    SmtpClientSession s(cfg);
    serve(s, "220 mx\n");
    s.take_output();
    serve(s, "250-mx\n250 STARTTLS\n");
    CHECK(s.take_output() == "STARTTLS\r\n");
    serve(s, "220 2.0.0 go ahead\n");
    REQUIRE(s.want() == Want::tls);
    s.on_tls_ready();
    CHECK(s.take_output() == "EHLO client.test\r\n");
    auto t = txn({"bob@remote.example"});
    t.requiretls = true;
    SECTION("offered: the parameter goes on MAIL") {
        serve(s, "250-mx\n250-PIPELINING\n250 REQUIRETLS\n");
        REQUIRE(s.want() == Want::transaction);
        CHECK(s.capabilities().requiretls);
        s.begin(t);
        CHECK(s.take_output() ==
              "MAIL FROM:<alice@example.test> REQUIRETLS\r\nRCPT TO:<bob@remote.example>\r\n"
              "DATA\r\n");
    }
    SECTION("not offered: refused before MAIL, a permanent failure") {
        serve(s, "250-mx\n250 PIPELINING\n");
        REQUIRE(s.want() == Want::transaction);
        s.begin(t);
        CHECK(s.take_output().empty());
        REQUIRE(s.want() == Want::results);
        auto res = s.take_results();
        REQUIRE(res.size() == 1);
        CHECK(res[0].outcome == SmtpOutcome::failed);
        CHECK(res[0].reply ==
              "550 5.7.30 REQUIRETLS support required: the server does not offer REQUIRETLS");
    }
    SECTION("an ordinary message to the same server carries no parameter") {
        serve(s, "250-mx\n250-PIPELINING\n250 REQUIRETLS\n");
        s.begin(txn({"bob@remote.example"}));
        CHECK(s.take_output().starts_with("MAIL FROM:<alice@example.test>\r\n"));
    }
}

TEST_CASE("session: AUTH LOGIN on loopback without TLS; failure defers", "[smtp_client]") {
    auto cfg = plain_config();
    cfg.auth_user = "relay";
    cfg.auth_password = "secret";
    cfg.peer_is_loopback = true;
    SmtpClientSession s(cfg);
    serve(s, "220 mx\n");
    s.take_output();
    serve(s, "250-mx\n250 AUTH LOGIN\n");
    CHECK(s.take_output() == "AUTH LOGIN\r\n");
    serve(s, "334 VXNlcm5hbWU6\n");
    CHECK(s.take_output() == "cmVsYXk=\r\n");
    serve(s, "334 UGFzc3dvcmQ6\n");
    CHECK(s.take_output() == "c2VjcmV0\r\n");
    SECTION("accepted") {
        serve(s, "235 ok\n");
        CHECK(s.want() == Want::transaction);
    }
    SECTION("refused") {
        serve(s, "535 5.7.8 bad credentials\n");
        CHECK(s.want() == Want::closed);
        CHECK(s.failure() == "451 4.7.0 authentication failed: 535 5.7.8 bad credentials");
    }
}

TEST_CASE("session: STARTTLS refused in opportunistic mode carries on", "[smtp_client]") {
    auto cfg = plain_config();
    cfg.tls = SmtpClientTls::opportunistic;
    SmtpClientSession s(cfg);
    serve(s, "220 mx\n");
    s.take_output();
    serve(s, "250-mx\n250 STARTTLS\n");
    s.take_output();
    serve(s, "454 4.7.0 TLS not available\n");
    CHECK(s.want() == Want::transaction);
    CHECK(!s.tls_active());
}

TEST_CASE("session: failures in a transaction defer who has no answer", "[smtp_client]") {
    SmtpClientSession s(plain_config());
    open_session(s, kEhloAll);
    s.begin(txn({"bob@remote.example", "carol@remote.example", "dave@remote.example"}));
    s.take_output();
    serve(s, "250 ok\n250 ok\n550 5.1.1 carol unknown\n");
    SECTION("timeout") {
        s.on_timeout();
        REQUIRE(s.want() == Want::results);
        auto res = s.take_results();
        CHECK(res[0].outcome == SmtpOutcome::deferred);
        CHECK(res[0].reply == "421 4.4.2 timed out waiting for RCPT TO");
        CHECK(res[1].outcome == SmtpOutcome::failed);
        CHECK(res[2].outcome == SmtpOutcome::deferred);
        CHECK(s.want() == Want::closed);
        CHECK(!s.failed_in_setup());
    }
    SECTION("421") {
        serve(s, "421 4.3.2 shutting down\n");
        auto res = s.take_results();
        CHECK(res[0].reply == "421 4.3.2 shutting down");
        CHECK(res[2].reply == "421 4.3.2 shutting down");
        CHECK(s.want() == Want::closed);
    }
    SECTION("connection lost during the data") {
        serve(s, "250 ok\n354 go\n");
        s.feed_body("x", true);
        s.on_connection_lost();
        auto res = s.take_results();
        CHECK(res[0].outcome == SmtpOutcome::deferred);
        CHECK(res[0].reply == "421 4.4.2 connection lost while waiting for end of data");
        CHECK(res[1].outcome == SmtpOutcome::failed);
        CHECK(res[2].outcome == SmtpOutcome::deferred);
    }
}

TEST_CASE("session: BDAT with CHUNKING", "[smtp_client]") {
    SmtpClientSession s(plain_config());
    open_session(s, "250-mx\n250-PIPELINING\n250-CHUNKING\n250 8BITMIME\n");
    s.begin(txn({"bob@remote.example", "carol@remote.example"}));
    // No DATA in the group: the chunks wait for the RCPT replies.
    CHECK(s.take_output() ==
          "MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@remote.example>\r\n"
          "RCPT TO:<carol@remote.example>\r\n");
    serve(s, "250 ok\n250 ok\n");
    CHECK(s.want() == Want::reply);
    serve(s, "250 ok\n");
    REQUIRE(s.want() == Want::body);
    CHECK(s.using_chunking());
    s.feed_body(".a\n", false);
    CHECK(s.want() == Want::body);  // pipelined chunks
    s.feed_body("b", true);
    CHECK(s.take_output() == "BDAT 4\r\n.a\r\nBDAT 3 LAST\r\nb\r\n");
    serve(s, "250 2.0.0 chunk\n");
    CHECK(s.want() == Want::reply);
    serve(s, "250 2.0.0 done\n");
    auto res = s.take_results();
    CHECK(res[0].outcome == SmtpOutcome::delivered);
    CHECK(res[0].reply == "250 2.0.0 done");
    CHECK(res[1].outcome == SmtpOutcome::delivered);
}

TEST_CASE("session: BDAT without PIPELINING waits per chunk; a failed chunk stops it",
          "[smtp_client]") {
    SmtpClientSession s(plain_config());
    open_session(s, "250-mx\n250 CHUNKING\n");
    s.begin(txn({"bob@remote.example"}));
    s.take_output();
    serve(s, "250 ok\n");
    s.take_output();
    serve(s, "250 ok\n");
    REQUIRE(s.want() == Want::body);
    s.feed_body("abc", false);
    CHECK(s.want() == Want::reply);
    CHECK(s.take_output() == "BDAT 3\r\nabc");
    serve(s, "552 5.3.4 too big\n");
    auto res = s.take_results();
    CHECK(res[0].outcome == SmtpOutcome::failed);
    CHECK(res[0].reply == "552 5.3.4 too big");
    // The server still holds the transaction: RSET first next time.
    s.begin(txn({"bob@remote.example"}));
    CHECK(s.take_output() == "RSET\r\n");
}

TEST_CASE("session: reset() probes a cached connection", "[smtp_client]") {
    SmtpClientSession s(plain_config());
    open_session(s, kEhloAll);
    s.reset();
    CHECK(s.take_output() == "RSET\r\n");
    CHECK(s.timeout_ms() == 120'000);
    SECTION("alive") {
        serve(s, "250 ok\n");
        CHECK(s.want() == Want::transaction);
    }
    SECTION("gone") {
        s.on_connection_lost();
        CHECK(s.want() == Want::closed);
        CHECK(!s.failed_in_setup());
    }
}

TEST_CASE("session: unasked replies", "[smtp_client]") {
    SmtpClientSession s(plain_config());
    open_session(s, kEhloAll);
    serve(s, "421 4.4.2 idle too long\n");
    CHECK(s.want() == Want::closed);
    CHECK(s.failure() == "421 4.4.2 idle too long");
}

TEST_CASE("session: fed a line at a time over a multi-line EHLO split anywhere", "[smtp_client]") {
    SmtpClientSession s(plain_config());
    serve(s, "220-mx.example\n220-more\n220 ESMTP\n");
    CHECK(s.take_output() == "EHLO client.test\r\n");
    serve(s, "250-mx\n");
    CHECK(s.want() == Want::reply);
    serve(s, "250 SIZE 10\n");
    CHECK(s.want() == Want::transaction);
    CHECK(s.capabilities().size_limit == 10);
}
