// The shared part of postern.toml and the section mechanism, without any daemon's section:
// InstanceConfig::load knows only [server], [paths], [tls], [auth], [log]; a section bound
// by the caller is read, checked for unknown keys, and claims its ports.
#include "libproto/config/instance_config.h"
#include "tests/proto/temp_config.h"

#include <catch2/catch.hpp>

namespace {

const std::string kComplete =
    "format = 1\n[server]\nhostname = \"mx.test\"\nlisten = [\"127.0.0.1\"]\n"
    "[paths]\ndata = \"data\"\nqueue = \"queue\"\nrun = \"run\"\nlog = \"log\"\n"
    "[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n";  // 12 lines

struct DemoConfig {
    uint16_t port = 2525;
    std::vector<std::string> names;
};

void parse_demo(postern::ConfigTable& t, DemoConfig& c) {
    t.port("port", c.port);
    t.strings("names", c.names);
    for (const auto& [name, line] : t.items("names"))
        if (name == "bad")
            t.fail(line, t.name("names") + ": bad");
        else if (name == "odd")
            t.warn(line, t.name("names") + ": odd");
}

void claim_demo(const DemoConfig& c, postern::PortClaims& ports) {
    ports.claim(c.port, "demo.port");
}

constexpr postern::ConfigSection<DemoConfig> demo_section{"demo", parse_demo, claim_demo};

struct Loaded {
    postern::InstanceConfig instance;
    DemoConfig first, second;
};

std::expected<Loaded, std::string> load_demo(const std::string& text) {
    TempConfig t(text);
    Loaded l;
    const postern::SectionBinding sections[] = {
        bind(postern::server_section, l.instance),
        bind(postern::paths_section, l.instance),
        bind(postern::tls_section, l.instance),
        bind(demo_section, l.first),
        {"other", [&](postern::ConfigTable& tb) { parse_demo(tb, l.second); },
         [&](postern::PortClaims& p) { p.claim(l.second.port, "other.port"); }},
    };
    if (auto r = postern::load_config_file(t.file, l.instance, sections); !r)
        return std::unexpected(r.error().substr(t.file.string().size()));
    return l;
}

}  // namespace

TEST_CASE("instance config: the shared sections alone; a daemon's section is unknown here") {
    TempConfig t(kComplete + "[auth]\nlockout_seconds = 30\n[log]\nlevel = \"debug\"\n");
    auto c = postern::InstanceConfig::load(t.file);
    REQUIRE(c.has_value());
    CHECK(c->hostname == "mx.test");
    CHECK(c->data_dir == t.dir / "data");
    CHECK(c->auth.lockout_seconds == 30);
    CHECK(c->log.level == "debug");

    TempConfig s(kComplete + "[smtpd]\nmx_port = 25\n");
    auto e = postern::InstanceConfig::load(s.file);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error() == s.file.string() + ":13: unknown setting smtpd");
}

TEST_CASE("instance config: a registered section is read, checked and claims its ports") {
    struct Case {
        const char* label;
        std::string text;
        std::string want;  // the error after FILE, or "" for success
    };
    auto tc = GENERATE_COPY(values<Case>({
        {"read", kComplete + "[demo]\nport = 2600\nnames = [\"a\", \"odd\"]\n", ""},
        {"range", kComplete + "[demo]\nport = 0\n", ":14: demo.port must be between 1 and 65535"},
        {"unknown key", kComplete + "[demo]\nprot = 1\n", ":14: unknown setting demo.prot"},
        {"not a table", "demo = 1\n" + kComplete, ":1: [demo] must be a table"},
        {"fail from the section", kComplete + "[demo]\nnames = [\"a\",\n\"bad\"]\n",
         ":15: demo.names: bad"},
        {"port clash", kComplete + "[other]\nport = 2525\n",
         ": other.port uses port 2525, already taken by demo.port"},
        {"unknown section", kComplete + "[third]\n", ":13: unknown setting third"},
        {"first section first", kComplete + "[other]\nport = 0\n[demo]\nport = 0\n",
         ":16: demo.port must be between 1 and 65535"},
    }));
    DYNAMIC_SECTION(tc.label) {
        auto l = load_demo(tc.text);
        if (tc.want.empty()) {
            REQUIRE(l.has_value());
            CHECK(l->first.port == 2600);
            CHECK(l->first.names == std::vector<std::string>{"a", "odd"});
            CHECK(l->second.port == 2525);
            REQUIRE(l->instance.warnings.size() == 1);
            CHECK(l->instance.warnings[0].ends_with(":15: demo.names: odd"));
        } else {
            REQUIRE_FALSE(l.has_value());
            CHECK(l.error() == tc.want);
        }
    }
}
