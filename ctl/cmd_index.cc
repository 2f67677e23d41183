// index rebuild: the LMDB index is a cache of the maildir files; this remakes it.

#include <cstdio>

#include "ctl/accounts_cli.h"
#include "ctl/ctl.h"
#include "ctl/store_errors.h"
#include "libmailstore/address.h"
#include "libmailstore/store.h"

namespace postern::ctl {
namespace {

std::string index_user;

int index_rebuild(const Config& c) {
    std::string user;
    if (!index_user.empty()) {
        auto n = normalize_address(index_user);
        if (!n) return fail(exit_usage, "invalid address (want user@domain): " + index_user);
        user = *n;
    }
    StoreOptions opts;
    opts.disk_reserve_bytes = c.store.disk_reserve_bytes;
    auto store = open_maildir_store(c.data_dir, opts);
    if (!store) return store_fail(store.error(), "cannot open the store in " + c.data_dir.string());
    auto stats = user.empty() ? (*store)->rebuild_all() : (*store)->rebuild_index(user);
    if (!stats) {
        if (stats.error() == StoreError::not_found) return fail(exit_failed, "no such user: " + user);
        return store_fail(stats.error(), "rebuilding the index of " + (user.empty() ? "all users" : user));
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
    auto* rebuild = index->add_subcommand("rebuild", "rebuild a user's index from the maildir files");
    rebuild->add_option("ADDRESS", index_user, "user@domain (default: every user)");
    with_config(rebuild, index_rebuild);
}

}  // namespace postern::ctl
