// Maildir folder watches: every process's change (another store, a forked child, a foreign
// MDA) calls back within a second; never after the FolderWatch is gone; not before the
// changing writer has committed.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "libmailstore/accounts.h"
#include "libmailstore/maildir_store.h"
#include "libmailstore/store.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string bob = "bob@example.com";
using Clock = std::chrono::steady_clock;

StoreOptions options() {
    StoreOptions o;
    o.disk_reserve_bytes = 0;
    o.index_map_size = 32ull << 20;
    return o;
}

std::unique_ptr<MailStore> open_store(const fs::path& dir) {
    auto s = open_maildir_store(dir, options());
    REQUIRE(s);
    return std::move(*s);
}

struct Fixture {
    test::TempDir dir;
    std::unique_ptr<MailStore> store;  // the watching one
    std::unique_ptr<MailStore> other;  // another instance: as if another process
    Fixture() {
        test::accounts_with_users(dir.path(), {bob});
        store = open_store(dir.path());
        other = open_store(dir.path());
    }
    fs::path maildir() const { return dir.path() / "example.com" / "bob" / "Maildir"; }
    void deliver(MailStore& s, int n, const std::string& folder = "INBOX") {
        DeliveryOptions o;
        o.folder = folder;
        REQUIRE(s.deliver(bob, MessageSource::from_bytes(test::make_message("w", n)), o));
    }
};

// Counts calls; wait_beyond(n) waits (bounded) until there were more than n.
struct Counter {
    std::atomic<int> calls{0};
    std::function<void()> fn() {
        return [this] { ++calls; };
    }
    bool wait_beyond(int n, std::chrono::milliseconds limit = 1000ms) const {
        auto end = Clock::now() + limit;
        while (calls.load() <= n) {
            if (Clock::now() > end) return false;
            std::this_thread::sleep_for(5ms);
        }
        return true;
    }
    // Lets a burst's callback (50 ms after its first event) happen, then says how many.
    int settled() const {
        std::this_thread::sleep_for(150ms);
        return calls.load();
    }
};

}  // namespace

TEST_CASE("watch: a delivery from another store instance calls back within a second",
          "[store][watch]") {
    Fixture f;
    Counter c;
    auto w = f.store->watch(bob, "INBOX", c.fn());
    REQUIRE(w);
    auto t0 = Clock::now();
    f.deliver(*f.other, 1);
    CHECK(c.wait_beyond(0));
    CHECK(Clock::now() - t0 < 1s);
    // What the callback announced is there for a refresh.
    auto mb = f.store->open_mailbox(bob);
    REQUIRE(mb);
    CHECK((*mb)->messages().size() == 1);
}

TEST_CASE("watch: a delivery from a forked child process calls back", "[store][watch]") {
    Fixture f;
    Counter c;
    auto w = f.store->watch(bob, "INBOX", c.fn());
    REQUIRE(w);
    const int before = c.settled();
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // The child has its own store (an LMDB environment is not shared across fork).
        auto s = open_maildir_store(f.dir.path(), options());
        bool ok = s && (*s)->deliver(bob, MessageSource::from_bytes(test::make_message("c", 1)));
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    CHECK(c.wait_beyond(before));
}

TEST_CASE("watch: flag changes and expunges by another instance call back", "[store][watch]") {
    Fixture f;
    f.deliver(*f.other, 1);
    f.deliver(*f.other, 2);
    auto theirs = f.other->open_mailbox(bob);  // moves both to cur/
    REQUIRE(theirs);
    Counter c;
    auto w = f.store->watch(bob, "INBOX", c.fn());
    REQUIRE(w);
    auto mine = f.store->open_mailbox(bob);
    REQUIRE(mine);
    int n = c.settled();

    const std::vector<uint32_t> one{1};
    REQUIRE((*theirs)->store_flags(one, {FlagOp::add, flag_flagged, {}}));
    CHECK(c.wait_beyond(n));
    auto d = (*mine)->refresh();
    REQUIRE(d);
    CHECK(d->changed == one);

    n = c.settled();
    REQUIRE((*theirs)->expunge(one));
    CHECK(c.wait_beyond(n));
    d = (*mine)->refresh();
    REQUIRE(d);
    CHECK(d->expunged == one);
}

TEST_CASE("watch: a foreign MDA's file (tmp/ then new/) calls back", "[store][watch]") {
    Fixture f;
    Counter c;
    auto w = f.store->watch(bob, "INBOX", c.fn());
    REQUIRE(w);
    const fs::path tmp = f.maildir() / "tmp" / "1700000000.M1P1.mda";
    std::ofstream(tmp) << test::make_message("mda", 1);
    fs::rename(tmp, f.maildir() / "new" / "1700000000.M1P1.mda");
    CHECK(c.wait_beyond(0));
}

TEST_CASE("watch: several watches on one folder, one folder's change only calls its own",
          "[store][watch]") {
    Fixture f;
    REQUIRE(f.store->create_folder(bob, "Archive"));
    Counter a, b, arch;
    auto wa = f.store->watch(bob, "INBOX", a.fn());
    auto wb = f.store->watch("Bob@Example.com", "inbox", b.fn());
    auto warch = f.store->watch(bob, "Archive", arch.fn());
    REQUIRE(wa);
    REQUIRE(wb);
    REQUIRE(warch);
    f.deliver(*f.other, 1);
    CHECK(a.wait_beyond(0));
    CHECK(b.wait_beyond(0));
    CHECK(arch.settled() == 0);
    // One watch going does not take the other's kernel watch with it.
    wa->reset();
    const int nb = b.settled();
    f.deliver(*f.other, 2);
    CHECK(b.wait_beyond(nb));
}

TEST_CASE("watch: never called after the FolderWatch is gone", "[store][watch]") {
    Fixture f;
    SECTION("destroyed while idle") {
        Counter c;
        auto w = f.store->watch(bob, "INBOX", c.fn());
        REQUIRE(w);
        f.deliver(*f.other, 1);
        REQUIRE(c.wait_beyond(0));
        const int n = c.settled();
        w->reset();
        for (int i = 2; i < 6; ++i) f.deliver(*f.other, i);
        CHECK(c.settled() == n);
    }
    SECTION("destroyed while its callback runs: the destructor waits for it") {
        std::atomic<bool> inside{false};
        std::atomic<int> calls{0};
        auto w = f.store->watch(bob, "INBOX", [&] {
            inside = true;
            std::this_thread::sleep_for(200ms);
            ++calls;
            inside = false;
        });
        REQUIRE(w);
        f.deliver(*f.other, 1);
        auto end = Clock::now() + 1s;
        while (!inside && Clock::now() < end) std::this_thread::sleep_for(1ms);
        REQUIRE(inside);
        w->reset();
        CHECK_FALSE(inside);
        CHECK(calls == 1);
        f.deliver(*f.other, 2);
        std::this_thread::sleep_for(150ms);
        CHECK(calls == 1);
    }
    SECTION("a watch may go from inside its own callback") {
        std::unique_ptr<FolderWatch> w;
        std::atomic<int> calls{0};
        std::mutex mu;
        auto made = f.store->watch(bob, "INBOX", [&] {
            ++calls;
            std::lock_guard lock(mu);
            w.reset();
        });
        REQUIRE(made);
        {
            std::lock_guard lock(mu);
            w = std::move(*made);
        }
        f.deliver(*f.other, 1);
        auto end = Clock::now() + 1s;
        while (calls == 0 && Clock::now() < end) std::this_thread::sleep_for(5ms);
        CHECK(calls == 1);
        f.deliver(*f.other, 2);
        std::this_thread::sleep_for(150ms);
        CHECK(calls == 1);
        std::lock_guard lock(mu);
        CHECK(w == nullptr);
    }
}

TEST_CASE("watch: not called while the changing writer holds the index", "[store][watch]") {
    // A flag change renames in cur/ before its commit: the callback must come after it,
    // or the refresh it prompts finds nothing and the change goes unannounced.
    Fixture f;
    auto* maildir_store = dynamic_cast<MaildirStore*>(f.other.get());
    REQUIRE(maildir_store != nullptr);
    auto idx = maildir_store->index_for(bob);
    REQUIRE(idx);
    std::atomic<int64_t> called_at{0};
    auto w = f.store->watch(bob, "INBOX", [&] {
        if (called_at == 0) called_at = Clock::now().time_since_epoch().count();
    });
    REQUIRE(w);
    int64_t released_at = 0;
    {
        auto txn = lmdb::Txn::begin((*idx)->env(), true);
        REQUIRE(txn);
        const fs::path p = f.maildir() / "cur" / "writer-holds-the-lock";
        std::ofstream(p) << "x";
        fs::remove(p);
        std::this_thread::sleep_for(300ms);
        released_at = Clock::now().time_since_epoch().count();
    }  // aborted: the writer lets go
    auto end = Clock::now() + 1s;
    while (called_at == 0 && Clock::now() < end) std::this_thread::sleep_for(5ms);
    REQUIRE(called_at != 0);
    CHECK(called_at >= released_at);
}

TEST_CASE("watch: errors", "[store][watch]") {
    Fixture f;
    CHECK(f.store->watch(bob, "Nope", [] {}).error() == StoreError::not_found);
    CHECK(f.store->watch("ghost@example.com", "INBOX", [] {}).error() == StoreError::not_found);
    CHECK(f.store->watch(bob, "a..b", [] {}).error() == StoreError::invalid);
    CHECK(f.store->watch("not an address", "INBOX", [] {}).error() == StoreError::invalid);
    CHECK(f.store->watch(bob, "INBOX", nullptr).error() == StoreError::invalid);
}

TEST_CASE("watch: a deleted folder calls back once; watches may outlive the store",
          "[store][watch]") {
    Fixture f;
    REQUIRE(f.store->create_folder(bob, "Old"));
    Counter c;
    auto w = f.store->watch(bob, "Old", c.fn());
    REQUIRE(w);
    REQUIRE(f.other->delete_folder(bob, "Old"));
    CHECK(c.wait_beyond(0));
    f.store.reset();  // the thread stops; the watch is still safe to destroy
    w->reset();
}

TEST_CASE("watch: the store's thread ends with the store", "[store][watch]") {
    auto threads = [] { return test::count_files("/proc/self/task"); };
    Fixture f;
    const size_t before = threads();
    {
        auto s = open_store(f.dir.path());
        Counter c;
        auto w1 = s->watch(bob, "INBOX", c.fn());
        auto w2 = s->watch(bob, "Sent", c.fn());
        REQUIRE(w1);
        REQUIRE(w2);
        CHECK(threads() == before + 1);  // one thread, however many watches
    }
    CHECK(threads() == before);
}
