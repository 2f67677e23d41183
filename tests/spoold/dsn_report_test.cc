// build_dsn's report, read back field by field (RFC 3464 section 2: the per-message block,
// then one block per recipient), for each action, with and without a remote reply, RET.
#include "spoold/dsn.h"

#include <catch2/catch.hpp>
#include <map>

using namespace postern;

namespace {

using Fields = std::map<std::string, std::string>;

// The message/delivery-status part of m as field blocks; the third part's type and body.
struct Parsed {
    std::vector<Fields> blocks;  // [0]: per-message, then one per recipient
    std::string third_type;
    std::string third_body;
    std::string top;  // the message's own header
};

std::vector<std::string> split(const std::string& s, const std::string& sep) {
    std::vector<std::string> out;
    size_t at = 0;
    for (;;) {
        size_t n = s.find(sep, at);
        out.push_back(s.substr(at, n == std::string::npos ? std::string::npos : n - at));
        if (n == std::string::npos) return out;
        at = n + sep.size();
    }
}

Parsed parse(const std::string& m) {
    Parsed p;
    p.top = m.substr(0, m.find("\r\n\r\n") + 2);
    auto b0 = m.find("boundary=\"");
    REQUIRE(b0 != std::string::npos);
    b0 += 10;
    const std::string boundary = "--" + m.substr(b0, m.find('"', b0) - b0);
    auto parts = split(m, "\r\n" + boundary);
    REQUIRE(parts.size() == 5);  // preamble, 3 parts, "--" epilogue
    CHECK(parts[4].starts_with("--"));
    // Part 2: its own header (Content-Type...), then the blocks.
    const std::string& ds = parts[2];
    CHECK(ds.find("Content-Type: message/delivery-status\r\n") == 2);
    std::string body = ds.substr(ds.find("\r\n\r\n") + 4);
    for (const auto& block : split(body, "\r\n\r\n")) {
        if (block.empty() || block == "\r\n") continue;
        Fields f;
        for (const auto& line : split(block, "\r\n")) {
            if (line.empty()) continue;
            auto colon = line.find(": ");
            REQUIRE(colon != std::string::npos);
            CHECK(f.count(line.substr(0, colon)) == 0);  // each field once per block
            f[line.substr(0, colon)] = line.substr(colon + 2);
        }
        p.blocks.push_back(std::move(f));
    }
    const std::string& third = parts[3];
    auto ct = third.find("Content-Type: ");
    p.third_type = third.substr(ct + 14, third.find("\r\n", ct) - ct - 14);
    p.third_body = third.substr(third.find("\r\n\r\n") + 4);
    return p;
}

const std::string kOriginal =
    "From: alice@example.org\r\nSubject: hello\r\nMessage-ID: <m1@x>\r\n\r\nthe body line\r\n";

Envelope envelope() {
    Envelope env;
    env.id = "0123456789ABCDEF01";
    env.reverse_path = "alice@example.org";
    env.arrival = 1700000000;
    return env;
}

}  // namespace

TEST_CASE("dsn_report: status codes from replies, with and without the remote host") {
    struct Case {
        const char* label;
        const char* text;
        bool permanent;
        const char* want;
    };
    auto tc = GENERATE(values<Case>({
        {"enhanced", "5.1.1 no such user", true, "5.1.1"},
        {"smtp reply", "550 5.1.1 <x@y>: no such user", true, "5.1.1"},
        {"continuation dash", "451-4.7.1 greylisted", false, "4.7.1"},
        {"basic code only", "554 go away", true, "5.0.0"},
        {"basic 4xx only", "421 closing", true, "4.0.0"},
        {"classes disagree", "550 4.1.1 odd", true, "5.0.0"},
        {"remote host prefix", "host mx.far.example said: 552 5.2.2 full", true, "5.2.2"},
        {"our own text", "4.4.7 delivery time expired; last error: none", true, "4.4.7"},
        {"nothing", "connection refused", false, "4.0.0"},
    }));
    DYNAMIC_SECTION(tc.label) {
        auto got = dsn_status(tc.text, tc.permanent);
        INFO("got " << got << ", want " << tc.want);
        CHECK(got == tc.want);
    }
}

TEST_CASE("dsn_report: the remote host travels with the reply") {
    auto t = remote_reply_text("mx.far.example", "550 5.1.1 no");
    CHECK(t == "host mx.far.example said: 550 5.1.1 no");
    CHECK(split_remote_reply(t) ==
          std::pair<std::string, std::string>{"mx.far.example", "550 5.1.1 no"});
    CHECK(remote_reply_text("", "4.4.1 refused") == "4.4.1 refused");
    CHECK(split_remote_reply("4.4.1 refused").first.empty());
    CHECK(split_remote_reply("host  said: x").first.empty());
    CHECK(split_remote_reply("host a b said: x").first.empty());
}

TEST_CASE("dsn_report: NOTIFY decides which reports a recipient gets") {
    struct Case {
        const char* label;
        uint8_t notify;
        bool failure, delay, success;
    };
    using namespace dsn_notify;
    auto tc = GENERATE(values<Case>({
        {"not given", 0, true, true, false},
        {"NEVER", never, false, false, false},
        {"FAILURE", failure, true, false, false},
        {"DELAY", delay, false, true, false},
        {"SUCCESS", success, false, false, true},
        {"SUCCESS,FAILURE,DELAY", uint8_t(success | failure | delay), true, true, true},
    }));
    DYNAMIC_SECTION(tc.label) {
        Recipient r;
        r.notify = tc.notify;
        CHECK(wants_failure_dsn(r) == tc.failure);
        CHECK(wants_delay_dsn(r) == tc.delay);
        CHECK(wants_success_dsn(r) == tc.success);
    }
}

TEST_CASE("dsn_report: a failure with a remote reply, headers only by default") {
    Envelope env = envelope();
    env.envid = "ENV-7";
    Recipient a, b;
    a.address = "bob@far.example";
    a.orcpt = "rfc822;Bob@Far.Example";
    a.last_error = remote_reply_text("mx1.far.example", "550 5.1.1 <bob@far.example>: unknown");
    b.address = "ghost@example.test";
    b.last_error = "5.1.1 no such local recipient";
    std::string m = build_failure_dsn("mx.example.test", env, {&a, &b}, kOriginal, 1700000100);
    CHECK(m.find("\n") == m.find("\r\n") + 1);
    auto p = parse(m);
    CHECK(p.top.find("To: <alice@example.org>\r\n") != std::string::npos);
    CHECK(p.top.find("Content-Type: multipart/report; report-type=delivery-status;") !=
          std::string::npos);
    REQUIRE(p.blocks.size() == 3);
    CHECK(p.blocks[0]["Reporting-MTA"] == "dns; mx.example.test");
    CHECK(p.blocks[0]["Original-Envelope-Id"] == "ENV-7");
    CHECK(p.blocks[0]["Arrival-Date"] == "Tue, 14 Nov 2023 22:13:20 +0000");
    Fields& r1 = p.blocks[1];
    CHECK(r1["Final-Recipient"] == "rfc822; bob@far.example");
    CHECK(r1["Original-Recipient"] == "rfc822;Bob@Far.Example");
    CHECK(r1["Action"] == "failed");
    CHECK(r1["Status"] == "5.1.1");
    CHECK(r1["Remote-MTA"] == "dns; mx1.far.example");
    CHECK(r1["Diagnostic-Code"] == "smtp; 550 5.1.1 <bob@far.example>: unknown");
    CHECK(r1["Last-Attempt-Date"] == "Tue, 14 Nov 2023 22:15:00 +0000");
    Fields& r2 = p.blocks[2];
    CHECK(r2["Final-Recipient"] == "rfc822; ghost@example.test");
    CHECK(r2.count("Original-Recipient") == 0);  // no ORCPT given
    CHECK(r2.count("Remote-MTA") == 0);
    CHECK(r2["Diagnostic-Code"] == "X-Postern; 5.1.1 no such local recipient");
    CHECK(p.third_type == "text/rfc822-headers");
    CHECK(p.third_body.find("Subject: hello\r\n") != std::string::npos);
    CHECK(p.third_body.find("the body line") == std::string::npos);
}

TEST_CASE("dsn_report: RET=FULL returns the whole message with a failure only") {
    Envelope env = envelope();
    env.ret = DsnRet::full;
    Recipient a;
    a.address = "bob@far.example";
    a.last_error = "550 5.7.1 refused";
    auto p = parse(build_failure_dsn("mx.example.test", env, {&a}, kOriginal, 1700000100));
    CHECK(p.third_type == "message/rfc822");
    CHECK(p.third_body.find("the body line\r\n") != std::string::npos);
    // A delay warning of the same message carries the header only.
    DsnReport rep;
    rep.action = DsnAction::delayed;
    rep.to = env.reverse_path;
    rep.rcpts = {&a};
    p = parse(build_dsn("mx.example.test", env, rep, kOriginal, 1700000100));
    CHECK(p.third_type == "text/rfc822-headers");
}

TEST_CASE("dsn_report: a delay warning and a success report") {
    Envelope env = envelope();
    Recipient a;
    a.address = "bob@far.example";
    a.last_error = remote_reply_text("mx1.far.example", "451 4.7.1 greylisted");
    DsnReport rep;
    rep.action = DsnAction::delayed;
    rep.to = env.reverse_path;
    rep.rcpts = {&a};
    rep.retry_until = env.arrival + 5 * 86400;
    std::string m = build_dsn("mx.example.test", env, rep, kOriginal, 1700014400);
    CHECK(m.find("Subject: Delayed Mail (still being retried)\r\n") != std::string::npos);
    auto p = parse(m);
    REQUIRE(p.blocks.size() == 2);
    CHECK(p.blocks[1]["Action"] == "delayed");
    CHECK(p.blocks[1]["Status"] == "4.7.1");
    CHECK(p.blocks[1]["Remote-MTA"] == "dns; mx1.far.example");
    CHECK(p.blocks[1]["Diagnostic-Code"] == "smtp; 451 4.7.1 greylisted");
    CHECK(p.blocks[1]["Will-Retry-Until"] == "Sun, 19 Nov 2023 22:13:20 +0000");

    Recipient c;
    c.address = "carol@example.test";
    rep = {};
    rep.action = DsnAction::delivered;
    rep.to = env.reverse_path;
    rep.rcpts = {&c};
    p = parse(build_dsn("mx.example.test", env, rep, kOriginal, 1700000100));
    REQUIRE(p.blocks.size() == 2);
    CHECK(p.blocks[1]["Action"] == "delivered");
    CHECK(p.blocks[1]["Status"] == "2.0.0");
    CHECK(p.blocks[1].count("Diagnostic-Code") == 0);
}

TEST_CASE("dsn_report: the postmaster's copy for mail with the null sender") {
    Envelope env = envelope();
    env.reverse_path.clear();
    Recipient a;
    a.address = "alice@example.org";
    a.last_error = "550 5.1.1 gone";
    DsnReport rep;
    rep.to = "postmaster@mx.example.test";
    rep.postmaster_copy = true;
    rep.rcpts = {&a};
    std::string m = build_dsn("mx.example.test", env, rep, kOriginal, 1700000100);
    CHECK(m.find("To: <postmaster@mx.example.test>\r\n") != std::string::npos);
    CHECK(m.find("Subject: Postmaster Copy: Undelivered Mail\r\n") != std::string::npos);
    auto p = parse(m);
    CHECK(p.blocks[0].count("X-Postern-Sender") == 0);
    CHECK(p.blocks[1]["Action"] == "failed");
}

TEST_CASE("dsn_report: CR and LF from addresses and replies never split a field") {
    Envelope env = envelope();
    Recipient a;
    a.address = "x@y\r\nBcc: evil@z";
    a.last_error = "550 no\r\nX-Injected: 1";
    std::string m = build_failure_dsn("mx.example.test", env, {&a}, kOriginal, 1700000100);
    CHECK(m.find("\r\nBcc:") == std::string::npos);
    CHECK(m.find("\r\nX-Injected:") == std::string::npos);
}
