#include <catch2/catch.hpp>

#include "libmailstore/accounts.h"
#include "libmailstore/password.h"
#include "tests/mailstore/raw_alias.h"
#include "tests/mailstore/test_util.h"

using namespace postern;

namespace {

struct Fixture {
    test::TempDir dir;
    std::shared_ptr<Accounts> acc;
    Fixture() {
        auto a = Accounts::open(dir.path(), 64ull << 20, Accounts::Open::create);
        REQUIRE(a);
        acc = *a;
    }
};

}  // namespace

TEST_CASE("domains: add, list, delete", "[accounts]") {
    Fixture f;
    REQUIRE(f.acc->add_domain("Example.COM"));
    REQUIRE(f.acc->add_domain("example.org"));
    CHECK(f.acc->add_domain("example.com").error() == StoreError::exists);
    CHECK(f.acc->add_domain("bad..domain").error() == StoreError::invalid);
    CHECK(f.acc->has_domain("EXAMPLE.com"));
    CHECK_FALSE(f.acc->has_domain("example.net"));
    auto list = f.acc->list_domains();
    REQUIRE(list);
    CHECK(*list == std::vector<std::string>{"example.com", "example.org"});

    REQUIRE(f.acc->add_user("bob@example.com", "pw"));
    CHECK(f.acc->del_domain("example.com").error() == StoreError::not_empty);
    CHECK(f.acc->del_domain("example.net").error() == StoreError::not_found);
    REQUIRE(f.acc->del_domain("example.org"));
    auto gone = f.acc->del_domain("example.com", true);
    REQUIRE(gone);
    CHECK(*gone == std::vector<std::string>{"bob@example.com"});  // its storage: the caller's
    CHECK_FALSE(f.acc->has_domain("example.com"));
    CHECK(f.acc->get_user("bob@example.com").error() == StoreError::not_found);
}

TEST_CASE("users: add errors", "[accounts]") {
    Fixture f;
    REQUIRE(f.acc->add_domain("example.com"));
    REQUIRE(f.acc->add_user("Bob@Example.com", "pw", 1000));
    struct Case {
        const char* label;
        const char* addr;
        const char* pw;
        StoreError want;
    };
    auto c = GENERATE(values<Case>({
        {"duplicate", "bob@example.com", "pw", StoreError::exists},
        {"duplicate other case", "BOB@EXAMPLE.COM", "pw", StoreError::exists},
        {"unknown domain", "bob@example.net", "pw", StoreError::not_found},
        {"no domain", "bob", "pw", StoreError::invalid},
        {"percent", "b%x@example.com", "pw", StoreError::invalid},
        {"slash", "../x@example.com", "pw", StoreError::invalid},
        {"empty password", "carol@example.com", "", StoreError::invalid},
    }));
    DYNAMIC_SECTION(c.label) {
        auto r = f.acc->add_user(c.addr, c.pw);
        REQUIRE_FALSE(r);
        INFO("got " << describe(r.error()) << ", want " << describe(c.want));
        CHECK(r.error() == c.want);
    }
}

TEST_CASE("users: get, list, password, delete; no mail storage", "[accounts]") {
    Fixture f;
    REQUIRE(f.acc->add_domain("example.com"));
    REQUIRE(f.acc->add_domain("example.org"));
    REQUIRE(f.acc->add_user("bob@example.com", "secret", 5000));
    REQUIRE(f.acc->add_user("alice@example.com", "a"));
    REQUIRE(f.acc->add_user("bob@example.org", "b"));

    // Records only: the storage is the MailStore's (mailctl makes it beside the account).
    CHECK_FALSE(std::filesystem::exists(f.dir.path() / "example.com" / "bob"));

    auto u = f.acc->get_user("BOB@example.com");
    REQUIRE(u);
    CHECK(u->address == "bob@example.com");
    CHECK(u->quota_bytes == 5000);
    CHECK(u->password_hash.starts_with("$y$"));
    CHECK(u->scram.iterations == 4096);

    CHECK(*f.acc->list_users("example.com") ==
          std::vector<std::string>{"alice@example.com", "bob@example.com"});
    CHECK(f.acc->list_users()->size() == 3);
    CHECK(f.acc->list_users("nope.com").error() == StoreError::not_found);

    CHECK(f.acc->verify_password("bob@example.com", "secret"));
    CHECK_FALSE(f.acc->verify_password("bob@example.com", "Secret"));
    CHECK_FALSE(f.acc->verify_password("nobody@example.com", "secret"));
    auto old_scram = f.acc->scram_credentials("bob@example.com");
    REQUIRE(old_scram);
    REQUIRE(f.acc->set_password("bob@example.com", "new"));
    CHECK(f.acc->verify_password("bob@example.com", "new"));
    CHECK_FALSE(f.acc->verify_password("bob@example.com", "secret"));
    auto keys = f.acc->scram_credentials("bob@example.com");
    REQUIRE(keys);
    CHECK(keys->stored_key == scram_derive_keys("new", keys->salt, keys->iterations).stored_key);
    CHECK(keys->stored_key != old_scram->stored_key);
    CHECK(f.acc->set_password("zed@example.com", "x").error() == StoreError::not_found);

    // A maildir beside the account is not touched by del_user (remove_user retires it).
    test::make_mailboxes(f.dir.path(), {"bob@example.com"});
    REQUIRE(f.acc->del_user("bob@example.com"));
    CHECK(f.acc->del_user("bob@example.com").error() == StoreError::not_found);
    CHECK(f.acc->get_user("bob@example.com").error() == StoreError::not_found);
    CHECK(std::filesystem::is_directory(f.dir.path() / "example.com" / "bob" / "Maildir"));
}

TEST_CASE("imported hashes verify; SCRAM unavailable until set_password", "[accounts]") {
    Fixture f;
    REQUIRE(f.acc->add_domain("example.com"));
    auto h = hash_password("imported");
    REQUIRE(h);
    REQUIRE(f.acc->add_user_with_hash("imp@example.com", "{CRYPT}" + *h));
    CHECK(f.acc->verify_password("imp@example.com", "imported"));
    CHECK(f.acc->scram_credentials("imp@example.com").error() == StoreError::not_found);
}

TEST_CASE("resolve_login", "[accounts]") {
    Fixture f;
    REQUIRE(f.acc->add_domain("example.com"));
    REQUIRE(f.acc->add_domain("example.org"));
    REQUIRE(f.acc->add_user("bob@example.com", "pw"));
    REQUIRE(f.acc->add_user("carol@example.com", "pw"));
    REQUIRE(f.acc->add_user("carol@example.org", "pw"));
    struct Case {
        const char* label;
        const char* login;
        const char* want;  // nullptr: error
    };
    auto c = GENERATE(values<Case>({
        {"full address", "Bob@Example.com", "bob@example.com"},
        {"percent form", "bob%example.com", "bob@example.com"},
        {"bare unique", "BOB", "bob@example.com"},
        {"bare ambiguous", "carol", nullptr},
        {"full on ambiguous", "carol@example.org", "carol@example.org"},
        {"unknown", "dave", nullptr},
        {"unknown full", "dave@example.com", nullptr},
        {"unknown domain", "bob@example.net", nullptr},
        {"malformed", "bob@@example.com", nullptr},
        {"empty", "", nullptr},
    }));
    DYNAMIC_SECTION(c.label) {
        auto got = f.acc->resolve_login(c.login);
        if (c.want == nullptr) {
            CHECK_FALSE(got.has_value());
        } else {
            REQUIRE(got.has_value());
            CHECK(*got == c.want);
        }
    }
}

TEST_CASE("aliases and recipient resolution", "[accounts]") {
    Fixture f;
    REQUIRE(f.acc->add_domain("example.com"));
    REQUIRE(f.acc->add_domain("example.org"));
    REQUIRE(f.acc->add_user("bob@example.com", "pw"));
    REQUIRE(f.acc->add_user("alice@example.com", "pw"));
    REQUIRE(f.acc->add_user("nobody@example.org", "pw"));
    REQUIRE(f.acc->add_alias("team@example.com", {"bob@example.com", "Alice@example.com"}));
    REQUIRE(f.acc->add_alias("all@example.com",
                             {"team@example.com", "bob@example.com", "ext@remote.net"}));
    REQUIRE(f.acc->add_alias("loop1@example.com", {"loop2@example.com"}));
    REQUIRE(f.acc->add_alias("dangling@example.com", {"ghost@example.com"}));
    // add_alias refuses loops (alias_loop_test.cc); an old database may still hold them.
    test::put_raw_alias(f.dir.path(), "loop2", "example.com",
                        {"bob@example.com", "loop1@example.com"});
    test::put_raw_alias(f.dir.path(), "self", "example.com", {"self@example.com"});

    CHECK(f.acc->add_alias("bob@example.com", {"x@y.com"}).error() == StoreError::exists);
    CHECK(f.acc->add_alias("team@example.com", {"x@y.com"}).error() == StoreError::exists);
    CHECK(f.acc->add_alias("x@example.net", {"x@y.com"}).error() == StoreError::not_found);
    CHECK(f.acc->add_alias("x@example.com", {}).error() == StoreError::invalid);
    CHECK(f.acc->add_alias("x@example.com", {"not an address"}).error() == StoreError::invalid);
    CHECK(f.acc->add_user("team@example.com", "pw").error() == StoreError::exists);
    CHECK(f.acc->list_aliases("example.com")->size() == 6);
    CHECK(f.acc->list_aliases()->size() == 6);  // all domains
    CHECK(f.acc->list_aliases("nope.com").error() == StoreError::not_found);

    struct RCase {
        const char* label;
        const char* addr;
        RecipientKind want;
    };
    const RCase cases[] = {
        {"user", "BOB@example.com", RecipientKind::local_user},
        {"alias", "team@example.com", RecipientKind::alias},
        {"catch-all", "whoever@example.org", RecipientKind::catch_all},
        {"unknown", "whoever@example.com", RecipientKind::unknown_local},
        {"remote", "x@remote.net", RecipientKind::not_local},
    };
    for (const auto& rc : cases) {
        INFO("resolve " << rc.label);
        auto got = f.acc->resolve_recipient(rc.addr);
        REQUIRE(got);
        CHECK(*got == rc.want);
    }
    CHECK(f.acc->resolve_recipient("bad address").error() == StoreError::invalid);

    SECTION("expand nested") {
        auto e = f.acc->expand_recipient("all@example.com");
        REQUIRE(e);
        CHECK(e->local_mailboxes ==
              std::vector<std::string>{"bob@example.com", "alice@example.com"});
        CHECK(e->remote == std::vector<std::string>{"ext@remote.net"});
    }
    SECTION("expand loops") {
        CHECK(f.acc->expand_recipient("loop1@example.com").error() == StoreError::loop);
        CHECK(f.acc->expand_recipient("self@example.com").error() == StoreError::loop);
    }
    SECTION("expand catch-all, user, remote, unknown") {
        CHECK(f.acc->expand_recipient("zz@example.org")->local_mailboxes ==
              std::vector<std::string>{"nobody@example.org"});
        CHECK(f.acc->expand_recipient("bob@example.com")->local_mailboxes ==
              std::vector<std::string>{"bob@example.com"});
        CHECK(f.acc->expand_recipient("x@remote.net")->remote ==
              std::vector<std::string>{"x@remote.net"});
        CHECK(f.acc->expand_recipient("zz@example.com").error() == StoreError::not_found);
        CHECK(f.acc->expand_recipient("dangling@example.com").error() == StoreError::not_found);
    }
    SECTION("delete alias") {
        REQUIRE(f.acc->del_alias("team@example.com"));
        CHECK(f.acc->del_alias("team@example.com").error() == StoreError::not_found);
        CHECK(*f.acc->resolve_recipient("team@example.com") == RecipientKind::unknown_local);
    }
}

TEST_CASE("a deep alias chain is cut off", "[accounts]") {
    Fixture f;
    REQUIRE(f.acc->add_domain("example.com"));
    REQUIRE(f.acc->add_user("end@example.com", "pw"));
    // a11 -> a10 -> ... -> a0 -> end; add_alias refuses to make it (alias_loop_test.cc),
    // an old database may hold it.
    std::string next = "end@example.com";
    for (int i = 0; i < 12; ++i) {
        test::put_raw_alias(f.dir.path(), "a" + std::to_string(i), "example.com", {next});
        next = "a" + std::to_string(i) + "@example.com";
    }
    CHECK(f.acc->expand_recipient("a5@example.com")->local_mailboxes.size() == 1);
    CHECK(f.acc->expand_recipient("a11@example.com").error() == StoreError::loop);
}
