// The memory backend's own controls (tests/support/memory_store.h): injected faults, delays,
// call counts, capacity; and what it promises beyond the contract (callbacks outside the
// lock, handles outliving the store, many threads at once).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <thread>

#include "tests/support/memory_store.h"

using namespace postern;
using namespace std::chrono_literals;

namespace {

const std::string bob = "bob@example.com";
const std::string alice = "alice@example.com";

struct Fixture {
    MemoryStore mem;
    Fixture() {
        REQUIRE(mem.create_user(bob));
        REQUIRE(mem.create_user(alice));
    }
    StoreResult<Delivered> deliver(std::string_view bytes = "m\r\n") {
        return mem.deliver(bob, MessageSource::from_bytes(bytes));
    }
};

}  // namespace

TEST_CASE("fail_next fails the next operations of any kind", "[memory_store]") {
    Fixture f;
    f.mem.fail_next(StoreError::temporary);
    CHECK(f.deliver().error() == StoreError::temporary);
    CHECK(f.deliver());
    f.mem.fail_next(StoreError::no_space, 2);
    CHECK(f.mem.open_mailbox(bob).error() == StoreError::no_space);
    CHECK(f.mem.usage(bob).error() == StoreError::no_space);
    CHECK(*f.mem.usage(bob) == 3);
    // The whole of a deliver_many or deliver_batch fails; has_room says no.
    f.mem.fail_next(StoreError::over_quota);
    std::vector<std::string> both{bob, alice};
    auto many = f.mem.deliver_many(both, MessageSource::from_bytes("x\r\n"));
    CHECK(many[0].error() == StoreError::over_quota);
    CHECK(many[1].error() == StoreError::over_quota);
    std::vector<DeliveryBatchItem> items(1);
    items[0].users = both;
    items[0].msg = MessageSource::from_bytes("y\r\n");
    f.mem.fail_next(StoreError::corrupt);
    auto batch = f.mem.deliver_batch(items);
    CHECK(batch[0][1].error() == StoreError::corrupt);
    CHECK(f.mem.deliver_batch(items)[0][1]->uid == 1);
    f.mem.fail_next(StoreError::temporary);
    CHECK_FALSE(f.mem.has_room(1));
    CHECK(f.mem.has_room(1));
}

TEST_CASE("fail_on fails only the named operation", "[memory_store]") {
    Fixture f;
    REQUIRE(f.deliver("hello\r\n"));
    auto mb = f.mem.open_mailbox(bob);
    REQUIRE(mb);
    f.mem.fail_on("store_flags", StoreError::corrupt, 2);
    std::vector<uint32_t> one{1};
    CHECK((*mb)->refresh());
    CHECK(f.deliver());
    CHECK((*mb)->store_flags(one, {FlagOp::add, flag_seen, {}}).error() == StoreError::corrupt);
    CHECK((*mb)->store_flags(one, {FlagOp::add, flag_seen, {}}).error() == StoreError::corrupt);
    CHECK((*mb)->store_flags(one, {FlagOp::add, flag_seen, {}}));
    // Reads of an opened message ("read" is MessageReader::read_at).
    f.mem.fail_on("read", StoreError::temporary);
    auto r = (*mb)->open_message(1);
    REQUIRE(r);
    CHECK(read_all(**r).error() == StoreError::temporary);
    CHECK(*read_all(**r) == "hello\r\n");
    f.mem.fail_on("try_lock_maildrop", StoreError::in_use);
    CHECK(f.mem.try_lock_maildrop(bob).error() == StoreError::in_use);
    CHECK(f.mem.try_lock_maildrop(bob));
}

TEST_CASE("calls counts operations; set_delay makes each one wait", "[memory_store]") {
    Fixture f;
    CHECK(f.mem.calls("deliver") == 0);
    REQUIRE(f.deliver());
    REQUIRE(f.deliver());
    CHECK(f.mem.calls("deliver") == 2);
    CHECK(f.mem.calls("create_user") == 2);
    CHECK(f.mem.calls("expunge") == 0);
    f.mem.set_delay(30ms);
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(f.mem.status(bob, "INBOX"));
    CHECK(std::chrono::steady_clock::now() - t0 >= 30ms);
    f.mem.set_delay(0ms);
    t0 = std::chrono::steady_clock::now();
    REQUIRE(f.mem.status(bob, "INBOX"));
    CHECK(std::chrono::steady_clock::now() - t0 < 30ms);
}

TEST_CASE("set_capacity: has_room keeps the reserve; a full store says no_space",
          "[memory_store]") {
    StoreOptions o;
    o.disk_reserve_bytes = 10;
    MemoryStore mem(o);
    REQUIRE(mem.create_user(bob));
    CHECK(mem.has_room(1ull << 60));  // unlimited by default
    mem.set_capacity(20);
    CHECK(mem.has_room(10));
    CHECK_FALSE(mem.has_room(11));
    REQUIRE(mem.deliver(bob, MessageSource::from_bytes(std::string(15, 'x'))));
    CHECK_FALSE(mem.has_room(1));
    CHECK(mem.deliver(bob, MessageSource::from_bytes(std::string(6, 'x'))).error() ==
          StoreError::no_space);
    REQUIRE(mem.deliver(bob, MessageSource::from_bytes(std::string(5, 'x'))));
}

TEST_CASE("watch callbacks run outside the store's lock", "[memory_store]") {
    Fixture f;
    std::atomic<int> seen{0};
    // The callback takes the store's mutex (calls() does): it would deadlock under the lock.
    auto w = f.mem.watch(bob, "INBOX", [&] { seen = f.mem.calls("deliver"); });
    REQUIRE(w);
    REQUIRE(f.deliver());
    CHECK(seen == 1);
}

TEST_CASE("handles, locks and watches may outlive the store", "[memory_store]") {
    std::unique_ptr<Mailbox> mb;
    MaildropLock lock;
    std::unique_ptr<FolderWatch> w;
    {
        Fixture f;
        REQUIRE(f.deliver("kept\r\n"));
        mb = std::move(*f.mem.open_mailbox(bob));
        lock = std::move(*f.mem.try_lock_maildrop(bob));
        w = std::move(*f.mem.watch(bob, "INBOX", [] {}));
    }
    REQUIRE(mb->refresh());
    CHECK(*mb->read_message(1) == "kept\r\n");
    w.reset();
    lock = MaildropLock();
}

TEST_CASE("many threads deliver at once: every UID once", "[memory_store]") {
    Fixture f;
    std::vector<std::thread> ts;
    std::vector<std::vector<uint32_t>> got(4);
    for (int t = 0; t < 4; ++t)
        ts.emplace_back([&, t] {
            for (int i = 0; i < 100; ++i) {
                auto d = f.deliver();
                if (d) got[size_t(t)].push_back(d->uid);
            }
        });
    for (auto& t : ts) t.join();
    std::set<uint32_t> all;
    for (const auto& g : got) all.insert(g.begin(), g.end());
    CHECK(all.size() == 400);
    CHECK(*all.begin() == 1);
    CHECK(*all.rbegin() == 400);
    CHECK(f.mem.status(bob, "INBOX")->messages == 400);
}
