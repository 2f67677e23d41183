// Deliverer::attempt_batch: several queue entries, one store group commit.
#include "spoold/delivery.h"

#include <algorithm>
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

TEST_CASE("batch: several entries delivered in one attempt, each removed, gone/not-due kept apart") {
    Fixture f;
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i)
        ids.push_back(f.enqueue("s@x.example", {i % 2 ? "team@example.test" : "alice@example.test"},
                                kBody + std::to_string(i) + "\r\n"));
    // An entry that is not due (deferred remote target) and one that vanished.
    std::string later = f.enqueue("carol@example.test", {"x@remote.example"}, kBody);
    REQUIRE(f.deliverer->attempt(*f.store, later, kNow).outcome == AttemptReport::Outcome::deferred);
    ids.push_back(later);
    ids.push_back("0123456789ABCDEF01");
    ids.push_back(f.enqueue("s@x.example", {"ghost@example.test"}, kBody));

    auto reps = f.deliverer->attempt_batch(*f.store, ids, kNow + 1);
    REQUIRE(reps.size() == ids.size());
    for (size_t i = 0; i < 4; ++i) {
        INFO("entry " << i << " error " << reps[i].error);
        CHECK(reps[i].id == ids[i]);
        CHECK(reps[i].outcome == AttemptReport::Outcome::finished);
        REQUIRE(reps[i].rcpts.size() == 1);
        CHECK(reps[i].rcpts[0].result == RcptResult::delivered);
    }
    CHECK(reps[4].outcome == AttemptReport::Outcome::not_due);
    CHECK(reps[5].outcome == AttemptReport::Outcome::gone);
    CHECK(reps[6].outcome == AttemptReport::Outcome::finished);
    CHECK(reps[6].rcpts[0].result == RcptResult::failed);
    CHECK(reps[6].bounce_ids.empty() == false);

    // alice: entries 0, 2 directly and 1, 3 through the alias; bob: 1, 3.
    auto a = f.mails("alice", "example.test");
    CHECK(a.size() == 4);
    CHECK(f.mails("bob", "example.test").size() == 2);
    for (int i = 0; i < 4; ++i) {
        std::string want = "Return-Path: <s@x.example>\r\n" + kBody + std::to_string(i) + "\r\n";
        CHECK(std::count(a.begin(), a.end(), want) == 1);
    }
    // Left: the deferred entry and the bounce for ghost.
    auto left = f.queue->ids();
    REQUIRE(left);
    CHECK(left->size() == 2);
    CHECK(std::count(left->begin(), left->end(), later) == 1);
}

TEST_CASE("batch: an empty batch does nothing") {
    Fixture f;
    CHECK(f.deliverer->attempt_batch(*f.store, {}, kNow).empty());
}
