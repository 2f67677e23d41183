// Recipient verdicts against a real (temporary) accounts database.
#include "smtpd/smtp_policy.h"
#include "tests/support/memory_store.h"

#include <catch2/catch.hpp>
#include <unistd.h>
#include <uv.h>

using namespace postern;

namespace {

struct TempStore {
    std::filesystem::path dir;
    std::unique_ptr<SmtpPolicy> policy;
    TempStore() {
        char tmpl[] = "/tmp/postern-smtpd-XXXXXX";
        dir = mkdtemp(tmpl);
        auto acc = Accounts::open(dir / "data", 1ull << 30, Accounts::Open::create);
        REQUIRE(acc.has_value());
        REQUIRE((*acc)->add_domain("example.test"));
        REQUIRE((*acc)->add_domain("catchall.test"));
        REQUIRE((*acc)->add_user("alice@example.test", "pw"));
        REQUIRE((*acc)->add_user("nobody@catchall.test", "pw"));
        REQUIRE((*acc)->add_alias("team@example.test", {"alice@example.test"}));
        StoreOptions so;
        so.disk_reserve_bytes = 0;
        auto store = open_maildir_store(dir / "data", so);
        REQUIRE(store.has_value());
        for (const char* u : {"alice@example.test", "nobody@catchall.test"})
            REQUIRE((*store)->create_user(u));
        auto q = Queue::open(dir / "queue");
        REQUIRE(q.has_value());
        auto nets = CidrList::parse({"192.0.2.0/24", "2001:db8::/32"});
        REQUIRE(nets.has_value());
        policy = std::make_unique<SmtpPolicy>(
            nullptr, std::move(*acc), std::move(*store), std::move(*q),
            SmtpPolicyConfig{"mail.test", std::move(*nets), dir / "run", false, {}});
    }
    ~TempStore() {
        policy.reset();
        std::filesystem::remove_all(dir);
    }
};

ParsedPath path(const std::string& addr) {
    auto p = parse_smtp_path("<" + addr + ">", PathKind::forward_path, false);
    REQUIRE(p.has_value());
    return *p;
}

}  // namespace

TEST_CASE("smtp_policy: recipient verdicts") {
    TempStore t;
    struct Case {
        const char* label;
        const char* ip;
        const char* auth;
        const char* rcpt;
        SmtpVerdict want;
    };
    auto tc = GENERATE(values<Case>({
        {"local user", "203.0.113.9", "", "alice@example.test", SmtpVerdict::ok},
        {"case-insensitive", "203.0.113.9", "", "Alice@EXAMPLE.test", SmtpVerdict::ok},
        {"alias", "203.0.113.9", "", "team@example.test", SmtpVerdict::ok},
        {"catch-all", "203.0.113.9", "", "anyone@catchall.test", SmtpVerdict::ok},
        {"unknown local", "203.0.113.9", "", "ghost@example.test", SmtpVerdict::unknown_user},
        {"relay denied", "203.0.113.9", "", "x@far.example", SmtpVerdict::relay_denied},
        {"relay authenticated", "203.0.113.9", "alice@example.test", "x@far.example",
         SmtpVerdict::ok},
        {"relay network v4", "192.0.2.77", "", "x@far.example", SmtpVerdict::ok},
        {"relay network v6", "2001:db8::5", "", "x@far.example", SmtpVerdict::ok},
        {"percent hack", "203.0.113.9", "", "x%far.example@example.test", SmtpVerdict::bad_address},
        {"percent hack even when trusted", "192.0.2.77", "", "x%far.example@example.test",
         SmtpVerdict::bad_address},
    }));
    DYNAMIC_SECTION(tc.label) {
        SmtpClientInfo c;
        c.ip = tc.ip;
        c.auth_user = tc.auth;
        auto got = t.policy->recipient_verdict(c, path(tc.rcpt));
        INFO("got " << int(got) << ", want " << int(tc.want));
        CHECK(got == tc.want);
    }
}

TEST_CASE("smtp_policy: open_message checks room and creates the queue file off the loop") {
    char tmpl[] = "/tmp/postern-smtpd-XXXXXX";
    std::filesystem::path dir = mkdtemp(tmpl);
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        auto acc = Accounts::open(dir / "data", 1ull << 30, Accounts::Open::create);
        REQUIRE(acc.has_value());
        StoreOptions so;
        so.disk_reserve_bytes = 10;
        auto mem = std::make_unique<MemoryStore>(so);
        MemoryStore* store = mem.get();
        auto q = Queue::open(dir / "queue");
        REQUIRE(q.has_value());
        SmtpPolicy policy(&loop, std::move(*acc), std::move(mem), std::move(*q),
                          SmtpPolicyConfig{"mail.test", {}, dir / "run", false, {}, 1000});
        auto incoming = [&] {
            return std::distance(std::filesystem::directory_iterator(dir / "queue" / "incoming"),
                                 std::filesystem::directory_iterator{});
        };
        SmtpEnvelope env{"a@remote.test", {}, {{"alice@example.test", {}}}};
        env.params.size = 500;
        ReceivedInfo r;
        r.hostname = "mail.test";
        std::optional<SmtpOpened> got;
        // Returns whether the answer came at once (no pool round trip).
        auto open = [&] {
            got.reset();
            policy.open_message(SmtpClientInfo{}, env, r,
                                [&](SmtpOpened o) { got = std::move(o); });
            const bool at_once = got.has_value();
            uv_run(&loop, UV_RUN_DEFAULT);  // and any refill or gauge refresh it started
            REQUIRE(got.has_value());
            return at_once;
        };
        auto later = [&] {
            uv_sleep(RoomGauge::refresh_after_ms);
            uv_update_time(&loop);
        };

        store->set_capacity(100);  // less than the declared SIZE
        CHECK_FALSE(open());       // no room reading yet: checked on the pool
        CHECK(got->verdict == SmtpVerdict::no_room);
        CHECK(got->sink == nullptr);
        CHECK(incoming() == 0);

        store->set_capacity(UINT64_MAX);
        CHECK_FALSE(open());  // the reading says "tight": checked on the pool again
        CHECK(got->verdict == SmtpVerdict::ok);
        REQUIRE(got->sink != nullptr);
        CHECK(incoming() == 1);
        got.reset();  // a sink dropped before its commit removes the entry
        CHECK(incoming() == 0);

        later();
        open();  // refreshes the reading
        later();
        CHECK_FALSE(open());  // "plenty", but no entry made ahead yet: the stock fills
        CHECK(got->verdict == SmtpVerdict::ok);
        got.reset();
        CHECK(incoming() == 8);  // the stock: made ahead, one pool job
        CHECK(open());           // answered at once from the reading and the stock
        CHECK(got->verdict == SmtpVerdict::ok);
        CHECK(got->sink != nullptr);

        store->set_capacity(5);  // below the reserve
        later();
        open();
        CHECK(open());  // "none": refused at once
        CHECK(got->verdict == SmtpVerdict::no_room);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    std::filesystem::remove_all(dir);
}
