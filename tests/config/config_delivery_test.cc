// [delivery] (config/delivery_section.h): the spellings of issue 10, the values, the exact
// one-line errors, route and TLS policy lookup, and the smarthost password file checks.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "config/config.h"
#include "tests/proto/temp_config.h"

using namespace postern;

namespace {

// A complete file (format, [server], [paths], [tls]) followed by `delivery`.
std::string with_delivery(const std::string& delivery) {
    return "format = 1\n[server]\nhostname = \"mx.example.org\"\nlisten = [\"127.0.0.1\"]\n"
           "[paths]\ndata = \"d\"\nqueue = \"q\"\nrun = \"r\"\nlog = \"l\"\n"
           "[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n" +
           delivery;
}
constexpr int kBaseLines = 12;  // lines of with_delivery("") before the section

}  // namespace

TEST_CASE("delivery: defaults") {
    TempConfig t(with_delivery(""));
    auto c = load_config(t.file);
    REQUIRE(c.has_value());
    CHECK(c->delivery.dns_servers.empty());
    CHECK_FALSE(c->delivery.smarthost.has_value());
    CHECK(c->delivery.smarthost_mode == SmarthostMode::fallback);
    CHECK(c->delivery.routes.empty());
    CHECK(c->delivery.default_tls == DeliveryTls::dane);
    CHECK(c->delivery.destination_concurrency_limit == 20);
    CHECK(c->delivery.remote_concurrency_limit == 100);
    CHECK(c->delivery.host_concurrency_limit == 20);
    CHECK(c->delivery.connect_timeout_seconds == 30);
    CHECK(c->delivery.helo_timeout_seconds == 300);
    CHECK(c->delivery.data_done_timeout_seconds == 600);
    CHECK(c->delivery.tls_ca_file.empty());
    CHECK(c->delivery.mta_sts);
    CHECK(c->delivery.mx_port == 25);
}

TEST_CASE("delivery: the issue's spelling reads as written") {
    TempConfig t(
        with_delivery("[delivery]\n"
                      "dns_servers = [\"127.0.0.1:5353\", \"::1\", \"[::1]:53\", \"192.0.2.1\"]\n"
                      "smarthost = \"smtp.example.net:587\"\n"
                      "smarthost_mode = \"exclusive\"\n"
                      "smarthost_user = \"relayuser\"\n"
                      "smarthost_password_file = \"smarthost.secret\"\n"
                      "tls_policy_default = \"encrypt\"\n"
                      "destination_concurrency_limit = 5\n"
                      "host_concurrency_limit = 2\n"
                      "helo_timeout_seconds = 3\n"
                      "tls_ca_file = \"ca.pem\"\n"
                      "mta_sts = false\n"
                      "mx_port = 2525\n"
                      "[delivery.routes]\n"
                      "\"Example.ORG\" = \"127.0.0.1:2526\"\n"
                      "\".sub.test\" = \"relay.test\"\n"
                      "\"v6.test\" = \"[::1]:2527\"\n"
                      "[delivery.tls_policy]\n"
                      "\"example.org\" = \"verify\"\n"
                      "\"plain.test\" = \"none\"\n"
                      "\".sub.test\" = \"may\"\n"
                      "\"dane.test\" = \"dane\"\n"
                      "\"daneonly.test\" = \"dane-only\"\n"));
    auto c = load_config(t.file);
    REQUIRE(c.has_value());
    const auto& d = c->delivery;
    CHECK(d.dns_servers ==
          std::vector<std::string>{"127.0.0.1:5353", "::1", "[::1]:53", "192.0.2.1"});
    REQUIRE(d.smarthost.has_value());
    CHECK(*d.smarthost == HostPort{"smtp.example.net", 587});
    CHECK(d.smarthost_mode == SmarthostMode::exclusive);
    CHECK(d.smarthost_user == "relayuser");
    CHECK(d.smarthost_password_file == t.dir / "smarthost.secret");
    CHECK(d.default_tls == DeliveryTls::encrypt);
    CHECK(d.destination_concurrency_limit == 5);
    CHECK(d.host_concurrency_limit == 2);
    CHECK(d.helo_timeout_seconds == 3);
    CHECK(d.tls_ca_file == t.dir / "ca.pem");
    CHECK_FALSE(d.mta_sts);
    CHECK(d.mx_port == 2525);
    CHECK(has_tls_policy_entry(d, "example.org"));
    CHECK(has_tls_policy_entry(d, "x.sub.test"));
    CHECK_FALSE(has_tls_policy_entry(d, "elsewhere.test"));  // the default is not an entry
    REQUIRE(d.routes.size() == 3);
    CHECK(d.routes.at("example.org") == HostPort{"127.0.0.1", 2526});
    CHECK(d.routes.at(".sub.test") == HostPort{"relay.test", 25});
    CHECK(d.routes.at("v6.test") == HostPort{"::1", 2527});

    REQUIRE(route_for(d, "example.org") != nullptr);
    CHECK(route_for(d, "a.b.sub.test")->host == "relay.test");
    CHECK(route_for(d, "sub.test") == nullptr);  // ".sub.test" is for subdomains only
    CHECK(route_for(d, "other.test") == nullptr);
    CHECK(tls_policy_for(d, "example.org") == DeliveryTls::verify);
    CHECK(tls_policy_for(d, "plain.test") == DeliveryTls::none);
    CHECK(tls_policy_for(d, "x.sub.test") == DeliveryTls::may);
    CHECK(tls_policy_for(d, "dane.test") == DeliveryTls::dane);
    CHECK(tls_policy_for(d, "daneonly.test") == DeliveryTls::dane_only);
    CHECK(tls_policy_for(d, "elsewhere.test") == DeliveryTls::encrypt);
}

TEST_CASE("delivery: bad values are one exact line") {
    struct Case {
        const char* label;
        const char* text;
        int line;  // within the section text, 1-based
        const char* want;
    };
    auto tc = GENERATE(values<Case>({
        {"dns server name", "[delivery]\ndns_servers = [\"ns.example.org\"]\n", 2,
         R"(delivery.dns_servers entry "ns.example.org" must be "IP" or "IP:PORT" ("[IPv6]:PORT"))"},
        {"dns server port", "[delivery]\ndns_servers = [\n\"127.0.0.1:0\"]\n", 3,
         R"(delivery.dns_servers entry "127.0.0.1:0" must be "IP" or "IP:PORT" ("[IPv6]:PORT"))"},
        {"dns servers type", "[delivery]\ndns_servers = \"127.0.0.1\"\n", 2,
         "delivery.dns_servers must be a list of strings"},
        {"smarthost port", "[delivery]\nsmarthost = \"smtp.example.net:99999\"\n", 2,
         R"(delivery.smarthost must be "HOST" or "HOST:PORT", not "smtp.example.net:99999")"},
        {"smarthost junk", "[delivery]\nsmarthost = \"smtp example\"\n", 2,
         R"(delivery.smarthost must be "HOST" or "HOST:PORT", not "smtp example")"},
        {"mode", "[delivery]\nsmarthost = \"s.test\"\nsmarthost_mode = \"always\"\n", 3,
         R"(delivery.smarthost_mode must be "fallback" or "exclusive")"},
        {"mode without smarthost", "[delivery]\nsmarthost_mode = \"exclusive\"\n", 2,
         "delivery.smarthost_mode needs delivery.smarthost"},
        {"user without smarthost",
         "[delivery]\nsmarthost_user = \"u\"\nsmarthost_password_file = \"/x\"\n", 2,
         "delivery.smarthost_user needs delivery.smarthost"},
        {"user without password", "[delivery]\nsmarthost = \"s.test\"\nsmarthost_user = \"u\"\n", 3,
         "delivery.smarthost_user needs delivery.smarthost_password_file"},
        {"password without user",
         "[delivery]\nsmarthost = \"s.test\"\nsmarthost_password_file = \"/x\"\n", 3,
         "delivery.smarthost_password_file needs delivery.smarthost_user"},
        {"route value", "[delivery.routes]\n\"example.org\" = \"127.0.0.1:x\"\n", 2,
         R"(delivery.routes."example.org" must be "HOST" or "HOST:PORT", not "127.0.0.1:x")"},
        {"route not a string", "[delivery.routes]\n\"example.org\" = 2526\n", 2,
         R"(delivery.routes."example.org" must be a string)"},
        {"route key", "[delivery.routes]\n\"exa mple.org\" = \"127.0.0.1\"\n", 2,
         R"(delivery.routes."exa mple.org" is not a domain)"},
        {"route twice", "[delivery.routes]\n\"a.test\" = \"h1.test\"\n\"A.test\" = \"h2.test\"\n",
         2, R"(delivery.routes."a.test" is given twice)"},
        {"routes not a table", "[delivery]\nroutes = \"x\"\n", 2,
         "[delivery.routes] must be a table"},
        {"tls value", "[delivery.tls_policy]\n\"example.org\" = \"strict\"\n", 2,
         R"(delivery.tls_policy."example.org" must be "none", "may", "encrypt", "verify", "dane" or "dane-only")"},
        {"tls default", "[delivery]\ntls_policy_default = \"DANE\"\n", 2,
         R"(delivery.tls_policy_default must be "none", "may", "encrypt", "verify", "dane" or "dane-only")"},
        {"limit", "[delivery]\ndestination_concurrency_limit = 0\n", 2,
         "delivery.destination_concurrency_limit must be between 1 and 1000"},
        {"timeout", "[delivery]\ndata_done_timeout_seconds = 0\n", 2,
         "delivery.data_done_timeout_seconds must be between 1 and 3600"},
        {"mx_port", "[delivery]\nmx_port = 0\n", 2, "delivery.mx_port must be between 1 and 65535"},
        {"mta_sts", "[delivery]\nmta_sts = \"yes\"\n", 2, "delivery.mta_sts must be true or false"},
        {"typo", "[delivery]\nsmarthost_pasword_file = \"/x\"\n", 2,
         "unknown setting delivery.smarthost_pasword_file"},
    }));
    DYNAMIC_SECTION(tc.label) {
        TempConfig t(with_delivery(tc.text));
        auto c = load_config(t.file);
        REQUIRE_FALSE(c.has_value());
        const std::string want =
            t.file.string() + ":" + std::to_string(kBaseLines + tc.line) + ": " + tc.want;
        CHECK(c.error() == want);
    }
}

TEST_CASE("delivery: host:port forms") {
    CHECK(parse_host_port("mx.test") == HostPort{"mx.test", 25});
    CHECK(parse_host_port("MX.Test:2525") == HostPort{"mx.test", 2525});
    CHECK(parse_host_port("192.0.2.1:26") == HostPort{"192.0.2.1", 26});
    CHECK(parse_host_port("[2001:db8::1]:26") == HostPort{"2001:db8::1", 26});
    CHECK(parse_host_port("[2001:db8::1]") == HostPort{"2001:db8::1", 25});
    CHECK(parse_host_port("2001:db8::1") == HostPort{"2001:db8::1", 25});
    CHECK_FALSE(parse_host_port(""));
    CHECK_FALSE(parse_host_port(":25"));
    CHECK_FALSE(parse_host_port("mx.test:"));
    CHECK_FALSE(parse_host_port("[mx.test]:25"));
    CHECK_FALSE(parse_host_port("[::1]x"));
    CHECK_FALSE(parse_host_port("mx..test"));
    using namespace std::string_view_literals;
    CHECK_FALSE(parse_host_port("101:db8::1\0\0"sv));  // found by fuzz_host_port
    CHECK_FALSE(parse_host_port("[::1\0]:25"sv));
}

TEST_CASE("delivery: the smarthost password file") {
    TempConfig t("");
    auto file = t.dir / "smarthost.secret";
    auto write = [&](const std::string& text, mode_t mode) {
        std::ofstream(file, std::ios::trunc) << text;
        REQUIRE(::chmod(file.c_str(), mode) == 0);
    };

    SECTION("the first line, owner-only") {
        write("s3cret\nignored\n", 0600);
        auto p = read_smarthost_password(file);
        REQUIRE(p.has_value());
        CHECK(*p == "s3cret");
        write("s3cret", 0640);  // group-readable is fine (a group of relay users)
        CHECK(read_smarthost_password(file).value_or("") == "s3cret");
    }
    SECTION("world-readable is refused") {
        write("s3cret\n", 0644);
        auto p = read_smarthost_password(file);
        REQUIRE_FALSE(p.has_value());
        CHECK(p.error() == file.string() +
                               ": smarthost password file is readable or writable by others "
                               "(chmod o-rw it)");
    }
    SECTION("world-writable is refused") {
        write("s3cret\n", 0602);
        REQUIRE_FALSE(read_smarthost_password(file).has_value());
    }
    SECTION("empty") {
        write("\n", 0600);
        auto p = read_smarthost_password(file);
        REQUIRE_FALSE(p.has_value());
        CHECK(p.error() == file.string() + ": smarthost password file is empty");
    }
    SECTION("missing") {
        auto p = read_smarthost_password(t.dir / "nope");
        REQUIRE_FALSE(p.has_value());
        CHECK(p.error() == (t.dir / "nope").string() +
                               ": cannot read smarthost password: No such file or directory");
    }
    SECTION("a symlink is not followed") {
        write("s3cret\n", 0600);
        std::filesystem::create_symlink(file, t.dir / "link");
        CHECK_FALSE(read_smarthost_password(t.dir / "link").has_value());
    }
}
