#pragma once
// Internal to accounts*.cc: the LMDB layout of DATA/accounts/.
//   domains  "<domain>" -> ""
//   users    "<domain>/<local>" -> encoded UserInfo (sorted by domain, then local)
//   aliases  "<domain>/<local>" -> targets joined by '\n'

#include <optional>

#include "libmailstore/accounts.h"
#include "libmailstore/address.h"
#include "libmailstore/lmdb_env.h"

namespace postern {

struct Accounts::Impl {
    std::filesystem::path data_dir;
    std::shared_ptr<lmdb::Env> env;
    MDB_dbi domains() const { return env->dbi(0); }
    MDB_dbi users() const { return env->dbi(1); }
    MDB_dbi aliases() const { return env->dbi(2); }

    static std::string key(const Address& a) { return a.domain + "/" + a.local; }
    StoreResult<bool> domain_exists(lmdb::Txn& txn, const std::string& domain);
    StoreResult<std::optional<UserInfo>> user(lmdb::Txn& txn, const Address& a);
    StoreResult<std::optional<std::vector<std::string>>> alias(lmdb::Txn& txn, const Address& a);
};

// The alias chain, through address, that makes an expansion loop or nest too deep ({a, b, a}
// for a cycle, which starts and ends alike; the chain down to the limit otherwise), or empty.
// Expands address and every other alias, reading through txn, so a write transaction's own
// puts count. Logs nothing (accounts_resolve.cc).
StoreResult<std::vector<std::string>> find_alias_loop(Accounts::Impl& impl, lmdb::Txn& txn,
                                                      const std::string& address);

std::string encode_user(const UserInfo& u);
std::optional<UserInfo> decode_user(std::string_view v, std::string address);
std::string encode_targets(const std::vector<std::string>& targets);
std::vector<std::string> decode_targets(std::string_view v);

}  // namespace postern
