#pragma once
// For tests of delivery-time loop detection: Accounts::add_alias refuses aliases that loop,
// so a test that needs one (as an old database could hold) writes the record directly, in
// the layout of accounts_impl.h ("<domain>/<local>" -> targets joined by '\n').

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "libmailstore/lmdb_env.h"

namespace postern::test {

inline void put_raw_alias(const std::filesystem::path& data_dir, const std::string& local,
                          const std::string& domain, const std::vector<std::string>& targets) {
    // The process already has the environment open through Accounts: this is the same Env.
    auto env = lmdb::Env::open(data_dir / "accounts", 64ull << 20, {"domains", "users", "aliases"},
                               0, lmdb::OpenMode::existing);
    REQUIRE(env);
    auto txn = lmdb::Txn::begin(**env, true);
    REQUIRE(txn);
    std::string joined;
    for (const auto& t : targets) joined += (joined.empty() ? "" : "\n") + t;
    REQUIRE(txn->put((*env)->dbi(2), domain + "/" + local, joined));
    REQUIRE(txn->commit());
}

}  // namespace postern::test
