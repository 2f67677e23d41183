// Issue 7 (hardening): a symlink (or FIFO) planted in a maildir never makes the store read or
// write another file: message files and the store's own files are opened with O_NOFOLLOW.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "libmailstore/accounts.h"
#include "libmailstore/store.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

struct Fixture {
    test::TempDir dir;
    test::TempDir outside;  // a file the mail user must not reach through the maildir
    fs::path secret;
    std::shared_ptr<Accounts> acc;
    std::unique_ptr<MailStore> store;
    Fixture() {
        auto a = Accounts::open(dir.path(), 64ull << 20, Accounts::Open::create);
        REQUIRE(a);
        acc = *a;
        REQUIRE(acc->add_domain("example.com"));
        REQUIRE(acc->add_user("bob@example.com", "pw"));
        test::make_mailboxes(dir.path(), {"bob@example.com"});
        StoreOptions opts;
        opts.disk_reserve_bytes = 0;
        opts.index_map_size = 32ull << 20;
        auto s = open_maildir_store(dir.path(), opts);
        REQUIRE(s);
        store = std::move(*s);
        secret = outside.path() / "secret";
        std::ofstream(secret) << "root:secret\n";
    }
    fs::path maildir() const { return dir.path() / "example.com" / "bob" / "Maildir"; }
    std::string secret_text() const {
        std::ifstream in(secret);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    // The one file in the folder's dir (cur/ or new/).
    fs::path only_file(const char* sub) const {
        fs::path found;
        for (auto& e : fs::directory_iterator(maildir() / sub)) found = e.path();
        REQUIRE_FALSE(found.empty());
        return found;
    }
};

}  // namespace

TEST_CASE("a message file replaced by a symlink is not followed", "[store][hardening]") {
    Fixture f;
    const std::string msg = test::make_message("mine", 1);
    auto d = f.store->deliver("bob@example.com", MessageSource::from_bytes(msg));
    REQUIRE(d);
    const uint32_t uid = d->uid;
    auto mb = f.store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    REQUIRE(*(*mb)->read_message(uid) == msg);
    fs::path file = f.only_file("cur");
    fs::remove(file);

    SECTION("symlink") {
        fs::create_symlink(f.secret, file);
        auto got = (*mb)->read_message(uid);
        INFO("got " << (got ? *got : std::string(describe(got.error()))));
        REQUIRE_FALSE(got);
        CHECK(got.error() == StoreError::corrupt);
        CHECK_FALSE((*mb)->open_message(uid));
    }
    SECTION("FIFO: refused at once, never blocks") {
        REQUIRE(::mkfifo(file.c_str(), 0600) == 0);
        auto got = (*mb)->open_message(uid);
        REQUIRE_FALSE(got);
        CHECK(got.error() == StoreError::corrupt);
    }
    // Flag changes rename the link itself, never write through it.
    FlagChange seen;
    seen.flags = flag_seen;
    (void)(*mb)->store_flags(std::vector<uint32_t>{uid}, seen);
    CHECK(f.secret_text() == "root:secret\n");
}

TEST_CASE("a symlink planted in new/ or cur/ is not indexed as a message", "[store][hardening]") {
    Fixture f;
    const char* sub = GENERATE("new", "cur");
    DYNAMIC_SECTION(sub) {
        fs::create_symlink(f.secret, f.maildir() / sub / "1700000000.evil.host:2,");
        auto mb = f.store->open_mailbox("bob@example.com");
        REQUIRE(mb);
        CHECK((*mb)->messages().empty());
        auto rebuilt = f.store->rebuild_index("bob@example.com");
        REQUIRE(rebuilt);
        CHECK(rebuilt->messages == 0);
        REQUIRE((*mb)->refresh());
        CHECK((*mb)->messages().empty());
        CHECK(f.secret_text() == "root:secret\n");
    }
}

TEST_CASE("the store's own files are not written through symlinks", "[store][hardening]") {
    Fixture f;
    SECTION("maildrop.lock") {
        const fs::path target = f.outside.path() / "created-by-lock";
        fs::create_symlink(target, f.maildir().parent_path() / "maildrop.lock");
        auto lock = f.store->try_lock_maildrop("bob@example.com");
        CHECK_FALSE(lock);
        CHECK_FALSE(fs::exists(target));
    }
    SECTION("postern-uidvalidity.tmp (written at expunge)") {
        auto d = f.store->deliver("bob@example.com", MessageSource::from_bytes("x\r\n"));
        REQUIRE(d);
        auto mb = f.store->open_mailbox("bob@example.com");
        REQUIRE(mb);
        fs::create_symlink(f.secret, f.maildir() / "postern-uidvalidity.tmp");
        (void)(*mb)->expunge(std::vector<uint32_t>{d->uid});
        CHECK(f.secret_text() == "root:secret\n");
    }
    SECTION("postern-uidvalidity") {
        fs::remove(f.maildir() / "postern-uidvalidity");
        fs::create_symlink(f.secret, f.maildir() / "postern-uidvalidity");
        auto mb = f.store->open_mailbox("bob@example.com");
        REQUIRE(mb);
        CHECK(f.secret_text() == "root:secret\n");
    }
}
