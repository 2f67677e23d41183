// AuthBudget: failed-login budgets across sessions, on a fake clock.
#include "libproto/auth/auth_budget.h"

#include <catch2/catch.hpp>

using namespace postern;

namespace {

struct Fixture {
    uint64_t now_ms = 1'000'000;
    AuthBudgetConfig cfg;
    std::unique_ptr<AuthBudget> budget;

    explicit Fixture(std::function<void(AuthBudgetConfig&)> tweak = {}) {
        cfg.window_seconds = 600;
        cfg.ip_lockout_failures = 5;
        cfg.login_lockout_failures = 8;
        cfg.lockout_seconds = 300;
        cfg.failure_delay_ms = 1000;
        cfg.max_failure_delay_ms = 8000;
        cfg.max_entries = 100;
        if (tweak) tweak(cfg);
        budget = std::make_unique<AuthBudget>(cfg, [this] { return now_ms; });
    }
    void advance(uint64_t seconds) { now_ms += seconds * 1000; }
};

}  // namespace

TEST_CASE("auth_budget: keys") {
    auto [in, want] = GENERATE(table<std::string, std::string>({
        {"192.0.2.1", "192.0.2.1"},
        {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
        {"2001:db8:1:2::ffff", "2001:db8:1:2::/64"},
        {"::ffff:192.0.2.9", "192.0.2.9"},
        {"::1", "::/64"},
        {"not an address", "not an address"},
    }));
    INFO("in " << in);
    CHECK(auth_ip_key(in) == want);
    CHECK(auth_login_key("Bob@Example.ORG") == "bob@example.org");
    CHECK(auth_login_key(std::string(1000, 'x')).size() == 256);
}

TEST_CASE("auth_budget: the delay doubles per failure and is capped") {
    Fixture f;
    std::vector<uint32_t> delays;
    for (int i = 0; i < 5; ++i) delays.push_back(f.budget->failed("192.0.2.1", "bob").delay_ms);
    CHECK(delays == std::vector<uint32_t>{1000, 2000, 4000, 8000, 8000});
}

TEST_CASE("auth_budget: an address is locked across sessions, then released") {
    Fixture f;
    // Different logins, one address: the address budget counts them all.
    for (int i = 0; i < 4; ++i) {
        auto r = f.budget->failed("192.0.2.1", "user" + std::to_string(i));
        CHECK_FALSE(r.ip_locked);
        CHECK(f.budget->check("192.0.2.1", "anyone") == AuthVerdict::allowed);
    }
    auto r = f.budget->failed("192.0.2.1", "user4");
    CHECK(r.ip_locked);
    CHECK(r.ip_failures == 5);
    CHECK(f.budget->check("192.0.2.1", "") == AuthVerdict::ip_locked);
    CHECK(f.budget->check("192.0.2.1", "alice") == AuthVerdict::ip_locked);
    CHECK(f.budget->check("192.0.2.2", "alice") == AuthVerdict::allowed);
    f.advance(299);
    CHECK(f.budget->check("192.0.2.1", "alice") == AuthVerdict::ip_locked);
    f.advance(1);
    CHECK(f.budget->check("192.0.2.1", "alice") == AuthVerdict::allowed);
}

TEST_CASE("auth_budget: IPv6 addresses count by /64") {
    Fixture f;
    for (int i = 0; i < 5; ++i) f.budget->failed("2001:db8:0:1::" + std::to_string(i + 1), "bob");
    CHECK(f.budget->check("2001:db8:0:1::ffff", "x") == AuthVerdict::ip_locked);
    CHECK(f.budget->check("2001:db8:0:2::1", "x") == AuthVerdict::allowed);
}

TEST_CASE("auth_budget: a login is locked from every address") {
    Fixture f([](AuthBudgetConfig& c) { c.ip_lockout_failures = 0; });  // addresses never lock
    AuthFailure r;
    for (int i = 0; i < 8; ++i) r = f.budget->failed("198.51.100." + std::to_string(i), "Bob");
    CHECK(r.login_locked);
    CHECK(r.login_failures == 8);
    CHECK(f.budget->check("203.0.113.1", "bob") == AuthVerdict::login_locked);
    CHECK(f.budget->check("203.0.113.1", "alice") == AuthVerdict::allowed);
}

TEST_CASE("auth_budget: failures older than the window are forgotten") {
    Fixture f;
    for (int i = 0; i < 4; ++i) f.budget->failed("192.0.2.1", "bob");
    f.advance(600);
    auto r = f.budget->failed("192.0.2.1", "bob");
    CHECK(r.ip_failures == 1);
    CHECK(r.delay_ms == 1000);
    CHECK_FALSE(r.ip_locked);
}

TEST_CASE("auth_budget: a success forgives only its own address and login") {
    Fixture f;
    // Two typos of bob from his own address, and an attacker guessing bob elsewhere.
    f.budget->failed("192.0.2.1", "bob");
    f.budget->failed("192.0.2.1", "bob");
    for (int i = 0; i < 3; ++i) f.budget->failed("198.51.100.7", "bob");
    // ... and guesses at other logins from bob's address (shared NAT).
    f.budget->failed("192.0.2.1", "carol");
    f.budget->succeeded("192.0.2.1", "BOB");
    // bob's login still carries the 3 failures from the other address: the 4th doubles to 8 s.
    auto r = f.budget->failed("203.0.113.5", "bob");
    CHECK(r.login_failures == 4);
    // bob's address keeps its failure for carol: this is its second.
    r = f.budget->failed("192.0.2.1", "dave");
    CHECK(r.ip_failures == 2);
}

TEST_CASE("auth_budget: bounded tables drop the least recently failed key") {
    Fixture f([](AuthBudgetConfig& c) {
        c.max_entries = 3;
        c.ip_lockout_failures = 1;
    });
    f.budget->failed("192.0.2.1", "a");  // locks 192.0.2.1
    f.budget->failed("192.0.2.2", "b");
    f.budget->failed("192.0.2.3", "c");
    CHECK(f.budget->check("192.0.2.1", "") == AuthVerdict::ip_locked);
    f.budget->failed("192.0.2.4", "d");  // pushes out 192.0.2.1
    CHECK(f.budget->tracked_ips() == 3);
    CHECK(f.budget->tracked_logins() == 3);
    CHECK(f.budget->check("192.0.2.1", "") == AuthVerdict::allowed);
    CHECK(f.budget->check("192.0.2.4", "") == AuthVerdict::ip_locked);
    // Thousands of distinct addresses and logins never grow past the cap.
    for (int i = 0; i < 5000; ++i)
        f.budget->failed("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256),
                         "u" + std::to_string(i));
    CHECK(f.budget->tracked_ips() == 3);
    CHECK(f.budget->tracked_logins() == 3);
}

TEST_CASE("auth_budget: new settings apply to what is already known") {
    Fixture f;
    for (int i = 0; i < 3; ++i) f.budget->failed("192.0.2.1", "bob");
    auto cfg = f.cfg;
    cfg.ip_lockout_failures = 4;
    f.budget->set_config(cfg);
    CHECK(f.budget->failed("192.0.2.1", "bob").ip_locked);
}
