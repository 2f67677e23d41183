// Every IMAP command through ImapParser: each input fed whole, one byte at a time and split
// at every position must give the same events.
#include <catch2/catch.hpp>

#include "imap_test_util.h"

using namespace postern;
using namespace postern::imap_test;

namespace {

struct Case {
    const char* label;
    std::string input;
    std::string want;  // events, one a line
};

void check_all_splits(const Case& tc) {
    std::string got = join(run_whole(tc.input));
    INFO("input: " << tc.input);
    CHECK(got == tc.want);
    std::string bytes = join(run_bytes(tc.input));
    CHECK(bytes == tc.want);
    for (size_t at = 1; at < tc.input.size(); ++at) {
        std::string split = join(run_split(tc.input, at));
        if (split != tc.want) {
            FAIL("split at " << at << ": got " << split << ", want " << tc.want);
        }
    }
}

}  // namespace

TEST_CASE("imap command: every command") {
    auto tc = GENERATE(values<Case>({
        {"capability", "a1 CAPABILITY\r\n", "a1 CAPABILITY\n"},
        {"lower case", "a1 capability\r\n", "a1 CAPABILITY\n"},
        {"bare LF", "a1 NOOP\n", "a1 NOOP\n"},
        {"logout", "x LOGOUT\r\n", "x LOGOUT\n"},
        {"starttls", "x STARTTLS\r\n", "x STARTTLS\n"},
        {"authenticate", "x AUTHENTICATE plain\r\n", "x AUTHENTICATE PLAIN\n"},
        {"authenticate sasl-ir", "x AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n",
         "x AUTHENTICATE PLAIN ir=[AGFsaWNlAHNlY3JldA==]\n"},
        {"authenticate empty ir", "x AUTHENTICATE EXTERNAL =\r\n",
         "x AUTHENTICATE EXTERNAL ir=[]\n"},
        {"login atoms", "a LOGIN alice secret\r\n", "a LOGIN [alice] [secret]\n"},
        {"login quoted escapes", "a LOGIN \"al ice\" \"p\\\"a\\\\ss\"\r\n",
         "a LOGIN [al ice] [p\"a\\ss]\n"},
        {"login literal", "a LOGIN {5}\r\nalice {6}\r\nsecret\r\n",
         "LITERAL 5\nLITERAL 6\na LOGIN [alice] [secret]\n"},
        {"login literal+", "a LOGIN {5+}\r\nalice {6+}\r\nsec\r\nt\r\n",
         "LITERAL 5+\nLITERAL 6+\na LOGIN [alice] [sec\r\nt]\n"},
        {"login empty literal", "a LOGIN {0}\r\n {0}\r\n\r\n",
         "LITERAL 0\nLITERAL 0\na LOGIN [] []\n"},
        {"select", "s SELECT inbox\r\n", "s SELECT [INBOX]\n"},
        {"select condstore", "s SELECT Work (CONDSTORE)\r\n", "s SELECT [Work] condstore\n"},
        {"select qresync",
         "s SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n",
         "s SELECT [INBOX] qresync 67890007 20050715194045000 uids=41,43:211,214:541\n"},
        {"select qresync match",
         "s SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 "
         "15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))\r\n",
         "s SELECT [INBOX] qresync 67890007 90060115194045000 uids=1:29997 "
         "match=5000,7500,9000,9990:9999/15000,22500,27000,29970,29973,29976,29979,29982,29985,"
         "29988,29991,29994,29997\n"},
        {"select qresync minimal", "s SELECT INBOX (QRESYNC (1 2))\r\n",
         "s SELECT [INBOX] qresync 1 2\n"},
        {"examine", "s EXAMINE \"Sent Items\"\r\n", "s EXAMINE [Sent Items] examine\n"},
        {"create", "c CREATE foo/bar\r\n", "c CREATE [foo/bar]\n"},
        {"create special-use", "c CREATE MyDrafts (USE (\\Drafts \\Sent))\r\n",
         "c CREATE [MyDrafts] use=(\\Drafts \\Sent)\n"},
        {"delete", "d DELETE old\r\n", "d DELETE [old]\n"},
        {"rename", "r RENAME a \"b c\"\r\n", "r RENAME [a] [b c]\n"},
        {"subscribe", "s SUBSCRIBE INBOX.x\r\n", "s SUBSCRIBE [INBOX.x]\n"},
        {"unsubscribe", "s UNSUBSCRIBE x\r\n", "s UNSUBSCRIBE [x]\n"},
        {"list", "l LIST \"\" *\r\n", "l LIST [] (*) sel=0 ret=0 status=0\n"},
        {"list percent", "l LIST ~/Mail/ %\r\n", "l LIST [~/Mail/] (%) sel=0 ret=0 status=0\n"},
        {"list extended",
         "l LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX \"Sent*\") RETURN (CHILDREN STATUS "
         "(MESSAGES UNSEEN))\r\n",
         "l LIST [] (INBOX Sent*) sel=5 ret=10 status=17 ext\n"},
        {"list special-use", "l LIST (SPECIAL-USE) \"\" *\r\n",
         "l LIST [] (*) sel=8 ret=0 status=0 ext\n"},
        {"list return special-use", "l LIST \"\" * RETURN (SPECIAL-USE SUBSCRIBED)\r\n",
         "l LIST [] (*) sel=0 ret=5 status=0 ext\n"},
        {"list remote", "l LIST (REMOTE) \"\" %\r\n", "l LIST [] (%) sel=2 ret=0 status=0 ext\n"},
        {"lsub", "l LSUB \"#news.\" comp.mail.*\r\n", "l LSUB [#news.] [comp.mail.*]\n"},
        {"status", "s STATUS blurdybloop (UIDNEXT MESSAGES)\r\n", "s STATUS [blurdybloop] 5\n"},
        {"status all",
         "s STATUS x (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE "
         "HIGHESTMODSEQ APPENDLIMIT)\r\n",
         "s STATUS [x] 511\n"},
        {"check", "c CHECK\r\n", "c CHECK\n"},
        {"close", "c CLOSE\r\n", "c CLOSE\n"},
        {"unselect", "c UNSELECT\r\n", "c UNSELECT\n"},
        {"expunge", "e EXPUNGE\r\n", "e EXPUNGE\n"},
        {"uid expunge", "e UID EXPUNGE 3000:3002\r\n", "e UID EXPUNGE 3000:3002\n"},
        {"search", "s SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
         "s SEARCH AND(FLAGGED SINCE 1994-2-1 NOT(FROM Smith))\n"},
        {"search or", "s SEARCH OR (SEEN DELETED) 2:4,*\r\n",
         "s SEARCH AND(OR(AND(SEEN DELETED) SEQ 2:4,*))\n"},
        {"search charset literal", "s SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n",
         "LITERAL 6\ns SEARCH charset=UTF-8 AND(TEXT XXXXXX)\n"},
        {"search every key",
         "s SEARCH ALL ANSWERED BCC a BEFORE 01-Jan-2000 BODY b CC c DELETED DRAFT FLAGGED "
         "FROM d HEADER X-A e KEYWORD $Junk LARGER 10 NEW OLD ON 29-Feb-2024 RECENT SEEN "
         "SENTBEFORE 2-Mar-2001 SENTON 3-Apr-2002 SENTSINCE 4-May-2003 SINCE 5-Jun-2004 "
         "SMALLER 99 SUBJECT f TEXT g TO h UID 1:* UNANSWERED UNDELETED UNDRAFT UNFLAGGED "
         "UNKEYWORD k UNSEEN OLDER 60 YOUNGER 30 $\r\n",
         "s SEARCH AND(ALL ANSWERED BCC a BEFORE 2000-1-1 BODY b CC c DELETED DRAFT FLAGGED "
         "FROM d HEADER X-A e KEYWORD $Junk LARGER 10 NEW OLD ON 2024-2-29 RECENT SEEN "
         "SENTBEFORE 2001-3-2 SENTON 2002-4-3 SENTSINCE 2003-5-4 SINCE 2004-6-5 SMALLER 99 "
         "SUBJECT f TEXT g TO h UID 1:* UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD k "
         "UNSEEN OLDER 60 YOUNGER 30 SEQ $)\n"},
        {"search quoted date", "s SEARCH ON \"7-Jul-2021\"\r\n", "s SEARCH AND(ON 2021-7-7)\n"},
        {"search modseq", "s SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338\r\n",
         "s SEARCH AND(MODSEQ /flags/\\draft all 620162338)\n"},
        {"search modseq plain", "s SEARCH MODSEQ 5\r\n", "s SEARCH AND(MODSEQ 5)\n"},
        {"esearch", "s UID SEARCH RETURN (MIN COUNT SAVE) UNSEEN\r\n",
         "s UID SEARCH return=25 AND(UNSEEN)\n"},
        {"esearch empty return", "s SEARCH RETURN () ALL\r\n", "s SEARCH return=4 AND(ALL)\n"},
        {"esearch max all charset", "s SEARCH RETURN (MAX ALL) CHARSET US-ASCII SEEN\r\n",
         "s SEARCH return=6 charset=US-ASCII AND(SEEN)\n"},
        {"fetch macro all", "f FETCH 1:* ALL\r\n",
         "f FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)\n"},
        {"fetch fast", "f FETCH 1 FAST\r\n", "f FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)\n"},
        {"fetch full", "f FETCH 2 full\r\n",
         "f FETCH 2 (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)\n"},
        {"fetch items",
         "f FETCH 2:4 (FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT ENVELOPE "
         "BODY BODYSTRUCTURE UID MODSEQ)\r\n",
         "f FETCH 2:4 (FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT ENVELOPE "
         "BODY BODYSTRUCTURE UID MODSEQ)\n"},
        {"fetch sections",
         "f FETCH 1 (BODY[] BODY.PEEK[HEADER] BODY[1.2.MIME] BODY[TEXT]<0.2048> BODY[3] "
         "BODY.PEEK[HEADER.FIELDS (From To \"Subject\")] BODY[2.HEADER.FIELDS.NOT (X-A)])\r\n",
         "f FETCH 1 (BODY[] BODY.PEEK[HEADER] BODY[1.2.MIME] BODY[TEXT]<0.2048> BODY[3] "
         "BODY.PEEK[HEADER.FIELDS (From To Subject)] BODY[2.HEADER.FIELDS.NOT (X-A)])\n"},
        {"fetch binary",
         "f FETCH 1 (BINARY[1] BINARY.PEEK[1.2]<10.20> BINARY.SIZE[3] BINARY[])\r\n",
         "f FETCH 1 (BINARY[1] BINARY.PEEK[1.2]<10.20> BINARY.SIZE[3] BINARY[])\n"},
        {"fetch single section", "f FETCH 5 BODY.PEEK[]\r\n", "f FETCH 5 (BODY.PEEK[])\n"},
        {"uid fetch changedsince vanished",
         "f UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n",
         "f UID FETCH 300:500 (FLAGS) changedsince=12345 vanished\n"},
        {"fetch changedsince", "f FETCH 1:* (UID FLAGS) (CHANGEDSINCE 7)\r\n",
         "f FETCH 1:* (UID FLAGS) changedsince=7\n"},
        {"store", "s STORE 2:4 +FLAGS (\\deleted)\r\n", "s STORE 2:4 +(\\Deleted)\n"},
        {"store silent list", "s STORE 1 -FLAGS.SILENT \\Seen $Label1 \\Custom\r\n",
         "s STORE 1 -silent (\\Seen $Label1 \\Custom)\n"},
        {"store replace empty", "s UID STORE 7 FLAGS ()\r\n", "s UID STORE 7 =()\n"},
        {"store unchangedsince", "s STORE 3 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Seen)\r\n",
         "s STORE 3 +silent (\\Seen) unchangedsince=320162338\n"},
        {"copy", "c COPY 2:4 MEETING\r\n", "c COPY 2:4 [MEETING]\n"},
        {"uid copy", "c UID COPY 1,5:7 \"Saved Mail\"\r\n", "c UID COPY 1,5:7 [Saved Mail]\n"},
        {"move", "m MOVE 1:3 Trash\r\n", "m MOVE 1:3 [Trash]\n"},
        {"uid move saved", "m UID MOVE $ Trash\r\n", "m UID MOVE $ [Trash]\n"},
        {"idle", "i IDLE\r\nDONE\r\n", "i IDLE\nDONE\n"},
        {"idle lower done", "i IDLE\r\ndone\r\nj NOOP\r\n", "i IDLE\nDONE\nj NOOP\n"},
        {"idle not done", "i IDLE\r\nj NOOP\r\nk NOOP\r\n", "i IDLE\nBAD [] syntax IDLE\nk NOOP\n"},
        {"namespace", "n NAMESPACE\r\n", "n NAMESPACE\n"},
        {"enable", "e ENABLE CONDSTORE qresync utf8=accept\r\n",
         "e ENABLE (CONDSTORE QRESYNC UTF8=ACCEPT)\n"},
        {"id nil", "i ID NIL\r\n", "i ID NIL\n"},
        {"id list", "i ID (\"name\" \"sodr\" \"version\" NIL)\r\n", "i ID name=sodr version=NIL\n"},
        {"getquota", "q GETQUOTA \"\"\r\n", "q GETQUOTA []\n"},
        {"getquotaroot", "q GETQUOTAROOT inbox\r\n", "q GETQUOTAROOT [INBOX]\n"},
        {"setquota", "q SETQUOTA \"\" (storage 512 MESSAGE 100)\r\n",
         "q SETQUOTA [] STORAGE=512 MESSAGE=100\n"},
        {"compress", "c COMPRESS deflate\r\n", "c COMPRESS DEFLATE\n"},
        {"sort", "s SORT (REVERSE DATE SUBJECT) UTF-8 SINCE 1-Feb-1994\r\n",
         "s SORT (-2 5) UTF-8 AND(SINCE 1994-2-1)\n"},
        {"uid sort", "s UID SORT (ARRIVAL) US-ASCII ALL\r\n", "s UID SORT (0) US-ASCII AND(ALL)\n"},
        {"thread", "t THREAD references UTF-8 SINCE 5-MAR-2000\r\n",
         "t THREAD REFERENCES UTF-8 AND(SINCE 2000-3-5)\n"},
        {"uid thread", "t UID THREAD ORDEREDSUBJECT UTF-8 ALL\r\n",
         "t UID THREAD ORDEREDSUBJECT UTF-8 AND(ALL)\n"},
        {"sasl continuation", "a AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\nb NOOP\r\n",
         "a AUTHENTICATE PLAIN\nSASL [AGFsaWNlAHNlY3JldA==]\nb NOOP\n"},
        {"sasl cancel", "a AUTHENTICATE PLAIN\r\n*\r\n", "a AUTHENTICATE PLAIN\nSASL-CANCEL\n"},
        {"pipelined", "a NOOP\r\nb CHECK\r\nc LOGOUT\r\n", "a NOOP\nb CHECK\nc LOGOUT\n"},
        {"empty line ignored", "\r\na NOOP\r\n", "a NOOP\n"},
    }));
    DYNAMIC_SECTION(tc.label) { check_all_splits(tc); }
}

TEST_CASE("imap command: syntax errors answer BAD and the next command parses") {
    auto tc = GENERATE(values<Case>({
        {"unknown", "a FOO\r\nb NOOP\r\n", "BAD [a] unknown_command \nb NOOP\n"},
        {"no tag: the verb is taken for the tag", "NOOP\r\nb NOOP\r\n",
         "BAD [NOOP] syntax \nb NOOP\n"},
        {"bad tag", "a+ NOOP\r\nb NOOP\r\n", "BAD [] syntax \nb NOOP\n"},
        {"extra arg", "a NOOP x\r\n", "BAD [a] syntax NOOP\n"},
        {"missing arg", "a SELECT\r\n", "BAD [a] syntax SELECT\n"},
        {"uid noop", "a UID NOOP\r\n", "BAD [a] unknown_command \n"},
        {"double space", "a LOGIN  x y\r\n", "BAD [a] syntax LOGIN\n"},
        {"bad escape", "a LOGIN \"x\\y\" z\r\n", "BAD [a] syntax LOGIN\n"},
        {"unterminated quote", "a LOGIN \"x z\r\n", "BAD [a] syntax LOGIN\n"},
        {"quote hides a marker", "a LOGIN \"x {5}\r\nb NOOP\r\n", "BAD [a] syntax LOGIN\nb NOOP\n"},
        {"literal8 outside append", "a LOGIN ~{1}\r\nx y\r\n", "LITERAL 1\nBAD [a] syntax LOGIN\n"},
        {"nul in literal", std::string("a LOGIN {1}\r\n\0 y\r\n", 19),
         "LITERAL 1\nBAD [a] syntax LOGIN\n"},
        {"zero in set", "a FETCH 0 FLAGS\r\n", "BAD [a] syntax FETCH\n"},
        {"set too big", "a FETCH 4294967296 FLAGS\r\n", "BAD [a] syntax FETCH\n"},
        {"set max", "a FETCH 4294967295 FLAGS\r\n", "a FETCH 4294967295 (FLAGS)\n"},
        {"bad date", "a SEARCH SINCE 30-Feb-2001\r\n", "BAD [a] syntax SEARCH\n"},
        {"bad month", "a SEARCH SINCE 3-Foo-2001\r\n", "BAD [a] syntax SEARCH\n"},
        {"unknown search key", "a SEARCH FOO\r\n", "BAD [a] syntax SEARCH\n"},
        {"unknown fetch item", "a FETCH 1 (FLAGS FOO)\r\n", "BAD [a] syntax FETCH\n"},
        {"mime without part", "a FETCH 1 BODY[MIME]\r\n", "BAD [a] syntax FETCH\n"},
        {"zero partial", "a FETCH 1 BODY[]<0.0>\r\n", "BAD [a] syntax FETCH\n"},
        {"vanished without uid", "a FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)\r\n",
         "BAD [a] syntax FETCH\n"},
        {"vanished without changedsince", "a UID FETCH 1 FLAGS (VANISHED)\r\n",
         "BAD [a] syntax FETCH\n"},
        {"store recent", "a STORE 1 +FLAGS (\\Recent)\r\n", "BAD [a] syntax STORE\n"},
        {"store no flags keyword", "a STORE 1 +FOO (\\Seen)\r\n", "BAD [a] syntax STORE\n"},
        {"recursivematch alone", "a LIST (RECURSIVEMATCH) \"\" *\r\n", "BAD [a] syntax LIST\n"},
        {"unknown status item", "a STATUS x (FOO)\r\n", "BAD [a] syntax STATUS\n"},
        {"append without literal", "a APPEND INBOX\r\n", "BAD [a] syntax APPEND\n"},
        {"search empty", "a SEARCH\r\n", "BAD [a] syntax SEARCH\n"},
        {"search unclosed paren", "a SEARCH (SEEN\r\n", "BAD [a] syntax SEARCH\n"},
        {"bad qresync", "a SELECT INBOX (QRESYNC (0 1))\r\n", "BAD [a] syntax SELECT\n"},
        {"8-bit atom", "a SELECT \xc3\xa9t\xc3\xa9\r\n", "BAD [a] syntax SELECT\n"},
        {"bare CR", "a NOOP\rb NOOP\r\n", "BAD [a] syntax NOOP\n"},
        {"id too many",
         "a ID (" +
             [] {
                 std::string s;
                 for (int i = 0; i < 31; ++i) s += (i ? " " : "") + std::string("\"k\" \"v\"");
                 return s;
             }() +
             ")\r\n",
         "BAD [a] limit ID\n"},
        {"unknown command literal", "a FOO {3}\r\nb NOOP\r\n",
         "BAD [a] unknown_command \nb NOOP\n"},
        {"unknown command literal+", "a FOO {3+}\r\nabc\r\nb NOOP\r\n",
         "BAD [a] unknown_command \nb NOOP\n"},
    }));
    DYNAMIC_SECTION(tc.label) { check_all_splits(tc); }
}
