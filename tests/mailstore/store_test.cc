#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "libmailstore/accounts.h"
#include "libmailstore/fd_reader.h"
#include "libmailstore/store.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

struct StoreFixture {
    test::TempDir dir;
    std::shared_ptr<Accounts> acc;
    std::unique_ptr<MailStore> store;
    explicit StoreFixture(uint64_t reserve = 0, uint64_t quota = 0) {
        auto a = Accounts::open(dir.path(), 64ull << 20, Accounts::Open::create);
        REQUIRE(a);
        acc = *a;
        REQUIRE(acc->add_domain("example.com"));
        REQUIRE(acc->add_user("bob@example.com", "pw"));
        REQUIRE(acc->add_user("alice@example.com", "pw"));
        test::make_mailboxes(dir.path(), {"bob@example.com", "alice@example.com"});
        StoreOptions opts;
        opts.disk_reserve_bytes = reserve;
        opts.index_map_size = 32ull << 20;
        if (quota != 0) opts.quota_of = [quota](std::string_view) { return quota; };
        auto s = open_maildir_store(dir.path(), opts);
        REQUIRE(s);
        store = std::move(*s);
    }
    fs::path maildir(const std::string& local) const {
        return dir.path() / "example.com" / local / "Maildir";
    }
};

}  // namespace

TEST_CASE("deliver then read back exact bytes", "[store]") {
    StoreFixture f;
    const std::string msg = test::make_message("hello", 1);
    auto uid = f.store->deliver("bob@example.com", MessageSource::from_bytes(msg));
    REQUIRE(uid);
    CHECK(uid->uid == 1);
    CHECK(test::count_files(f.maildir("bob") / "new") == 1);

    auto mb = f.store->open_mailbox("Bob@Example.com");
    REQUIRE(mb);
    REQUIRE((*mb)->messages().size() == 1);
    const MessageEntry& e = (*mb)->messages()[0];
    CHECK(e.uid == 1);
    CHECK(e.flags == 0);
    auto m = (*mb)->info(e.uid);
    REQUIRE(m);
    CHECK(m->uid == 1);
    CHECK(m->size == msg.size());
    CHECK(m->flags == 0);
    CHECK(m->internal_date > 0);
    CHECK((*mb)->uidnext() == 2);
    CHECK((*mb)->uidvalidity() > 0);
    CHECK(uid->uidvalidity == (*mb)->uidvalidity());
    CHECK(*(*mb)->read_message(1) == msg);
    CHECK((*mb)->read_message(7).error() == StoreError::not_found);
    // A reader moved it to cur/.
    CHECK(test::count_files(f.maildir("bob") / "new") == 0);
    CHECK(test::count_files(f.maildir("bob") / "cur") == 1);
    CHECK(*f.store->usage("bob@example.com") == msg.size());
}

TEST_CASE("delivery errors", "[store]") {
    StoreFixture f(0, 10);
    auto src = MessageSource::from_bytes("x\r\n");
    CHECK(f.store->deliver("nobody@example.com", src).error() == StoreError::not_found);
    CHECK(f.store->deliver("bad", src).error() == StoreError::invalid);
    DeliveryOptions o;
    o.folder = "NoSuchFolder";
    CHECK(f.store->deliver("bob@example.com", src, o).error() == StoreError::not_found);
    o.folder = "bad..name";
    CHECK(f.store->deliver("bob@example.com", src, o).error() == StoreError::invalid);
    o.folder = "INBOX";
    REQUIRE(f.store->deliver("bob@example.com", MessageSource::from_bytes("12345\r\n"), o));
    CHECK(f.store->deliver("bob@example.com", MessageSource::from_bytes("12345\r\n"), o).error() ==
          StoreError::over_quota);
    CHECK(f.store->open_mailbox("bob@example.com", "Nope").error() == StoreError::not_found);
}

TEST_CASE("deliver from a reader over an fd, with flags, keywords and internal date", "[store]") {
    StoreFixture f;
    test::TempDir src_dir;
    fs::path src = src_dir.path() / "q";
    const std::string header = "QUEUE-HEADER\n";
    const std::string msg = test::make_message("fd", 2);
    {
        int fd = ::open(src.c_str(), O_WRONLY | O_CREAT, 0600);
        REQUIRE(fd >= 0);
        std::string all = header + msg;
        REQUIRE(::write(fd, all.data(), all.size()) == ssize_t(all.size()));
        ::close(fd);
    }
    int fd = ::open(src.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    FdReader reader(fd, header.size(), msg.size());
    DeliveryOptions o;
    o.folder = "sent";  // folder names are case-sensitive except INBOX
    CHECK(f.store->deliver("bob@example.com", MessageSource::from_reader(reader), o).error() ==
          StoreError::not_found);
    o.folder = "Sent";
    o.flags = flag_seen | flag_flagged;
    o.keywords = {"$Label1"};
    o.internal_date = 1000000000;
    auto d = f.store->deliver("bob@example.com", MessageSource::from_reader(reader), o);
    ::close(fd);
    REQUIRE(d);
    const uint32_t uid = d->uid;
    auto mb = f.store->open_mailbox("bob@example.com", "Sent");
    REQUIRE(mb);
    const MessageEntry* e = (*mb)->find(uid);
    REQUIRE(e);
    CHECK(e->flags == (flag_seen | flag_flagged));
    CHECK((*mb)->keywords_of(*e) == std::vector<std::string>{"$Label1"});
    auto m = (*mb)->info(uid);
    REQUIRE(m);
    CHECK(m->flags == (flag_seen | flag_flagged));
    CHECK(m->keywords == std::vector<std::string>{"$Label1"});
    CHECK(m->internal_date == 1000000000);
    CHECK(m->size == msg.size());
    CHECK(*(*mb)->read_message(uid) == msg);
    bool found = false;
    for (auto& e : fs::directory_iterator(f.maildir("bob") / ".Sent" / "cur"))
        found = found || e.path().filename().string().ends_with(":2,FSa");  // a: $Label1
    CHECK(found);
}

TEST_CASE("deliver_many hard-links one file into several mailboxes", "[store]") {
    StoreFixture f;
    const std::string msg = test::make_message("many", 3);
    std::vector<std::string> users{"bob@example.com", "ghost@example.com", "alice@example.com"};
    auto res = f.store->deliver_many(users, MessageSource::from_bytes(msg));
    REQUIRE(res.size() == 3);
    CHECK(res[0].has_value());
    CHECK(res[1].error() == StoreError::not_found);
    CHECK(res[2].has_value());
    for (const char* u : {"bob@example.com", "alice@example.com"}) {
        auto mb = f.store->open_mailbox(u);
        REQUIRE(mb);
        REQUIRE((*mb)->messages().size() == 1);
        CHECK(*(*mb)->read_message((*mb)->messages()[0].uid) == msg);
    }
    CHECK(test::count_files(f.dir.path() / "tmp") == 0);
}

TEST_CASE("flags: visible across handles, kept in file names, modseq bumps", "[store]") {
    StoreFixture f;
    for (int i = 0; i < 5; ++i)
        REQUIRE(f.store->deliver("bob@example.com",
                                 MessageSource::from_bytes(test::make_message("f", i))));
    auto a = f.store->open_mailbox("bob@example.com");
    auto b = f.store->open_mailbox("bob@example.com");
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE((*a)->messages().size() == 5);
    uint64_t before = (*a)->highestmodseq();

    std::vector<uint32_t> uids{2, 4, 99};
    REQUIRE((*a)->store_flags(uids, {FlagOp::add, flag_seen | flag_answered, {"Work"}}));
    CHECK((*a)->find(2)->flags == (flag_seen | flag_answered));
    CHECK((*a)->keywords_of(*(*a)->find(2)) == std::vector<std::string>{"Work"});
    CHECK((*a)->info(2)->modseq > before);
    CHECK((*a)->highestmodseq() > before);
    CHECK((*b)->find(2)->flags == 0);  // b's snapshot is unchanged until refresh
    REQUIRE((*b)->refresh());
    CHECK((*b)->find(2)->flags == (flag_seen | flag_answered));
    CHECK((*b)->keywords_of(*(*b)->find(4)) == std::vector<std::string>{"Work"});
    CHECK((*b)->find(1)->flags == 0);

    std::vector<uint32_t> two{2};
    REQUIRE((*b)->store_flags(two, {FlagOp::remove, flag_answered, {"work"}}));
    REQUIRE((*b)->store_flags(two, {FlagOp::add, flag_deleted, {}}));
    REQUIRE((*a)->refresh());
    CHECK((*a)->find(2)->flags == (flag_seen | flag_deleted));
    CHECK((*a)->keywords_of(*(*a)->find(2)).empty());
    REQUIRE((*a)->store_flags(two, {FlagOp::set, flag_draft, {"A", "B"}}));
    CHECK((*a)->find(2)->flags == flag_draft);
    CHECK(*(*a)->read_message(2) == test::make_message("f", 1));

    // b still has the old file name in mind: reading must follow the rename.
    CHECK(*(*b)->read_message(2) == test::make_message("f", 1));

    int with_d = 0;
    for (auto& e : fs::directory_iterator(f.maildir("bob") / "cur"))
        with_d += e.path().filename().string().ends_with(":2,Dbc");  // a: Work, b: A, c: B
    CHECK(with_d == 1);
}

TEST_CASE("expunge removes files and records; other handles see it", "[store]") {
    StoreFixture f;
    for (int i = 0; i < 4; ++i)
        REQUIRE(f.store->deliver("bob@example.com",
                                 MessageSource::from_bytes(test::make_message("e", i))));
    auto a = f.store->open_mailbox("bob@example.com");
    auto b = f.store->open_mailbox("bob@example.com");
    REQUIRE(a);
    REQUIRE(b);
    uint64_t usage = *f.store->usage("bob@example.com");
    std::vector<uint32_t> gone{1, 3};
    REQUIRE((*a)->expunge(gone));
    CHECK((*a)->messages().size() == 2);
    CHECK((*a)->find(1) == nullptr);
    CHECK(test::count_files(f.maildir("bob") / "cur") == 2);
    CHECK(*f.store->usage("bob@example.com") ==
          usage - test::make_message("e", 0).size() - test::make_message("e", 2).size());
    // b's snapshot still lists uid 1, but the message is gone.
    REQUIRE((*b)->find(1) != nullptr);
    CHECK((*b)->read_message(1).error() == StoreError::expunged);
    REQUIRE((*b)->refresh());
    CHECK((*b)->messages().size() == 2);
    CHECK((*b)->find(3) == nullptr);
    // New mail after an expunge gets a higher UID.
    REQUIRE(f.store->deliver("bob@example.com", MessageSource::from_bytes("x\r\n"))->uid == 5);
    REQUIRE((*b)->refresh());
    CHECK((*b)->messages().back().uid == 5);
}

TEST_CASE("folders: create, list, rename, delete", "[store]") {
    StoreFixture f;
    auto list = f.store->list_folders("bob@example.com");
    REQUIRE(list);
    CHECK(*list == std::vector<std::string>{"INBOX", "Drafts", "Junk", "Sent", "Trash"});
    REQUIRE(f.store->create_folder("bob@example.com", "Archive"));
    REQUIRE(f.store->create_folder("bob@example.com", "Archive/2024"));
    CHECK(f.store->create_folder("bob@example.com", "Archive").error() == StoreError::exists);
    CHECK(f.store->create_folder("bob@example.com", "inbox").error() == StoreError::exists);
    CHECK(f.store->create_folder("bob@example.com", "a.b").error() == StoreError::invalid);
    CHECK(f.store->create_folder("bob@example.com", "a//b").error() == StoreError::invalid);
    CHECK(f.store->create_folder("bob@example.com", "../x").error() == StoreError::invalid);
    CHECK(fs::is_directory(f.maildir("bob") / ".Archive.2024" / "cur"));

    DeliveryOptions o;
    o.folder = "Archive/2024";
    auto uid = f.store->deliver("bob@example.com", MessageSource::from_bytes("old\r\n"), o);
    REQUIRE(uid);
    auto before = f.store->open_mailbox("bob@example.com", "Archive/2024");
    REQUIRE(before);
    uint32_t uv = (*before)->uidvalidity();
    before->reset();

    CHECK(f.store->delete_folder("bob@example.com", "Archive").error() == StoreError::not_empty);
    CHECK(f.store->rename_folder("bob@example.com", "Archive", "Archive/x").error() ==
          StoreError::invalid);
    CHECK(f.store->rename_folder("bob@example.com", "Archive", "Sent").error() ==
          StoreError::exists);
    REQUIRE(f.store->rename_folder("bob@example.com", "Archive", "Old"));
    list = f.store->list_folders("bob@example.com");
    CHECK(*list ==
          std::vector<std::string>{"INBOX", "Drafts", "Junk", "Old", "Old/2024", "Sent", "Trash"});
    auto after = f.store->open_mailbox("bob@example.com", "Old/2024");
    REQUIRE(after);
    CHECK((*after)->uidvalidity() == uv);
    REQUIRE((*after)->messages().size() == 1);
    CHECK(*(*after)->read_message(uid->uid) == "old\r\n");
    after->reset();

    REQUIRE(f.store->delete_folder("bob@example.com", "Old/2024"));
    REQUIRE(f.store->delete_folder("bob@example.com", "Old"));
    CHECK(f.store->delete_folder("bob@example.com", "Old").error() == StoreError::not_found);
    CHECK(f.store->delete_folder("bob@example.com", "INBOX").error() == StoreError::invalid);
    // Recreated folder: a different UIDVALIDITY.
    REQUIRE(f.store->create_folder("bob@example.com", "Old"));
    auto again = f.store->open_mailbox("bob@example.com", "Old");
    REQUIRE(again);
    CHECK((*again)->messages().empty());
    CHECK((*again)->uidvalidity() != uv);
}

TEST_CASE("maildrop lock is exclusive", "[store]") {
    StoreFixture f;
    auto l1 = f.store->try_lock_maildrop("bob@example.com");
    REQUIRE(l1);
    CHECK(l1->held());
    CHECK(f.store->try_lock_maildrop("bob@example.com").error() == StoreError::in_use);
    CHECK(f.store->try_lock_maildrop("alice@example.com").has_value());
    { MaildropLock drop = std::move(*l1); }
    CHECK(f.store->try_lock_maildrop("bob@example.com").has_value());
    CHECK(f.store->try_lock_maildrop("ghost@example.com").error() == StoreError::not_found);
}

TEST_CASE("has_room honours the reserve", "[store]") {
    StoreFixture none(0);
    CHECK(none.store->has_room(1024));
    StoreFixture huge(uint64_t(1) << 62);
    CHECK_FALSE(huge.store->has_room(1));
}
