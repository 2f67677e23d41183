#include "spoold/delivery.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace postern;

namespace {

constexpr int64_t kNow = 1800000000;

struct Fixture {
    std::filesystem::path dir;
    std::shared_ptr<Accounts> accounts;
    std::unique_ptr<MailStore> store;
    std::optional<Queue> queue;
    std::optional<Deliverer> deliverer;

    Fixture() {
        char tmpl[] = "/tmp/postern-spoold-XXXXXX";
        dir = mkdtemp(tmpl);
        auto a = Accounts::open(dir / "data", 64ull << 20);
        REQUIRE(a);
        accounts = *a;
        REQUIRE(accounts->add_domain("example.test"));
        REQUIRE(accounts->add_domain("catch.test"));
        for (const char* u : {"alice@example.test", "bob@example.test", "carol@example.test",
                              "nobody@catch.test"})
            REQUIRE(accounts->add_user(u, "pw-12345678"));
        REQUIRE(accounts->add_alias("team@example.test", {"alice@example.test", "bob@example.test"}));
        REQUIRE(accounts->add_alias("all@example.test", {"team@example.test", "carol@example.test"}));
        REQUIRE(accounts->add_alias("mixed@example.test", {"carol@example.test", "far@remote.example"}));
        REQUIRE(accounts->add_alias("loop1@example.test", {"loop2@example.test"}));
        REQUIRE(accounts->add_alias("loop2@example.test", {"loop1@example.test"}));
        StoreOptions so;
        so.disk_reserve_bytes = 0;
        auto s = open_maildir_store(dir / "data", so);
        REQUIRE(s);
        store = std::move(*s);
        auto q = Queue::open(dir / "queue");
        REQUIRE(q);
        queue = *q;
        DeliveryParams p;
        p.hostname = "mx.example.test";
        p.retry_schedule = {60, 600};
        p.max_lifetime = 3600;
        deliverer.emplace(*queue, accounts, p);
    }
    ~Fixture() { std::filesystem::remove_all(dir); }

    std::string enqueue(const std::string& from, const std::vector<std::string>& rcpts,
                        const std::string& body, int64_t arrival = kNow) {
        auto w = queue->create();
        REQUIRE(w);
        REQUIRE(w->append(body));
        Envelope e;
        e.reverse_path = from;
        for (const auto& r : rcpts) {
            Recipient x;
            x.address = r;
            e.recipients.push_back(x);
        }
        e.arrival = arrival;
        auto id = w->commit(e);
        REQUIRE(id);
        return *id;
    }

    std::vector<std::string> mails(const std::string& user, const std::string& domain) {
        std::vector<std::string> out;
        auto d = dir / "data" / domain / user / "Maildir" / "new";
        if (!std::filesystem::exists(d)) return out;
        for (auto& e : std::filesystem::directory_iterator(d)) {
            std::ifstream f(e.path(), std::ios::binary);
            std::stringstream ss;
            ss << f.rdbuf();
            out.push_back(ss.str());
        }
        return out;
    }
};

const std::string kBody = "From: a@x.example\r\nSubject: t\r\n\r\nhello\r\n.dot\r\n";

}  // namespace

TEST_CASE("delivery: local user gets the message byte-exact after Return-Path") {
    Fixture f;
    std::string id = f.enqueue("sender@x.example", {"alice@example.test"}, kBody);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    INFO("error: " << r.error);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r.rcpts.size() == 1);
    CHECK(r.rcpts[0].result == RcptResult::delivered);
    auto m = f.mails("alice", "example.test");
    REQUIRE(m.size() == 1);
    CHECK(m[0] == "Return-Path: <sender@x.example>\r\n" + kBody);
    CHECK(f.queue->ids()->empty());
}

TEST_CASE("delivery: nested aliases, duplicates once, catch-all") {
    Fixture f;
    std::string id = f.enqueue("", {"all@example.test", "alice@example.test", "whoever@catch.test"},
                               kBody);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    CHECK(f.mails("alice", "example.test").size() == 1);  // reached twice, stored once
    CHECK(f.mails("bob", "example.test").size() == 1);
    CHECK(f.mails("carol", "example.test").size() == 1);
    REQUIRE(f.mails("nobody", "catch.test").size() == 1);
    CHECK(f.mails("nobody", "catch.test")[0].starts_with("Return-Path: <>\r\n"));
}

TEST_CASE("delivery: unknown recipient and alias loop bounce to the sender") {
    Fixture f;
    std::string id = f.enqueue("sender@example.test",
                               {"ghost@example.test", "loop1@example.test", "bob@example.test"},
                               kBody);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r.rcpts.size() == 3);
    CHECK(r.rcpts[0].result == RcptResult::failed);
    CHECK(r.rcpts[0].detail.starts_with("5.1.1"));
    CHECK(r.rcpts[1].result == RcptResult::failed);
    CHECK(r.rcpts[1].detail.starts_with("5.4.6"));
    CHECK(r.rcpts[2].result == RcptResult::delivered);
    REQUIRE(r.bounce_ids.size() == 1);
    auto b = f.queue->read(r.bounce_ids[0]);
    REQUIRE(b);
    CHECK(b->reverse_path.empty());
    REQUIRE(b->recipients.size() == 1);
    CHECK(b->recipients[0].address == "sender@example.test");
    // The bounce is itself delivered like any message; it never bounces again.
    auto r2 = f.deliverer->attempt(*f.store, r.bounce_ids[0], kNow);
    CHECK(r2.outcome == AttemptReport::Outcome::finished);
    // "sender" is unknown in example.test: the bounce fails, and no bounce of a bounce.
    CHECK(r2.bounce_ids.empty());
    CHECK(f.queue->ids()->empty());
}

TEST_CASE("delivery: a bounce to a local sender lands as multipart/report") {
    Fixture f;
    std::string id = f.enqueue("carol@example.test", {"ghost@example.test"}, kBody);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    REQUIRE(r.bounce_ids.size() == 1);
    auto r2 = f.deliverer->attempt(*f.store, r.bounce_ids[0], kNow);
    CHECK(r2.outcome == AttemptReport::Outcome::finished);
    auto m = f.mails("carol", "example.test");
    REQUIRE(m.size() == 1);
    CHECK(m[0].find("report-type=delivery-status") != std::string::npos);
    CHECK(m[0].find("Final-Recipient: rfc822; ghost@example.test") != std::string::npos);
}

TEST_CASE("delivery: null sender failure is dropped without a bounce") {
    Fixture f;
    std::string id = f.enqueue("", {"ghost@example.test"}, kBody);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    CHECK(r.bounce_ids.empty());
    CHECK(f.queue->ids()->empty());
}

TEST_CASE("delivery: remote targets are deferred, local part delivered once, then expire") {
    Fixture f;
    std::string id = f.enqueue("carol@example.test", {"mixed@example.test", "x@remote.example"},
                               kBody);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    CHECK(r.outcome == AttemptReport::Outcome::deferred);
    CHECK(r.next_attempt == kNow + 60);
    REQUIRE(r.rcpts.size() == 2);
    CHECK(r.rcpts[0].result == RcptResult::deferred);
    CHECK(r.rcpts[0].detail.find("remote delivery not implemented yet") != std::string::npos);
    CHECK(f.mails("carol", "example.test").size() == 1);

    auto env = f.queue->read(id);
    REQUIRE(env);
    CHECK(env->attempts == 1);
    CHECK(env->recipients[0].local_done);
    CHECK(env->recipients[1].last_error.find("remote delivery") != std::string::npos);

    // Not due yet.
    CHECK(f.deliverer->attempt(*f.store, id, kNow + 10).outcome ==
          AttemptReport::Outcome::not_due);
    // Second try: the local copy is not repeated; next delay from the schedule.
    r = f.deliverer->attempt(*f.store, id, kNow + 60);
    CHECK(r.outcome == AttemptReport::Outcome::deferred);
    CHECK(r.next_attempt == kNow + 60 + 600);
    CHECK(f.mails("carol", "example.test").size() == 1);

    // After max lifetime: both fail with 4.4.7 and one bounce goes to carol.
    r = f.deliverer->attempt(*f.store, id, kNow + 3600);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r.rcpts.size() == 2);
    CHECK(r.rcpts[1].result == RcptResult::failed);
    CHECK(r.rcpts[1].detail.starts_with("4.4.7"));
    REQUIRE(r.bounce_ids.size() == 1);
    CHECK(f.queue->ids()->size() == 1);  // only the bounce is left
}

TEST_CASE("delivery: a deleted entry is gone, not an error") {
    Fixture f;
    auto r = f.deliverer->attempt(*f.store, "0123456789ABCDEF01", kNow);
    CHECK(r.outcome == AttemptReport::Outcome::gone);
}

TEST_CASE("delivery: retry delays follow the schedule and stay at its last value") {
    std::vector<uint32_t> s{60, 300, 900};
    CHECK(retry_delay(s, 1) == 60);
    CHECK(retry_delay(s, 2) == 300);
    CHECK(retry_delay(s, 3) == 900);
    CHECK(retry_delay(s, 10) == 900);
    CHECK(retry_delay({}, 1) == 300);
}
