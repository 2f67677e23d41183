// A user's Maildir storage through MailStore::create_user/remove_user (what mailctl calls
// beside the account change), and a running store meeting a user that mailctl removed and
// made again.
#include <catch2/catch.hpp>
#include <fstream>

#include "libmailstore/accounts.h"
#include "libmailstore/store.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

const std::string bob = "bob@example.com";

std::unique_ptr<MailStore> open_store(const fs::path& dir) {
    StoreOptions o;
    o.disk_reserve_bytes = 0;
    o.index_map_size = 32ull << 20;
    auto s = open_maildir_store(dir, o);
    REQUIRE(s);
    return std::move(*s);
}

std::vector<fs::path> retired(const fs::path& domain_dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(domain_dir))
        if (e.path().filename().string().starts_with(".deleted-bob-")) out.push_back(e.path());
    return out;
}

}  // namespace

TEST_CASE("remove_user keeps the mail aside; create_user starts empty or refuses a leftover",
          "[store][user]") {
    test::TempDir dir;
    auto store = open_store(dir.path());
    const fs::path domain_dir = dir.path() / "example.com";
    REQUIRE(store->create_user(bob));
    CHECK(fs::is_directory(domain_dir / "bob" / "Maildir" / ".Sent" / "cur"));
    REQUIRE(store->deliver(bob, MessageSource::from_bytes(test::make_message("u", 1))));
    REQUIRE(store->remove_user(bob));
    auto kept = retired(domain_dir);
    REQUIRE(kept.size() == 1);
    CHECK(test::count_files(kept[0] / "Maildir" / "new") == 1);
    CHECK_FALSE(fs::exists(domain_dir / "bob"));

    SECTION("made again: empty") {
        REQUIRE(store->create_user(bob));
        CHECK(store->status(bob, "INBOX")->messages == 0);
        REQUIRE(store->remove_user(bob));
        CHECK(retired(domain_dir).size() == 2);  // a name of its own
    }
    SECTION("a directory left with something in it is not taken over") {
        fs::create_directories(domain_dir / "bob");
        std::ofstream(domain_dir / "bob" / "old-mail") << "x";
        CHECK(store->create_user(bob).error() == StoreError::exists);
        CHECK(fs::exists(domain_dir / "bob" / "old-mail"));
        CHECK_FALSE(fs::exists(domain_dir / "bob" / "Maildir"));
    }
}

TEST_CASE("a running store meets a user removed and made again by mailctl as a new one",
          "[store][user]") {
    test::TempDir dir;
    auto acc = Accounts::open(dir.path(), 64ull << 20, Accounts::Open::create);
    REQUIRE(acc);
    REQUIRE((*acc)->add_domain("example.com"));
    REQUIRE((*acc)->add_user(bob, "pw"));
    test::make_mailboxes(dir.path(), {bob});
    auto store = open_store(dir.path());  // a daemon's: it keeps bob's index open
    for (int n = 1; n <= 3; ++n)
        REQUIRE(store->deliver(bob, MessageSource::from_bytes(test::make_message("old", n))));
    // mailctl user del / user add, in another process: this store is not told.
    {
        auto ctl = open_store(dir.path());
        REQUIRE(ctl->remove_user(bob));
        REQUIRE((*acc)->del_user(bob));
        REQUIRE(ctl->create_user(bob));
        REQUIRE((*acc)->add_user(bob, "pw"));
    }

    auto d = store->deliver(bob, MessageSource::from_bytes(test::make_message("new", 1)));
    REQUIRE(d);
    CHECK(d->uid == 1);
    auto st = store->status(bob, "INBOX");
    REQUIRE(st);
    CHECK(st->messages == 1);
    CHECK(st->uidvalidity == d->uidvalidity);
    auto mb = store->open_mailbox(bob);
    REQUIRE(mb);
    CHECK((*mb)->messages().size() == 1);
    // Each owner's mail stayed in its own directory.
    auto files = [](const fs::path& md) {
        return test::count_files(md / "new") + test::count_files(md / "cur");
    };
    auto kept = retired(dir.path() / "example.com");
    REQUIRE(kept.size() == 1);
    CHECK(files(kept[0] / "Maildir") == 3);
    CHECK(files(dir.path() / "example.com" / "bob" / "Maildir") == 1);
}
