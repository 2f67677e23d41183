// ImapSession over MemoryStore: every command of the core in every state, logins, mailbox
// management, SELECT/EXAMINE, two sessions on one folder, IDLE seeing a delivery.

#include <catch2/catch.hpp>

#include "tests/imapd/imap_test_util.h"

using namespace imaptest;

TEST_CASE("imapd: greeting and capabilities follow TLS and login", "[imapd]") {
    TestBackend b;
    Client plain(b, false);
    CHECK(plain.greeting.starts_with("* OK [CAPABILITY IMAP4rev1 IMAP4rev2"));
    std::string caps = plain.send("a CAPABILITY");
    CHECK(has(caps, " STARTTLS"));
    CHECK(has(caps, " LOGINDISABLED"));
    CHECK_FALSE(has(caps, "AUTH=PLAIN"));
    CHECK(has(caps, "AUTH=SCRAM-SHA-256"));
    CHECK(has(caps, "a OK CAPABILITY completed"));

    Client tls(b, true);
    caps = tls.send("a CAPABILITY");
    CHECK_FALSE(has(caps, "STARTTLS"));
    CHECK_FALSE(has(caps, "LOGINDISABLED"));
    CHECK(has(caps, "AUTH=PLAIN"));
    std::string ok = tls.send("b LOGIN alice pw");
    CHECK(ok.starts_with("b OK [CAPABILITY IMAP4rev1"));
    CHECK(has(ok, "NAMESPACE"));
    CHECK(has(ok, "LIST-STATUS"));

    ImapSessionOptions o;
    o.plaintext_auth = true;
    Client allowed(b, false, o);
    caps = allowed.send("a CAPABILITY");
    CHECK_FALSE(has(caps, "LOGINDISABLED"));
    CHECK(has(caps, "AUTH=PLAIN"));
    CHECK(has(allowed.send("b LOGIN alice pw"), "b OK"));
}

TEST_CASE("imapd: LOGIN without TLS is refused, STARTTLS drops pipelined input", "[imapd]") {
    TestBackend b;
    Client c(b, false);
    CHECK(c.send("a LOGIN alice pw").starts_with("a NO [PRIVACYREQUIRED]"));
    std::string r = c.raw("b STARTTLS\r\nc LOGIN alice pw\r\n");
    CHECK(r == "b OK Begin TLS negotiation now\r\n");
    CHECK(c.transport().tls_started);
    c.transport().tls = true;
    c.session().on_tls_ready();
    c.settle();
    CHECK(c.take().empty());  // no greeting, and the pipelined LOGIN was dropped
    CHECK(c.send("d STARTTLS").starts_with("d BAD"));
    CHECK(c.send("e LOGIN alice pw").starts_with("e OK"));
}

TEST_CASE("imapd: failed logins are delayed, counted and end the session", "[imapd]") {
    TestBackend b;
    Client c(b, true);
    CHECK(c.send("a LOGIN alice wrong") == "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
    CHECK(c.send("b LOGIN nobody pw").starts_with("b NO [AUTHENTICATIONFAILED]"));
    std::string last = c.send("c LOGIN alice@example.org nope");
    CHECK(last.starts_with("c NO [AUTHENTICATIONFAILED]"));
    CHECK(has(last, "* BYE"));
    CHECK(c.transport().closed);
    CHECK(c.session().closed());
}

TEST_CASE("imapd: AUTHENTICATE PLAIN with and without SASL-IR, and cancelled", "[imapd]") {
    TestBackend b;
    // "\0alice\0pw" in base64.
    const std::string plain = "AGFsaWNlAHB3";
    Client ir(b, true);
    CHECK(ir.send("a AUTHENTICATE PLAIN " + plain).starts_with("a OK [CAPABILITY"));
    Client cont(b, true);
    CHECK(cont.send("a AUTHENTICATE PLAIN") == "+ \r\n");
    CHECK(cont.send(plain).starts_with("a OK [CAPABILITY"));
    CHECK(cont.send("b NOOP") == "b OK NOOP completed\r\n");
    Client cancel(b, true);
    CHECK(cancel.send("a AUTHENTICATE PLAIN") == "+ \r\n");
    CHECK(cancel.send("*").starts_with("a BAD"));
    CHECK(cancel.send("b AUTHENTICATE PLAIN AGFsaWNlAHh4")
              .starts_with("b NO [AUTHENTICATIONFAILED]"));
    Client plaintext(b, false);
    CHECK(plaintext.send("a AUTHENTICATE PLAIN " + plain).starts_with("a NO [PRIVACYREQUIRED]"));
    CHECK(plaintext.send("b AUTHENTICATE FOO").starts_with("b NO"));
}

TEST_CASE("imapd: commands are gated by state in one place", "[imapd]") {
    struct Case {
        const char* state;  // "none", "auth", "selected"
        const char* line;
        const char* want;  // reply prefix
    };
    const Case cases[] = {
        {"none", "a SELECT INBOX", "a BAD Log in first"},
        {"none", "a LIST \"\" *", "a BAD Log in first"},
        {"none", "a STATUS INBOX (MESSAGES)", "a BAD Log in first"},
        {"none", "a CLOSE", "a BAD Log in first"},
        {"none", "a IDLE", "a BAD Log in first"},
        {"none", "a ENABLE CONDSTORE", "a BAD Log in first"},
        {"none", "a NAMESPACE", "a BAD Log in first"},
        {"none", "a ID NIL", "* ID (\"name\" \"Postern\")"},
        {"none", "a NOOP", "a OK NOOP"},
        {"auth", "a LOGIN alice pw", "a BAD Already logged in"},
        {"auth", "a AUTHENTICATE PLAIN", "a BAD Already logged in"},
        {"auth", "a STARTTLS", "a BAD Already logged in"},
        {"auth", "a CLOSE", "a BAD No mailbox selected"},
        {"auth", "a UNSELECT", "a BAD No mailbox selected"},
        {"auth", "a EXPUNGE", "a BAD No mailbox selected"},
        {"auth", "a CHECK", "a BAD No mailbox selected"},
        {"auth", "a FETCH 1 FLAGS", "a BAD No mailbox selected"},
        {"auth", "a NAMESPACE", "* NAMESPACE ((\"\" \"/\")) NIL NIL"},
        {"selected", "a FETCH 1 FLAGS", "a BAD Invalid message sequence number"},
        {"selected", "a LOGIN alice pw", "a BAD Already logged in"},
        {"selected", "a CHECK", "a OK CHECK completed"},
        {"selected", "a XYZZY", "a BAD"},
    };
    for (const Case& k : cases) {
        DYNAMIC_SECTION(k.state << ": " << k.line) {
            TestBackend b;
            Client c(b, true);
            if (std::string(k.state) != "none")
                c.login("alice", k.state == std::string("selected") ? "INBOX" : "");
            std::string got = c.send(k.line);
            INFO("got " << got << ", want " << k.want);
            CHECK(got.starts_with(k.want));
        }
    }
}

TEST_CASE("imapd: LOGOUT, ID, NAMESPACE, ENABLE", "[imapd]") {
    TestBackend b;
    Client c(b, true);
    c.login();
    CHECK(c.send("a ENABLE CONDSTORE IMAP4rev2 FOO") ==
          "* ENABLED CONDSTORE IMAP4rev2\r\na OK ENABLE completed\r\n");
    CHECK(c.send("b ENABLE CONDSTORE") == "* ENABLED\r\nb OK ENABLE completed\r\n");
    CHECK(c.send("c ID (\"name\" \"test\")") ==
          "* ID (\"name\" \"Postern\")\r\nc OK ID completed\r\n");
    CHECK(c.send("d LOGOUT") ==
          "* BYE Postern IMAP server logging out\r\nd OK LOGOUT completed\r\n");
    CHECK(c.transport().closed);
}

TEST_CASE("imapd: SELECT and EXAMINE report the folder", "[imapd]") {
    TestBackend b;
    b.deliver(alice, "one", "INBOX", flag_seen);
    b.deliver(alice, "two");
    b.deliver(alice, "three");
    Client c(b, true);
    c.login();
    std::string r = c.send("a SELECT INBOX");
    CHECK(has(r, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"));
    CHECK(has(r, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)]"));
    CHECK(has(r, "* 3 EXISTS\r\n"));
    CHECK(has(r, "* 0 RECENT\r\n"));
    CHECK(has(r, "* OK [UNSEEN 2]"));
    CHECK(has(r, "* OK [UIDVALIDITY "));
    CHECK(has(r, "* OK [UIDNEXT 4]"));
    CHECK(has(r, "* OK [HIGHESTMODSEQ "));
    CHECK(has(r, "a OK [READ-WRITE] SELECT completed\r\n"));
    r = c.send("b EXAMINE INBOX");
    CHECK(has(r, "* OK [CLOSED]"));
    CHECK(has(r, "* OK [PERMANENTFLAGS ()]"));
    CHECK(has(r, "b OK [READ-ONLY] EXAMINE completed"));
    CHECK(c.send("c EXPUNGE").starts_with("c NO [READ-ONLY]"));
    CHECK(c.send("d SELECT Nope") ==
          "* OK [CLOSED] Previous mailbox closed\r\nd NO [NONEXISTENT] No such mailbox\r\n");
    // A failed SELECT leaves no mailbox selected.
    CHECK(c.send("e CLOSE").starts_with("e BAD No mailbox selected"));
    // IMAP4rev2: no RECENT or UNSEEN, a LIST line.
    CHECK(has(c.send("f ENABLE IMAP4rev2"), "IMAP4rev2"));
    r = c.send("g SELECT INBOX");
    CHECK_FALSE(has(r, "RECENT"));
    CHECK_FALSE(has(r, "UNSEEN"));
    CHECK(has(r, "* LIST () \"/\" \"INBOX\""));
    CHECK(c.send("h SELECT INBOX (QRESYNC (1 1))").starts_with("* OK [CLOSED]"));
}

TEST_CASE("imapd: CREATE, RENAME, DELETE, SUBSCRIBE, LIST, LSUB, STATUS", "[imapd]") {
    TestBackend b;
    Client c(b, true);
    c.login();
    CHECK(c.send("a CREATE Work") == "a OK CREATE completed\r\n");
    CHECK(c.send("a CREATE Work") == "a NO [ALREADYEXISTS] Mailbox already exists\r\n");
    CHECK(c.send("a CREATE INBOX").starts_with("a NO [ALREADYEXISTS]"));
    CHECK(c.send("b CREATE Sent (USE (\\Sent))") == "b OK CREATE completed\r\n");
    CHECK(c.send("b CREATE X (USE (\\Bogus))").starts_with("b NO [USEATTR]"));
    CHECK(c.send("c CREATE Work/2024/") == "c OK CREATE completed\r\n");
    CHECK(c.send("d CREATE Bad&Name").starts_with("d NO [CANNOT]"));

    std::string l = c.send("e LIST \"\" *");
    CHECK(has(l, "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"));
    CHECK(has(l, "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"\r\n"));
    CHECK(has(l, "* LIST (\\HasChildren) \"/\" \"Work\"\r\n"));
    CHECK(has(l, "* LIST (\\HasNoChildren) \"/\" \"Work/2024\"\r\n"));
    CHECK(has(l, "e OK LIST completed"));
    l = c.send("f LIST \"\" %");
    CHECK_FALSE(has(l, "Work/2024"));
    CHECK(has(l, "\"Work\""));
    CHECK(c.send("g LIST \"\" \"\"") ==
          "* LIST (\\Noselect) \"/\" \"\"\r\ng OK LIST completed\r\n");
    l = c.send("h LIST (SPECIAL-USE) \"\" *");
    CHECK(has(l, "\"Sent\""));
    CHECK_FALSE(has(l, "\"Work\""));

    CHECK(c.send("i SUBSCRIBE Work") == "i OK SUBSCRIBE completed\r\n");
    CHECK(c.send("i SUBSCRIBE Ghost") == "i OK SUBSCRIBE completed\r\n");
    l = c.send("j LSUB \"\" *");
    CHECK(has(l, "* LSUB () \"/\" \"Work\""));
    CHECK(has(l, "* LSUB (\\Noselect) \"/\" \"Ghost\""));
    l = c.send("k LIST (SUBSCRIBED) \"\" *");
    CHECK(has(l, "* LIST (\\HasChildren \\Subscribed) \"/\" \"Work\""));
    CHECK(has(l, "* LIST (\\NonExistent \\HasNoChildren \\Subscribed) \"/\" \"Ghost\""));
    CHECK_FALSE(has(l, "INBOX"));
    CHECK(c.send("l UNSUBSCRIBE Ghost") == "l OK UNSUBSCRIBE completed\r\n");
    CHECK_FALSE(has(c.send("m LSUB \"\" *"), "Ghost"));

    b.deliver(alice, "w1", "Work");
    b.deliver(alice, "w2", "Work", flag_seen | flag_deleted);
    std::string st = c.send("n STATUS Work (MESSAGES RECENT UIDNEXT UNSEEN DELETED SIZE)");
    CHECK(has(st, "* STATUS \"Work\" (MESSAGES 2 RECENT 0 UIDNEXT 3 UNSEEN 1 DELETED 1 SIZE "));
    CHECK(has(st, "n OK STATUS completed"));
    CHECK(c.send("n STATUS Nope (MESSAGES)").starts_with("n NO [NONEXISTENT]"));
    l = c.send("o LIST \"\" Work RETURN (STATUS (MESSAGES UNSEEN))");
    CHECK(has(
        l, "* LIST (\\HasChildren) \"/\" \"Work\"\r\n* STATUS \"Work\" (MESSAGES 2 UNSEEN 1)\r\n"));

    CHECK(c.send("p RENAME Work Jobs") == "p OK RENAME completed\r\n");
    l = c.send("q LIST \"\" *");
    CHECK(has(l, "\"Jobs/2024\""));
    CHECK_FALSE(has(l, "\"Work\""));
    CHECK(c.send("r RENAME Nope Other").starts_with("r NO [NONEXISTENT]"));
    CHECK(c.send("s RENAME Jobs Sent").starts_with("s NO [ALREADYEXISTS]"));
    CHECK(c.send("t DELETE INBOX").starts_with("t NO [CANNOT]"));
    CHECK(c.send("u DELETE Jobs/2024") == "u OK DELETE completed\r\n");
    CHECK(c.send("v DELETE Jobs") == "v OK DELETE completed\r\n");
    CHECK(c.send("w DELETE Jobs").starts_with("w NO [NONEXISTENT]"));
}

TEST_CASE("imapd: RENAME INBOX moves its messages and keeps INBOX", "[imapd]") {
    TestBackend b;
    b.deliver(alice, "one");
    b.deliver(alice, "two");
    Client c(b, true);
    c.login();
    CHECK(c.send("a RENAME INBOX Old") == "a OK RENAME completed\r\n");
    CHECK(has(c.send("b STATUS INBOX (MESSAGES)"), "(MESSAGES 0)"));
    CHECK(has(c.send("c STATUS Old (MESSAGES)"), "(MESSAGES 2)"));
}

TEST_CASE("imapd: two sessions on one folder see each other's expunges and flags", "[imapd]") {
    TestBackend b;
    for (int i = 1; i <= 5; ++i) b.deliver(alice, "m" + std::to_string(i));
    Client one(b, true), two(b, true);
    one.login("alice", "INBOX");
    two.login("alice", "INBOX");

    // Another handle marks 2 and 4 \Deleted; one's NOOP sees the flags.
    auto box = b.store().open_mailbox(alice, "INBOX");
    REQUIRE(box);
    std::vector<uint32_t> uids{2, 4};
    REQUIRE((*box)->store_flags(uids, FlagChange{FlagOp::add, flag_deleted, {}}));
    std::string r = one.send("a NOOP");
    CHECK(has(r, "* 2 FETCH (UID 2 FLAGS (\\Deleted))\r\n"));
    CHECK(has(r, "* 4 FETCH (UID 4 FLAGS (\\Deleted))\r\n"));
    CHECK(has(r, "a OK NOOP completed"));

    // two expunges: it hears "2" then "3" (4 moved down after 2 went), as does one.
    // (EXPUNGE refreshes first: two hears of the flags, then of its expunges.)
    CHECK(two.send("b EXPUNGE") ==
          "* 2 FETCH (UID 2 FLAGS (\\Deleted))\r\n* 4 FETCH (UID 4 FLAGS (\\Deleted))\r\n"
          "* 2 EXPUNGE\r\n* 3 EXPUNGE\r\nb OK EXPUNGE completed\r\n");
    b.deliver(alice, "m6");
    CHECK(one.send("c CHECK") ==
          "* 2 EXPUNGE\r\n* 3 EXPUNGE\r\n* 4 EXISTS\r\nc OK CHECK completed\r\n");
    // Commands that use sequence numbers never announce: nothing is refreshed for FETCH.
    REQUIRE((*box)->refresh());
    std::vector<uint32_t> five{5};
    REQUIRE((*box)->expunge(five));
    CHECK(one.send("d FETCH 1 FLAGS") == "* 1 FETCH (FLAGS ())\r\nd OK FETCH completed\r\n");
    // CONDSTORE: flag updates carry MODSEQ; UID EXPUNGE of a set.
    // The next command that may announce does: uid 5 was third.
    CHECK(one.send("e ENABLE CONDSTORE") ==
          "* ENABLED CONDSTORE\r\n* 3 EXPUNGE\r\ne OK ENABLE completed\r\n");
    std::vector<uint32_t> three{3};
    REQUIRE((*box)->store_flags(three, FlagChange{FlagOp::add, flag_deleted | flag_seen, {}}));
    r = one.send("f NOOP");
    CHECK(has(r, "* 2 FETCH (UID 3 FLAGS (\\Deleted \\Seen) MODSEQ ("));
    CHECK(one.send("g UID EXPUNGE 1:2") == "g OK EXPUNGE completed\r\n");
    CHECK(one.send("h UID EXPUNGE 3") == "* 2 EXPUNGE\r\nh OK EXPUNGE completed\r\n");
}

TEST_CASE("imapd: CLOSE expunges silently, UNSELECT and EXAMINE's CLOSE do not", "[imapd]") {
    TestBackend b;
    b.deliver(alice, "keep");
    b.deliver(alice, "gone", "INBOX", flag_deleted);
    Client c(b, true);
    c.login("alice", "INBOX");
    c.send("a EXAMINE INBOX");
    CHECK(c.send("b CLOSE") == "b OK CLOSE completed\r\n");
    CHECK(has(c.send("c STATUS INBOX (MESSAGES)"), "(MESSAGES 2)"));
    c.send("d SELECT INBOX");
    CHECK(c.send("e UNSELECT") == "e OK UNSELECT completed\r\n");
    CHECK(has(c.send("f STATUS INBOX (MESSAGES)"), "(MESSAGES 2)"));
    c.send("g SELECT INBOX");
    CHECK(c.send("h CLOSE") == "h OK CLOSE completed\r\n");
    CHECK(has(c.send("i STATUS INBOX (MESSAGES)"), "(MESSAGES 1)"));
}

TEST_CASE("imapd: IDLE sees a delivery and ends with DONE", "[imapd]") {
    TestBackend b;
    b.deliver(alice, "one");
    Client c(b, true);
    c.login("alice", "INBOX");
    CHECK(c.send("a IDLE") == "+ idling\r\n");
    b.deliver(alice, "two");  // the watch posts; settle runs the post and the refresh
    c.settle();
    CHECK(c.take() == "* 2 EXISTS\r\n");
    auto box = b.store().open_mailbox(alice, "INBOX");
    std::vector<uint32_t> one{1};
    REQUIRE((*box)->store_flags(one, FlagChange{FlagOp::add, flag_seen, {}}));
    c.settle();
    CHECK(c.take() == "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n");
    CHECK(c.send("DONE") == "a OK IDLE terminated\r\n");
    CHECK(c.send("b IDLE") == "+ idling\r\n");
    CHECK(c.send("c NOOP") == "b BAD Expected DONE\r\n");
    b.deliver(alice, "three");
    c.settle();
    CHECK(c.send("d NOOP") == "* 3 EXISTS\r\nd OK NOOP completed\r\n");
    // In the Authenticated state IDLE only waits for DONE.
    c.send("e UNSELECT");
    CHECK(c.send("f IDLE") == "+ idling\r\n");
    CHECK(c.send("done") == "f OK IDLE terminated\r\n");
}

TEST_CASE("imapd: store failures map to response codes", "[imapd]") {
    TestBackend b;
    Client c(b, true);
    c.login();
    b.memory().fail_on("create_folder", StoreError::over_quota);
    CHECK(c.send("a CREATE X").starts_with("a NO [OVERQUOTA]"));
    b.memory().fail_on("open_mailbox", StoreError::temporary);
    CHECK(c.send("b SELECT INBOX").starts_with("b NO [UNAVAILABLE]"));
    b.memory().fail_on("status", StoreError::corrupt);
    CHECK(c.send("c STATUS INBOX (MESSAGES)").starts_with("c NO [SERVERBUG]"));
    CHECK(store_error_reply(StoreError::not_found, StoreContext::target).code ==
          ImapCode::trycreate);
    CHECK(store_error_reply(StoreError::expunged).code == ImapCode::expungeissued);
}

TEST_CASE("imapd: pipelined commands run in order, one at a time", "[imapd]") {
    TestBackend b;
    Client c(b, true);
    std::string r =
        c.raw("a LOGIN alice pw\r\nb CREATE P\r\nc LIST \"\" P\r\nd LOGOUT\r\ne NOOP\r\n");
    auto pos = [&](const char* s) { return r.find(s); };
    REQUIRE(pos("a OK") != std::string::npos);
    CHECK(pos("a OK") < pos("b OK"));
    CHECK(pos("b OK") < pos("* LIST"));
    CHECK(pos("* LIST") < pos("c OK"));
    CHECK(pos("c OK") < pos("d OK"));
    CHECK(pos("e ") == std::string::npos);  // after LOGOUT nothing runs
    CHECK(c.transport().closed);
}

TEST_CASE("imapd: literals get a continuation", "[imapd]") {
    TestBackend b;
    Client c(b, true);
    CHECK(c.raw("a LOGIN {5}\r\n") == "+ Ready for literal data\r\n");
    CHECK(c.raw("alice {2+}\r\npw\r\n").starts_with("a OK"));
}
