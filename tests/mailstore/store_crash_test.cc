// Durability, concurrency and rebuild: the properties the maildir-is-the-truth design
// promises (docs/store.md).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "libmailstore/accounts.h"
#include "libmailstore/maildir_layout.h"
#include "libmailstore/store.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

struct Instance {
    test::TempDir dir;
    StoreOptions opts;
    Instance() {
        auto a = Accounts::open(dir.path(), 64ull << 20, Accounts::Open::create);
        REQUIRE(a);
        REQUIRE((*a)->add_domain("example.com"));
        REQUIRE((*a)->add_user("bob@example.com", "pw"));
        test::make_mailboxes(dir.path(), {"bob@example.com"});
        opts.disk_reserve_bytes = 0;
        opts.index_map_size = 64ull << 20;
    }
    std::unique_ptr<MailStore> open() const {
        auto s = open_maildir_store(dir.path(), opts);
        REQUIRE(s);
        return std::move(*s);
    }
    fs::path maildir() const { return dir.path() / "example.com" / "bob" / "Maildir"; }
};

// Child process body: deliver `count` messages tagged `tag` (count < 0: forever), then exit.
[[noreturn]] void deliver_loop(const Instance& inst, const std::string& tag, int count) {
    auto s = open_maildir_store(inst.dir.path(), inst.opts);
    if (!s) ::_exit(2);
    for (int i = 0; count < 0 || i < count; ++i) {
        std::string msg = test::make_message(tag, i, size_t(i % 50));
        if (!(*s)->deliver("bob@example.com", MessageSource::from_bytes(msg))) ::_exit(3);
    }
    ::_exit(0);
}

// Every message in the mailbox is complete; returns their subjects' (tag, n).
std::set<std::pair<std::string, int>> check_all_complete(Mailbox& mb) {
    std::set<std::pair<std::string, int>> seen;
    std::set<uint32_t> uids;
    for (const auto& m : mb.messages()) {
        REQUIRE(uids.insert(m.uid).second);
        auto body = mb.read_message(m.uid);
        REQUIRE(body);
        auto info = mb.info(m.uid);
        REQUIRE(info);
        CHECK(body->size() == info->size);
        auto s = body->find("Subject: ");
        REQUIRE(s != std::string::npos);
        auto e = body->find("\r\n", s);
        std::string subj = body->substr(s + 9, e - s - 9);
        auto sp = subj.rfind(' ');
        std::string tag = subj.substr(0, sp);
        int n = std::stoi(subj.substr(sp + 1));
        INFO("uid " << m.uid << " subject " << subj);
        CHECK(*body == test::make_message(tag, n, size_t(n % 50)));
        seen.insert({tag, n});
    }
    return seen;
}

}  // namespace

TEST_CASE("two processes delivering concurrently get distinct UIDs", "[store][concurrency]") {
    Instance inst;
    const int per_child = 200;
    pid_t a = ::fork();
    REQUIRE(a >= 0);
    if (a == 0) deliver_loop(inst, "A", per_child);
    pid_t b = ::fork();
    REQUIRE(b >= 0);
    if (b == 0) deliver_loop(inst, "B", per_child);
    // Meanwhile a reader keeps refreshing, moving mail from new/ to cur/ under their feet.
    auto store = inst.open();
    auto mb = store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    for (int i = 0; i < 50; ++i) {
        REQUIRE((*mb)->refresh());
        ::usleep(20000);
    }
    int st = 0;
    REQUIRE(::waitpid(a, &st, 0) == a);
    CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0));
    REQUIRE(::waitpid(b, &st, 0) == b);
    CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0));

    REQUIRE((*mb)->refresh());
    REQUIRE((*mb)->messages().size() == 2 * per_child);
    auto seen = check_all_complete(**mb);
    CHECK(seen.size() == 2 * per_child);
    CHECK((*mb)->messages().front().uid == 1);
    CHECK((*mb)->messages().back().uid == 2 * per_child);
    CHECK((*mb)->uidnext() == 2 * per_child + 1);
    CHECK(test::count_files(inst.maildir() / "cur") == 2 * per_child);
    CHECK(test::count_files(inst.maildir() / "new") == 0);
}

TEST_CASE("a delivery killed at any point leaves whole messages or nothing", "[store][crash]") {
    Instance inst;
    std::mt19937 rng(12345);
    for (int round = 0; round < 6; ++round) {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) deliver_loop(inst, "K" + std::to_string(round), -1);
        ::usleep(useconds_t(std::uniform_int_distribution<int>(20000, 150000)(rng)));
        ::kill(pid, SIGKILL);
        int st = 0;
        REQUIRE(::waitpid(pid, &st, 0) == pid);
    }
    auto store = inst.open();
    auto mb = store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    auto seen = check_all_complete(**mb);
    CHECK(seen.size() == (*mb)->messages().size());
    // Every visible file is in the index (none half-there), nothing left in new/.
    CHECK(test::count_files(inst.maildir() / "cur") == (*mb)->messages().size());
    CHECK(test::count_files(inst.maildir() / "new") == 0);
    // Delivery continues above every UID handed out so far.
    uint32_t max_uid = (*mb)->messages().empty() ? 0 : (*mb)->messages().back().uid;
    auto next = store->deliver("bob@example.com", MessageSource::from_bytes("after\r\n"));
    REQUIRE(next);
    CHECK(next->uid > max_uid);
}

TEST_CASE("crash leftovers: tmp files, lost commits, foreign and clashing files",
          "[store][crash]") {
    Instance inst;
    auto store = inst.open();
    for (int i = 0; i < 3; ++i)
        REQUIRE(store->deliver("bob@example.com",
                               MessageSource::from_bytes(test::make_message("x", i, 0))));
    auto mb = store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    REQUIRE((*mb)->messages().size() == 3);
    auto write = [](const fs::path& p, const std::string& s) {
        std::ofstream(p, std::ios::binary) << s;
    };

    // A killed writer's tmp files: invisible, and cleaned up once old.
    write(inst.dir.path() / "tmp" / "123.M1P1Q1.host", "partial");
    write(inst.maildir() / "tmp" / "123.M1P1Q2.host", "partial");
    // A delivery whose UID-reserving commit was lost (system crash): file in new/ with a UID
    // at or above uidnext.
    write(inst.maildir() / "new" / "1.M1P1Q3.host,U=4,S=6", "lost\r\n");
    // A file from another tool without a UID, and one whose UID clashes with a known one.
    write(inst.maildir() / "new" / "2.M1P1Q4.other", "foreign\r\n");
    write(inst.maildir() / "new" / "3.M1P1Q5.other,U=2", "clash\r\n");
    REQUIRE((*mb)->refresh());
    REQUIRE((*mb)->messages().size() == 6);
    CHECK(*(*mb)->read_message(4) == "lost\r\n");
    std::set<std::string> bodies;
    for (const auto& m : (*mb)->messages()) bodies.insert(*(*mb)->read_message(m.uid));
    CHECK(bodies.count("foreign\r\n") == 1);
    CHECK(bodies.count("clash\r\n") == 1);
    CHECK(*(*mb)->read_message(2) == test::make_message("x", 1, 0));  // the old owner keeps uid 2
    CHECK((*mb)->messages().back().uid == 6);
    CHECK(test::count_files(inst.maildir() / "new") == 0);

    // A refresh that crashed after moving a file to cur/ but before its commit.
    REQUIRE(store->deliver("bob@example.com", MessageSource::from_bytes("moved\r\n")));
    std::string name = fs::directory_iterator(inst.maildir() / "new")->path().filename();
    fs::rename(inst.maildir() / "new" / name, inst.maildir() / "cur" / (name + ":2,"));
    REQUIRE((*mb)->refresh());
    CHECK(*(*mb)->read_message(7) == "moved\r\n");

    CHECK(clean_stale_tmp(inst.dir.path() / "tmp") == 0);  // young: kept
    CHECK(clean_stale_tmp(inst.dir.path() / "tmp", 0) == 1);
    CHECK(test::count_files(inst.dir.path() / "tmp") == 0);
}

TEST_CASE("rebuild from the maildir keeps UIDs and flags", "[store][rebuild]") {
    Instance inst;
    uint32_t uidvalidity = 0, uidnext = 0;
    uint64_t modseq = 0;
    std::map<uint32_t, std::pair<uint8_t, std::string>> want;
    {
        auto store = inst.open();
        for (int i = 0; i < 10; ++i)
            REQUIRE(store->deliver("bob@example.com",
                                   MessageSource::from_bytes(test::make_message("r", i, 2))));
        auto mb = store->open_mailbox("bob@example.com");
        REQUIRE(mb);
        std::vector<uint32_t> seen{1, 2, 3}, flagged{3, 9}, gone{5, 10};
        REQUIRE((*mb)->store_flags(seen, {FlagOp::add, flag_seen, {"kw"}}));
        REQUIRE((*mb)->store_flags(flagged, {FlagOp::add, flag_flagged | flag_answered, {}}));
        REQUIRE((*mb)->expunge(gone));
        for (const auto& m : (*mb)->messages())
            want[m.uid] = {m.flags, *(*mb)->read_message(m.uid)};
        uidvalidity = (*mb)->uidvalidity();
        uidnext = (*mb)->uidnext();
        modseq = (*mb)->highestmodseq();

        // An explicit rebuild with the index present keeps keywords too.
        auto stats = store->rebuild_index("bob@example.com");
        REQUIRE(stats);
        CHECK(stats->messages == 8);
        CHECK(stats->new_uids == 0);
        REQUIRE((*mb)->refresh());
        CHECK((*mb)->keywords_of(*(*mb)->find(1)) == std::vector<std::string>{"kw"});
        CHECK((*mb)->highestmodseq() > modseq);
        modseq = (*mb)->highestmodseq();
    }
    // Lose the index entirely (all handles closed first).
    fs::remove_all(inst.maildir().parent_path() / "index");
    auto store = inst.open();
    auto mb = store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    CHECK((*mb)->uidvalidity() == uidvalidity);
    CHECK((*mb)->uidnext() == uidnext);  // 11, though uid 10 was expunged
    CHECK((*mb)->highestmodseq() > modseq);
    REQUIRE((*mb)->messages().size() == want.size());
    for (const auto& m : (*mb)->messages()) {
        INFO("uid " << m.uid);
        REQUIRE(want.count(m.uid) == 1);
        CHECK(m.flags == want[m.uid].first);
        CHECK(*(*mb)->read_message(m.uid) == want[m.uid].second);
    }
    CHECK(store->deliver("bob@example.com", MessageSource::from_bytes("new\r\n"))->uid == uidnext);
    // Other folders come back as they are used.
    CHECK(store->open_mailbox("bob@example.com", "Trash").has_value());
    CHECK(*store->usage("bob@example.com") > 0);
}

TEST_CASE("rebuild gives files without UIDs new ones above the maximum", "[store][rebuild]") {
    Instance inst;
    auto store = inst.open();
    REQUIRE(store->deliver("bob@example.com", MessageSource::from_bytes("one\r\n")));
    REQUIRE(store->deliver("bob@example.com", MessageSource::from_bytes("two\r\n")));
    {
        auto mb = store->open_mailbox("bob@example.com");
        REQUIRE(mb);
    }
    // Imported from another maildir: no U=, no S=, flags in the info.
    std::ofstream(inst.maildir() / "cur" / "99.M1P1Q1.import:2,S", std::ios::binary)
        << "imported\r\n";
    std::ofstream(inst.maildir() / "cur" / "98.M1P1Q1.import,U=1:2,", std::ios::binary)
        << "dup\r\n";
    auto all = store->rebuild_all();
    REQUIRE(all);
    CHECK(all->new_uids == 2);
    auto mb = store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    REQUIRE((*mb)->messages().size() == 4);
    CHECK(*(*mb)->read_message(1) == "one\r\n");
    CHECK(*(*mb)->read_message(2) == "two\r\n");
    std::set<std::string> rest{*(*mb)->read_message(3), *(*mb)->read_message(4)};
    CHECK(rest == std::set<std::string>{"imported\r\n", "dup\r\n"});
    for (uint32_t u : {3u, 4u}) {
        if (*(*mb)->read_message(u) == "imported\r\n") CHECK((*mb)->find(u)->flags == flag_seen);
    }
}

TEST_CASE("a large mailbox opens without per-message stat", "[store][perf]") {
    Instance inst;
    auto store = inst.open();
    REQUIRE(store->deliver("bob@example.com", MessageSource::from_bytes("seed\r\n")));
    {
        auto mb = store->open_mailbox("bob@example.com");
        REQUIRE(mb);
    }
    // 5000 files dropped in by "another tool" without UIDs: one rebuild, then cheap opens.
    for (int i = 0; i < 5000; ++i)
        std::ofstream(inst.maildir() / "cur" / (std::to_string(i) + ".M1P1Q1.bulk,S=4:2,S"),
                      std::ios::binary)
            << "abc\n";
    REQUIRE(store->rebuild_index("bob@example.com"));
    auto t0 = std::chrono::steady_clock::now();
    auto mb = store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    for (int i = 0; i < 20; ++i) REQUIRE((*mb)->refresh());
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    CHECK((*mb)->messages().size() == 5001);
    INFO("open + 20 refreshes took " << ms << " ms");
    CHECK(ms < 5000);
}
