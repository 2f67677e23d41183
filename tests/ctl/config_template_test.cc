#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "ctl/config_template.h"
#include "config/config.h"

using namespace postern::ctl;

TEST_CASE("render_config replaces settings by section and keeps everything else") {
    const std::string tmpl =
        "# comment: port = 1\n"
        "[a]\n"
        "# port = 2\n"
        "port = 25\n"
        "name = \"x\"  \n"
        "\n"
        "[b]\n"
        "  port = 110\n"
        "list = [1, 2]";
    struct Case {
        const char* label;
        std::vector<ConfigValue> values;
        std::string want;
    };
    auto kase = GENERATE_COPY(values<Case>({
        {"nothing", {}, tmpl},
        {"one in a",
         {{"a.port", "2525"}},
         "# comment: port = 1\n[a]\n# port = 2\nport = 2525\nname = \"x\"  \n\n[b]\n  port = 110\n"
         "list = [1, 2]"},
        {"indented in b, last line without newline",
         {{"b.port", "10110"}, {"b.list", "[]"}},
         "# comment: port = 1\n[a]\n# port = 2\nport = 25\nname = \"x\"  \n\n[b]\n  port = 10110\n"
         "list = []"},
        {"string value",
         {{"a.name", "\"y\""}},
         "# comment: port = 1\n[a]\n# port = 2\nport = 25\nname = \"y\"\n\n[b]\n  port = 110\n"
         "list = [1, 2]"},
    }));
    DYNAMIC_SECTION(kase.label) {
        auto got = render_config(tmpl, kase.values);
        REQUIRE(got.has_value());
        INFO("got:\n" << *got << "\nwant:\n" << kase.want);
        CHECK(*got == kase.want);
    }
}

TEST_CASE("render_config reports a setting the template lacks") {
    auto got = render_config("[a]\nport = 1\n", {{"b.port", "2"}});
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error() == "config template has no setting b.port");
}

TEST_CASE("toml_string quotes and escapes") {
    auto [in, want] = GENERATE(table<std::string, std::string>({
        {"plain", "\"plain\""},
        {"a\"b", "\"a\\\"b\""},
        {"back\\slash", "\"back\\\\slash\""},
        {std::string("nl\n\x01", 4), "\"nl\\n\\u0001\""},
    }));
    INFO("in " << in);
    CHECK(toml_string(in) == want);
}

TEST_CASE("the compiled-in template is etc/postern.toml") {
    std::ifstream f(POSTERN_SOURCE_DIR "/etc/postern.toml", std::ios::binary);
    REQUIRE(f);
    std::stringstream ss;
    ss << f.rdbuf();
    INFO("rebuild mailctl after editing etc/postern.toml");
    CHECK(std::string(config_template()) == ss.str());
}

TEST_CASE("etc/postern.toml loads as the system config: run user postern, no root, no warnings") {
    auto c = postern::load_config(POSTERN_SOURCE_DIR "/etc/postern.toml");
    REQUIRE(c.has_value());
    CHECK(c->run_user == "postern");
    CHECK_FALSE(c->allow_root);
    CHECK(c->warnings.empty());
}

TEST_CASE("the template cut short anywhere before its last required line is refused") {
    const std::string text(config_template());
    const auto last = text.find("\nkey = ");  // tls.key, the last required setting
    REQUIRE(last != std::string::npos);
    char tmpl[] = "/tmp/postern-ctl-test-XXXXXX";
    const std::filesystem::path dir = ::mkdtemp(tmpl);
    const auto file = dir / "postern.toml";
    int cuts = 0;
    for (size_t cut = 0; cut <= last; cut = text.find('\n', cut) + 1) {
        std::ofstream(file, std::ios::trunc) << text.substr(0, cut);
        auto c = postern::load_config(file);
        INFO("cut after " << cut << " bytes");
        CHECK_FALSE(c.has_value());
        if (!c) CHECK(c.error().starts_with(file.string() + ":"));
        ++cuts;
    }
    CHECK(cuts > 30);
    std::filesystem::remove_all(dir);
}
