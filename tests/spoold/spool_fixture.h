#pragma once
// The spoold test fixture: a temp store with users, aliases (nested, looping, with a remote
// target) and a catch-all, a queue, and a Deliverer over them.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "spoold/delivery.h"
#include "tests/mailstore/raw_alias.h"

namespace postern::test {

inline constexpr int64_t kNow = 1800000000;

struct Fixture {
    std::filesystem::path dir;
    std::shared_ptr<Accounts> accounts;
    std::unique_ptr<MailStore> store;
    std::optional<Queue> queue;
    std::optional<Deliverer> deliverer;

    Fixture() {
        char tmpl[] = "/tmp/postern-spoold-XXXXXX";
        dir = mkdtemp(tmpl);
        auto a = Accounts::open(dir / "data", 64ull << 20, Accounts::Open::create);
        REQUIRE(a);
        accounts = *a;
        REQUIRE(accounts->add_domain("example.test"));
        REQUIRE(accounts->add_domain("catch.test"));
        for (const char* u :
             {"alice@example.test", "bob@example.test", "carol@example.test", "nobody@catch.test"})
            REQUIRE(accounts->add_user(u, "pw-12345678"));
        REQUIRE(
            accounts->add_alias("team@example.test", {"alice@example.test", "bob@example.test"}));
        REQUIRE(
            accounts->add_alias("all@example.test", {"team@example.test", "carol@example.test"}));
        REQUIRE(accounts->add_alias("mixed@example.test",
                                    {"carol@example.test", "far@remote.example"}));
        REQUIRE(accounts->add_alias("loop1@example.test", {"loop2@example.test"}));
        // add_alias refuses loops; an old database may hold one.
        test::put_raw_alias(dir / "data", "loop2", "example.test", {"loop1@example.test"});
        StoreOptions so;
        so.disk_reserve_bytes = 0;
        auto s = open_maildir_store(dir / "data", so);
        REQUIRE(s);
        store = std::move(*s);
        // What mailctl user add makes beside each account.
        for (const char* u :
             {"alice@example.test", "bob@example.test", "carol@example.test", "nobody@catch.test"})
            REQUIRE(store->create_user(u));
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

inline const std::string kBody = "From: a@x.example\r\nSubject: t\r\n\r\nhello\r\n.dot\r\n";

}  // namespace postern::test
