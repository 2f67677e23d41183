// Issue 8 item 2: a user's LMDB map grows when full instead of failing. The environment
// level (with_write_txn, the limit, the gate that keeps a resize away from open
// transactions, another process's growth) and the store level (thousands of deliveries and
// flag changes into a tiny first map, from two processes and from two stores of one process).
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "libmailstore/lmdb_env.h"
#include "libmailstore/store.h"
#include "libproto/core/log.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t tiny_map = 64 * 1024;

std::string key_of(int i) { return "key-" + std::to_string(i); }
std::string value_of(int i) { return std::string(200, char('a' + i % 26)) + std::to_string(i); }

// Writes keys [from, to) in transactions of `per_txn` puts each.
StoreResult<void> fill(lmdb::Env& env, int from, int to, int per_txn = 100) {
    for (int at = from; at < to; at += per_txn) {
        auto r = lmdb::with_write_txn(env, [&](lmdb::Txn& txn) -> StoreResult<void> {
            for (int i = at; i < std::min(to, at + per_txn); ++i)
                if (auto p = txn.put(env.dbi(0), key_of(i), value_of(i)); !p) return p;
            return {};
        });
        if (!r) return r;
    }
    return {};
}

int count_keys(lmdb::Env& env) {
    auto txn = lmdb::Txn::begin(env, false);
    REQUIRE(txn);
    auto cur = lmdb::Cursor::open(*txn, env.dbi(0));
    REQUIRE(cur);
    int n = 0;
    for (cur->first(); cur->valid(); cur->next()) ++n;
    return n;
}

// Collects log lines (the growth is logged at info level).
struct LogCapture {
    std::mutex mu;
    std::vector<std::string> lines;
    LogCapture() {
        log_set_sink([this](LogLevel, const std::string& l) {
            std::lock_guard lk(mu);
            lines.push_back(l);
        });
    }
    ~LogCapture() { log_set_sink({}); }
    size_t count(const std::string& what) {
        std::lock_guard lk(mu);
        size_t n = 0;
        for (const auto& l : lines) n += l.find(what) != std::string::npos;
        return n;
    }
};

}  // namespace

TEST_CASE("a write transaction that fills the map grows it and is redone", "[lmdb][growth]") {
    test::TempDir dir;
    LogCapture log;
    auto env =
        lmdb::Env::open(dir.path() / "env", tiny_map, {"d"}, MDB_NOSYNC, lmdb::OpenMode::create);
    REQUIRE(env);
    CHECK((*env)->map_size() == tiny_map);
    REQUIRE(fill(**env, 0, 5000));
    CHECK(count_keys(**env) == 5000);
    CHECK((*env)->map_size() > tiny_map);
    CHECK((*env)->map_full_count() > 0);
    CHECK(log.count("map full, grown from") > 0);
    // Every value reads back as written, after all those remaps.
    auto txn = lmdb::Txn::begin(**env, false);
    REQUIRE(txn);
    for (int i = 0; i < 5000; i += 97) {
        auto v = txn->get((*env)->dbi(0), key_of(i));
        REQUIRE(v);
        REQUIRE(*v);
        CHECK(**v == value_of(i));
    }
}

TEST_CASE("growth stops at the map limit: no_space, and what was there stays", "[lmdb][growth]") {
    test::TempDir dir;
    auto env =
        lmdb::Env::open(dir.path() / "env", tiny_map, {"d"}, MDB_NOSYNC, lmdb::OpenMode::create);
    REQUIRE(env);
    (*env)->set_map_limit(256 * 1024);
    auto r = fill(**env, 0, 20000);
    REQUIRE_FALSE(r);
    CHECK(r.error() == StoreError::no_space);
    CHECK((*env)->map_size() == 256 * 1024);
    const int kept = count_keys(**env);
    CHECK(kept > 0);
    CHECK(kept < 20000);
    CHECK(kept % 100 == 0);  // whole transactions only
    // Raising the limit lets the same write through.
    (*env)->set_map_limit(lmdb::Env::default_map_limit);
    CHECK(fill(**env, kept, 20000));
    CHECK(count_keys(**env) == 20000);
}

TEST_CASE("a resize waits until the other threads' transactions are over", "[lmdb][growth]") {
    test::TempDir dir;
    auto env =
        lmdb::Env::open(dir.path() / "env", tiny_map, {"d"}, MDB_NOSYNC, lmdb::OpenMode::create);
    REQUIRE(env);
    REQUIRE(fill(**env, 0, 50));
    std::atomic<bool> reading{false}, read_done{false}, view_intact{false};
    std::thread reader([&] {
        auto txn = lmdb::Txn::begin(**env, false);
        if (!txn) return;
        auto v = txn->get((*env)->dbi(0), key_of(7));
        if (!v || !*v) return;
        std::string_view view = **v;  // points into the map
        reading = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        // Had the map been moved under this transaction, this would read unmapped memory.
        view_intact = view == value_of(7);
        read_done = true;
    });
    for (int i = 0; i < 200 && !reading; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(reading);
    const uint64_t before = (*env)->map_size();
    REQUIRE(fill(**env, 50, 3000));  // needs several doublings
    // No resize could happen while the reader's transaction lived.
    CHECK(read_done);
    reader.join();
    CHECK(view_intact);
    CHECK((*env)->map_size() > before);
    CHECK(count_keys(**env) == 3000);
}

TEST_CASE(
    "a thread that still holds a transaction gets no_space, not a deadlock; the next "
    "write grows",
    "[lmdb][growth]") {
    test::TempDir dir;
    auto env =
        lmdb::Env::open(dir.path() / "env", tiny_map, {"d"}, MDB_NOSYNC, lmdb::OpenMode::create);
    REQUIRE(env);
    {
        auto held = lmdb::Txn::begin(**env, false);
        REQUIRE(held);
        auto r = fill(**env, 0, 3000, 3000);  // one transaction far larger than the map
        REQUIRE_FALSE(r);
        CHECK(r.error() == StoreError::no_space);
    }
    CHECK(count_keys(**env) == 0);
    CHECK(fill(**env, 0, 3000, 3000));
    CHECK(count_keys(**env) == 3000);
}

TEST_CASE("another process grows the map: this one adopts the new size (MDB_MAP_RESIZED)",
          "[lmdb][growth]") {
    test::TempDir dir;
    const fs::path envdir = dir.path() / "env";
    auto env = lmdb::Env::open(envdir, tiny_map, {"d"}, 0, lmdb::OpenMode::create);
    REQUIRE(env);
    REQUIRE(fill(**env, 0, 10));
    const uint64_t before = (*env)->map_size();
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // The child's own Env (the cache is keyed by pid), grown well past the parent's map.
        auto e = lmdb::Env::open(envdir, tiny_map, {"d"}, 0, lmdb::OpenMode::existing);
        if (!e) ::_exit(10);
        if (!fill(**e, 10, 4000)) ::_exit(11);
        ::_exit((*e)->map_size() > 4 * tiny_map ? 0 : 12);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    // Reading now needs the child's pages, beyond this process's map.
    CHECK(count_keys(**env) == 4000);
    CHECK((*env)->map_size() > before);
    CHECK(fill(**env, 4000, 4100));
    CHECK(count_keys(**env) == 4100);
}

namespace {

struct TinyStore {
    test::TempDir dir;
    StoreOptions opts;
    std::unique_ptr<MailStore> store;
    TinyStore() {
        opts.index_map_size = tiny_map;
        store = open();
        REQUIRE(store->create_user("bob@example.com"));
    }
    std::unique_ptr<MailStore> open() const {
        auto s = open_maildir_store(dir.path(), opts);
        REQUIRE(s);
        return std::move(*s);
    }
    uint64_t index_file_size() const {
        return fs::file_size(dir.path() / "example.com" / "bob" / "index" / "data.mdb");
    }
};

// Delivers n messages (tag, i) in batches of `batch`; false on the first failure.
bool deliver_n(MailStore& s, const std::string& tag, int n, int batch) {
    for (int at = 0; at < n; at += batch) {
        std::vector<std::string> bodies;
        for (int i = at; i < std::min(n, at + batch); ++i)
            bodies.push_back(test::make_message(tag, i));
        std::vector<DeliveryBatchItem> items;
        for (const auto& b : bodies) {
            DeliveryBatchItem it{{"bob@example.com"}, MessageSource::from_bytes(b), {}};
            it.opts.keywords = {"$Tag" + std::to_string(items.size() % 3)};
            items.push_back(std::move(it));
        }
        for (const auto& per_item : s.deliver_batch(items)) {
            for (const auto& r : per_item) {
                if (!r) {
                    UNSCOPED_INFO("delivery failed: " << describe(r.error()));
                    return false;
                }
            }
        }
    }
    return true;
}

// Flags every message of the snapshot: \Seen on odd UIDs, \Flagged on UIDs divisible by 3.
bool flag_all(Mailbox& mb) {
    std::vector<uint32_t> odd, threes;
    for (const auto& m : mb.messages()) {
        if (m.uid % 2) odd.push_back(m.uid);
        if (m.uid % 3 == 0) threes.push_back(m.uid);
    }
    auto a = mb.store_flags(odd, FlagChange{FlagOp::add, flag_seen, {"$Odd"}});
    auto b = mb.store_flags(threes, FlagChange{FlagOp::add, flag_flagged, {}});
    if (!a) UNSCOPED_INFO("store_flags failed: " << describe(a.error()));
    if (!b) UNSCOPED_INFO("store_flags failed: " << describe(b.error()));
    return a && b;
}

void check_flags(Mailbox& mb, size_t expect) {
    if (mb.messages().size() != expect) {
        std::map<std::string, std::vector<uint32_t>> by_subject;
        for (const auto& m : mb.messages()) {
            auto body = mb.read_message(m.uid);
            std::string subj = body ? body->substr(0, body->find("\r\n\r\n")) : "?";
            by_subject[subj].push_back(m.uid);
        }
        for (const auto& [subj, uids] : by_subject) {
            if (uids.size() < 2) continue;
            std::string u;
            for (auto x : uids) u += std::to_string(x) + " ";
            UNSCOPED_INFO("dup: " << subj.substr(subj.rfind("Subject")) << ": " << u);
        }
    }
    REQUIRE(mb.messages().size() == expect);
    for (const auto& m : mb.messages()) {
        INFO("uid " << m.uid);
        CHECK(((m.flags & flag_seen) != 0) == (m.uid % 2 == 1));
        CHECK(((m.flags & flag_flagged) != 0) == (m.uid % 3 == 0));
    }
}

}  // namespace

TEST_CASE("a store with a tiny first map takes thousands of deliveries and flag changes",
          "[store][growth]") {
    TinyStore t;
    REQUIRE(deliver_n(*t.store, "bulk", 1500, 50));
    auto mb = t.store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    REQUIRE((*mb)->messages().size() == 1500);
    REQUIRE(flag_all(**mb));
    // Single deliveries and an expunge of a third of it.
    for (int i = 0; i < 100; ++i) {
        const std::string m = test::make_message("single", i);
        REQUIRE(t.store->deliver("bob@example.com", MessageSource::from_bytes(m)));
    }
    REQUIRE((*mb)->refresh());
    REQUIRE(flag_all(**mb));
    std::vector<uint32_t> gone;
    for (const auto& m : (*mb)->messages())
        if (m.uid % 3 == 1) gone.push_back(m.uid);
    REQUIRE((*mb)->expunge(gone));
    CHECK(t.index_file_size() > tiny_map);

    // Another handle, and a fresh store over the same files, see the same.
    auto again = t.store->open_mailbox("bob@example.com");
    REQUIRE(again);
    check_flags(**again, 1600 - gone.size());
    auto info = (*again)->info(2);
    REQUIRE(info);
    CHECK(info->keywords == std::vector<std::string>{"$Tag1"});
    auto body = (*again)->read_message(1599);
    REQUIRE(body);
    CHECK(*body == test::make_message("single", 98));
}

TEST_CASE("two processes fill a tiny map at once: both grow it, nothing is lost",
          "[store][growth]") {
    TinyStore t;
    REQUIRE(deliver_n(*t.store, "first", 20, 20));
    auto mb = t.store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // A second process (its own store, so its own LMDB environment) delivering.
        auto s = open_maildir_store(t.dir.path(), t.opts);
        if (!s) ::_exit(10);
        bool ok = deliver_n(**s, "child", 1000, 25);
        for (int i = 0; ok && i < 100; ++i) {
            const std::string m = test::make_message("child-single", i);
            ok = (*s)->deliver("bob@example.com", MessageSource::from_bytes(m)).has_value();
        }
        ::_exit(ok ? 0 : 11);
    }
    // Meanwhile this process picks up the new mail and flags it, over and over.
    int status = 0;
    bool child_done = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!child_done && std::chrono::steady_clock::now() < deadline) {
        REQUIRE((*mb)->refresh());
        REQUIRE(flag_all(**mb));
        child_done = ::waitpid(pid, &status, WNOHANG) == pid;
    }
    if (!child_done) ::kill(pid, SIGKILL);
    REQUIRE(child_done);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE((*mb)->refresh());
    REQUIRE(flag_all(**mb));
    check_flags(**mb, 1120);
    auto fresh = t.open();
    auto other = fresh->open_mailbox("bob@example.com");
    REQUIRE(other);
    check_flags(**other, 1120);
    CHECK(*fresh->usage("bob@example.com") > 0);
}

TEST_CASE("two stores in one process share the environment and grow it from two threads",
          "[store][growth]") {
    TinyStore t;
    auto second = t.open();  // same files, same cached LMDB environment
    std::atomic<bool> delivered{false}, ok{true};
    std::thread deliverer([&] {
        ok = deliver_n(*second, "thread", 1200, 20);
        delivered = true;
    });
    auto mb = t.store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    std::string failed;  // the thread is joined before anything is REQUIREd
    while (failed.empty() && !delivered && std::chrono::steady_clock::now() < deadline) {
        if (auto r = (*mb)->refresh(); !r)
            failed = std::string("refresh: ") + describe(r.error());
        else if (!flag_all(**mb))
            failed = "store_flags";
    }
    deliverer.join();
    CHECK(failed.empty());
    INFO(failed);
    REQUIRE(ok);
    REQUIRE((*mb)->refresh());
    REQUIRE(flag_all(**mb));
    check_flags(**mb, 1200);
    auto other = second->open_mailbox("bob@example.com");
    REQUIRE(other);
    check_flags(**other, 1200);
}
