#include "config/config.h"
#include "tests/proto/temp_config.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <unistd.h>

namespace {}  // namespace

TEST_CASE("config: defaults and relative paths resolve against the file") {
    TempConfig t(
        "format = 1\n[server]\nhostname = \"mx.example.org\"\nlisten = [\"::1\"]\n"
        "[paths]\ndata = \"store\"\nqueue = \"queue\"\nrun = \"run\"\nlog = \"/var/log/x\"\n"
        "[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n");
    auto c = postern::load_config(t.file);
    REQUIRE(c.has_value());
    CHECK(c->hostname == "mx.example.org");
    CHECK(c->data_dir == t.dir / "store");
    CHECK(c->queue_dir == t.dir / "queue");
    CHECK(c->log_dir == "/var/log/x");
    CHECK(c->smtpd.mx_port == 25);
    CHECK(c->pop3d.tls_port == 995);
}

TEST_CASE("config: errors name the file and line") {
    struct Case {
        const char* label;
        const char* text;
        const char* want;  // substring of the error
    };
    auto tc = GENERATE(values<Case>({
        {"syntax", "[server]\nhostname = \n", "postern.toml:2:"},
        {"bad port", "[server]\nhostname = \"a\"\n[smtpd]\n\nmx_port = 70000\n",
         "postern.toml:5: smtpd.mx_port must be between 1 and 65535"},
        {"typo", "[smtpd]\nmx_prot = 25\n", "postern.toml:2: unknown setting smtpd.mx_prot"},
        {"wrong type", "[pop3d]\nallow_plaintext_auth = \"yes\"\n",
         "postern.toml:2: pop3d.allow_plaintext_auth must be true or false"},
        {"port clash", "[pop3d]\nport = 25\n", "already taken by smtpd.mx_port"},
        {"unknown section", "[smtp]\nx = 1\n", "postern.toml:1: unknown setting smtp"},
    }));
    DYNAMIC_SECTION(tc.label) {
        TempConfig t(tc.text);
        auto c = postern::load_config(t.file);
        REQUIRE_FALSE(c.has_value());
        INFO("got: " << c.error());
        CHECK(c.error().find(tc.want) != std::string::npos);
        CHECK(c.error().find('\n') == std::string::npos);
    }
}

TEST_CASE("config: a missing file is one clear line") {
    auto c = postern::load_config("/nonexistent/postern.toml");
    REQUIRE_FALSE(c.has_value());
    CHECK(c.error().find("/nonexistent/postern.toml") == 0);
}
