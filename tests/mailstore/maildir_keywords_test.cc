// Issue 8 item 2: keywords survive the loss of the index. A message's keywords are letters
// a-z in its file name's ":2," info, named by the folder's dovecot-keywords file (Dovecot's
// scheme, so a site coming from Dovecot keeps its keywords); a rebuild reads them back.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "libmailstore/maildir_keywords.h"
#include "libmailstore/maildir_name.h"
#include "libmailstore/store.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

const std::string bob = "bob@example.com";
using Keywords = std::vector<std::string>;

struct Fixture {
    test::TempDir dir;
    std::unique_ptr<MailStore> store;
    Fixture() {
        store = open();
        REQUIRE(store->create_user(bob));
        REQUIRE(store->create_folder(bob, "Archive"));
    }
    std::unique_ptr<MailStore> open() const {
        StoreOptions opts;
        opts.index_map_size = 1 << 20;
        auto s = open_maildir_store(dir.path(), opts);
        REQUIRE(s);
        return std::move(*s);
    }
    fs::path maildir() const { return dir.path() / "example.com" / "bob" / "Maildir"; }
    fs::path folder_dir(const std::string& folder) const {
        return folder == "INBOX" ? maildir() : maildir() / ("." + folder);
    }
    std::unique_ptr<Mailbox> mailbox(const std::string& folder = "INBOX") const {
        auto mb = store->open_mailbox(bob, folder);
        REQUIRE(mb);
        return std::move(*mb);
    }
    uint32_t deliver(const std::string& body, const Keywords& kw = {},
                     const std::string& folder = "INBOX") {
        DeliveryOptions o;
        o.folder = folder;
        o.keywords = kw;
        auto d = store->deliver(bob, MessageSource::from_bytes(body), o);
        REQUIRE(d);
        return d->uid;
    }
    // Loses the index: every handle closed (so is the LMDB environment), index/ deleted, a
    // new store opened.
    void lose_index() {
        store.reset();
        fs::remove_all(dir.path() / "example.com" / "bob" / "index");
        store = open();
    }
    std::string list_file(const std::string& folder = "INBOX") const {
        std::ifstream in(folder_dir(folder) / "dovecot-keywords", std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

// The name of the file in DIR/cur whose name carries ",U=<uid>," (empty when none).
std::string file_of(const fs::path& folder_dir, uint32_t uid) {
    const std::string tag = ",U=" + std::to_string(uid) + ",";
    for (const auto& e : fs::directory_iterator(folder_dir / "cur"))
        if (e.path().filename().string().find(tag) != std::string::npos)
            return e.path().filename().string();
    return {};
}

// The info after ":2," of that file.
std::string info_of(const fs::path& folder_dir, uint32_t uid) {
    std::string name = file_of(folder_dir, uid);
    auto at = name.rfind(":2,");
    return at == std::string::npos ? "<none>" : name.substr(at + 3);
}

Keywords keywords_of(Mailbox& mb, uint32_t uid) {
    auto info = mb.info(uid);
    REQUIRE(info);
    const MessageEntry* e = mb.find(uid);
    REQUIRE(e);
    CHECK(mb.keywords_of(*e) == info->keywords);
    return info->keywords;
}

}  // namespace

TEST_CASE("maildir names: keyword letters a-z apart from the flags and foreign letters",
          "[maildir][keywords]") {
    struct Case {
        const char* name;
        uint8_t flags;
        uint32_t letters;
        const char* other;
        const char* rebuilt;
    };
    const Case cases[] = {
        {"1.M1P1.h,U=3:2,Sb", flag_seen, 1u << 1, "", "1.M1P1.h,U=3:2,Sb"},
        {"1.M1P1.h:2,zaFS", flag_flagged | flag_seen, 1u << 25 | 1u, "", "1.M1P1.h:2,FSaz"},
        {"1.M1P1.h:2,aaP", 0, 1u, "P", "1.M1P1.h:2,Pa"},
        // Dovecot's ":2,<flags>,<fields>": what follows the comma is not flags, kept as is.
        {"1.M1P1.h:2,Sc,Wx=1,za", flag_seen, 1u << 2, ",Wx=1,za", "1.M1P1.h:2,Sc,Wx=1,za"},
        {"1.M1P1.h:1,abc", 0, 0, "", "1.M1P1.h:2,"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            auto n = parse_maildir_name(c.name);
            REQUIRE(n);
            CHECK(n->flags == c.flags);
            CHECK(n->keyword_letters == c.letters);
            CHECK(n->other_info == c.other);
            CHECK(maildir_file_name(n->stem, n->flags, n->other_info, n->keyword_letters) ==
                  c.rebuilt);
        }
    }
    CHECK(keyword_letters_to_info(0) == "");
    CHECK(keyword_letters_to_info(1u | 1u << 25) == "az");
}

TEST_CASE("dovecot-keywords: Dovecot's format, read as Dovecot reads it", "[maildir][keywords]") {
    // Lines Dovecot skips: no space, an index that is not a number below 26, an empty name.
    auto l = KeywordList::parse(
        "0 $Junk\n1 $NonJunk\nnospace\nx Bad\n26 TooFar\n-1 Neg\n3 \n4 Two words\n1 Later\n");
    CHECK(l.name_at(0) == "$Junk");
    CHECK(l.name_at(1) == "Later");  // a later line for the same index wins
    CHECK(l.name_at(2).empty());
    CHECK(l.name_at(3).empty());
    CHECK(l.name_at(4) == "Two words");
    CHECK(l.name_at(26).empty());
    CHECK(l.find("$junk") == 0);  // case-insensitive
    CHECK(l.find("$NonJunk") == -1);
    CHECK(l.serialize() == "0 $Junk\n1 Later\n4 Two words\n");
    CHECK_FALSE(l.changed());
    CHECK(l.assign("new") == 2);  // the first free index
    CHECK(l.assign("NEW") == 2);
    CHECK(l.assign("bad\nname") == -1);
    CHECK(l.assign("") == -1);
    CHECK(l.changed());
    CHECK(l.letters_for({"$JUNK", "new", "unlisted"}, false) == (1u | 1u << 2));
    // A letter whose name was lost gets one, as Dovecot does.
    CHECK(l.keywords_for(1u << 7, {"$Junk", "IndexOnly"}) == Keywords{"IndexOnly", "unknown-7"});
    CHECK(l.name_at(7) == "unknown-7");
}

TEST_CASE(
    "keywords are letters in the file name; deleting the index and rebuilding brings "
    "them back",
    "[store][maildir][keywords]") {
    Fixture f;
    for (int i = 0; i < 4; ++i) f.deliver(test::make_message("kw", i));
    auto mb = f.mailbox();
    std::vector<uint32_t> one_two{1, 2}, two{2}, three{3};
    REQUIRE(mb->store_flags(one_two, {FlagOp::add, flag_seen, {"$Junk"}}));
    REQUIRE(mb->store_flags(two, {FlagOp::add, 0, {"Work", "$junk"}}));
    // A keyword change alone renames the file too.
    const std::string before = file_of(f.maildir(), 3);
    REQUIRE(mb->store_flags(three, {FlagOp::add, 0, {"Work"}}));
    CHECK(file_of(f.maildir(), 3) != before);
    CHECK(info_of(f.maildir(), 1) == "Sa");
    CHECK(info_of(f.maildir(), 2) == "Sab");
    CHECK(info_of(f.maildir(), 3) == "b");
    CHECK(info_of(f.maildir(), 4) == "");
    CHECK(f.list_file() == "0 $Junk\n1 Work\n");
    // Removing a keyword takes its letter away.
    REQUIRE(mb->store_flags(one_two, {FlagOp::remove, 0, {"$JUNK"}}));
    CHECK(info_of(f.maildir(), 1) == "S");
    CHECK(info_of(f.maildir(), 2) == "Sb");
    REQUIRE(mb->store_flags(one_two, {FlagOp::add, 0, {"$Junk"}}));
    mb.reset();

    SECTION("rebuild_index after losing the index") {
        f.lose_index();
        auto stats = f.store->rebuild_index(bob);
        REQUIRE(stats);
        CHECK(stats->messages == 4);
        CHECK(stats->new_uids == 0);
    }
    SECTION("first use after losing the index") { f.lose_index(); }
    SECTION("rebuild_all with the index deleted under a running store") {
        f.lose_index();
        auto stats = f.store->rebuild_all();
        REQUIRE(stats);
    }
    auto again = f.mailbox();
    CHECK(keywords_of(*again, 1) == Keywords{"$Junk"});
    CHECK(keywords_of(*again, 2) == Keywords{"$Junk", "Work"});
    CHECK(keywords_of(*again, 3) == Keywords{"Work"});
    CHECK(keywords_of(*again, 4).empty());
    CHECK(again->find(2)->flags == flag_seen);
    auto fk = again->folder_keywords();
    std::sort(fk.begin(), fk.end());
    CHECK(fk == Keywords{"$Junk", "Work"});
    // And the list was not rewritten by the rebuild.
    CHECK(f.list_file() == "0 $Junk\n1 Work\n");
}

TEST_CASE("a Dovecot folder: its keyword letters and list are read, ours added after them",
          "[store][maildir][keywords]") {
    Fixture f;
    const fs::path arch = f.folder_dir("Archive");
    std::ofstream(arch / "dovecot-keywords", std::ios::binary)
        << "0 $Junk\n1 $NonJunk\n3 $Label1\n";
    const std::string body = test::make_message("dovecot", 1);
    std::ofstream(arch / "cur" / "1234567890.M20046P2137.mailserver,S=4542,W=4642:2,Sb",
                  std::ios::binary)
        << body;
    std::ofstream(arch / "cur" / "1234567891.M20047P2137.mailserver:2,ad", std::ios::binary)
        << body;
    f.lose_index();  // nothing indexed about this folder yet
    auto mb = f.mailbox("Archive");
    REQUIRE(mb->messages().size() == 2);
    const uint32_t first = mb->messages()[0].uid, second = mb->messages()[1].uid;
    CHECK(keywords_of(*mb, first) == Keywords{"$NonJunk"});
    CHECK(mb->find(first)->flags == flag_seen);
    CHECK(keywords_of(*mb, second) == Keywords{"$Junk", "$Label1"});
    // A new keyword takes the first free index; the Dovecot ones keep theirs.
    std::vector<uint32_t> both{first, second};
    REQUIRE(mb->store_flags(both, {FlagOp::add, 0, {"Mine"}}));
    CHECK(f.list_file("Archive") == "0 $Junk\n1 $NonJunk\n2 Mine\n3 $Label1\n");
    CHECK(info_of(arch, first) == "Sbc");
    CHECK(info_of(arch, second) == "acd");
}

TEST_CASE("deliveries and copies carry letters of their folder's own list",
          "[store][maildir][keywords]") {
    Fixture f;
    // Archive's list already names other keywords: the same keyword has another letter.
    std::ofstream(f.folder_dir("Archive") / "dovecot-keywords", std::ios::binary)
        << "0 Other\n1 Project\n";
    const uint32_t uid = f.deliver(test::make_message("d", 1), {"Project", "$Label2"});
    auto mb = f.mailbox();
    CHECK(info_of(f.maildir(), uid) == "ab");
    CHECK(f.list_file() == "0 Project\n1 $Label2\n");
    std::vector<uint32_t> one{uid};
    auto map = mb->copy_to(one, "Archive");
    REQUIRE(map);
    REQUIRE(map->to.size() == 1);
    const uint32_t copy = map->to[0];
    CHECK(info_of(f.folder_dir("Archive"), copy) == "bc");
    CHECK(f.list_file("Archive") == "0 Other\n1 Project\n2 $Label2\n");
    // Delivered straight into Archive, and moved back.
    const uint32_t direct = f.deliver(test::make_message("d", 2), {"$Label2"}, "Archive");
    auto arch = f.mailbox("Archive");
    std::vector<uint32_t> d{direct};
    auto moved = arch->move_to(d, "INBOX");
    REQUIRE(moved);
    REQUIRE(moved->to.size() == 1);
    CHECK(info_of(f.maildir(), moved->to[0]) == "b");
    mb.reset();
    arch.reset();

    f.lose_index();
    REQUIRE(f.store->rebuild_index(bob));
    auto inbox = f.mailbox();
    auto archive = f.mailbox("Archive");
    CHECK(keywords_of(*inbox, uid) == Keywords{"Project", "$Label2"});
    CHECK(keywords_of(*inbox, moved->to[0]) == Keywords{"$Label2"});
    CHECK(keywords_of(*archive, copy) == Keywords{"Project", "$Label2"});
}

TEST_CASE("a folder's 27th keyword works but is index-only", "[store][maildir][keywords]") {
    Fixture f;
    const uint32_t uid = f.deliver(test::make_message("many", 1));
    auto mb = f.mailbox();
    Keywords all;
    for (int i = 0; i < 27; ++i) all.push_back("kw" + std::to_string(i));
    std::vector<uint32_t> one{uid};
    REQUIRE(mb->store_flags(one, {FlagOp::add, flag_seen, all}));
    CHECK(keywords_of(*mb, uid) == all);
    CHECK(info_of(f.maildir(), uid) == "S" + keyword_letters_to_info((1u << 26) - 1));
    CHECK(f.list_file().find("25 kw25\n") != std::string::npos);
    CHECK(f.list_file().find("kw26") == std::string::npos);
    // Another handle sees all 27; a rebuild with the index present keeps the 27th.
    auto other = f.mailbox();
    CHECK(keywords_of(*other, uid) == all);
    other.reset();
    mb.reset();
    REQUIRE(f.store->rebuild_index(bob));
    CHECK(keywords_of(*f.mailbox(), uid) == all);
    // Losing the index loses only it.
    f.lose_index();
    REQUIRE(f.store->rebuild_index(bob));
    Keywords letters_only(all.begin(), all.begin() + 26);
    CHECK(keywords_of(*f.mailbox(), uid) == letters_only);
}
