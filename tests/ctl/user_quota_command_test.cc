// `mailctl user quota` and `user add --quota` through the real grammar (add_account_commands)
// over LMDB accounts in a temp dir: what each size does to the account's quota_bytes, and
// that a refused size or user is the right exit code and changes nothing.
#include <stdlib.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

#include "config/config.h"
#include "ctl/accounts_cli.h"
#include "ctl/ctl.h"
#include "libmailstore/accounts.h"

using namespace postern;
using namespace postern::ctl;

namespace {

const std::string alice = "alice@example.test";

struct Instance {
    Config config;
    Instance() {
        char tmpl[] = "/tmp/ctl-quota-XXXXXX";
        config.data_dir = std::filesystem::path(::mkdtemp(tmpl)) / "data";
        std::filesystem::create_directories(config.data_dir);
        auto acc =
            Accounts::open(config.data_dir, config.store.lmdb_map_size, Accounts::Open::create);
        REQUIRE(acc);
        REQUIRE((*acc)->add_domain("example.test"));
        REQUIRE((*acc)->add_user(alice, "pw-of-alice"));
    }  // the accounts are closed again: LMDB wants one open per process at a time
    ~Instance() { std::filesystem::remove_all(config.data_dir.parent_path()); }

    // Runs `mailctl ARGS` (the store commands' part of the grammar) and returns its exit code.
    int run(const std::string& args) {
        CLI::App app;
        int code = -1;
        add_account_commands(app, [&](CLI::App* sub, std::function<int(const Config&)> cmd) {
            sub->callback([this, &code, cmd] { code = cmd(config); });
        });
        app.parse(args, false);
        return code;
    }

    uint64_t quota(const std::string& user) {
        auto acc = Accounts::open(config.data_dir, config.store.lmdb_map_size);
        REQUIRE(acc);
        auto u = (*acc)->get_user(user);
        REQUIRE(u);
        return u->quota_bytes;
    }
};

}  // namespace

TEST_CASE("user quota sets what the size says", "[ctl][quota]") {
    Instance inst;
    REQUIRE(inst.quota(alice) == 0);
    auto [size, want] = GENERATE(table<std::string, uint64_t>({
        {"500M", 500ull << 20},
        {"2G", 2ull << 30},
        {"1048576", 1048576},
        {"none", 0},
        {"0", 0},
    }));
    DYNAMIC_SECTION(size) {
        REQUIRE(inst.run("user quota " + alice + " 7K") == exit_ok);
        REQUIRE(inst.quota(alice) == 7 << 10);
        CHECK(inst.run("user quota " + alice + " " + size) == exit_ok);
        CHECK(inst.quota(alice) == want);
    }
}

TEST_CASE("user quota refuses bad input and changes nothing", "[ctl][quota]") {
    Instance inst;
    REQUIRE(inst.run("user quota " + alice + " 3M") == exit_ok);
    auto [args, want] = GENERATE(table<std::string, int>({
        {"user quota " + alice + " -5", exit_usage},
        {"user quota " + alice + " 99999999999999999999", exit_usage},
        {"user quota " + alice + " 5X", exit_usage},
        {"user quota not-an-address 1M", exit_usage},
        {"user quota nobody-here@example.test 1M", exit_failed},
    }));
    DYNAMIC_SECTION(args) {
        CHECK(inst.run(args) == want);
        CHECK(inst.quota(alice) == 3 << 20);
    }
}
