// UTF8=ACCEPT (RFC 6855; RFC 9051 where IMAP4rev2 differs) over MemoryStore: ENABLE,
// UTF-8 mailbox names in and out (modified UTF-7 for other sessions), BAD for invalid
// UTF-8, SEARCH CHARSET, APPEND with the UTF8 (literal8) data item.

#include <catch2/catch.hpp>

#include "tests/imapd/imap_test_util.h"

using namespace imaptest;

namespace {

const std::string entwurfe = "Entw\xc3\xbcrfe";                      // "Entwürfe"
const std::string entwurfe_mutf7 = "Entw&APw-rfe";                   // its store name
const std::string nihongo = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";  // "日本語"
const std::string nihongo_mutf7 = "&ZeVnLIqe-";

}  // namespace

TEST_CASE("utf8: announced after login; ENABLE lists it once", "[utf8]") {
    TestBackend b;
    Client c(b);
    CHECK_FALSE(has(c.send("a CAPABILITY"), "UTF8=ACCEPT"));
    c.login();
    CHECK(has(c.send("b CAPABILITY"), " UTF8=ACCEPT"));
    CHECK(c.send("c ENABLE UTF8=ACCEPT") == "* ENABLED UTF8=ACCEPT\r\nc OK ENABLE completed\r\n");
    CHECK(c.send("d ENABLE utf8=accept") == "* ENABLED\r\nd OK ENABLE completed\r\n");
    CHECK(c.session().enabled().utf8_accept);
}

TEST_CASE("utf8: names are UTF-8 after ENABLE, modified UTF-7 without", "[utf8]") {
    TestBackend b;
    Client u(b);
    u.login();
    u.send("e ENABLE UTF8=ACCEPT");
    CHECK(has(u.send("a CREATE \"" + entwurfe + "\""), "a OK"));
    CHECK(has(u.send("b CREATE \"" + nihongo + "\""), "b OK"));
    std::string r = u.send("c LIST \"\" \"*\"");
    INFO(r);
    CHECK(has(r, " \"/\" \"" + entwurfe + "\"\r\n"));
    CHECK(has(r, " \"/\" \"" + nihongo + "\"\r\n"));
    CHECK_FALSE(has(r, entwurfe_mutf7));
    // A pattern in UTF-8 matches the UTF-8 form.
    r = u.send("c2 LIST \"\" \"Entw\xc3\xbc*\"");
    CHECK(has(r, "\"" + entwurfe + "\"\r\nc2 OK"));
    r = u.send("d SELECT \"" + entwurfe + "\"");
    CHECK(has(r, "d OK [READ-WRITE]"));
    r = u.send("f STATUS \"" + nihongo + "\" (MESSAGES)");
    CHECK(has(r, "* STATUS \"" + nihongo + "\" (MESSAGES 0)\r\nf OK"));

    // A second session that did not enable it sees modified UTF-7, and uses it.
    Client m(b);
    m.login();
    r = m.send("a LIST \"\" \"*\"");
    INFO(r);
    CHECK(has(r, " \"/\" \"" + entwurfe_mutf7 + "\"\r\n"));
    CHECK(has(r, " \"/\" \"" + nihongo_mutf7 + "\"\r\n"));
    CHECK_FALSE(has(r, entwurfe));
    CHECK(has(m.send("b SELECT " + entwurfe_mutf7), "b OK [READ-WRITE]"));
    // Without UTF8=ACCEPT an 8-bit name is not accepted.
    CHECK_FALSE(has(m.send("c SELECT \"" + entwurfe + "\""), "c OK"));

    // Rename and delete by the UTF-8 name.
    r = u.send("g RENAME \"" + nihongo + "\" \"" + entwurfe + "/" + nihongo + "\"");
    CHECK(has(r, "g OK"));
    CHECK(has(m.send("d LIST \"\" \"*\""), "\"" + entwurfe_mutf7 + "/" + nihongo_mutf7 + "\"\r\n"));
    CHECK(has(u.send("h DELETE \"" + entwurfe + "/" + nihongo + "\""), "h OK"));
    CHECK_FALSE(has(m.send("e LIST \"\" \"*\""), nihongo_mutf7));
}

TEST_CASE("utf8: invalid UTF-8 in a mailbox name is BAD", "[utf8]") {
    TestBackend b;
    Client c(b);
    c.login();
    c.send("e ENABLE UTF8=ACCEPT");
    const std::string bad = "\"Entw\xfcrfe\"";  // Latin-1, not UTF-8
    CHECK(has(c.send("a CREATE " + bad), "a BAD"));
    CHECK(has(c.send("b SELECT " + bad), "b BAD"));
    CHECK(has(c.send("c STATUS " + bad + " (MESSAGES)"), "c BAD"));
    CHECK(has(c.send("d RENAME INBOX " + bad), "d BAD"));
    CHECK(has(c.send("f SUBSCRIBE \"\xc0\xaf\""), "f BAD"));  // overlong "/"
    CHECK(has(c.send("g APPEND " + bad + " {1+}\r\nx"), "g BAD"));
    // Not created by any of them.
    CHECK_FALSE(has(c.send("h LIST \"\" \"*\""), "Entw"));
    // A name that is wrong otherwise stays NO.
    CHECK(has(c.send("i CREATE \"\""), "i NO"));
}

TEST_CASE("utf8: IMAP4rev2 implies UTF-8 names but keeps SEARCH CHARSET", "[utf8]") {
    TestBackend b;
    Client c(b);
    c.login();
    CHECK(c.send("e ENABLE IMAP4rev2") == "* ENABLED IMAP4rev2\r\ne OK ENABLE completed\r\n");
    CHECK(c.session().enabled().utf8_accept);
    CHECK(has(c.send("a CREATE \"" + entwurfe + "\""), "a OK"));
    CHECK(has(c.send("b LIST \"\" \"*\""), "\"" + entwurfe + "\"\r\n"));
    c.send("c SELECT INBOX");
    CHECK(has(c.send("d SEARCH CHARSET UTF-8 ALL"), "d OK"));
}

TEST_CASE("utf8: SEARCH with CHARSET after ENABLE UTF8=ACCEPT is BAD", "[utf8]") {
    TestBackend b;
    b.deliver(alice,
              "Subject: Gr\xc3\xbc\xc3\x9f"
              "e\r\n\r\nbody\r\n");
    Client c(b);
    c.login("alice", "INBOX");
    CHECK(has(c.send("a SEARCH CHARSET UTF-8 ALL"), "* SEARCH 1\r\na OK"));
    c.send("e ENABLE UTF8=ACCEPT");
    CHECK(has(c.send("b SEARCH CHARSET UTF-8 ALL"), "b BAD"));
    CHECK(has(c.send("c UID SEARCH CHARSET US-ASCII ALL"), "c BAD"));
    // Without CHARSET a quoted UTF-8 string is the search text.
    CHECK(has(c.send("d SEARCH SUBJECT \"gr\xc3\xbc\""), "* SEARCH 1\r\nd OK"));
}

TEST_CASE("utf8: APPEND with the UTF8 (literal8) data item", "[utf8]") {
    TestBackend b;
    Client c(b);
    c.login();
    const std::string msg = "Subject: \xc3\xbc\r\n\r\nhi\r\n";  // 17 octets
    const std::string n = std::to_string(msg.size());
    // Before ENABLE: BAD, nothing stored.
    std::string r0;
    CHECK(has(c.raw("a APPEND INBOX UTF8 (~{" + n + "+}\r\n" + msg + ")\r\n"), "a BAD"));
    // A synchronizing one gets no "+" (the client sends nothing more).
    r0 = c.send("a1 APPEND INBOX UTF8 (~{" + n + "}");
    CHECK_FALSE(has(r0, "+ "));
    CHECK(has(r0, "a1 BAD"));
    CHECK(has(c.send("a2 STATUS INBOX (MESSAGES)"), "(MESSAGES 0)"));
    c.send("e ENABLE UTF8=ACCEPT");
    // LITERAL+ form, with flags.
    std::string r = c.raw("b APPEND INBOX (\\Seen) UTF8 (~{" + n + "+}\r\n" + msg + ")\r\n");
    CHECK(has(r, "b OK [APPENDUID "));
    // Synchronizing form.
    CHECK(c.send("c APPEND INBOX UTF8 (~{" + n + "}") == "+ Ready for literal data\r\n");
    CHECK(has(c.raw(msg + ")\r\n"), "c OK [APPENDUID "));
    // MULTIAPPEND, one plain and one UTF8 message.
    r = c.raw("d APPEND INBOX {2+}\r\nab UTF8 (~{" + n + "+}\r\n" + msg + ")\r\n");
    CHECK(has(r, "d OK [APPENDUID "));
    r = c.raw("d2 APPEND INBOX UTF8 (~{" + n + "+}\r\n" + msg + ") {2+}\r\nab\r\n");
    CHECK(has(r, "d2 OK [APPENDUID "));
    CHECK(has(c.send("f STATUS INBOX (MESSAGES)"), "(MESSAGES 6)"));
    // Malformed: a plain literal, or no ")" after the data.
    CHECK(has(c.raw("g APPEND INBOX UTF8 ({" + n + "+}\r\n" + msg + ")\r\n"), "g BAD"));
    CHECK(has(c.raw("h APPEND INBOX UTF8 (~{" + n + "+}\r\n" + msg + "\r\n"), "h BAD"));
    CHECK(has(c.send("i STATUS INBOX (MESSAGES)"), "(MESSAGES 6)"));
    // The stored message is the data, without the parenthesis.
    c.send("j SELECT INBOX");
    r = c.send("k FETCH 1 BODY.PEEK[]");
    CHECK(has(r, "{" + n + "}\r\n" + msg + ")"));  // ")" ends the FETCH item list
    CHECK(has(r, "* 1 FETCH (BODY[] {" + n + "}"));
}
