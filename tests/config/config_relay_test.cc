// The issue-10 relay and DSN keys: smtpd.allow_sender_mismatch, smtpd.auth_on_mx and
// spoold.delay_warning_hours, their defaults and their ranges.
#include "config/config.h"
#include "tests/proto/temp_config.h"

#include <catch2/catch.hpp>

namespace {

const char* kBase =
    "format = 1\n[server]\nhostname = \"mx.example.org\"\nlisten = [\"::1\"]\n"
    "[paths]\ndata = \"d\"\nqueue = \"q\"\nrun = \"r\"\nlog = \"l\"\n"
    "[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n";

}  // namespace

TEST_CASE("config_relay: defaults check senders, keep AUTH off port 25, warn after 4 hours") {
    TempConfig t(kBase);
    auto c = postern::load_config(t.file);
    INFO((c ? std::string() : c.error()));
    REQUIRE(c.has_value());
    CHECK_FALSE(c->smtpd.allow_sender_mismatch);
    CHECK_FALSE(c->smtpd.auth_on_mx);
    CHECK(c->spoold.delay_warning_hours == 4);
}

TEST_CASE("config_relay: the keys are read, and a bad value is an error") {
    TempConfig t(std::string(kBase) +
                 "[smtpd]\nallow_sender_mismatch = true\nauth_on_mx = true\n"
                 "[spoold]\ndelay_warning_hours = 0\n");
    auto c = postern::load_config(t.file);
    INFO((c ? std::string() : c.error()));
    REQUIRE(c.has_value());
    CHECK(c->smtpd.allow_sender_mismatch);
    CHECK(c->smtpd.auth_on_mx);
    CHECK(c->spoold.delay_warning_hours == 0);

    TempConfig bad(std::string(kBase) + "[spoold]\ndelay_warning_hours = -1\n");
    auto e = postern::load_config(bad.file);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().find("spoold.delay_warning_hours") != std::string::npos);
    TempConfig bad2(std::string(kBase) + "[smtpd]\nauth_on_mx = \"yes\"\n");
    CHECK_FALSE(postern::load_config(bad2.file).has_value());
}
