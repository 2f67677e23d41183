// load_config refuses what is not a complete postern.toml (format line, [server], [paths],
// [tls]) and checks smtpd.relay_networks itself, warning about an open relay.
#include "config/config.h"
#include "tests/proto/temp_config.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <unistd.h>

namespace {

const std::string kServer = "[server]\nhostname = \"mx.test\"\nlisten = [\"127.0.0.1\"]\n";
const std::string kPaths =
    "[paths]\ndata = \"data\"\nqueue = \"queue\"\nrun = \"run\"\nlog = \"log\"\n";
const std::string kTls = "[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n";
const std::string kComplete = "format = 1\n" + kServer + kPaths + kTls;

}  // namespace

TEST_CASE("config: a complete file loads, with allow_root and no warnings") {
    TempConfig t(kComplete +
                 "[smtpd]\nrelay_networks = [\"127.0.0.0/8\", \"::1\", \"10.0.0.0/8\", "
                 "\"fc00::/7\"]\n");
    auto c = postern::load_config(t.file);
    REQUIRE(c.has_value());
    CHECK_FALSE(c->allow_root);
    CHECK(c->warnings.empty());
    TempConfig r("format = 1\n" + kServer + "allow_root = true\n" + kPaths + kTls);
    auto rc = postern::load_config(r.file);
    REQUIRE(rc.has_value());
    CHECK(rc->allow_root);
}

TEST_CASE("config: empty, truncated or foreign files are refused with FILE:LINE") {
    struct Case {
        const char* label;
        std::string text;
        std::string want;  // the error after "FILE"
    };
    auto tc = GENERATE_COPY(values<Case>({
        {"empty", "",
         ":1: format = 1 is missing: not a complete postern.toml (mailctl init writes one)"},
        {"no format", kServer + kPaths + kTls, ":1: format = 1 is missing"},
        {"newer format", "format = 2\n" + kServer + kPaths + kTls,
         ":1: format = 2 is not supported (this version reads format 1)"},
        {"format as text", "format = \"1\"\n" + kServer + kPaths + kTls,
         ":1: format must be an integer"},
        {"no [tls]", "format = 1\n" + kServer + kPaths, ":9: [tls] is missing (truncated file?)"},
        {"no [paths]", "format = 1\n" + kServer + kTls, ":7: [paths] is missing (truncated file?)"},
        {"cut inside [paths]",
         "format = 1\n" + kServer + "[paths]\ndata = \"data\"\nqueue = \"q\"\n",
         ":5: paths.run is missing (truncated file?)"},
        {"cut inside [server]", "format = 1\n[server]\nhostname = \"mx.test\"\n" + kPaths + kTls,
         ":2: server.listen is missing (truncated file?)"},
        {"cut inside [tls]",
         kComplete.substr(0, kComplete.size() - std::string("key = \"k.pem\"\n").size()),
         ":10: tls.key is missing (truncated file?)"},
    }));
    DYNAMIC_SECTION(tc.label) {
        TempConfig t(tc.text);
        auto c = postern::load_config(t.file);
        REQUIRE_FALSE(c.has_value());
        INFO("got: " << c.error());
        CHECK(c.error().starts_with(t.file.string() + tc.want));
        CHECK(c.error().find('\n') == std::string::npos);
    }
}

TEST_CASE("config: a bad value is reported before a missing section") {
    TempConfig t("[smtpd]\nmx_port = 0\n");
    auto c = postern::load_config(t.file);
    REQUIRE_FALSE(c.has_value());
    CHECK(c.error() == t.file.string() + ":2: smtpd.mx_port must be between 1 and 65535");
}

TEST_CASE("config: smtpd.relay_networks entries are checked where smtpd would refuse them") {
    TempConfig t(kComplete +
                 "[smtpd]\nrelay_networks = [\n  \"127.0.0.0/8\",\n  \"10.0.0.0/33\",\n]\n");
    auto c = postern::load_config(t.file);
    REQUIRE_FALSE(c.has_value());
    CHECK(c.error() ==
          t.file.string() +
              ":16: smtpd.relay_networks: relay network \"10.0.0.0/33\": bad prefix length");
}

TEST_CASE("config: a relay network wider than any private one is an open-relay warning") {
    struct Case {
        const char* net;
        bool warn;
    };
    auto tc = GENERATE(values<Case>({
        {"0.0.0.0/0", true},
        {"::/0", true},
        {"0.0.0.0/1", true},
        {"2000::/3", true},
        {"8.0.0.0/7", true},
        {"10.0.0.0/8", false},
        {"fc00::/7", false},
        {"192.0.2.1", false},
    }));
    DYNAMIC_SECTION(tc.net) {
        TempConfig t(kComplete + "[smtpd]\nrelay_networks = [\"127.0.0.1\", \"" + tc.net + "\"]\n");
        auto c = postern::load_config(t.file);
        REQUIRE(c.has_value());
        if (!tc.warn) {
            CHECK(c->warnings.empty());
        } else {
            REQUIRE(c->warnings.size() == 1);
            CHECK(c->warnings[0] == t.file.string() + ":14: smtpd.relay_networks \"" + tc.net +
                                        "\" is wider than any private network: clients anywhere in "
                                        "it may relay mail (open relay)");
        }
    }
}

TEST_CASE("config: errors quoting the file's text stay on one line") {
    // TOML escapes can put any byte in a key or value; the error must still be one line.
    for (const char* text : {"relay_networks = [\"10.0.0.0/8\\n\\r\\u001b[31m\"]\n",
                             "relay_networks = [\"\\n\"]\n", "\"bad\\nkey\" = 1\n"}) {
        DYNAMIC_SECTION(text) {
            TempConfig t(kComplete + "[smtpd]\n" + text);
            auto c = postern::load_config(t.file);
            REQUIRE_FALSE(c.has_value());
            INFO("got: " << c.error());
            CHECK(c.error().find_first_of("\n\r\x1b") == std::string::npos);
            CHECK(c.error().starts_with(t.file.string() + ":14: "));
        }
    }
}
