// imapd's extensions over MemoryStore: QUOTA (RFC 9208: GETQUOTAROOT, GETQUOTA, SETQUOTA
// refused, STATUS SIZE/DELETED), QRESYNC (RFC 7162: ENABLE, SELECT (QRESYNC ...) with
// VANISHED (EARLIER) and changed FLAGS, CLOSED).

#include <atomic>
#include <catch2/catch.hpp>

#include "tests/imapd/imap_test_util.h"

using namespace imaptest;

namespace {

StoreOptions with_quota(std::atomic<uint64_t>& q) {
    StoreOptions o;
    o.quota_of = [&q](std::string_view) { return q.load(); };
    return o;
}

uint64_t usage(TestBackend& b) {
    auto u = b.store().usage(alice);
    REQUIRE(u);
    return *u;
}

}  // namespace

TEST_CASE("quota: GETQUOTAROOT and GETQUOTA report STORAGE in KiB", "[quota]") {
    std::atomic<uint64_t> q = 10 * 1024 + 500;  // 10.49 KiB: the limit rounds down
    TestBackend b(with_quota(q));
    b.deliver(alice, "one");
    b.deliver(alice, "two");
    uint64_t used = usage(b);
    REQUIRE(used > 0);
    std::string used_kib = std::to_string((used + 1023) / 1024);
    Client c(b);
    c.login();
    std::string r = c.send("a GETQUOTAROOT INBOX");
    INFO(r);
    CHECK(has(r, "* QUOTAROOT \"INBOX\" \"\"\r\n"));
    CHECK(has(r, "* QUOTA \"\" (STORAGE " + used_kib + " 10)\r\n"));
    CHECK(has(r, "a OK"));
    r = c.send("b GETQUOTA \"\"");
    CHECK(has(r, "* QUOTA \"\" (STORAGE " + used_kib + " 10)\r\nb OK"));
    CHECK(has(c.send("c GETQUOTA other"), "c NO [NONEXISTENT]"));
    CHECK(has(c.send("d GETQUOTAROOT Nosuch"), "d NO [NONEXISTENT]"));
    CHECK(has(c.send("e SETQUOTA \"\" (STORAGE 100)"), "e NO [NOPERM]"));
}

TEST_CASE("quota: a user without a quota has no quota root", "[quota]") {
    TestBackend b;
    Client c(b);
    c.login();
    std::string r = c.send("a GETQUOTAROOT INBOX");
    CHECK(has(r, "* QUOTAROOT \"INBOX\"\r\na OK"));
    CHECK_FALSE(has(r, "* QUOTA "));
    CHECK(has(c.send("b GETQUOTA \"\""), "b NO [NONEXISTENT]"));
}

TEST_CASE("quota: usage follows deliveries; over the quota APPEND is OVERQUOTA", "[quota]") {
    std::atomic<uint64_t> q = 1 << 20;
    TestBackend b(with_quota(q));
    Client c(b);
    c.login();
    CHECK(has(c.send("a GETQUOTA \"\""), "(STORAGE 0 1024)"));
    b.deliver(alice, std::string(3000, 'x'));
    CHECK(has(c.send("b GETQUOTA \"\""),
              "(STORAGE " + std::to_string((usage(b) + 1023) / 1024) + " 1024)"));
    q = usage(b);  // full
    CHECK(has(c.send("c APPEND INBOX {5+}\r\nhello"), "c NO [OVERQUOTA]"));
}

TEST_CASE("quota: commands need authentication; capabilities after login", "[quota]") {
    TestBackend b;
    Client c(b);
    CHECK_FALSE(has(c.send("a CAPABILITY"), "QUOTA"));
    CHECK(has(c.send("b GETQUOTAROOT INBOX"), "b BAD"));
    c.login();
    std::string caps = c.send("c CAPABILITY");
    CHECK(has(caps, " QUOTA "));
    CHECK(has(caps, " QUOTA=RES-STORAGE"));
    CHECK(has(caps, " STATUS=SIZE"));
}

TEST_CASE("quota: STATUS SIZE and DELETED", "[quota]") {
    TestBackend b;
    b.deliver(alice, "one", "INBOX", flag_deleted);
    b.deliver(alice, "two");
    Client c(b);
    c.login();
    std::string r = c.send("a STATUS INBOX (MESSAGES SIZE DELETED)");
    CHECK(
        has(r, "* STATUS \"INBOX\" (MESSAGES 2 DELETED 1 SIZE " + std::to_string(usage(b)) + ")"));
}

TEST_CASE("qresync: SELECT (QRESYNC ...) sends VANISHED (EARLIER) and changed flags", "[qresync]") {
    TestBackend b;
    for (int i = 0; i < 4; ++i) b.deliver(alice, "m" + std::to_string(i));
    Client c(b);
    c.login();
    CHECK(has(c.send("a CAPABILITY"), " QRESYNC "));
    CHECK(has(c.send("b SELECT INBOX (QRESYNC (1 1))"), "b BAD"));  // not enabled
    CHECK(has(c.send("c ENABLE QRESYNC"), "* ENABLED QRESYNC\r\n"));
    std::string r = c.send("d SELECT INBOX");
    uint32_t validity = b.store().open_mailbox(alice, "INBOX").value()->uidvalidity();
    auto at = r.find("[HIGHESTMODSEQ ");
    REQUIRE(at != std::string::npos);
    uint64_t modseq = std::stoull(r.substr(at + 15));
    // Another session expunges UID 2 and flags UID 3.
    Client o(b);
    o.login("alice", "INBOX");
    REQUIRE(has(o.send("x STORE 2 +FLAGS (\\Deleted)"), "x OK"));
    REQUIRE(has(o.send("y EXPUNGE"), "y OK"));
    REQUIRE(has(o.send("z STORE 2 +FLAGS (\\Flagged)"), "z OK"));  // UID 3 now
    r = c.send("e SELECT INBOX (QRESYNC (" + std::to_string(validity) + " " +
               std::to_string(modseq) + "))");
    INFO(r);
    CHECK(has(r, "* OK [CLOSED]"));
    CHECK(has(r, "* VANISHED (EARLIER) 2\r\n"));
    CHECK(has(r, "* 2 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ ("));
    CHECK_FALSE(has(r, "UID 1 FLAGS"));
    CHECK(has(r, "e OK [READ-WRITE]"));
    // Known UIDs limit VANISHED; a wrong UIDVALIDITY gets no resync lines.
    r = c.send("f SELECT INBOX (QRESYNC (" + std::to_string(validity) + " " +
               std::to_string(modseq) + " 3:4))");
    CHECK_FALSE(has(r, "VANISHED"));
    r = c.send("g SELECT INBOX (QRESYNC (" + std::to_string(validity + 1) + " 1))");
    CHECK_FALSE(has(r, "VANISHED"));
    CHECK_FALSE(has(r, "FETCH"));
    CHECK(has(r, "g OK"));
}

TEST_CASE("compress: COMPRESS DEFLATE after login; the OK is the last plaintext", "[compress]") {
    TestBackend b;
    Client c(b);
    CHECK(has(c.send("a COMPRESS DEFLATE"), "a BAD"));  // not before login
    CHECK_FALSE(c.transport().compressing);
    c.login("alice", "INBOX");
    CHECK(has(c.send("b CAPABILITY"), " COMPRESS=DEFLATE"));
    CHECK(has(c.send("c COMPRESS LZW"), "c BAD"));
    CHECK_FALSE(c.transport().compressing);
    // Bytes behind the command were sent compressed: they go back to the transport.
    std::string r = c.raw("d COMPRESS deflate\r\n\x01\x02garbage");
    CHECK(r == "d OK DEFLATE active\r\n");
    CHECK(c.transport().compressing);
    CHECK(c.transport().compressed_input == "\x01\x02garbage");
    CHECK(c.send("e COMPRESS DEFLATE") == "e NO [COMPRESSIONACTIVE] DEFLATE is already active\r\n");
}

TEST_CASE("compress: when the transport cannot compress the session ends", "[compress]") {
    TestBackend b;
    Client c(b);
    c.login();
    c.transport().compress_ok = false;
    CHECK(has(c.send("a COMPRESS DEFLATE"), "a OK"));
    CHECK(c.transport().closed);
}
