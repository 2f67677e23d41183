#include "spoold/dsn.h"

#include <catch2/catch.hpp>

using namespace postern;

TEST_CASE("dsn: status code from the error text") {
    struct Case {
        const char* label;
        const char* error;
        const char* want;
    };
    auto tc = GENERATE(values<Case>({
        {"plain", "5.1.1 no such user", "5.1.1"},
        {"three digits", "4.4.7 delivery time expired; last error: x", "4.4.7"},
        {"bare", "5.2.2", "5.2.2"},
        {"no code", "mailbox exploded", "5.0.0"},
        {"bad class", "3.1.1 what", "5.0.0"},
        {"glued", "5.1.1x", "5.0.0"},
    }));
    DYNAMIC_SECTION(tc.label) {
        std::string got = dsn_status(tc.error);
        INFO("got " << got << ", want " << tc.want);
        CHECK(got == tc.want);
    }
}

TEST_CASE("dsn: which recipients want a failure report") {
    Recipient r;
    CHECK(wants_failure_dsn(r));
    r.notify = dsn_notify::never;
    CHECK_FALSE(wants_failure_dsn(r));
    r.notify = dsn_notify::success;
    CHECK_FALSE(wants_failure_dsn(r));
    r.notify = dsn_notify::success | dsn_notify::failure;
    CHECK(wants_failure_dsn(r));
}

TEST_CASE("dsn: a multipart/report with one part per failed recipient") {
    Envelope env;
    env.id = "0123456789ABCDEF01";
    env.reverse_path = "alice@example.org";
    env.envid = "ENV1";
    env.arrival = 1700000000;
    Recipient a, b;
    a.address = "x@example.test";
    a.last_error = "5.1.1 no such local recipient";
    a.orcpt = "rfc822;X@example.test";
    b.address = "y@example.test";
    b.last_error = "4.4.7 delivery time expired; last error: 4.2.2 mailbox full";
    std::string original = "Subject: hello\r\nFrom: alice@example.org\r\n\r\nbody line\r\n";
    env.ret = DsnRet::full;  // the whole message; without RET, the header only
    std::string m = build_failure_dsn("mx.example.test", env, {&a, &b}, original, 1700000100);
    auto has = [&](const std::string& s) {
        INFO("want substring: " << s);
        CHECK(m.find(s) != std::string::npos);
    };
    has("To: <alice@example.org>\r\n");
    has("Content-Type: multipart/report; report-type=delivery-status;");
    has("Reporting-MTA: dns; mx.example.test\r\n");
    has("Original-Envelope-Id: ENV1\r\n");
    has("Final-Recipient: rfc822; x@example.test\r\nOriginal-Recipient: rfc822;X@example.test\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n");
    has("Final-Recipient: rfc822; y@example.test\r\nAction: failed\r\nStatus: 4.4.7\r\n");
    has("Content-Type: message/rfc822\r\n");
    has("body line\r\n");
    has("--0123456789ABCDEF01/mx.example.test--\r\n");
    CHECK(m.find("\n") == m.find("\r\n") + 1);  // CRLF line ends

    env.ret = DsnRet::hdrs;
    m = build_failure_dsn("mx.example.test", env, {&a}, original, 1700000100);
    has("Content-Type: text/rfc822-headers\r\n");
    CHECK(m.find("body line") == std::string::npos);

    env.ret = DsnRet::full;  // RFC 8689 5: a REQUIRETLS message's bounce has no body
    env.requiretls = true;
    m = build_failure_dsn("mx.example.test", env, {&a}, original, 1700000100);
    has("Content-Type: text/rfc822-headers\r\n");
    CHECK(m.find("body line") == std::string::npos);
}

TEST_CASE("dsn: dates are RFC 5322 in UTC") {
    CHECK(rfc5322_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
    CHECK(rfc5322_date(1700000000) == "Tue, 14 Nov 2023 22:13:20 +0000");
}
