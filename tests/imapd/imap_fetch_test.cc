// FETCH / UID FETCH over MemoryStore: every data item and macro, BODY[section] on a nested
// multipart, partials, BINARY, the \Seen side effect (and none in EXAMINE), CHANGEDSINCE
// and VANISHED, the MIME cache (a message file is read at most once, never when cached),
// streaming under backpressure with a small output mark, and messages expunged meanwhile.

#include <catch2/catch.hpp>

#include "tests/imapd/imap_test_util.h"

using namespace imaptest;

namespace {

// A multipart/mixed with a text part and a message/rfc822 holding a multipart/alternative.
const std::string nested =
    "From: Alice <alice@example.com>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Subject: Fwd: inner\r\n"
    "Content-Type: multipart/mixed; boundary=b1\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "See attached.\r\n"
    "--b1\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: Carol <carol@example.net>\r\n"
    "Subject: inner\r\n"
    "Content-Type: multipart/alternative; boundary=\"b2\"\r\n"
    "\r\n"
    "--b2\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "inner text\r\n"
    "--b2\r\n"
    "Content-Type: text/enriched\r\n"
    "\r\n"
    "<bold>inner</bold>\r\n"
    "--b2--\r\n"
    "\r\n"
    "--b1--\r\n";

const std::string encoded =
    "From: x@example.net\r\n"
    "Subject: binary\r\n"
    "Content-Type: multipart/mixed; boundary=zz\r\n"
    "\r\n"
    "--zz\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "aGVsbG8sIHdvcmxk\r\n"  // "hello, world"
    "--zz\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=C3=A9 =3D ok\r\n"
    "--zz\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAEC\r\n"  // 00 01 02
    "--zz\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Transfer-Encoding: x-uuencode\r\n"
    "\r\n"
    "begin 644 x\r\n"
    "--zz--\r\n";

uint32_t put(TestBackend& b, const std::string& msg, uint8_t flags = 0, int64_t date = 0,
             const std::string& user = alice) {
    DeliveryOptions o;
    o.flags = flags;
    o.internal_date = date;
    auto d = b.store().deliver(user, MessageSource::from_bytes(msg), o);
    REQUIRE(d);
    return d->uid;
}

std::string lit(const std::string& s) { return "{" + std::to_string(s.size()) + "}\r\n" + s; }

std::unique_ptr<Mailbox> other_handle(TestBackend& b) {
    auto box = b.store().open_mailbox(alice, "INBOX");
    REQUIRE(box);
    return std::move(*box);
}

uint64_t modseq_of(TestBackend& b, uint32_t uid) {
    auto i = other_handle(b)->info(uid);
    REQUIRE(i);
    return i->modseq;
}

}  // namespace

TEST_CASE("imapd: FETCH simple items and macros", "[imapd][fetch]") {
    TestBackend b;
    std::string msg = "From: A <a@example.com>\r\nSubject: hi\r\n\r\nbody\r\n";
    put(b, msg, flag_flagged, 1764637323);  // 2025-12-02 01:02:03 UTC
    Client c(b);
    c.login("alice", "INBOX");
    std::string size = std::to_string(msg.size());
    std::string env =
        "ENVELOPE (NIL \"hi\" ((\"A\" NIL \"a\" \"example.com\")) ((\"A\" NIL \"a\" "
        "\"example.com\")) ((\"A\" NIL \"a\" \"example.com\")) NIL NIL NIL NIL NIL)";
    std::string date = "INTERNALDATE \"02-Dec-2025 01:02:03 +0000\"";
    struct Case {
        const char* line;
        std::string want;
    };
    const Case cases[] = {
        {"f FETCH 1 FLAGS", "* 1 FETCH (FLAGS (\\Flagged))\r\n"},
        {"f FETCH 1 (UID RFC822.SIZE)", "* 1 FETCH (UID 1 RFC822.SIZE " + size + ")\r\n"},
        {"f FETCH 1 INTERNALDATE", "* 1 FETCH (" + date + ")\r\n"},
        {"f UID FETCH 1 FLAGS", "* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n"},
        {"f FETCH 1 FAST",
         "* 1 FETCH (FLAGS (\\Flagged) " + date + " RFC822.SIZE " + size + ")\r\n"},
        {"f FETCH 1 ALL",
         "* 1 FETCH (FLAGS (\\Flagged) " + date + " RFC822.SIZE " + size + " " + env + ")\r\n"},
        {"f FETCH 1 FULL", "* 1 FETCH (FLAGS (\\Flagged) " + date + " RFC822.SIZE " + size + " " +
                               env +
                               " BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
                               "\"7bit\" 6 1))\r\n"},
        {"f FETCH 1 BODYSTRUCTURE",
         "* 1 FETCH (BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
         "\"7bit\" 6 1 NIL NIL NIL NIL))\r\n"},
        {"f FETCH 1 (FLAGS FLAGS UID)", "* 1 FETCH (FLAGS (\\Flagged) UID 1)\r\n"},
        {"f FETCH 1 RFC822.HEADER", "* 1 FETCH (RFC822.HEADER " +
                                        lit("From: A <a@example.com>\r\nSubject: hi\r\n\r\n") +
                                        ")\r\n"},
    };
    for (const Case& k : cases) {
        DYNAMIC_SECTION(k.line) {
            std::string r = c.send(k.line);
            CHECK(r == k.want + "f OK FETCH completed\r\n");
        }
    }
}

TEST_CASE("imapd: FETCH MODSEQ enables CONDSTORE", "[imapd][fetch]") {
    TestBackend b;
    put(b, "Subject: a\r\n\r\nx\r\n");
    Client c(b);
    c.login("alice", "INBOX");
    CHECK_FALSE(c.session().enabled().condstore);
    std::string m = std::to_string(modseq_of(b, 1));
    CHECK(c.send("f FETCH 1 (MODSEQ)") ==
          "* 1 FETCH (MODSEQ (" + m + "))\r\nf OK FETCH completed\r\n");
    CHECK(c.session().enabled().condstore);
}

TEST_CASE("imapd: BODY[section] on a nested multipart", "[imapd][fetch]") {
    TestBackend b;
    put(b, nested, flag_seen);
    Client c(b);
    c.login("alice", "INBOX");
    auto body = [&](const std::string& sec) {
        std::string r = c.send("f FETCH 1 BODY.PEEK[" + sec + "]");
        std::string head = "* 1 FETCH (BODY[" + sec + "] ";
        INFO(r.substr(0, 100));
        REQUIRE(r.starts_with(head));
        REQUIRE(r.ends_with(")\r\nf OK FETCH completed\r\n"));
        return r.substr(head.size(), r.size() - head.size() - 25);
    };
    auto part_header = "Content-Type: message/rfc822\r\n\r\n";
    std::string inner_header =
        "From: Carol <carol@example.net>\r\nSubject: inner\r\n"
        "Content-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n";
    size_t inner_start = nested.find("From: Carol");
    size_t inner_end = nested.find("\r\n--b1--");
    std::string inner = nested.substr(inner_start, inner_end - inner_start);
    std::string inner_body = inner.substr(inner_header.size());
    size_t top_header_end = nested.find("\r\n\r\n") + 4;
    struct Case {
        std::string section;
        std::string want;
    };
    const Case cases[] = {
        {"", lit(nested)},
        {"HEADER", lit(nested.substr(0, top_header_end))},
        {"TEXT", lit(nested.substr(top_header_end))},
        {"1", lit("See attached.")},
        {"1.MIME", lit("Content-Type: text/plain\r\n\r\n")},
        {"2", lit(inner)},
        {"2.MIME", lit(part_header)},
        {"2.HEADER", lit(inner_header)},
        {"2.TEXT", lit(inner_body)},
        {"2.1", lit("inner text")},
        {"2.2", lit("<bold>inner</bold>")},
        {"2.2.MIME", lit("Content-Type: text/enriched\r\n\r\n")},
        {"HEADER.FIELDS (Subject TO)",
         lit("To: Bob <bob@example.org>\r\nSubject: Fwd: inner\r\n\r\n")},
        {"HEADER.FIELDS.NOT (Subject To Content-Type)",
         lit("From: Alice <alice@example.com>\r\n\r\n")},
        {"2.HEADER.FIELDS (FROM)", lit("From: Carol <carol@example.net>\r\n\r\n")},
        {"3", "NIL"},
        {"1.HEADER", "NIL"},
    };
    for (const Case& k : cases) {
        DYNAMIC_SECTION("BODY[" << k.section << "]") { CHECK(body(k.section) == k.want); }
    }
    SECTION("BODYSTRUCTURE of the nested message") {
        std::string r = c.send("f FETCH 1 BODYSTRUCTURE");
        CHECK(has(r,
                  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0 NIL "
                  "NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" "));
        CHECK(has(r, "\"alternative\" (\"boundary\" \"b2\") NIL NIL NIL)"));
        CHECK(has(r, " \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL))\r\n"));
    }
}

TEST_CASE("imapd: FETCH partials", "[imapd][fetch]") {
    TestBackend b;
    put(b, nested, flag_seen);
    Client c(b);
    c.login("alice", "INBOX");
    CHECK(c.send("f FETCH 1 BODY.PEEK[]<0.4>") ==
          "* 1 FETCH (BODY[]<0> {4}\r\nFrom)\r\nf OK FETCH completed\r\n");
    CHECK(c.send("f FETCH 1 BODY.PEEK[2.1]<6.100>") ==
          "* 1 FETCH (BODY[2.1]<6> {4}\r\ntext)\r\nf OK FETCH completed\r\n");
    CHECK(c.send("f FETCH 1 BODY.PEEK[1]<9999.5>") ==
          "* 1 FETCH (BODY[1]<9999> {0}\r\n)\r\nf OK FETCH completed\r\n");
    CHECK(c.send("f FETCH 1 BODY.PEEK[HEADER.FIELDS (To)]<4.3>") ==
          "* 1 FETCH (BODY[HEADER.FIELDS (To)]<4> {3}\r\nBob)\r\nf OK FETCH completed\r\n");
    std::string tail = nested.substr(nested.size() - 8);
    CHECK(c.send("f FETCH 1 BODY.PEEK[]<" + std::to_string(nested.size() - 8) + ".100>") ==
          "* 1 FETCH (BODY[]<" + std::to_string(nested.size() - 8) + "> " + lit(tail) +
              ")\r\nf OK FETCH completed\r\n");
}

TEST_CASE("imapd: BINARY, BINARY.PEEK and BINARY.SIZE decode the part", "[imapd][fetch]") {
    TestBackend b;
    put(b, encoded);
    Client c(b);
    c.login("alice", "INBOX");
    CHECK(
        c.send("f FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])") ==
        "* 1 FETCH (BINARY[1] {12}\r\nhello, world BINARY.SIZE[1] 12)\r\nf OK FETCH completed\r\n");
    CHECK(c.send("f FETCH 1 BINARY.PEEK[1]<7.100>") ==
          "* 1 FETCH (BINARY[1]<7> {5}\r\nworld)\r\nf OK FETCH completed\r\n");
    CHECK(c.send("f FETCH 1 BINARY.PEEK[2]") ==
          "* 1 FETCH (BINARY[2] {10}\r\ncaf\xC3\xA9 = ok)\r\nf OK FETCH completed\r\n");
    // NUL in the data: literal8 (RFC 3516 4.3).
    CHECK(c.send("f FETCH 1 BINARY.PEEK[3]") == "* 1 FETCH (BINARY[3] ~{3}\r\n" +
                                                    std::string("\x00\x01\x02", 3) +
                                                    ")\r\nf OK FETCH completed\r\n");
    CHECK(c.send("f FETCH 1 BINARY.SIZE[4]").starts_with("f NO [UNKNOWN-CTE]"));
    CHECK(c.send("f FETCH 1 FLAGS") == "* 1 FETCH (FLAGS ())\r\nf OK FETCH completed\r\n");
    // Without PEEK, \Seen is set and FLAGS follow.
    CHECK(c.send("f FETCH 1 BINARY[1]") ==
          "* 1 FETCH (BINARY[1] {12}\r\nhello, world FLAGS (\\Seen))\r\nf OK FETCH completed\r\n");
}

TEST_CASE("imapd: BODY[] sets \\Seen and says so, PEEK and EXAMINE do not", "[imapd][fetch]") {
    TestBackend b;
    std::string msg = "Subject: s\r\n\r\nhello\r\n";
    put(b, msg);
    put(b, msg);
    put(b, msg);
    Client c(b);
    c.login("alice");
    SECTION("EXAMINE: no side effect") {
        REQUIRE(has(c.send("e EXAMINE INBOX"), "e OK [READ-ONLY]"));
        CHECK(c.send("f FETCH 1 (BODY[TEXT])") ==
              "* 1 FETCH (BODY[TEXT] " + lit("hello\r\n") + ")\r\nf OK FETCH completed\r\n");
        CHECK(c.send("f FETCH 1 RFC822") ==
              "* 1 FETCH (RFC822 " + lit(msg) + ")\r\nf OK FETCH completed\r\n");
        CHECK((other_handle(b)->messages()[0].flags & flag_seen) == 0);
    }
    SECTION("SELECT: BODY[] sets \\Seen once, PEEK and RFC822.HEADER never") {
        REQUIRE(has(c.send("s SELECT INBOX"), "s OK [READ-WRITE]"));
        CHECK(c.send("f FETCH 1 BODY.PEEK[]") ==
              "* 1 FETCH (BODY[] " + lit(msg) + ")\r\nf OK FETCH completed\r\n");
        CHECK(c.send("f FETCH 1 RFC822.HEADER") == "* 1 FETCH (RFC822.HEADER " +
                                                       lit("Subject: s\r\n\r\n") +
                                                       ")\r\nf OK FETCH completed\r\n");
        CHECK((other_handle(b)->messages()[0].flags & flag_seen) == 0);
        CHECK(c.send("f FETCH 1 BODY[]") ==
              "* 1 FETCH (BODY[] " + lit(msg) + " FLAGS (\\Seen))\r\nf OK FETCH completed\r\n");
        CHECK((other_handle(b)->messages()[0].flags & flag_seen) != 0);
        // Already seen: no FLAGS of its own accord.
        CHECK(c.send("f FETCH 1 BODY[]") ==
              "* 1 FETCH (BODY[] " + lit(msg) + ")\r\nf OK FETCH completed\r\n");
        // FLAGS asked: once, with \Seen.
        CHECK(c.send("f FETCH 2 (FLAGS RFC822.TEXT)") == "* 2 FETCH (FLAGS (\\Seen) RFC822.TEXT " +
                                                             lit("hello\r\n") +
                                                             ")\r\nf OK FETCH completed\r\n");
        // With CONDSTORE the implicit FLAGS carry the new MODSEQ.
        c.session().enabled().condstore = true;
        std::string r = c.send("f FETCH 3 BODY[1]");
        std::string m = std::to_string(modseq_of(b, 3));
        CHECK(r == "* 3 FETCH (BODY[1] " + lit("hello\r\n") + " FLAGS (\\Seen) MODSEQ (" + m +
                       "))\r\nf OK FETCH completed\r\n");
    }
}

TEST_CASE("imapd: FETCH (CHANGEDSINCE) and UID FETCH (CHANGEDSINCE VANISHED)", "[imapd][fetch]") {
    TestBackend b;
    for (int i = 0; i < 4; ++i) put(b, "Subject: m\r\n\r\nx\r\n");
    Client c(b);
    c.login("alice", "INBOX");
    uint64_t base = modseq_of(b, 4);
    {
        auto h = other_handle(b);
        uint32_t two = 2;
        REQUIRE(h->store_flags({&two, 1}, FlagChange{FlagOp::add, flag_flagged, {}}));
    }
    REQUIRE(has(c.send("n NOOP"), "* 2 FETCH (UID 2 FLAGS (\\Flagged))"));
    std::string m2 = std::to_string(modseq_of(b, 2));
    CHECK(c.send("f FETCH 1:* (FLAGS) (CHANGEDSINCE " + std::to_string(base) + ")") ==
          "* 2 FETCH (FLAGS (\\Flagged) MODSEQ (" + m2 + "))\r\nf OK FETCH completed\r\n");
    CHECK(c.session().enabled().condstore);
    CHECK(c.send("f FETCH 1:* (FLAGS) (CHANGEDSINCE " + m2 + ")") == "f OK FETCH completed\r\n");
    CHECK(c.send("v UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)").starts_with("v BAD"));

    c.session().enabled().qresync = true;  // what ENABLE QRESYNC will set
    {
        auto h = other_handle(b);
        uint32_t one = 1;
        REQUIRE(h->expunge({&one, 1}));
    }
    REQUIRE(has(c.send("n NOOP"), "* VANISHED 1"));
    std::string r =
        c.send("v UID FETCH 1:3 (FLAGS) (CHANGEDSINCE " + std::to_string(base) + " VANISHED)");
    CHECK(r == "* VANISHED (EARLIER) 1\r\n* 1 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (" + m2 +
                   "))\r\nv OK FETCH completed\r\n");
}

TEST_CASE("imapd: FETCH reads a message file at most once, never when cached", "[imapd][fetch]") {
    TestBackend b;
    const int n = 10000;  // the "10,000 envelopes" of the issue
    for (int i = 0; i < n; ++i) put(b, nested);
    Client c(b);
    c.login("alice", "INBOX");
    int opened = b.memory().calls("open_message");
    std::string r = c.send("f FETCH 1:* (ENVELOPE BODYSTRUCTURE)");
    CHECK(has(r, "* 10000 FETCH (ENVELOPE (NIL \"Fwd: inner\""));
    CHECK(b.memory().calls("open_message") - opened == n);
    CHECK(b.memory().calls("cache_put") == n);
    // The slots go to the store a round at a time (one cache_put_many per produce round of
    // up to 256 KB or 50 ms), not one write per message.
    int puts = b.memory().calls("cache_put_many");
    CHECK(puts >= 1);
    CHECK(puts * 20 <= n);
    // Cached now: no file is read for the structure again, and nothing is written.
    opened = b.memory().calls("open_message");
    CHECK(c.send("f FETCH 1:* (ENVELOPE BODY)").ends_with("f OK FETCH completed\r\n"));
    CHECK(b.memory().calls("open_message") == opened);
    CHECK(b.memory().calls("cache_put_many") == puts);
    CHECK(b.memory().calls("cache_put") == n);
    // Bodies: one open per message, whether or not the structure is cached.
    r = c.send("f FETCH 1:* (BODY.PEEK[2.1] BODY.PEEK[1] BODY.PEEK[] RFC822.SIZE)");
    CHECK(b.memory().calls("open_message") - opened == n);
    CHECK(has(r, "* 10000 FETCH (BODY[2.1] {10}\r\ninner text BODY[1] {13}\r\nSee attached. "));
    // A FLAGS / UID FETCH touches no message at all.
    opened = b.memory().calls("open_message");
    int gets = b.memory().calls("cache_get");
    CHECK(has(c.send("f UID FETCH 1:* FLAGS"), "* 10000 FETCH (UID 10000 FLAGS ())"));
    CHECK(b.memory().calls("open_message") == opened);
    CHECK(b.memory().calls("cache_get") == gets);
}

TEST_CASE("imapd: FETCH streams with backpressure", "[imapd][fetch]") {
    TestBackend b;
    std::string big = "Subject: big\r\n\r\n";
    while (big.size() < (3u << 20))
        big.append("0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n");
    put(b, big, flag_seen);
    for (int i = 0; i < 3000; ++i) put(b, "Subject: s\r\n\r\nx\r\n", flag_seen);
    Client c(b);
    c.login("alice", "INBOX");
    auto& t = c.transport();

    // Steps the command one pool round at a time: each round adds a bounded piece.
    auto run = [&](const std::string& line, size_t& rounds, size_t& largest) {
        t.full = true;
        std::string all = c.raw(line + "\r\n");
        largest = all.size();
        rounds = 1;
        while (!has(all, "\r\nf ")) {
            REQUIRE(rounds < 1000);
            t.full = false;
            c.session().on_drain();
            t.full = true;
            c.settle();
            std::string piece = c.take();
            REQUIRE_FALSE(piece.empty());
            largest = std::max(largest, piece.size());
            all += piece;
            ++rounds;
        }
        t.full = false;
        return all;
    };
    size_t rounds = 0, largest = 0;
    std::string all = run("f FETCH 1 BODY.PEEK[]", rounds, largest);
    CHECK(all == "* 1 FETCH (BODY[] " + lit(big) + ")\r\nf OK FETCH completed\r\n");
    CHECK(rounds >= 10);
    CHECK(largest <= 300 * 1024);

    all = run("f FETCH 2:* (UID FLAGS)", rounds, largest);
    CHECK(has(all, "* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n"));
    CHECK(has(all, "* 3001 FETCH (UID 3001 FLAGS (\\Seen))\r\nf OK FETCH completed\r\n"));
    CHECK(rounds >= 1);

    // A message expunged by another session while the FETCH streams the ones before it is
    // left out; no EXPUNGE during a FETCH by number.
    t.full = true;
    std::string part = c.raw("f FETCH 1:* (RFC822.SIZE BODY.PEEK[])\r\n");
    CHECK(has(part, "* 1 FETCH (RFC822.SIZE " + std::to_string(big.size()) + " BODY[] {"));
    {
        auto h = other_handle(b);
        uint32_t last = 3001;
        REQUIRE(h->expunge({&last, 1}));
    }
    all = part;
    while (!has(all, "\r\nf ")) {
        t.full = false;
        c.session().on_drain();
        c.settle();
        all += c.take();
    }
    CHECK(has(all, "* 3000 FETCH (RFC822.SIZE 17 BODY[] {17}\r\nSubject: s\r\n\r\nx\r\n)\r\n"));
    CHECK_FALSE(has(all, "* 3001 FETCH"));
    CHECK_FALSE(has(all, " EXPUNGE\r\n"));
    CHECK(all.ends_with(
        ")\r\nf NO [EXPUNGEISSUED] Some of the requested messages no longer exist\r\n"));
    REQUIRE(has(c.send("n NOOP"), "* 3001 EXPUNGE\r\n"));

    // Partials of the big message, fetched while another session expunges it: the reader
    // already open keeps serving it.
    t.full = true;
    std::string first = c.raw("f FETCH 1 (BODY.PEEK[]<100.2000000>)\r\n");
    CHECK(has(first, "* 1 FETCH (BODY[]<100> {2000000}\r\n"));
    {
        auto h = other_handle(b);
        uint32_t one = 1;
        REQUIRE(h->expunge({&one, 1}));
    }
    all = first;
    while (!has(all, "\r\nf ")) {
        t.full = false;
        c.session().on_drain();
        c.settle();
        all += c.take();
    }
    CHECK(all == "* 1 FETCH (BODY[]<100> " + lit(big.substr(100, 2000000)) +
                     ")\r\nf OK FETCH completed\r\n");
}

TEST_CASE("imapd: messages expunged by another session during FETCH", "[imapd][fetch]") {
    TestBackend b;
    for (int i = 1; i <= 3; ++i) put(b, "Subject: m" + std::to_string(i) + "\r\n\r\nx\r\n");
    Client c(b);
    c.login("alice", "INBOX");
    {
        auto h = other_handle(b);
        uint32_t two = 2;
        REQUIRE(h->expunge({&two, 1}));
    }
    std::string r = c.send("f FETCH 1:3 (BODY.PEEK[HEADER])");
    CHECK(r == "* 1 FETCH (BODY[HEADER] " + lit("Subject: m1\r\n\r\n") +
                   ")\r\n* 3 FETCH (BODY[HEADER] " + lit("Subject: m3\r\n\r\n") +
                   ")\r\nf NO [EXPUNGEISSUED] Some of the requested messages no longer exist\r\n");
    CHECK_FALSE(has(r, "EXPUNGE\r\n"));
    // What the snapshot knows is still answered.
    CHECK(c.send("f FETCH 2 (UID FLAGS)") ==
          "* 2 FETCH (UID 2 FLAGS ())\r\nf OK FETCH completed\r\n");
    // UID FETCH leaves it out silently; the update comes before its tagged OK.
    r = c.send("u UID FETCH 1:3 (RFC822.SIZE)");
    CHECK(has(r, "* 1 FETCH (UID 1 RFC822.SIZE 18)\r\n* 3 FETCH (UID 3 RFC822.SIZE 18)\r\n"));
    CHECK(has(r, "* 2 EXPUNGE\r\nu OK FETCH completed\r\n"));
}

TEST_CASE("imapd: FETCH errors", "[imapd][fetch]") {
    TestBackend b;
    std::string big(300000, 'a');
    put(b, "Subject: e\r\n\r\n" + big);
    Client c(b);
    c.login("alice", "INBOX");
    CHECK(c.send("f FETCH 2 FLAGS").starts_with("f BAD"));
    CHECK(c.send("f UID FETCH 2 FLAGS") == "f OK FETCH completed\r\n");
    // "$" before any SAVE is the empty set (RFC 5182 2.1): nothing to fetch.
    CHECK(c.send("f FETCH $ FLAGS") == "f OK FETCH completed\r\n");
    // A read failing inside a literal: the announced length is kept, then NO.
    b.memory().fail_on("read", StoreError::temporary, 1);
    std::string r = c.send("f FETCH 1 BODY.PEEK[]");
    std::string head = "* 1 FETCH (BODY[] {" + std::to_string(big.size() + 14) + "}\r\n";
    INFO(r.substr(0, 100));
    REQUIRE(r.starts_with(head));
    std::string tagged = r.substr(head.size() + big.size() + 14);
    CHECK(tagged.starts_with(")\r\nf NO"));
    CHECK(c.send("n NOOP") == "n OK NOOP completed\r\n");
    Client other(b);
    other.login("alice");
    CHECK(other.send("f FETCH 1 FLAGS").starts_with("f BAD"));  // nothing selected
}
