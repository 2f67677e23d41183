// Maildir folder attributes: special-use and subscriptions live in files beside the folders
// (Dovecot's `subscriptions` format), survive the loss of the index, follow renames, and
// concurrent changes are not lost.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "libmailstore/accounts.h"
#include "libmailstore/maildir_folder_attrs.h"
#include "libmailstore/store.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

const std::string bob = "bob@example.com";
using Names = std::vector<std::string>;

struct Fixture {
    test::TempDir dir;
    std::unique_ptr<MailStore> store;
    Fixture() {
        test::accounts_with_users(dir.path(), {bob});
        reopen();
    }
    void reopen() {
        store.reset();
        StoreOptions o;
        o.disk_reserve_bytes = 0;
        o.index_map_size = 32ull << 20;
        auto s = open_maildir_store(dir.path(), o);
        REQUIRE(s);
        store = std::move(*s);
    }
    fs::path maildir() const { return dir.path() / "example.com" / "bob" / "Maildir"; }
    std::string file(const char* name) const {
        std::ifstream in(maildir() / name);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    void write(const char* name, const std::string& text) const {
        std::ofstream(maildir() / name) << text;
    }
    FolderEntry entry(const std::string& name) {
        auto list = store->folders(bob);
        REQUIRE(list);
        for (const auto& e : *list)
            if (e.name == name) return e;
        FAIL("no folder " << name);
        return {};
    }
};

}  // namespace

TEST_CASE("special-use and subscriptions survive losing the index", "[store][attrs]") {
    Fixture f;
    REQUIRE(f.store->create_folder(bob, "Archive", use_archive));
    REQUIRE(f.store->create_folder(bob, "Archive/2024"));
    REQUIRE(f.store->set_special_use(bob, "Archive/2024", use_archive | use_flagged));
    REQUIRE(f.store->set_subscribed(bob, "Archive/2024", true));
    REQUIRE(f.store->set_subscribed(bob, "INBOX", true));
    REQUIRE(f.store->deliver(bob, MessageSource::from_bytes(test::make_message("a", 1))));

    f.store.reset();
    fs::remove_all(f.maildir().parent_path() / "index");
    f.reopen();
    REQUIRE(f.store->rebuild_index(bob));
    CHECK(f.entry("Archive").special_use == use_archive);
    CHECK(f.entry("Archive/2024").special_use == (use_archive | use_flagged));
    CHECK(f.entry("Archive/2024").subscribed);
    CHECK_FALSE(f.entry("Archive").subscribed);
    CHECK(f.entry("INBOX").subscribed);
    CHECK(f.entry("Sent").special_use == use_sent);  // a new user's default
    CHECK(*f.store->subscriptions(bob) == (Names{"INBOX", "Archive/2024"}));
}

TEST_CASE("new users get the standard folders with their special-use", "[store][attrs]") {
    Fixture f;
    REQUIRE(f.store->create_user("carol@example.com"));
    for (const std::string& user : {bob, std::string("carol@example.com")}) {
        auto list = f.store->folders(user);
        REQUIRE(list);
        std::map<std::string, uint8_t> got;
        for (const auto& e : *list) got[e.name] = e.special_use;
        INFO("user " << user);
        CHECK(got == std::map<std::string, uint8_t>{{"INBOX", 0},
                                                    {"Drafts", use_drafts},
                                                    {"Sent", use_sent},
                                                    {"Trash", use_trash},
                                                    {"Junk", use_junk}});
    }
}

TEST_CASE("rename carries special-use, delete drops it, subscriptions stay by name",
          "[store][attrs]") {
    Fixture f;
    REQUIRE(f.store->create_folder(bob, "Archive", use_archive));
    REQUIRE(f.store->create_folder(bob, "Archive/2024", use_flagged));
    REQUIRE(f.store->set_subscribed(bob, "Archive", true));
    REQUIRE(f.store->rename_folder(bob, "Archive", "Old"));
    CHECK(f.entry("Old").special_use == use_archive);
    CHECK(f.entry("Old/2024").special_use == use_flagged);
    CHECK(f.entry("Old").has_children);
    CHECK_FALSE(f.entry("Old").subscribed);  // RFC 3501: subscriptions are names
    CHECK(*f.store->subscriptions(bob) == Names{"Archive"});
    CHECK(f.file("postern-special-use").find(" Archive") == std::string::npos);

    REQUIRE(f.store->delete_folder(bob, "Old/2024"));
    CHECK_FALSE(f.entry("Old").has_children);
    REQUIRE(f.store->create_folder(bob, "Old/2024"));
    CHECK(f.entry("Old/2024").special_use == 0);  // a new folder, not the old one's
    CHECK(f.file("postern-special-use").find("Old/2024") == std::string::npos);
    REQUIRE(f.store->delete_folder(bob, "Old/2024"));
    REQUIRE(f.store->delete_folder(bob, "Old"));
    CHECK(*f.store->subscriptions(bob) == Names{"Archive"});  // deleting does not unsubscribe
}

TEST_CASE("errors: unknown user or folder, bad names and attributes", "[store][attrs]") {
    Fixture f;
    CHECK(f.store->set_special_use(bob, "Nope", use_junk).error() == StoreError::not_found);
    CHECK(f.store->set_special_use(bob, "a..b", use_junk).error() == StoreError::invalid);
    CHECK(f.store->set_special_use(bob, "Sent", 0x80).error() == StoreError::invalid);
    CHECK(f.store->set_special_use("ghost@example.com", "Sent", use_sent).error() ==
          StoreError::not_found);
    CHECK(f.store->set_subscribed("ghost@example.com", "X", true).error() == StoreError::not_found);
    CHECK(f.store->set_subscribed(bob, "a/.b", true).error() == StoreError::invalid);
    CHECK(f.store->folders("ghost@example.com").error() == StoreError::not_found);
    CHECK(f.store->subscriptions("not an address").error() == StoreError::invalid);
    // Unsubscribing what is not subscribed, or setting what is set, changes nothing.
    REQUIRE(f.store->set_subscribed(bob, "X", false));
    CHECK_FALSE(fs::exists(f.maildir() / "subscriptions"));
    REQUIRE(f.store->set_special_use(bob, "Sent", 0));
    CHECK(f.entry("Sent").special_use == 0);
}

TEST_CASE("subscriptions: Dovecot's Maildir++ file, both of its forms", "[store][attrs]") {
    Fixture f;
    SECTION("we write what Dovecot writes") {
        REQUIRE(f.store->set_subscribed(bob, "inbox", true));
        REQUIRE(f.store->set_subscribed(bob, "Archive/2024", true));
        REQUIRE(f.store->set_subscribed(bob, "Sent", true));
        REQUIRE(f.store->set_subscribed(bob, "Sent", false));
        CHECK(f.file("subscriptions") == "INBOX\nArchive.2024\n");
    }
    SECTION("a file Dovecot wrote (version 1) is read, and odd lines are kept") {
        f.write("subscriptions", "INBOX\nSent\nArchive.2024\n\n.bad\nSent\n");
        CHECK(*f.store->subscriptions(bob) == (Names{"INBOX", "Archive/2024", "Sent"}));
        REQUIRE(f.store->set_subscribed(bob, "Trash", true));
        CHECK(f.file("subscriptions") == "INBOX\nSent\nArchive.2024\nTrash\n.bad\n");
    }
    SECTION("version 2: tab-separated levels, header kept") {
        f.write("subscriptions", "V\t2\n\nINBOX\nArchive\t2024\nA\001tB\n");
        CHECK(*f.store->subscriptions(bob) == (Names{"INBOX", "Archive/2024"}));
        REQUIRE(f.store->set_subscribed(bob, "Lists/pg", true));
        CHECK(f.file("subscriptions") == "V\t2\n\nINBOX\nArchive\t2024\nLists\tpg\nA\001tB\n");
        CHECK(f.entry("INBOX").subscribed);
    }
}

TEST_CASE("special-use file: RFC 6154 names, unknown lines kept", "[store][attrs]") {
    auto t = parse_special_use(
        "\\sent Sent\n\\Trash Bin\n\\Junk Spam/Old\n\\Important X\nbad\n"
        "\\Archive a..b\n\\Drafts Drafts\r\n\\Flagged Sent\n");
    CHECK(t.uses == std::map<std::string, uint8_t>{{"Sent", use_sent | use_flagged},
                                                   {"Bin", use_trash},
                                                   {"Spam/Old", use_junk},
                                                   {"Drafts", use_drafts}});
    CHECK(t.other_lines == Names{"\\Important X", "bad", "\\Archive a..b"});
    CHECK(format_special_use(t) ==
          "\\Trash Bin\n\\Drafts Drafts\n\\Flagged Sent\n\\Sent Sent\n\\Junk Spam/Old\n"
          "\\Important X\nbad\n\\Archive a..b\n");
    CHECK(parse_special_use(format_special_use(t)).uses == t.uses);
}

TEST_CASE("concurrent attribute changes are never lost", "[store][attrs]") {
    Fixture f;
    constexpr int threads = 6, each = 8;
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&f, t] {
            for (int i = 0; i < each; ++i) {
                std::string name = "T" + std::to_string(t) + "/n" + std::to_string(i);
                if (!f.store->set_subscribed(bob, name, true)) std::abort();
            }
        });
    }
    for (auto& t : ts) t.join();
    auto subs = f.store->subscriptions(bob);
    REQUIRE(subs);
    CHECK(subs->size() == size_t(threads * each));
    CHECK_FALSE(fs::exists(f.maildir() / "subscriptions.tmp"));
}
