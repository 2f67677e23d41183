// APPEND over MemoryStore (imapd/cmd_append.h): synchronizing and LITERAL+ literals, flags
// and internal date kept, APPENDUID, MULTIAPPEND all or nothing, TRYCREATE, TOOBIG,
// OVERQUOTA before the literal is sent, literal8 and NUL, write errors, backpressure while
// the spool's writes are pending, and a client gone mid-literal leaving nothing behind.

#include <atomic>
#include <catch2/catch.hpp>

#include "tests/imapd/imap_test_util.h"

using namespace imaptest;

namespace {

const std::string m1 = "From: a@example.net\r\nSubject: one\r\n\r\nfirst body\r\n";
const std::string m2 = "From: b@example.net\r\nSubject: two\r\n\r\nsecond\r\n";

std::string lit(const std::string& m, bool plus = false) {
    return "{" + std::to_string(m.size()) + (plus ? "+}" : "}");
}

std::unique_ptr<Mailbox> inbox(TestBackend& b, const std::string& folder = "INBOX") {
    auto mb = b.store().open_mailbox(alice, folder);
    REQUIRE(mb);
    return std::move(*mb);
}

uint32_t uidvalidity(TestBackend& b, const std::string& folder = "INBOX") {
    return inbox(b, folder)->uidvalidity();
}

StoreOptions with_quota(std::atomic<uint64_t>& q) {
    StoreOptions o;
    o.quota_of = [&q](std::string_view) { return q.load(); };
    return o;
}

}  // namespace

TEST_CASE("append: synchronizing literal, flags and internal date kept, APPENDUID", "[append]") {
    TestBackend b;
    Client c(b);
    c.login();
    std::string caps = c.send("c CAPABILITY");
    CHECK(has(caps, " MULTIAPPEND "));
    CHECK(has(caps, " APPENDLIMIT=67108864"));
    std::string r =
        c.send("a APPEND INBOX (\\Seen \\Flagged $Work) \"14-Jul-2020 02:44:25 -0700\" " + lit(m1));
    CHECK(r == "+ Ready for literal data\r\n");
    r = c.raw(m1 + "\r\n");
    uint32_t v = uidvalidity(b);
    CHECK(r == "a OK [APPENDUID " + std::to_string(v) + " 1] APPEND completed\r\n");
    auto mb = inbox(b);
    REQUIRE(mb->messages().size() == 1);
    CHECK(*mb->read_message(1) == m1);
    auto i = mb->info(1);
    REQUIRE(i);
    CHECK(i->flags == (flag_seen | flag_flagged));
    CHECK(i->keywords == std::vector<std::string>{"$Work"});
    CHECK(i->internal_date == 1594719865);  // 2020-07-14 09:44:25 UTC
    // Without flags or date: none, and now.
    c.send("b APPEND INBOX " + lit(m2));
    CHECK(c.raw(m2 + "\r\n").starts_with("b OK [APPENDUID " + std::to_string(v) + " 2]"));
    mb = inbox(b);
    i = mb->info(2);
    CHECK(i->flags == 0);
    CHECK(i->internal_date > 1594719865);
    CHECK(c.send("d NOOP") == "d OK NOOP completed\r\n");
}

TEST_CASE("append: LITERAL+ needs no continuation; pipelined commands follow", "[append]") {
    TestBackend b;
    Client c(b);
    c.login();
    std::string r = c.raw("a APPEND INBOX " + lit(m1, true) + "\r\n" + m1 + "\r\nb NOOP\r\n");
    CHECK_FALSE(has(r, "+ Ready"));
    CHECK(has(r, "a OK [APPENDUID"));
    CHECK(has(r, "b OK NOOP"));
    CHECK(r.find("a OK") < r.find("b OK"));
    CHECK(*inbox(b)->read_message(1) == m1);
}

TEST_CASE("append: byte-by-byte input arrives intact", "[append]") {
    TestBackend b;
    Client c(b);
    c.login();
    std::string in = "a APPEND INBOX (\\Draft) " + lit(m1, true) + "\r\n" + m1 + "\r\n";
    std::string out;
    for (char ch : in) out += c.raw(std::string(1, ch));
    CHECK(has(out, "a OK [APPENDUID"));
    CHECK(*inbox(b)->read_message(1) == m1);
    CHECK(inbox(b)->info(1)->flags == flag_draft);
}

TEST_CASE("append: into the selected mailbox, EXISTS before the tagged OK", "[append]") {
    TestBackend b;
    b.deliver(alice, "old");
    Client c(b);
    c.login("alice", "INBOX");
    c.send("a APPEND INBOX " + lit(m1));
    std::string r = c.raw(m1 + "\r\n");
    CHECK(has(r, "* 2 EXISTS\r\n"));
    CHECK(r.find("* 2 EXISTS") < r.find("a OK [APPENDUID"));
    CHECK(has(r, " 2] APPEND completed"));
}

TEST_CASE("append: MULTIAPPEND delivers all messages in one go", "[append]") {
    TestBackend b;
    REQUIRE(b.store().create_folder(alice, "Archive"));
    Client c(b);
    c.login();
    CHECK(c.send("a APPEND Archive (\\Seen) " + lit(m1)) == "+ Ready for literal data\r\n");
    // The second message's head follows the first literal on the same line.
    CHECK(c.raw(m1 + " \"01-Jan-2001 00:00:00 +0000\" " + lit(m2) + "\r\n") ==
          "+ Ready for literal data\r\n");
    CHECK(inbox(b, "Archive")->messages().empty());  // nothing before the end
    std::string r = c.raw(m2 + "\r\n");
    uint32_t v = uidvalidity(b, "Archive");
    CHECK(r == "a OK [APPENDUID " + std::to_string(v) + " 1:2] APPEND completed\r\n");
    auto mb = inbox(b, "Archive");
    CHECK(*mb->read_message(1) == m1);
    CHECK(*mb->read_message(2) == m2);
    CHECK(mb->info(1)->flags == flag_seen);
    CHECK(mb->info(2)->internal_date == 978307200);
    CHECK(b.memory().staged_alive() == 0);
}

TEST_CASE("append: MULTIAPPEND is all or nothing", "[append]") {
    std::atomic<uint64_t> quota{0};
    TestBackend b(with_quota(quota));
    Client c(b);
    c.login();
    SECTION("a bad flag in the second message") {
        c.send("a APPEND INBOX " + lit(m1));
        std::string r = c.raw(m1 + " (\\Foo) " + lit(m2) + "\r\n");
        CHECK(r == "a BAD Invalid flag in APPEND\r\n");  // no "+": m2 is never sent
    }
    SECTION("a syntax error after the first message (LITERAL+)") {
        std::string r = c.raw("a APPEND INBOX " + lit(m1, true) + "\r\n" + m1 + " junk\r\n");
        CHECK(r.starts_with("a BAD"));
    }
    SECTION("the second message is over the quota's room") {
        quota = m1.size() + m2.size() - 1;
        c.send("a APPEND INBOX " + lit(m1));
        std::string r = c.raw(m1 + " " + lit(m2) + "\r\n");
        CHECK(r == "a NO [OVERQUOTA] Quota exceeded\r\n");
    }
    SECTION("the store fails at delivery") {
        b.memory().fail_on("deliver_staged", StoreError::no_space);
        c.send("a APPEND INBOX " + lit(m1));
        c.raw(m1 + " " + lit(m2) + "\r\n");
        CHECK(c.raw(m2 + "\r\n") == "a NO [LIMIT] Server storage is full\r\n");
    }
    c.settle();
    CHECK(inbox(b)->messages().empty());
    CHECK(b.memory().staged_alive() == 0);
    CHECK(c.send("z NOOP") == "z OK NOOP completed\r\n");  // the stream is in step
}

TEST_CASE("append: a missing folder is TRYCREATE before the literal", "[append]") {
    TestBackend b;
    Client c(b);
    c.login();
    CHECK(c.send("a APPEND NoSuch " + lit(m1)) == "a NO [TRYCREATE] No such mailbox\r\n");
    // LITERAL+: the bytes are read and dropped, then the next command.
    std::string r = c.raw("b APPEND NoSuch " + lit(m1, true) + "\r\n" + m1 + "\r\nc NOOP\r\n");
    CHECK(r == "b NO [TRYCREATE] No such mailbox\r\nc OK NOOP completed\r\n");
    CHECK(b.memory().staged_alive() == 0);
    CHECK(b.memory().calls("stage_message") == 0);
}

TEST_CASE("append: over APPENDLIMIT is TOOBIG, over the quota OVERQUOTA", "[append]") {
    std::atomic<uint64_t> quota{0};
    TestBackend b(with_quota(quota));
    ImapSessionOptions o;
    o.append_limit = 40;
    Client c(b, true, o);
    c.login();
    CHECK(has(c.send("c CAPABILITY"), " APPENDLIMIT=40"));
    CHECK(c.send("a APPEND INBOX {41}") == "a NO [TOOBIG] message too big\r\n");
    std::string big(41, 'x');
    CHECK(c.raw("b APPEND INBOX {41+}\r\n" + big + "\r\nc NOOP\r\n") ==
          "b NO [TOOBIG] message too big\r\nc OK NOOP completed\r\n");
    quota = 30;
    CHECK(c.send("d APPEND INBOX {31}") == "d NO [OVERQUOTA] Quota exceeded\r\n");
    CHECK(c.raw("e APPEND INBOX {31+}\r\n" + std::string(31, 'y') + "\r\nf NOOP\r\n") ==
          "e NO [OVERQUOTA] Quota exceeded\r\nf OK NOOP completed\r\n");
    CHECK(c.send("g APPEND INBOX {30}") == "+ Ready for literal data\r\n");
    CHECK(c.raw(std::string(30, 'z') + "\r\n").starts_with("g OK [APPENDUID"));
    CHECK(inbox(b)->messages().size() == 1);
}

TEST_CASE("append: refused before login, and with an invalid name", "[append]") {
    TestBackend b;
    Client c(b);
    CHECK(c.send("a APPEND INBOX {5}") == "a BAD Log in first\r\n");
    CHECK(c.raw("b APPEND INBOX {5+}\r\nhello\r\nc NOOP\r\n") ==
          "b BAD Log in first\r\nc OK NOOP completed\r\n");
    c.login();
    CHECK(c.send("d APPEND \"bad..name\" {5}").starts_with("d NO [CANNOT]"));
    CHECK(b.memory().staged_alive() == 0);
}

TEST_CASE("append: NUL octets need literal8; literal8 keeps them", "[append]") {
    TestBackend b;
    Client c(b);
    c.login();
    const std::string with_nul("Subject: n\r\n\r\na\0b\r\n", 19);
    REQUIRE(with_nul[15] == '\0');
    REQUIRE(with_nul.size() == 19);
    c.send("a APPEND INBOX {19}");
    CHECK(c.raw(with_nul + "\r\n").starts_with("a NO "));
    CHECK(inbox(b)->messages().empty());
    CHECK(c.send("b APPEND INBOX ~{19}") == "+ Ready for literal data\r\n");
    CHECK(c.raw(with_nul + "\r\n").starts_with("b OK [APPENDUID"));
    CHECK(*inbox(b)->read_message(1) == with_nul);
    CHECK(b.memory().staged_alive() == 0);
}

TEST_CASE("append: a write error answers NO and delivers nothing", "[append]") {
    TestBackend b;
    Client c(b);
    c.login();
    b.memory().fail_on("staged_write", StoreError::temporary);
    c.send("a APPEND INBOX " + lit(m1));
    CHECK(c.raw(m1 + "\r\n").starts_with("a NO [UNAVAILABLE]"));
    CHECK(inbox(b)->messages().empty());
    CHECK(b.memory().staged_alive() == 0);
    CHECK(c.send("b NOOP") == "b OK NOOP completed\r\n");
}

TEST_CASE("append: a large message streams with a bounded buffer and backpressure", "[append]") {
    TestBackend b;
    Client c(b);
    c.login();
    std::string msg = "Subject: big\r\n\r\n";
    while (msg.size() < 3 * 1024 * 1024)
        msg += "0123456789abcdefghijklmnopqrstuvwxyz-0123456789-ABC\r\n";
    CHECK(c.send("a APPEND INBOX {" + std::to_string(msg.size()) + "}") ==
          "+ Ready for literal data\r\n");
    // Fed in 64 KB reads without letting the store run: the session must stop reading
    // once a write is pending and the next buffer is full.
    const size_t piece = 64 * 1024;
    size_t fed = 0;
    int pauses = 0;
    while (fed < msg.size()) {
        size_t n = std::min(piece, msg.size() - fed);
        c.session().on_input(std::string_view(msg).substr(fed, n));
        fed += n;
        if (c.transport().paused) {
            ++pauses;
            // Not more than the two buffers (and a read) are held.
            CHECK(b.pending_jobs() == 1);
            c.settle();  // the write completes; reading resumes
            CHECK_FALSE(c.transport().paused);
        }
    }
    CHECK(pauses >= 5);
    std::string r = c.raw("\r\n");
    CHECK(r.starts_with("a OK [APPENDUID"));
    CHECK(*inbox(b)->read_message(1) == msg);
    CHECK(b.memory().calls("staged_write") >= 10);  // in pieces, not in one
}

TEST_CASE("append: a client gone mid-literal leaves nothing behind", "[append]") {
    TestBackend b;
    REQUIRE(b.store().create_folder(alice, "Archive"));
    std::string msg(600 * 1024, 'q');
    SECTION("between writes") {
        {
            Client c(b);
            c.login();
            c.send("a APPEND Archive {" + std::to_string(msg.size()) + "}");
            c.raw(msg.substr(0, 400 * 1024));  // one write done, more buffered
        }
    }
    SECTION("with a write in flight") {
        {
            Client c(b);
            c.login();
            c.send("a APPEND Archive {" + std::to_string(msg.size()) + "}");
            c.session().on_input(std::string_view(msg).substr(0, 300 * 1024));
            REQUIRE(b.pending_jobs() == 1);
        }
    }
    SECTION("during MULTIAPPEND, one message complete") {
        {
            Client c(b);
            c.login();
            c.send("a APPEND Archive " + lit(m1));
            c.raw(m1 + " " + "{" + std::to_string(msg.size()) + "}\r\n" + msg.substr(0, 1000));
        }
    }
    b.run_all();  // what the session left to the pool
    CHECK(b.memory().staged_alive() == 0);
    CHECK(inbox(b, "Archive")->messages().empty());
}

TEST_CASE("append: the mailbox name as a literal, then the message", "[append]") {
    TestBackend b;
    REQUIRE(b.store().create_folder(alice, "Sent"));
    Client c(b);
    c.login();
    CHECK(c.send("a APPEND {4}") == "+ Ready for literal data\r\n");
    CHECK(c.send("Sent (\\Seen) " + lit(m1)) == "+ Ready for literal data\r\n");
    CHECK(c.raw(m1 + "\r\n").starts_with("a OK [APPENDUID"));
    CHECK(*inbox(b, "Sent")->read_message(1) == m1);
}
