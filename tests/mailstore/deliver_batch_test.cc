// MailStore::deliver_batch: several messages, one store group commit per user.
#include <catch2/catch.hpp>

#include "libmailstore/accounts.h"
#include "libmailstore/store.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

struct BatchFixture {
    test::TempDir dir;
    std::shared_ptr<Accounts> acc;
    std::unique_ptr<MailStore> store;
    // quota: bob's (alice has none).
    explicit BatchFixture(uint64_t quota = 0) {
        auto a = Accounts::open(dir.path(), 64ull << 20, Accounts::Open::create);
        REQUIRE(a);
        acc = *a;
        REQUIRE(acc->add_domain("example.com"));
        REQUIRE(acc->add_user("bob@example.com", "pw"));
        REQUIRE(acc->add_user("alice@example.com", "pw"));
        test::make_mailboxes(dir.path(), {"bob@example.com", "alice@example.com"});
        StoreOptions opts;
        opts.disk_reserve_bytes = 0;
        opts.index_map_size = 32ull << 20;
        opts.quota_of = [quota](std::string_view u) { return u == "bob@example.com" ? quota : 0; };
        auto s = open_maildir_store(dir.path(), opts);
        REQUIRE(s);
        store = std::move(*s);
    }
};

}  // namespace

TEST_CASE("deliver_batch: every message to every user, UIDs in batch order", "[store][batch]") {
    BatchFixture f;
    REQUIRE(f.store->deliver("bob@example.com",
                             MessageSource::from_bytes(test::make_message("pre", 0))));
    std::vector<std::string> msgs;
    for (int i = 0; i < 5; ++i) msgs.push_back(test::make_message("batch", i));
    std::vector<DeliveryBatchItem> items;
    for (int i = 0; i < 5; ++i) {
        DeliveryBatchItem it;
        it.users = i % 2 ? std::vector<std::string>{"bob@example.com"}
                         : std::vector<std::string>{"alice@example.com", "bob@example.com"};
        it.msg = MessageSource::from_bytes(msgs[size_t(i)]);
        items.push_back(std::move(it));
    }
    auto res = f.store->deliver_batch(items);
    REQUIRE(res.size() == 5);
    // bob had UID 1; his batch messages get 2..6 in item order, alice 1..3.
    uint32_t bob = 2, alice = 1;
    for (int i = 0; i < 5; ++i) {
        INFO("item " << i);
        if (i % 2) {
            REQUIRE(res[size_t(i)].size() == 1);
            REQUIRE(res[size_t(i)][0]);
            CHECK(res[size_t(i)][0]->uid == bob++);
        } else {
            REQUIRE(res[size_t(i)].size() == 2);
            REQUIRE(res[size_t(i)][0]);
            REQUIRE(res[size_t(i)][1]);
            CHECK(res[size_t(i)][0]->uid == alice++);
            CHECK(res[size_t(i)][1]->uid == bob++);
        }
    }
    auto mb = f.store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    REQUIRE((*mb)->messages().size() == 6);
    for (int i = 0; i < 5; ++i) CHECK(*(*mb)->read_message(uint32_t(i) + 2) == msgs[size_t(i)]);
    CHECK((*mb)->uidnext() == 7);
    auto ma = f.store->open_mailbox("alice@example.com");
    REQUIRE(ma);
    REQUIRE((*ma)->messages().size() == 3);
    CHECK(*(*ma)->read_message(2) == msgs[2]);
    CHECK(test::count_files(f.dir.path() / "tmp") == 0);
    auto used = f.store->usage("alice@example.com");
    REQUIRE(used);
    CHECK(*used == msgs[0].size() + msgs[2].size() + msgs[4].size());
}

TEST_CASE("deliver_batch: a failing user or folder fails only its own messages", "[store][batch]") {
    BatchFixture f;
    const std::string a = test::make_message("a", 1), b = test::make_message("b", 2),
                      c = test::make_message("c", 3);
    std::vector<DeliveryBatchItem> items(3);
    items[0].users = {"ghost@example.com", "bob@example.com"};
    items[0].msg = MessageSource::from_bytes(a);
    items[1].users = {"bob@example.com"};
    items[1].msg = MessageSource::from_bytes(b);
    items[1].opts.folder = "NoSuchFolder";
    items[2].users = {"bob@example.com"};
    items[2].msg = MessageSource::from_bytes(c);
    auto res = f.store->deliver_batch(items);
    REQUIRE(res.size() == 3);
    CHECK(res[0][0].error() == StoreError::not_found);
    REQUIRE(res[0][1]);
    CHECK(res[0][1]->uid == 1);
    CHECK(res[1][0].error() == StoreError::not_found);
    REQUIRE(res[2][0]);
    CHECK(res[2][0]->uid == 2);
    auto mb = f.store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    REQUIRE((*mb)->messages().size() == 2);
    CHECK(*(*mb)->read_message(2) == c);
    CHECK(test::count_files(f.dir.path() / "tmp") == 0);
}

TEST_CASE("deliver_batch: empty batch and items without users", "[store][batch]") {
    BatchFixture f;
    CHECK(f.store->deliver_batch({}).empty());
    const std::string a = test::make_message("a", 1);
    std::vector<DeliveryBatchItem> items(1);
    items[0].msg = MessageSource::from_bytes(a);
    auto res = f.store->deliver_batch(items);
    REQUIRE(res.size() == 1);
    CHECK(res[0].empty());
    CHECK(test::count_files(f.dir.path() / "tmp") == 0);
}

TEST_CASE("deliver keeps checking quota across its single message", "[store][batch]") {
    const std::string a = test::make_message("q", 1);
    BatchFixture f(a.size() * 2 + 1);
    REQUIRE(f.store->deliver("bob@example.com", MessageSource::from_bytes(a)));
    REQUIRE(f.store->deliver("bob@example.com", MessageSource::from_bytes(a)));
    auto r = f.store->deliver("bob@example.com", MessageSource::from_bytes(a));
    REQUIRE_FALSE(r);
    CHECK(r.error() == StoreError::over_quota);
    CHECK(test::count_files(f.dir.path() / "tmp") == 0);
}

TEST_CASE("deliver_batch and deliver_many check quota per user, counting the batch",
          "[store][batch]") {
    const std::string a = test::make_message("q", 1);
    BatchFixture f(a.size() * 2 + 1);
    std::vector<DeliveryBatchItem> items(3);
    for (auto& it : items) {
        it.users = {"alice@example.com", "bob@example.com"};
        it.msg = MessageSource::from_bytes(a);
    }
    auto res = f.store->deliver_batch(items);
    REQUIRE(res.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
        INFO("item " << i);
        REQUIRE(res[i].size() == 2);
        CHECK(res[i][0].has_value());  // alice: no quota
        if (i < 2)
            CHECK(res[i][1].has_value());
        else
            CHECK(res[i][1].error() == StoreError::over_quota);
    }
    CHECK(*f.store->usage("bob@example.com") == a.size() * 2);
    std::vector<std::string> users{"bob@example.com", "alice@example.com"};
    auto many = f.store->deliver_many(users, MessageSource::from_bytes(a));
    REQUIRE(many.size() == 2);
    CHECK(many[0].error() == StoreError::over_quota);
    CHECK(many[1].has_value());
    auto mb = f.store->open_mailbox("bob@example.com");
    REQUIRE(mb);
    CHECK((*mb)->messages().size() == 2);
    CHECK(test::count_files(f.dir.path() / "tmp") == 0);
}
