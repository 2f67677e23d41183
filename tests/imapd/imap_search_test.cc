// SEARCH / UID SEARCH over MemoryStore: every RFC 3501 key, combinations, CHARSET and
// BADCHARSET, encoded-word headers and base64 / quoted-printable bodies in other charsets,
// MODSEQ, the ESEARCH forms, RETURN (SAVE) and "$", IMAP4rev2's ESEARCH, batching of a large
// folder and streaming under backpressure; what the cheap keys do not read; and the pure
// parts (RFC 5322 dates, case folding, the text scanner, the header reader).

#include <catch2/catch.hpp>

#include "imapd/search_fold.h"
#include "imapd/search_loader.h"
#include "imapd/search_matcher.h"
#include "imapd/search_text.h"
#include "imapd/thread_build.h"
#include "libproto/imap/imap_base_subject.h"
#include "libproto/imap/imap_lexer.h"
#include "libproto/mime/mime_date.h"
#include "tests/imapd/imap_test_util.h"

using namespace imaptest;

namespace {

// 2024-01-02 12:00, 2024-02-16 08:00 and 2024-03-10 23:30 UTC.
constexpr int64_t jan2 = 1704196800;
constexpr int64_t feb16 = 1708070400;
constexpr int64_t mar10 = 1710113400;

const std::string msg1 =
    "From: \"Alice Example\" <alice@example.net>\r\n"
    "To: bob@example.org\r\n"
    "Cc: carol@example.com\r\n"
    "Bcc: dave@example.com\r\n"
    "Subject: Hello World\r\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
    "X-Tag: red\r\n"
    " and blue\r\n"
    "\r\n"
    "The quick brown fox\r\n";

// Subject "Grüße aus Köln", From "Jörg" in ISO-8859-1, body "Ärger mit der Straßenbahn"
// in base64 UTF-8.
const std::string msg2 =
    "From: =?iso-8859-1?q?J=F6rg?= <joerg@example.de>\r\n"
    "To: team@example.org\r\n"
    "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"
    "Date: Thu, 15 Feb 2024 23:59:00 -0800\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "w4RyZ2VyIG1pdCBkZXIgU3RyYcOfZW5iYWhu\r\n";

// No Date: field; a quoted-printable ISO-8859-1 part ("café crème") and a base64
// attachment holding "secretword" (attachments are not text: not searched).
std::string msg3() {
    std::string m =
        "From: shop@example.com\r\n"
        "To: bob@example.org\r\n"
        "Subject: Your order\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
        "\r\n"
        "preamble\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "Un caf=E9 cr=E8me, s'il vous pla=EEt, with a very long soft=\r\n"
        "break.\r\n"
        "--b1\r\n"
        "Content-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        "c2VjcmV0d29yZA==\r\n";
    for (int i = 0; i < 40; ++i)
        m += "X-Padding-" + std::to_string(i) + ": " + std::string(60, 'p') + "\r\n";
    m += "--b1--\r\n";
    return m;
}

void put(TestBackend& b, const std::string& msg, int64_t date, uint8_t flags,
         std::vector<std::string> keywords = {}) {
    DeliveryOptions o;
    o.internal_date = date;
    o.flags = flags;
    o.keywords = std::move(keywords);
    REQUIRE(b.memory().deliver(alice, MessageSource::from_bytes(msg), o));
}

void three(TestBackend& b) {
    put(b, msg1, jan2, flag_seen);
    put(b, msg2, feb16, flag_flagged | flag_answered, {"$Important"});
    put(b, msg3(), mar10, flag_deleted | flag_draft);
}

// The untagged SEARCH line of a command's answer ("" when there is none).
std::string search_line(const std::string& out) {
    auto at = out.find("* SEARCH");
    if (at == std::string::npos) return "";
    return out.substr(at, out.find("\r\n", at) - at);
}

std::string esearch_line(const std::string& out) {
    auto at = out.find("* ESEARCH");
    if (at == std::string::npos) return "";
    return out.substr(at, out.find("\r\n", at) - at);
}

}  // namespace

TEST_CASE("imapd: SEARCH keys one by one", "[imapd][search]") {
    struct Case {
        const char* criteria;
        const char* want;  // the SEARCH line
    };
    const Case cases[] = {
        {"ALL", "* SEARCH 1 2 3"},
        {"SEEN", "* SEARCH 1"},
        {"UNSEEN", "* SEARCH 2 3"},
        {"ANSWERED", "* SEARCH 2"},
        {"UNANSWERED", "* SEARCH 1 3"},
        {"FLAGGED", "* SEARCH 2"},
        {"UNFLAGGED", "* SEARCH 1 3"},
        {"DELETED", "* SEARCH 3"},
        {"UNDELETED", "* SEARCH 1 2"},
        {"DRAFT", "* SEARCH 3"},
        {"UNDRAFT", "* SEARCH 1 2"},
        {"NEW", "* SEARCH"},
        {"RECENT", "* SEARCH"},
        {"OLD", "* SEARCH 1 2 3"},
        {"KEYWORD $important", "* SEARCH 2"},
        {"UNKEYWORD $Important", "* SEARCH 1 3"},
        {"KEYWORD nothere", "* SEARCH"},
        {"2:*", "* SEARCH 2 3"},
        {"1,3", "* SEARCH 1 3"},
        {"*", "* SEARCH 3"},
        {"UID 2", "* SEARCH 2"},
        {"UID 3:*", "* SEARCH 3"},
        {"BEFORE 2-Jan-2024", "* SEARCH"},
        {"BEFORE 3-Jan-2024", "* SEARCH 1"},
        {"ON 16-Feb-2024", "* SEARCH 2"},
        {"SINCE 16-Feb-2024", "* SEARCH 2 3"},
        {"SINCE 11-Mar-2024", "* SEARCH"},
        {"SENTBEFORE 2-Jan-2024", "* SEARCH 1"},
        {"SENTON 15-Feb-2024", "* SEARCH 2"},  // the date as written, not in UTC
        {"SENTON 16-Feb-2024", "* SEARCH"},
        {"SENTSINCE 10-Mar-2024", "* SEARCH 3"},  // no Date: the internal date
        {"LARGER 2000", "* SEARCH 3"},
        {"SMALLER 2000", "* SEARCH 1 2"},
        {"FROM alice", "* SEARCH 1"},
        {"FROM \"ALICE EXAMPLE\"", "* SEARCH 1"},
        {"FROM example", "* SEARCH 1 2 3"},
        {"TO bob", "* SEARCH 1 3"},
        {"CC carol", "* SEARCH 1"},
        {"BCC dave", "* SEARCH 1"},
        {"SUBJECT hello", "* SEARCH 1"},
        {"SUBJECT \"\"", "* SEARCH 1 2 3"},
        {"HEADER X-Tag blue", "* SEARCH 1"},  // folded value
        {"HEADER x-tag \"\"", "* SEARCH 1"},  // present at all
        {"HEADER Subject order", "* SEARCH 3"},
        {"HEADER Message-ID x", "* SEARCH"},
        {"BODY quick", "* SEARCH 1"},
        {"BODY QUICK", "* SEARCH 1"},
        {"BODY red", "* SEARCH"},  // header only
        {"TEXT red", "* SEARCH 1"},
        {"TEXT fox", "* SEARCH 1"},
        {"TEXT x-padding", "* SEARCH"},  // a part header is not text
        {"BODY secretword", "* SEARCH"},
        {"BODY softbreak", "* SEARCH 3"},  // QP soft line break joined
        {"BODY preamble", "* SEARCH"},
        {"NOT SEEN", "* SEARCH 2 3"},
        {"OR SEEN FLAGGED", "* SEARCH 1 2"},
        {"OR (SEEN TO nobody) KEYWORD $Important", "* SEARCH 2"},
        {"(SEEN FROM alice)", "* SEARCH 1"},
        {"NOT (OR DELETED BODY fox)", "* SEARCH 2"},
        {"UNDELETED SMALLER 5000 NOT FROM alice", "* SEARCH 2"},
        {"OR OR 1 2 3", "* SEARCH 1 2 3"},
        {"OLDER 1", "* SEARCH 1 2 3"},  // WITHIN (RFC 5032): the dates are in 2024
        {"YOUNGER 1", "* SEARCH"},
        {"YOUNGER 2000000000", "* SEARCH 1 2 3"},
    };
    TestBackend b;
    three(b);
    Client c(b);
    c.login("alice", "INBOX");
    for (const Case& k : cases) {
        DYNAMIC_SECTION(k.criteria) {
            std::string out = c.send(std::string("s SEARCH ") + k.criteria);
            INFO("got " << out);
            CHECK(search_line(out) == k.want);
            CHECK(has(out, "s OK SEARCH completed"));
        }
    }
}

TEST_CASE("imapd: SEARCH in decoded text: encoded words, base64, QP, charsets", "[imapd][search]") {
    TestBackend b;
    three(b);
    Client c(b);
    c.login("alice", "INBOX");
    // UTF-8 needles travel as literals.
    auto utf8 = [&](const std::string& tag, const std::string& key, const std::string& s) {
        return c.raw(tag + " SEARCH CHARSET UTF-8 " + key + " {" + std::to_string(s.size()) +
                     "+}\r\n" + s + "\r\n");
    };
    CHECK(search_line(utf8("a", "SUBJECT", "köln")) == "* SEARCH 2");
    CHECK(search_line(utf8("b", "SUBJECT", "GRÜ")) == "* SEARCH 2");  // case-insensitive
    CHECK(search_line(utf8("c", "FROM", "JÖRG")) == "* SEARCH 2");    // ISO-8859-1 word
    CHECK(search_line(utf8("d", "BODY", "ärger")) == "* SEARCH 2");   // base64 UTF-8
    CHECK(search_line(utf8("e", "BODY", "straßenbahn")) == "* SEARCH 2");
    CHECK(search_line(utf8("f", "TEXT", "CAFÉ CRÈME")) == "* SEARCH 3");  // QP Latin-1
    CHECK(search_line(utf8("g", "BODY", "plaît")) == "* SEARCH 3");
    // The raw bytes are not what is matched.
    CHECK(search_line(c.send("h SEARCH BODY w4RyZ2Vy")) == "* SEARCH");
    CHECK(search_line(c.send("i SEARCH SUBJECT R3LDvMOfZSBh")) == "* SEARCH");
    CHECK(search_line(c.send("j SEARCH CHARSET us-ascii SUBJECT aus")) == "* SEARCH 2");
    std::string bad = c.send("k SEARCH CHARSET ISO-8859-1 SUBJECT x");
    CHECK(bad == "k NO [BADCHARSET (UTF-8 US-ASCII)] Charset not supported\r\n");
}

TEST_CASE("imapd: UID SEARCH answers with UIDs", "[imapd][search]") {
    TestBackend b;
    three(b);
    {  // UIDs 1..3, then 1 is expunged: sequence numbers and UIDs differ
        auto box = b.store().open_mailbox(alice);
        REQUIRE(box);
        uint32_t one = 1;
        REQUIRE((*box)->expunge(std::span(&one, 1)));
    }
    put(b, msg1, jan2, 0);  // UID 4
    Client c(b);
    c.login("alice", "INBOX");
    CHECK(search_line(c.send("a UID SEARCH ALL")) == "* SEARCH 2 3 4");
    CHECK(search_line(c.send("b SEARCH ALL")) == "* SEARCH 1 2 3");
    CHECK(search_line(c.send("c UID SEARCH 1")) == "* SEARCH 2");  // sequence number 1
    CHECK(search_line(c.send("d SEARCH UID 4")) == "* SEARCH 3");
    CHECK(search_line(c.send("e UID SEARCH UID 3:*")) == "* SEARCH 3 4");
    CHECK(search_line(c.send("f UID SEARCH FROM alice")) == "* SEARCH 4");
}

TEST_CASE("imapd: ESEARCH return options", "[imapd][search]") {
    TestBackend b;
    three(b);
    Client c(b);
    c.login("alice", "INBOX");
    struct Case {
        const char* line;
        const char* want;
    };
    const Case cases[] = {
        {"a SEARCH RETURN (MIN MAX COUNT) UNDELETED", "* ESEARCH (TAG \"a\") MIN 1 MAX 2 COUNT 2"},
        {"b UID SEARCH RETURN () ALL", "* ESEARCH (TAG \"b\") UID ALL 1:3"},
        {"c SEARCH RETURN (ALL) OR SEEN DELETED", "* ESEARCH (TAG \"c\") ALL 1,3"},
        {"d SEARCH RETURN (MIN COUNT) NEW", "* ESEARCH (TAG \"d\") COUNT 0"},
        {"e SEARCH RETURN (MAX) NEW", "* ESEARCH (TAG \"e\")"},
        {"f UID SEARCH RETURN (COUNT) CHARSET UTF-8 BODY o", "* ESEARCH (TAG \"f\") UID COUNT 2"},
    };
    for (const Case& k : cases) {
        DYNAMIC_SECTION(k.line) {
            std::string out = c.send(k.line);
            INFO("got " << out);
            CHECK(esearch_line(out) == k.want);
            CHECK(search_line(out).empty());
        }
    }
}

TEST_CASE("imapd: RETURN (SAVE) and $", "[imapd][search]") {
    TestBackend b;
    three(b);
    Client c(b);
    c.login("alice", "INBOX");
    // SAVE alone: no ESEARCH answer.
    CHECK(c.send("a SEARCH RETURN (SAVE) OR FLAGGED DELETED") == "a OK SEARCH completed\r\n");
    CHECK(search_line(c.send("b UID SEARCH UID $")) == "* SEARCH 2 3");
    CHECK(search_line(c.send("c SEARCH $ UNDELETED")) == "* SEARCH 2");
    CHECK(search_line(c.send("d SEARCH NOT $")) == "* SEARCH 1");
    // With MIN: only the minimum is saved, and the answer is still sent.
    CHECK(esearch_line(c.send("e SEARCH RETURN (SAVE MIN) ALL")) == "* ESEARCH (TAG \"e\") MIN 1");
    CHECK(search_line(c.send("f SEARCH $")) == "* SEARCH 1");
    // With COUNT: all of them.
    CHECK(esearch_line(c.send("g SEARCH RETURN (SAVE MIN COUNT) UNSEEN")) ==
          "* ESEARCH (TAG \"g\") MIN 2 COUNT 2");
    CHECK(search_line(c.send("h SEARCH $")) == "* SEARCH 2 3");
    // "$" in a later command: UID EXPUNGE removes the saved \Deleted one only.
    CHECK(c.send("i SEARCH RETURN (SAVE) DELETED") == "i OK SEARCH completed\r\n");
    std::string ex = c.send("j UID EXPUNGE $");
    CHECK(has(ex, "* 3 EXPUNGE"));
    CHECK(has(ex, "j OK"));
    // The saved message is gone: "$" names nothing now.
    CHECK(search_line(c.send("k SEARCH $")) == "* SEARCH");
    // A failed SAVE search empties "$".
    CHECK(c.send("l SEARCH RETURN (SAVE) ALL") == "l OK SEARCH completed\r\n");
    CHECK(has(c.send("m SEARCH RETURN (SAVE) CHARSET KOI8-R ALL"), "m NO [BADCHARSET"));
    CHECK(search_line(c.send("n SEARCH $")) == "* SEARCH");
}

TEST_CASE("imapd: SEARCH MODSEQ enables CONDSTORE and answers (MODSEQ n)", "[imapd][search]") {
    TestBackend b;
    three(b);
    uint64_t m2 = 0;
    {
        auto box = b.store().open_mailbox(alice);
        REQUIRE(box);
        uint32_t two = 2;
        FlagChange ch;
        ch.flags = flag_seen;
        REQUIRE((*box)->store_flags(std::span(&two, 1), ch));
        auto i = (*box)->info(2);
        REQUIRE(i);
        m2 = i->modseq;
    }
    Client c(b);
    c.login("alice", "INBOX");
    std::string all = c.send("a SEARCH MODSEQ 1");
    CHECK(search_line(all) == "* SEARCH 1 2 3 (MODSEQ " + std::to_string(m2) + ")");
    std::string one = c.send("b SEARCH MODSEQ " + std::to_string(m2));
    CHECK(search_line(one) == "* SEARCH 2 (MODSEQ " + std::to_string(m2) + ")");
    CHECK(search_line(c.send("c SEARCH MODSEQ " + std::to_string(m2 + 1))) == "* SEARCH");
    CHECK(search_line(c.send("d SEARCH MODSEQ \"/flags/\\\\Seen\" all 1 SEEN"))
              .starts_with("* SEARCH 1 2 (MODSEQ "));
    CHECK(esearch_line(c.send("e UID SEARCH RETURN (MIN) MODSEQ 1"))
              .starts_with("* ESEARCH (TAG \"e\") UID MIN 1 MODSEQ "));
    CHECK(c.session().enabled().condstore);
}

TEST_CASE("imapd: after ENABLE IMAP4rev2 SEARCH answers with ESEARCH", "[imapd][search]") {
    TestBackend b;
    three(b);
    Client c(b);
    c.login("alice", "INBOX");
    REQUIRE(has(c.send("e ENABLE IMAP4rev2"), "e OK"));
    std::string out = c.send("a SEARCH UNSEEN");
    CHECK(esearch_line(out) == "* ESEARCH (TAG \"a\") ALL 2:3");
    CHECK(esearch_line(c.send("b SEARCH NEW")) == "* ESEARCH (TAG \"b\")");
}

TEST_CASE("imapd: SEARCH needs a selected mailbox; bad syntax is BAD", "[imapd][search]") {
    TestBackend b;
    Client c(b);
    c.login("alice");
    CHECK(c.send("a SEARCH ALL").starts_with("a BAD"));
    REQUIRE(has(c.send("b SELECT INBOX"), "b OK"));
    CHECK(c.send("c SEARCH ALL") == "* SEARCH\r\nc OK SEARCH completed\r\n");
    CHECK(c.send("d SEARCH FROBNICATE").starts_with("d BAD"));
    CHECK(c.send("e SEARCH BEFORE 31-Feb-2024").starts_with("e BAD"));
}

TEST_CASE("imapd: a store failure during SEARCH is NO, and the session goes on",
          "[imapd][search]") {
    TestBackend b;
    three(b);
    Client c(b);
    c.login("alice", "INBOX");
    b.memory().fail_on("info", StoreError::temporary);
    CHECK(has(c.send("a SEARCH LARGER 1"), "a NO"));
    CHECK(search_line(c.send("b SEARCH LARGER 1")) == "* SEARCH 1 2 3");
    // A message that vanished under the search does not match (and is no error).
    b.memory().fail_on("open_message", StoreError::expunged);
    CHECK(search_line(c.send("c SEARCH BODY e")) == "* SEARCH 2 3");
}

TEST_CASE("imapd: cheap keys open no message; header keys use the cache", "[imapd][search]") {
    TestBackend b;
    three(b);
    Client c(b);
    c.login("alice", "INBOX");
    int opened = b.memory().calls("open_message");
    CHECK(search_line(c.send("a SEARCH SEEN UID 1:* 1:* LARGER 10 SINCE 1-Jan-2000 MODSEQ 1"))
              .starts_with("* SEARCH 1 "));
    CHECK(b.memory().calls("open_message") == opened);
    // The first envelope search parses and caches; the next ones read the cache only.
    CHECK(search_line(c.send("b SEARCH SUBJECT e")) == "* SEARCH 1 2 3");
    int after_first = b.memory().calls("open_message");
    CHECK(after_first == opened + 3);
    CHECK(search_line(c.send("c SEARCH OR FROM shop SENTON 1-Jan-2024")) == "* SEARCH 1 3");
    CHECK(b.memory().calls("open_message") == after_first);
    // The flag decides before any header is read.
    CHECK(search_line(c.send("d SEARCH SEEN BODY quick")) == "* SEARCH 1");
    CHECK(b.memory().calls("open_message") == after_first + 1);
}

TEST_CASE("imapd: \"$\" before any SAVE is the empty set in every command", "[imapd][search]") {
    TestBackend b;
    three(b);
    Client c(b);
    c.login("alice", "INBOX");
    CHECK(c.send("f FETCH $ (FLAGS)") == "f OK FETCH completed\r\n");
    CHECK(c.send("g UID FETCH $ (FLAGS)") == "g OK FETCH completed\r\n");
    CHECK(c.send("s STORE $ +FLAGS (\\Deleted)").starts_with("s OK"));
    CHECK(c.send("t UID STORE $ +FLAGS (\\Deleted)").starts_with("t OK"));
    CHECK(c.send("c COPY $ INBOX").starts_with("c OK"));
    CHECK(c.send("d UID COPY $ INBOX").starts_with("d OK"));
    CHECK(c.send("e UID EXPUNGE $").starts_with("e OK"));
    CHECK(search_line(c.send("h SEARCH $")) == "* SEARCH");
    CHECK(search_line(c.send("i SEARCH OR $ SEEN")) == "* SEARCH 1");
    // Nothing was changed, copied or expunged.
    CHECK(search_line(c.send("j SEARCH ALL")) == "* SEARCH 1 2 3");
    CHECK(search_line(c.send("k SEARCH DELETED")) == "* SEARCH 3");
}

TEST_CASE("imapd: SEARCH, SORT and THREAD cache what they parse with one write per batch",
          "[imapd][search]") {
    TestBackend b;
    const int n = 300;
    for (int i = 0; i < n; ++i) put(b, msg1, jan2, 0, {});
    Client c(b);
    c.login("alice", "INBOX");
    // Cold: every message is parsed once, its slot written within a cache_put_many.
    CHECK(search_line(c.send("a SEARCH SUBJECT hello")).starts_with("* SEARCH 1 2 3 "));
    CHECK(b.memory().calls("cache_put") == n);
    int puts = b.memory().calls("cache_put_many");
    CHECK(puts >= 1);
    CHECK(puts * 20 <= n);
    // Warm: SEARCH and SORT read the cache, write nothing.
    int opened = b.memory().calls("open_message");
    CHECK(search_line(c.send("b SEARCH FROM alice")).starts_with("* SEARCH 1 2 3 "));
    CHECK(has(c.send("c SORT (SUBJECT) UTF-8 ALL"), "c OK SORT"));
    CHECK(b.memory().calls("open_message") == opened);
    CHECK(b.memory().calls("cache_put_many") == puts);
    // SORT over uncached messages batches its writes the same way.
    for (int i = 0; i < n; ++i) put(b, msg1, jan2, 0, {});
    REQUIRE(has(c.send("n NOOP"), "n OK"));
    CHECK(has(c.send("d SORT (FROM) UTF-8 ALL"), "d OK SORT"));
    CHECK(b.memory().calls("cache_put") == 2 * n);
    CHECK((b.memory().calls("cache_put_many") - puts) * 20 <= n);
}

TEST_CASE("imapd: a large folder is searched in batches and the answer streams",
          "[imapd][search]") {
    TestBackend b;
    const int n = 4500;
    for (int i = 1; i <= n; ++i) put(b, msg1, jan2 + i, i % 3 == 0 ? flag_seen : 0);
    Client c(b);
    c.login("alice", "INBOX");
    int infos = b.memory().calls("info");
    std::string out = c.send("a UID SEARCH UNSEEN LARGER 10");
    CHECK(b.memory().calls("info") - infos == 1);  // cheap keys: 20,000 entries a batch
    infos = b.memory().calls("info");
    std::string with_header = c.send("a2 UID SEARCH UNSEEN LARGER 10 FROM alice");
    CHECK(b.memory().calls("info") - infos >= 3);  // 2,000 entries a batch
    CHECK(search_line(with_header) == search_line(out));
    std::string line = search_line(out);
    CHECK(line.starts_with("* SEARCH 1 2 4 5 7 "));
    CHECK(line.ends_with(" 4498 4499"));
    CHECK(std::count(line.begin(), line.end(), ' ') == 1 + n - n / 3);  // "* " and one a match

    // Backpressure: with the transport full, the answer stops after a piece.
    c.transport().full = true;
    c.session().on_input("b SEARCH ALL\r\n");
    c.settle();
    std::string first = c.take();
    CHECK(has(first, "* SEARCH 1 2 3"));
    CHECK_FALSE(has(first, "b OK"));
    c.transport().full = false;
    c.session().on_drain();
    c.settle();
    std::string rest = c.take();
    CHECK(has(rest, " 4500\r\nb OK SEARCH completed"));
}

TEST_CASE("search: the batch loader stops at its budget and resumes", "[imapd][search]") {
    TestBackend b;
    for (int i = 0; i < 10; ++i) put(b, i % 2 ? msg1 : msg2, jan2, 0);
    auto box = b.store().open_mailbox(alice);
    REQUIRE(box);
    SearchKey k;
    ImapLexer lx("BODY fox");
    REQUIRE(parse_search_criteria(lx, k, {}));
    SearchPlan plan = compile_search(k);
    CHECK((plan.needs & search_needs_body) != 0);
    SearchContext ctx;
    ctx.count = 10;
    ctx.max_uid = 10;
    SearchBudget budget;
    budget.max_bytes = 1;  // one message a batch
    SearchMatches m;
    uint32_t pos = 0;
    int batches = 0;
    while (pos < 10) {
        auto r = search_batch(**box, plan, ctx, pos, budget, m);
        REQUIRE(r);
        CHECK(*r == pos + 1);
        pos = *r;
        ++batches;
    }
    CHECK(batches == 10);
    CHECK(m.positions == std::vector<uint32_t>{1, 3, 5, 7, 9});
}

TEST_CASE("search: RFC 5322 dates", "[imapd][search]") {
    struct Case {
        const char* in;
        int y, mo, d, h, mi, s, zone;
    };
    const Case ok[] = {
        {"Tue, 1 Jul 2003 10:52:37 +0200", 2003, 7, 1, 10, 52, 37, 120},
        {"1 Jul 2003 10:52 -0830", 2003, 7, 1, 10, 52, 0, -510},
        {"  Fri,  21 Nov 1997 09:55:06 -0600 (MDT)", 1997, 11, 21, 9, 55, 6, -360},
        {"Thu, 13 Feb 69 23:32:54 -0330", 2069 - 100, 2, 13, 23, 32, 54, -210},
        {"13 Feb 49 23:32:54 GMT", 2049, 2, 13, 23, 32, 54, 0},
        {"Mon, 29 Feb 2016 00:00:00 EST", 2016, 2, 29, 0, 0, 0, -300},
        {"Mon (day), 3 (x) Mar 103 01:02:03 z", 2003, 3, 3, 1, 2, 3, 0},
        {"5-Jan-2020 12:00:00", 2020, 1, 5, 12, 0, 0, 0},
        {"Sat, 31 Dec 2022 23:59:60 +0000", 2022, 12, 31, 23, 59, 60, 0},
    };
    for (const Case& k : ok) {
        DYNAMIC_SECTION(k.in) {
            auto d = mime_parse_date(k.in);
            REQUIRE(d);
            CHECK(int(d->year) == k.y);
            CHECK(int(d->month) == k.mo);
            CHECK(int(d->day) == k.d);
            CHECK(int(d->hour) == k.h);
            CHECK(int(d->minute) == k.mi);
            CHECK(int(d->second) == k.s);
            CHECK(int(d->zone_minutes) == k.zone);
        }
    }
    for (const char* bad : {"", "yesterday", "30 Feb 2024 10:00:00 +0000", "1 Jul 2003",
                            "1 Jux 2003 10:00", "1 Jul 2003 25:00:00", "1 Jul 2003 10:00 +2",
                            "123 Jul 2003 10:00", "Tue, 1 Jul 1800 10:00:00"}) {
        CHECK_FALSE(mime_parse_date(bad));
    }
    CHECK(mime_parse_date("Thu, 1 Jan 1970 01:00:00 +0100")->to_unix() == 0);
    CHECK(mime_parse_date("Sat, 2 Mar 2024 12:00:00 +0000")->to_unix() == 1709380800);
}

TEST_CASE("search: case folding", "[imapd][search]") {
    CHECK(search_fold("Hello WORLD") == "hello world");
    CHECK(search_fold("ÄÖÜ Ÿ Ł Ž") == "äöü ÿ ł ž");
    CHECK(search_fold("ΑΘΗΝΑ Ά ς") == "αθηνα ά σ");
    CHECK(search_fold("МОСКВА Ё") == "москва ё");
    CHECK(search_fold("ẞ ǅ 日本") == "ß ǅ 日本");  // ǅ is outside the table: kept
    CHECK(search_fold("Ｆｕｌｌ") == "ｆｕｌｌ");
    std::string invalid = "A\xC3\xFF\xE2\x82";
    CHECK(search_fold(invalid) == "a\xC3\xFF\xE2\x82");  // bytes kept, never read past
}

TEST_CASE("search: the scanner finds needles across chunks", "[imapd][search]") {
    SearchTextScanner sc({"hello", "world", "", "absent"});
    CHECK(sc.hit(2));
    for (char ch : std::string("say hel")) sc.feed(std::string_view(&ch, 1));
    sc.feed("lo wor");
    CHECK(sc.hit(0));
    CHECK_FALSE(sc.hit(1));
    sc.feed("ld");
    CHECK(sc.hit(1));
    CHECK_FALSE(sc.all_hit());
    sc.feed("abs");
    sc.break_text();  // a new part: no match across it
    sc.feed("ent");
    CHECK_FALSE(sc.hit(3));
}

TEST_CASE("search: the header reader unfolds and stops at the body", "[imapd][search]") {
    std::vector<std::pair<std::string, std::string>> got;
    SearchHeaderReader r([&](std::string_view n, std::string_view v) {
        got.emplace_back(std::string(n), std::string(v));
    });
    std::string h =
        "Subject: one\r\n two\r\nno colon line\r\nX-A :  spaced  \nTo: a@b\r\n\r\nBody: no\r\n";
    for (char ch : h) r.feed(std::string_view(&ch, 1));
    r.finish();
    using P = std::pair<std::string, std::string>;
    CHECK(got == std::vector<P>{{"Subject", "one two"}, {"X-A", "spaced"}, {"To", "a@b"}});
    CHECK(r.done());
}

TEST_CASE("sort: RFC 5256 base subjects", "[imapd][sort]") {
    struct Case {
        const char* in;
        const char* base;
        bool reply;
    };
    const Case cases[] = {
        {"Hello", "Hello", false},
        {"Re: Hello", "Hello", true},
        {"RE:  re: Fwd: Hello", "Hello", true},
        {"Re[2]: Hello", "Hello", true},
        {"[list] Re: Hello", "Hello", true},
        {"[list] Hello", "Hello", false},
        {"[list]", "[list]", false},  // a blob alone stays
        {"Hello (fwd)", "Hello", true},
        {"Hello (FWD) (fwd)  ", "Hello", true},
        {"[Fwd: Re: Hello]", "Hello", true},
        {"Re: [Fwd: [list] Hello (fwd)]", "Hello", true},
        {"  Hello\t  world ", "Hello world", false},
        {"=?UTF-8?Q?Re=3A_Gr=C3=BC=C3=9Fe?=", "Grüße", true},
        {"Fw : Hello", "Hello", true},
        {"Reply: Hello", "Reply: Hello", false},
        {"", "", false},
        {"Re:", "", true},
    };
    for (const Case& k : cases) {
        DYNAMIC_SECTION(k.in) {
            BaseSubject b = imap_base_subject(k.in);
            CHECK(b.text == k.base);
            CHECK(b.reply_or_forward == k.reply);
        }
    }
}

namespace {

void sort_folder(TestBackend& b) {
    auto m = [](const char* from, const char* to, const char* subject, const char* date,
                const char* cc) {
        return std::string("From: ") + from + "\r\nTo: " + to + "\r\nCc: " + cc +
               "\r\nSubject: " + subject + "\r\nDate: " + date + "\r\n\r\nbody\r\n";
    };
    // UID/seq 1..5
    put(b,
        m("Zed <zed@example.org>", "amy@example.org", "Re: Plans", "2 Jan 2024 10:00 +0000",
          "x@example.org"),
        feb16, 0);
    put(b,
        m("anna@example.org", "Bob <bob@example.org>", "Plans", "1 Jan 2024 10:00 +0000",
          "y@example.org"),
        jan2, flag_seen);
    put(b,
        m("mike@example.org", "carl@example.org", "[list] Budget", "5 Jan 2024 10:00 +0000",
          "a@example.org"),
        mar10, 0);
    put(b,
        m("Bea <bea@example.org>", "dan@example.org", "Fwd: Plans", "3 Jan 2024 09:00 +0100",
          "b@example.org"),
        jan2 + 10, 0);
    put(b, msg1 + std::string(3000, 'x'), jan2 + 5, 0);  // Hello World, 1 Jan 2024
}

}  // namespace

TEST_CASE("imapd: SORT by each key, REVERSE, UID SORT and the criteria", "[imapd][sort]") {
    TestBackend b;
    sort_folder(b);
    Client c(b);
    c.login("alice", "INBOX");
    struct Case {
        const char* line;
        const char* want;
    };
    const Case cases[] = {
        {"a SORT (ARRIVAL) UTF-8 ALL", "* SORT 2 5 4 1 3"},
        {"a SORT (REVERSE ARRIVAL) UTF-8 ALL", "* SORT 3 1 4 5 2"},
        {"a SORT (DATE) UTF-8 ALL", "* SORT 2 5 1 4 3"},
        {"a SORT (SUBJECT) UTF-8 ALL", "* SORT 3 5 1 2 4"},  // Budget, Hello World, Plans x3
        {"a SORT (SUBJECT REVERSE DATE) UTF-8 ALL", "* SORT 3 5 4 1 2"},
        {"a SORT (FROM) UTF-8 ALL", "* SORT 5 2 4 3 1"},  // alice anna bea mike zed
        {"a SORT (TO) UTF-8 ALL", "* SORT 1 2 5 3 4"},    // amy bob bob carl dan
        {"a SORT (CC) UTF-8 ALL", "* SORT 3 4 5 1 2"},    // a b carol x y
        {"a SORT (SIZE) UTF-8 UNSEEN", "* SORT 1 3 4 5"},
        {"a SORT (DISPLAYFROM) UTF-8 ALL", "* SORT 5 2 4 3 1"},  // Alice Example anna Bea ...
        {"a SORT (DISPLAYTO) UTF-8 ALL", "* SORT 1 2 5 3 4"},    // amy Bob bob carl dan
        {"a UID SORT (ARRIVAL) US-ASCII SUBJECT plans", "* SORT 2 4 1"},
        {"a SORT (ARRIVAL) UTF-8 NEW", "* SORT"},
    };
    for (const Case& k : cases) {
        DYNAMIC_SECTION(k.line) {
            std::string out = c.send(k.line);
            INFO("got " << out);
            auto at = out.find("* SORT");
            REQUIRE(at != std::string::npos);
            CHECK(out.substr(at, out.find("\r\n", at) - at) == k.want);
            CHECK(has(out, "a OK SORT completed"));
        }
    }
    CHECK(has(c.send("b SORT (DATE) KOI8-R ALL"), "b NO [BADCHARSET (UTF-8 US-ASCII)]"));
    CHECK(c.send("c SORT (NOSUCHKEY) UTF-8 ALL").starts_with("c BAD"));
}

TEST_CASE("imapd: THREAD=ORDEREDSUBJECT", "[imapd][sort]") {
    TestBackend b;
    sort_folder(b);
    Client c(b);
    c.login("alice", "INBOX");
    // Plans: 2 (1 Jan), 1 (2 Jan), 4 (3 Jan 08:00 UTC); Hello World 5 (1 Jan 10:00 UTC,
    // like 2: arrival breaks the tie... by sequence: 2 first); Budget 3 (5 Jan).
    std::string out = c.send("a THREAD ORDEREDSUBJECT UTF-8 ALL");
    CHECK(has(out, "* THREAD (2 (1)(4))(5)(3)\r\na OK THREAD completed"));
    out = c.send("b UID THREAD ORDEREDSUBJECT UTF-8 NOT UID 4");
    CHECK(has(out, "* THREAD (2 1)(5)(3)\r\n"));
    CHECK(has(c.send("c THREAD ORDEREDSUBJECT UTF-8 NEW"), "* THREAD\r\nc OK"));
    CHECK(has(c.send("d THREAD NOSUCH UTF-8 ALL"), "d NO"));
}

TEST_CASE("sort: the thread list form", "[imapd][sort]") {
    std::vector<ThreadNode> t{
        ThreadNode{1, {ThreadNode{2, {ThreadNode{3, {}}}}}},
        ThreadNode{4, {ThreadNode{5, {}}, ThreadNode{6, {ThreadNode{7, {}}}}}},
        ThreadNode{0, {ThreadNode{8, {}}, ThreadNode{9, {}}}},
        ThreadNode{10, {}},
    };
    std::string out;
    write_thread_list(out, t);
    CHECK(out == "(1 2 3)(4 (5)(6 7))((8)(9))(10)");
}

TEST_CASE("imapd: THREAD=REFERENCES", "[imapd][sort]") {
    TestBackend b;
    // `day` of January 2024 at 10:00, or a whole date.
    auto m = [](const char* id, const char* refs, const char* subject, std::string day) {
        if (day.find(' ') == std::string::npos) day += " Jan 2024 10:00 +0000";
        return std::string("From: a@example.org\r\nMessage-ID: ") + id + "\r\n" + refs +
               "Subject: " + subject + "\r\nDate: " + day + "\r\n\r\nx\r\n";
    };
    put(b, m("<a@x>", "", "Topic", "1"), jan2, 0);
    put(b, m("<b@x>", "In-Reply-To: <a@x>\r\n", "Re: Topic", "2"), jan2, 0);
    put(b, m("<c@x>", "References: <a@x>\r\n <b@x>\r\n", "Re: Topic", "3"), jan2, 0);
    put(b, m("<d@x>", "References: <zz@x>\r\n", "Other", "4"), jan2, 0);  // zz is missing
    put(b, m("<e@x>", "References: <zz@x>\r\n", "Re: Other", "5"), jan2, 0);
    put(b, m("<f@x>", "", "Re: Topic", "6"), jan2, 0);                 // gathered by subject
    put(b, m("<a@x>", "", "Dup", "1 Jan 2024 00:00 +0000"), jan2, 0);  // a duplicate id
    put(b, m("<g@x>", "References: <h@x>\r\n", "Loop", "7"), jan2, 0);
    put(b, m("<h@x>", "References: <g@x>\r\n", "Loop", "8"), jan2, 0);  // would loop
    Client c(b);
    c.login("alice", "INBOX");
    std::string out = c.send("a THREAD REFERENCES UTF-8 ALL");
    INFO(out);
    CHECK(has(out, "* THREAD (7)(1 (2 3)(6))((4)(5))(9 8)\r\na OK THREAD completed"));
    out = c.send("b UID THREAD REFERENCES US-ASCII NOT SUBJECT loop");
    CHECK(has(out, "* THREAD (7)(1 (2 3)(6))((4)(5))\r\n"));
    // Without 1 (a dummy root with one child is replaced by it).
    out = c.send("c THREAD REFERENCES UTF-8 2:3");
    CHECK(has(out, "* THREAD (2 3)\r\n"));
}

TEST_CASE("sort: msg-ids of References and In-Reply-To", "[imapd][sort]") {
    using V = std::vector<std::string>;
    CHECK(thread_msg_ids("<a@x> <b@y>\t(c) <c@z>") == V{"a@x", "b@y", "c@z"});
    CHECK(thread_msg_ids("foo <a@x") == V{});
    CHECK(thread_msg_ids("<<a@x>> <>") == V{"a@x"});
}

TEST_CASE("imapd: the saved result in FETCH and STORE", "[imapd][search]") {
    TestBackend b;
    three(b);
    Client c(b);
    c.login("alice", "INBOX");
    CHECK(c.send("a UID SEARCH RETURN (SAVE) UNSEEN") == "a OK SEARCH completed\r\n");
    std::string f = c.send("b FETCH $ (UID)");
    CHECK(has(f, "* 2 FETCH (UID 2)"));
    CHECK(has(f, "* 3 FETCH (UID 3)"));
    CHECK_FALSE(has(f, "* 1 FETCH"));
    CHECK(has(c.send("c UID STORE $ +FLAGS.SILENT (\\Seen)"), "c OK"));
    CHECK(search_line(c.send("d SEARCH UNSEEN")) == "* SEARCH");
    // Pipelined: the SAVE result is there for the next command.
    std::string p = c.raw("e SEARCH RETURN (SAVE) UID 1\r\nf FETCH $ (FLAGS)\r\n");
    CHECK(has(p, "e OK"));
    CHECK(has(p, "* 1 FETCH (FLAGS (\\Seen))"));
    CHECK(has(p, "f OK"));
}
