// Recipient verdicts against a real (temporary) accounts database.
#include "smtpd/smtp_policy.h"

#include <catch2/catch.hpp>
#include <unistd.h>

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
