// index rebuild: the LMDB index is a cache of the maildir files; this remakes it.

#include <cstdio>
#include <filesystem>

#include "ctl/accounts_cli.h"
#include "ctl/ctl.h"
#include "ctl/store_errors.h"
#include "libmailstore/store_factory.h"
#include "libmailstore/address.h"
#include "libmailstore/store.h"
#include "libmailstore/store_check.h"

namespace postern::ctl {
namespace {

std::string index_user;

// A damaged index (empty, truncated) cannot be opened; it is only a cache, so it moves to
// index.damaged (replacing an older one) and the rebuild makes a new one from the maildir.
// Daemons that had the old one open keep it until they restart. false: it could not move.
bool set_aside_damaged(const Config& c, const std::string& user) {
    auto why = index_problem(c.data_dir, user);
    if (why.empty()) return true;
    auto at = user.rfind('@');
    auto root = c.data_dir / user.substr(at + 1) / user.substr(0, at);
    std::error_code ec;
    std::filesystem::remove_all(root / "index.damaged", ec);
    std::filesystem::rename(root / "index", root / "index.damaged", ec);
    if (ec) {
        fail(exit_failed, why + "; cannot move it aside: " + ec.message());
        return false;
    }
    std::printf("%s; moved it to %s (restart the daemons after the rebuild)\n", why.c_str(),
                (root / "index.damaged").c_str());
    return true;
}

int index_rebuild(const Config& c) {
    std::string user;
    if (!index_user.empty()) {
        auto n = normalize_address(index_user);
        if (!n) return fail(exit_usage, "invalid address (want user@domain): " + index_user);
        user = *n;
    }
    for (const auto& u : user.empty() ? users_on_disk(c.data_dir) : std::vector{user})
        if (!set_aside_damaged(c, u)) return exit_failed;
    StoreOptions opts;
    opts.disk_reserve_bytes = c.store.disk_reserve_bytes;
    if (auto bad = backend_problem(c.store.backend); !bad.empty()) return fail(exit_failed, bad);
    auto store = open_store(c.store.backend, c.data_dir, opts);
    if (!store) return store_fail(store.error(), "cannot open the store in " + c.data_dir.string());
    auto stats = user.empty() ? (*store)->rebuild_all() : (*store)->rebuild_index(user);
    if (!stats) {
        if (stats.error() == StoreError::not_found)
            return fail(exit_failed, "no such user: " + user);
        return store_fail(stats.error(),
                          "rebuilding the index of " + (user.empty() ? "all users" : user));
    }
    std::printf("rebuilt %s: %u folders, %u messages, %u new UIDs, %u stale tmp files removed\n",
                user.empty() ? "all users" : user.c_str(), stats->folders, stats->messages,
                stats->new_uids, stats->tmp_removed);
    return exit_ok;
}

}  // namespace

void add_index_commands(CLI::App& app, const WithConfig& with_config) {
    auto* index = app.add_subcommand("index", "maintain the mailbox indexes");
    index->require_subcommand(1);
    auto* rebuild =
        index->add_subcommand("rebuild", "rebuild a user's index from the maildir files");
    rebuild->add_option("ADDRESS", index_user, "user@domain (default: every user)");
    with_config(rebuild, index_rebuild);
}

}  // namespace postern::ctl
