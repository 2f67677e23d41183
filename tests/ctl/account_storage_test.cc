// The storage side of user del / domain del --force: all users' storage retired or none,
// and what could not be put back named (ctl/account_storage.h), over the in-memory store.
#include "ctl/account_storage.h"

#include <catch2/catch.hpp>

#include "tests/support/memory_store.h"

using namespace postern;
using namespace postern::ctl;

namespace {

const std::string bob = "bob@example.com";
const std::string alice = "alice@example.com";
const std::string ghost = "ghost@example.com";  // an account without storage

struct Fixture {
    MemoryStore store;
    Fixture() {
        REQUIRE(store.create_user(bob));
        REQUIRE(store.create_user(alice));
        REQUIRE(store.deliver(bob, MessageSource::from_bytes("Subject: b\r\n\r\nb\r\n")));
    }
    size_t messages(const std::string& user) {
        auto mb = store.open_mailbox(user);
        REQUIRE(mb);
        return (*mb)->messages().size();
    }
};

}  // namespace

TEST_CASE("retire_all retires every user's storage, a user without any too", "[ctl][accounts]") {
    Fixture f;
    std::string failed;
    auto r = retire_all(f.store, {alice, bob, ghost}, &failed);
    REQUIRE(r);
    REQUIRE(r->size() == 3);
    CHECK((*r)[0].user == alice);
    CHECK_FALSE((*r)[0].kept.empty());
    CHECK((*r)[1].user == bob);
    CHECK((*r)[2].kept.empty());  // none: not an error
    CHECK(failed.empty());
    CHECK(f.store.open_mailbox(bob).error() == StoreError::not_found);
    CHECK(restore_all(f.store, *r).empty());
    CHECK(f.messages(bob) == 1);
    CHECK(f.messages(alice) == 0);
}

TEST_CASE("retire_all puts back what it retired when one fails", "[ctl][accounts]") {
    Fixture f;
    std::string failed;
    SECTION("a store error") {
        f.store.fail_on("remove_user", StoreError::temporary, 1);
        auto r = retire_all(f.store, {alice, bob}, &failed);
        REQUIRE_FALSE(r);
        CHECK(r.error() == StoreError::temporary);
        CHECK(failed == alice);
    }
    SECTION("the second of three") {
        auto r = retire_all(f.store, {bob, "not an address", alice}, &failed);
        REQUIRE_FALSE(r);
        CHECK(r.error() == StoreError::invalid);
        CHECK(failed == "not an address");
        CHECK(f.store.calls("restore_user") == 1);  // bob's, and alice was never tried
        CHECK(f.store.calls("remove_user") == 2);
    }
    CHECK(f.messages(bob) == 1);
    CHECK(f.messages(alice) == 0);
}

TEST_CASE("restore_all names the mail it could not put back", "[ctl][accounts]") {
    Fixture f;
    auto r = retire_all(f.store, {bob, alice}, nullptr);
    REQUIRE(r);
    REQUIRE(f.store.create_user(bob));  // the name has storage again: bob's old mail stays
    std::string stuck = restore_all(f.store, *r);
    INFO("got " << stuck);
    CHECK(stuck == "mail of " + bob + " stays in " + (*r)[0].kept);
    CHECK(f.messages(alice) == 0);  // alice came back
    CHECK(f.messages(bob) == 0);    // the new bob is not given the old mail
}
