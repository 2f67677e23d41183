// smtpd's SASL callbacks over a real accounts database: a login for a name that is no user
// costs one password hash like a wrong password for a real user (no user enumeration by
// timing). Coarse on purpose: the best of a few runs, and a factor of 4 of slack, against a
// gap of two orders of magnitude (one yescrypt verification vs a database lookup).
#include "smtpd/smtp_policy.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <unistd.h>

#include "libproto/core/base64.h"

using namespace postern;

namespace {

struct Policy {
    std::filesystem::path dir;
    std::unique_ptr<SmtpPolicy> policy;
    Policy() {
        char tmpl[] = "/tmp/postern-smtpd-auth-XXXXXX";
        dir = mkdtemp(tmpl);
        auto acc = Accounts::open(dir / "data", 1ull << 30, Accounts::Open::create);
        REQUIRE(acc.has_value());
        REQUIRE((*acc)->add_domain("example.test"));
        REQUIRE((*acc)->add_user("alice@example.test", "right-password"));
        StoreOptions so;
        so.disk_reserve_bytes = 0;
        auto store = open_maildir_store(dir / "data", so);
        REQUIRE(store.has_value());
        auto q = Queue::open(dir / "queue");
        REQUIRE(q.has_value());
        policy =
            std::make_unique<SmtpPolicy>(nullptr, std::move(*acc), std::move(*store), std::move(*q),
                                         SmtpPolicyConfig{"mail.test", {}, dir / "run", false, {}});
    }
    ~Policy() {
        policy.reset();
        std::filesystem::remove_all(dir);
    }

    // Best of `runs` wall-clock times of one AUTH PLAIN exchange, in milliseconds.
    double best_ms(const std::string& login, const std::string& password, int runs = 3) {
        double best = 1e9;
        for (int i = 0; i < runs; ++i) {
            auto sasl = policy->sasl("PLAIN");
            std::string raw = std::string(1, '\0') + login + '\0' + password;
            auto t0 = std::chrono::steady_clock::now();
            SaslStep r = sasl->start(base64_encode(raw));
            // smtpd defers the lookups to the pool; here they run inline, in the timing.
            while (auto* p = std::get_if<SaslPending>(&r)) {
                p->work();
                r = sasl->resume();
            }
            auto t1 = std::chrono::steady_clock::now();
            REQUIRE(std::holds_alternative<SaslFailed>(r));
            best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        return best;
    }
};

}  // namespace

TEST_CASE("smtp policy: an unknown login costs a password hash like a known one") {
    Policy p;
    double known = p.best_ms("alice@example.test", "wrong-password");
    INFO("known user, wrong password: " << known << " ms");
    REQUIRE(known > 1.0);  // a real hash ran
    for (std::string login :
         {"nobody-here@example.test", "mallory", "x@not-local.test", "bad login!"}) {
        double unknown = p.best_ms(login, "wrong-password");
        INFO(login << ": " << unknown << " ms");
        CHECK(unknown > known / 4);
    }
}
