// The [auth] section of postern.toml (failed-login budgets).
#include "config/config.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <unistd.h>

namespace {

const std::string base =
    "format = 1\n[server]\nhostname = \"mx.example.org\"\nlisten = [\"::1\"]\n"
    "[paths]\ndata = \"d\"\nqueue = \"q\"\nrun = \"r\"\nlog = \"l\"\n"
    "[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n";

std::expected<postern::Config, std::string> load(const std::string& text) {
    char tmpl[] = "/tmp/postern-config-auth-XXXXXX";
    std::filesystem::path dir = mkdtemp(tmpl);
    std::ofstream(dir / "postern.toml") << text;
    auto c = postern::load_config(dir / "postern.toml");
    std::filesystem::remove_all(dir);
    return c;
}

}  // namespace

TEST_CASE("config [auth]: defaults, and every setting read") {
    auto d = load(base);
    REQUIRE(d.has_value());
    CHECK(d->auth.window_seconds == 900);
    CHECK(d->auth.ip_lockout_failures == 10);
    CHECK(d->auth.login_lockout_failures == 20);
    CHECK(d->auth.lockout_seconds == 900);
    CHECK(d->auth.failure_delay_ms == 1000);
    CHECK(d->auth.max_failure_delay_ms == 16000);
    CHECK(d->auth.max_entries == 10000);

    auto c = load(base +
                  "[auth]\nfailure_window_seconds = 60\nfailure_delay_ms = 0\n"
                  "max_failure_delay_ms = 500\nip_lockout_failures = 0\n"
                  "login_lockout_failures = 7\nlockout_seconds = 30\nmax_tracked = 100\n");
    REQUIRE(c.has_value());
    CHECK(c->auth.window_seconds == 60);
    CHECK(c->auth.failure_delay_ms == 0);
    CHECK(c->auth.max_failure_delay_ms == 500);
    CHECK(c->auth.ip_lockout_failures == 0);
    CHECK(c->auth.login_lockout_failures == 7);
    CHECK(c->auth.lockout_seconds == 30);
    CHECK(c->auth.max_entries == 100);
}

TEST_CASE("config [auth]: bad values name the setting and line") {
    auto [text, want] = GENERATE(table<std::string, std::string>({
        {"[auth]\nip_lockout_failures = 101\n",
         ":14: auth.ip_lockout_failures must be between 0 and 100"},
        {"[auth]\nlockout_seconds = 0\n", ":14: auth.lockout_seconds must be between 1 and 86400"},
        {"[auth]\nmax_tracked = 5\n", ":14: auth.max_tracked must be between 100 and 1000000"},
        {"[auth]\nfailure_delay = 5\n", ":14: unknown setting auth.failure_delay"},
    }));
    auto c = load(base + text);
    REQUIRE_FALSE(c.has_value());
    INFO("got: " << c.error());
    CHECK(c.error().find(want) != std::string::npos);
}
