// STORE / UID STORE, COPY / UID COPY and MOVE / UID MOVE over MemoryStore: every STORE form,
// keywords, UNCHANGEDSINCE and [MODIFIED], two sessions on one folder seeing each other's
// flag changes when they may, COPYUID, TRYCREATE, OVERQUOTA, MOVE while another session has
// the folder selected.

#include <catch2/catch.hpp>

#include "tests/imapd/imap_test_util.h"

using namespace imaptest;

namespace {

void fill(TestBackend& b, int n, const std::string& folder = "INBOX") {
    for (int i = 1; i <= n; ++i) b.deliver(alice, "m" + std::to_string(i), folder);
}

std::string uidvalidity(TestBackend& b, const std::string& folder) {
    auto st = b.store().status(alice, folder);
    REQUIRE(st);
    return std::to_string(st->uidvalidity);
}

// The flags the store holds for a message (what another client would see).
MessageInfo stored(TestBackend& b, const std::string& folder, uint32_t uid) {
    auto box = b.store().open_mailbox(alice, folder);
    REQUIRE(box);
    auto i = (*box)->info(uid);
    REQUIRE(i);
    return *i;
}

}  // namespace

TEST_CASE("imapd: STORE forms answer with the new flags", "[imapd][store]") {
    struct Case {
        const char* label;
        const char* line;
        const char* want;  // the whole answer
    };
    const Case cases[] = {
        {"replace", "a STORE 1 FLAGS (\\Seen \\Flagged)",
         "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Seen))\r\na OK STORE completed\r\n"},
        {"add", "a STORE 2:3 +FLAGS (\\Answered)",
         "* 2 FETCH (UID 2 FLAGS (\\Answered \\Seen))\r\n"
         "* 3 FETCH (UID 3 FLAGS (\\Answered))\r\na OK STORE completed\r\n"},
        {"remove", "a STORE 1:* -FLAGS (\\Seen)",
         "* 2 FETCH (UID 2 FLAGS ())\r\na OK STORE completed\r\n"},
        {"silent", "a STORE 1:3 +FLAGS.SILENT (\\Deleted)", "a OK STORE completed\r\n"},
        {"no change", "a STORE 2 +FLAGS (\\Seen)", "a OK STORE completed\r\n"},
        {"uid", "a UID STORE 3 FLAGS (\\Draft)",
         "* 3 FETCH (UID 3 FLAGS (\\Draft))\r\na OK STORE completed\r\n"},
        {"uid not there", "a UID STORE 7:9 +FLAGS (\\Seen)", "a OK STORE completed\r\n"},
        {"star", "a STORE * +FLAGS (\\Flagged)",
         "* 3 FETCH (UID 3 FLAGS (\\Flagged))\r\na OK STORE completed\r\n"},
        {"beyond", "a STORE 4 +FLAGS (\\Seen)", "a BAD Invalid message sequence number\r\n"},
        {"recent", "a STORE 1 +FLAGS (\\Recent)", "a BAD \\Recent cannot be set\r\n"},
        {"unknown system flag", "a STORE 1 +FLAGS (\\Foo)", "a BAD Invalid flag in STORE\r\n"},
    };
    for (const Case& k : cases) {
        DYNAMIC_SECTION(k.label) {
            TestBackend b;
            fill(b, 3);
            std::vector<uint32_t> two{2};
            auto box = b.store().open_mailbox(alice, "INBOX");
            REQUIRE((*box)->store_flags(two, FlagChange{FlagOp::add, flag_seen, {}}));
            Client c(b, true);
            c.login("alice", "INBOX");
            std::string got = c.send(k.line);
            INFO("got " << got << ", want " << k.want);
            CHECK(got == k.want);
        }
    }
}

TEST_CASE("imapd: STORE changes what the store and other sessions see", "[imapd][store]") {
    TestBackend b;
    fill(b, 3);
    Client c(b, true);
    c.login("alice", "INBOX");
    CHECK(c.send("a STORE 1:2 +FLAGS.SILENT (\\Seen \\Deleted)") == "a OK STORE completed\r\n");
    CHECK(stored(b, "INBOX", 1).flags == (flag_seen | flag_deleted));
    CHECK(stored(b, "INBOX", 3).flags == 0);
    // The session's own snapshot has them too: EXPUNGE removes 1 and 2 without a FETCH.
    CHECK(c.send("b EXPUNGE") == "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\nb OK EXPUNGE completed\r\n");
}

TEST_CASE("imapd: STORE of keywords, new ones announced in FLAGS", "[imapd][store]") {
    TestBackend b;
    fill(b, 2);
    Client c(b, true);
    c.login("alice", "INBOX");
    CHECK(c.send("a STORE 1 +FLAGS ($Junk Work)") ==
          "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk Work)\r\n"
          "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk Work \\*)]"
          " Flags permitted\r\n"
          "* 1 FETCH (UID 1 FLAGS ($Junk Work))\r\na OK STORE completed\r\n");
    // Known now, in any case: no new FLAGS (a message keeps the spelling it was given).
    CHECK(c.send("b STORE 2 +FLAGS (work \\Seen)") ==
          "* 2 FETCH (UID 2 FLAGS (\\Seen work))\r\nb OK STORE completed\r\n");
    CHECK(c.send("c STORE 1 -FLAGS (WORK)") ==
          "* 1 FETCH (UID 1 FLAGS ($Junk))\r\nc OK STORE completed\r\n");
    auto i = stored(b, "INBOX", 1);
    CHECK(i.keywords == std::vector<std::string>{"$Junk"});
    // A SELECT afterwards lists them.
    CHECK(has(c.send("d SELECT INBOX"), "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft"));
}

TEST_CASE("imapd: STORE in an EXAMINEd mailbox is refused", "[imapd][store]") {
    TestBackend b;
    fill(b, 1);
    Client c(b, true);
    c.login("alice");
    REQUIRE(has(c.send("a EXAMINE INBOX"), "a OK [READ-ONLY]"));
    CHECK(c.send("b STORE 1 +FLAGS (\\Seen)") == "b NO [READ-ONLY] Mailbox is read-only\r\n");
    CHECK(c.send("c UID STORE 1 +FLAGS (\\Seen)").starts_with("c NO [READ-ONLY]"));
    CHECK(stored(b, "INBOX", 1).flags == 0);
}

TEST_CASE("imapd: UNCHANGEDSINCE and MODIFIED (RFC 7162)", "[imapd][store]") {
    TestBackend b;
    fill(b, 4);
    Client c(b, true);
    c.login("alice", "INBOX");
    // Message 2 and 4 change after the client's modseq.
    uint64_t seen = stored(b, "INBOX", 4).modseq;
    auto other = b.store().open_mailbox(alice, "INBOX");
    std::vector<uint32_t> two_four{2, 4};
    REQUIRE((*other)->store_flags(two_four, FlagChange{FlagOp::add, flag_answered, {}}));
    uint64_t now2 = stored(b, "INBOX", 2).modseq;

    // Expunge message 1 so sequence numbers and UIDs differ.
    REQUIRE(c.send("x STORE 1 +FLAGS.SILENT (\\Deleted)") == "x OK STORE completed\r\n");
    REQUIRE(has(c.send("y EXPUNGE"), "* 1 EXPUNGE"));  // 2, 3, 4 are now 1, 2, 3

    // The UNCHANGEDSINCE STORE enables CONDSTORE: its FETCH carries MODSEQ.
    std::string r =
        c.send("a STORE 1:3 (UNCHANGEDSINCE " + std::to_string(seen) + ") +FLAGS (\\Flagged)");
    CHECK(has(r, "* 2 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ ("));
    CHECK_FALSE(has(r, "UID 2 FLAGS"));
    CHECK(has(r, "a OK [MODIFIED 1,3] Conditional STORE failed\r\n"));  // sequence numbers
    CHECK((stored(b, "INBOX", 2).flags & flag_flagged) == 0);
    CHECK((stored(b, "INBOX", 3).flags & flag_flagged) != 0);

    r = c.send("b UID STORE 2:4 (UNCHANGEDSINCE " + std::to_string(now2) + ") -FLAGS (\\Answered)");
    CHECK(has(r, "* 1 FETCH (UID 2 FLAGS () MODSEQ ("));
    CHECK(has(r, "b OK [MODIFIED 3:4] Conditional STORE failed\r\n"));  // UIDs

    // UNCHANGEDSINCE 0 always fails; MODSEQ is in every later STORE answer.
    CHECK(c.send("c UID STORE 2 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)") ==
          "c OK [MODIFIED 2] Conditional STORE failed\r\n");
    r = c.send("d STORE 1 +FLAGS (\\Seen)");
    auto mod = stored(b, "INBOX", 2).modseq;
    CHECK(r == "* 1 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (" + std::to_string(mod) +
                   "))\r\nd OK STORE completed\r\n");
}

TEST_CASE("imapd: two sessions see each other's STOREs when they may", "[imapd][store]") {
    TestBackend b;
    fill(b, 3);
    Client one(b, true), two(b, true);
    one.login("alice", "INBOX");
    two.login("alice", "INBOX");

    CHECK(one.send("a STORE 1 +FLAGS (\\Flagged)") ==
          "* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\na OK STORE completed\r\n");
    // A STORE by sequence number does not refresh: two hears only of its own change...
    CHECK(two.send("b STORE 2 +FLAGS (\\Seen)") ==
          "* 2 FETCH (UID 2 FLAGS (\\Seen))\r\nb OK STORE completed\r\n");
    // ...a UID STORE does, after its own FETCH.
    CHECK(two.send("c UID STORE 3 +FLAGS (\\Seen)") ==
          "* 3 FETCH (UID 3 FLAGS (\\Seen))\r\n* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n"
          "c OK STORE completed\r\n");
    CHECK(one.send("d NOOP") ==
          "* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n* 3 FETCH (UID 3 FLAGS (\\Seen))\r\n"
          "d OK NOOP completed\r\n");

    // .SILENT still reports a message another session changed too (its result is not what
    // the client asked for).
    CHECK(two.send("e STORE 1 +FLAGS (\\Draft)") ==
          "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Draft))\r\ne OK STORE completed\r\n");
    CHECK(one.send("f STORE 1 +FLAGS.SILENT (\\Answered)") ==
          "* 1 FETCH (UID 1 FLAGS (\\Answered \\Flagged \\Draft))\r\nf OK STORE completed\r\n");
    CHECK(one.send("g STORE 2 +FLAGS.SILENT (\\Answered)") == "g OK STORE completed\r\n");

    // An expunge by the other session waits until a command that may announce it.
    // (two did not hear of one's \Answered on 2 yet: its .SILENT STORE reports it.)
    CHECK(two.send("h STORE 2 +FLAGS.SILENT (\\Deleted)") ==
          "* 2 FETCH (UID 2 FLAGS (\\Answered \\Deleted \\Seen))\r\nh OK STORE completed\r\n");
    CHECK(has(two.send("i EXPUNGE"), "* 2 EXPUNGE\r\n"));
    std::string r = one.send("j STORE 3 +FLAGS (\\Flagged)");
    CHECK(r == "* 3 FETCH (UID 3 FLAGS (\\Flagged \\Seen))\r\nj OK STORE completed\r\n");
    r = one.send("k NOOP");
    CHECK(has(r, "* 2 EXPUNGE\r\n"));
    CHECK(has(r, "k OK NOOP completed"));
}

TEST_CASE("imapd: STORE failures and large answers", "[imapd][store]") {
    TestBackend b;
    fill(b, 600);
    Client c(b, true);
    c.login("alice", "INBOX");
    b.memory().fail_on("store_flags", StoreError::temporary);
    CHECK(c.send("a STORE 1 +FLAGS (\\Seen)").starts_with("a NO [UNAVAILABLE]"));

    // The answer streams: with the transport full it stops after a batch and goes on when
    // drained.
    c.transport().full = true;
    std::string r = c.send("b STORE 1:* +FLAGS (\\Seen)");
    CHECK_FALSE(has(r, "b OK"));
    CHECK(has(r, "* 256 FETCH"));
    CHECK_FALSE(has(r, "* 257 FETCH"));
    c.transport().full = false;
    c.session().on_drain();
    c.settle();
    r += c.take();
    CHECK(has(r, "* 600 FETCH (UID 600 FLAGS (\\Seen))\r\nb OK STORE completed\r\n"));
    size_t n = 0;
    for (size_t p = r.find(" FETCH "); p != std::string::npos; p = r.find(" FETCH ", p + 1)) ++n;
    CHECK(n == 600);
}

TEST_CASE("imapd: COPY and UID COPY answer COPYUID and keep flags", "[imapd][copy]") {
    TestBackend b;
    fill(b, 4);
    REQUIRE(b.store().create_folder(alice, "Archive"));
    b.deliver(alice, "already there", "Archive");
    Client c(b, true);
    c.login("alice", "INBOX");
    REQUIRE(c.send("a STORE 2 +FLAGS ($Work \\Flagged)").ends_with("a OK STORE completed\r\n"));
    std::string v = uidvalidity(b, "Archive");
    CHECK(c.send("b COPY 2:3 Archive") == "b OK [COPYUID " + v + " 2:3 2:3] COPY completed\r\n");
    CHECK(c.send("c UID COPY 1,4 Archive") ==
          "c OK [COPYUID " + v + " 1,4 4:5] COPY completed\r\n");
    auto i = stored(b, "Archive", 2);
    CHECK(i.flags == flag_flagged);
    CHECK(i.keywords == std::vector<std::string>{"$Work"});
    CHECK(has(c.send("d STATUS Archive (MESSAGES)"), "(MESSAGES 5)"));
    CHECK(has(c.send("e STATUS INBOX (MESSAGES)"), "(MESSAGES 4)"));
    // Nothing to copy: OK without COPYUID.
    CHECK(c.send("f UID COPY 99 Archive") == "f OK COPY completed\r\n");
    // Into the selected folder: new messages, announced by the UID form's refresh.
    CHECK(c.send("g UID COPY 1 INBOX") ==
          "* 5 EXISTS\r\ng OK [COPYUID " + uidvalidity(b, "INBOX") + " 1 5] COPY completed\r\n");
    // COPY from an EXAMINEd folder is fine.
    REQUIRE(has(c.send("h EXAMINE INBOX"), "h OK [READ-ONLY]"));
    CHECK(c.send("i COPY 1 Archive").starts_with("i OK [COPYUID " + v + " 1 6]"));
}

TEST_CASE("imapd: COPY and MOVE errors: TRYCREATE, OVERQUOTA, expunged", "[imapd][copy]") {
    TestBackend b;
    fill(b, 2);
    REQUIRE(b.store().create_folder(alice, "Archive"));
    Client c(b, true);
    c.login("alice", "INBOX");
    CHECK(c.send("a COPY 1 Nope") == "a NO [TRYCREATE] No such mailbox\r\n");
    CHECK(c.send("b MOVE 1 Nope") == "b NO [TRYCREATE] No such mailbox\r\n");
    CHECK(c.send("c COPY 3 Archive") == "c BAD Invalid message sequence number\r\n");
    b.memory().fail_on("copy_to", StoreError::over_quota);
    CHECK(c.send("d COPY 1 Archive") == "d NO [OVERQUOTA] Quota exceeded\r\n");
    b.memory().fail_on("move_to", StoreError::over_quota);
    CHECK(c.send("e UID MOVE 1 Archive") == "e NO [OVERQUOTA] Quota exceeded\r\n");
    CHECK(c.send("f MOVE 1 INBOX").starts_with("f NO [CANNOT]"));
    CHECK(c.send("g COPY 1 \"bad.name\"").starts_with("g NO"));
    // Another session expunged the message the client asks for.
    auto other = b.store().open_mailbox(alice, "INBOX");
    std::vector<uint32_t> two{2};
    REQUIRE((*other)->expunge(two));
    CHECK(c.send("h COPY 2 Archive") ==
          "h NO [EXPUNGEISSUED] Some messages were expunged "
          "meanwhile\r\n");
    CHECK(has(c.send("i STATUS Archive (MESSAGES)"), "(MESSAGES 0)"));
    CHECK(has(c.send("j STATUS INBOX (MESSAGES)"), "(MESSAGES 1)"));
}

TEST_CASE("imapd: MOVE sends COPYUID, then the expunges", "[imapd][copy]") {
    TestBackend b;
    fill(b, 5);
    REQUIRE(b.store().create_folder(alice, "Archive"));
    Client one(b, true), watcher(b, true), there(b, true);
    one.login("alice", "INBOX");
    watcher.login("alice", "INBOX");
    there.login("alice", "Archive");
    std::string v = uidvalidity(b, "Archive");
    CHECK(one.send("a MOVE 2,4 Archive") == "* OK [COPYUID " + v +
                                                " 2,4 1:2] Moved\r\n* 2 EXPUNGE\r\n* 3 EXPUNGE\r\n"
                                                "a OK MOVE completed\r\n");
    // The messages are in Archive with their flags, and gone from INBOX.
    CHECK(has(one.send("b STATUS Archive (MESSAGES)"), "(MESSAGES 2)"));
    CHECK(has(one.send("c STATUS INBOX (MESSAGES)"), "(MESSAGES 3)"));
    // The other sessions hear of it at their next command that may announce.
    CHECK(watcher.send("d STORE 5 +FLAGS.SILENT (\\Seen)") == "d OK STORE completed\r\n");
    CHECK(watcher.send("e NOOP") == "* 2 EXPUNGE\r\n* 3 EXPUNGE\r\ne OK NOOP completed\r\n");
    CHECK(there.send("f NOOP") == "* 2 EXISTS\r\nf OK NOOP completed\r\n");
    // UID MOVE: UIDs; the copy has the flags the store has (the watcher's \Seen).
    CHECK(one.send("g UID MOVE 5 Archive") == "* OK [COPYUID " + v +
                                                  " 5 3] Moved\r\n* 3 EXPUNGE\r\n"
                                                  "g OK MOVE completed\r\n");
    CHECK(stored(b, "Archive", 3).flags == flag_seen);
    // UIDs no longer in the folder: nothing to move, no COPYUID.
    CHECK(one.send("h UID MOVE 2 Archive") == "h OK MOVE completed\r\n");
    // Not in an EXAMINEd folder.
    REQUIRE(has(one.send("i EXAMINE INBOX"), "i OK [READ-ONLY]"));
    CHECK(one.send("j MOVE 1 Archive") == "j NO [READ-ONLY] Mailbox is read-only\r\n");
}

TEST_CASE("imapd: UIDPLUS and MOVE are announced", "[imapd][copy]") {
    TestBackend b;
    Client c(b, true);
    c.login();
    std::string caps = c.send("a CAPABILITY");
    CHECK(has(caps, " UIDPLUS"));
    CHECK(has(caps, " MOVE"));
}
