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

// The LMDB accounts (what Accounts::open returns).
class LmdbAccounts final : public Accounts {
public:
    struct Impl;
    explicit LmdbAccounts(std::unique_ptr<Impl> impl);
    ~LmdbAccounts() override;
    LmdbAccounts(const LmdbAccounts&) = delete;
    LmdbAccounts& operator=(const LmdbAccounts&) = delete;

    StoreResult<void> add_domain(std::string_view domain) override;
    StoreResult<std::vector<std::string>> del_domain(std::string_view domain, bool force) override;
    StoreResult<std::vector<std::string>> list_domains() override;
    bool has_domain(std::string_view domain) override;
    StoreResult<void> add_user(std::string_view address, std::string_view password,
                               uint64_t quota_bytes) override;
    StoreResult<void> add_user_with_hash(std::string_view address, std::string_view hash,
                                         uint64_t quota_bytes) override;
    StoreResult<void> del_user(std::string_view address) override;
    StoreResult<std::vector<std::string>> list_users(std::string_view domain) override;
    StoreResult<void> set_password(std::string_view address, std::string_view password) override;
    StoreResult<void> set_quota(std::string_view address, uint64_t quota_bytes) override;
    StoreResult<UserInfo> get_user(std::string_view address) override;
    StoreResult<void> add_alias(std::string_view address, const std::vector<std::string>& targets,
                                std::vector<std::string>* loop) override;
    StoreResult<void> del_alias(std::string_view address) override;
    StoreResult<std::vector<AliasInfo>> list_aliases(std::string_view domain) override;
    StoreResult<std::string> resolve_login(std::string_view login) override;
    bool verify_password(std::string_view address, std::string_view password) override;
    StoreResult<ScramKeys> scram_credentials(std::string_view address) override;
    StoreResult<RecipientKind> resolve_recipient(std::string_view address) override;
    StoreResult<RecipientExpansion> expand_recipient(std::string_view address) override;
    std::vector<std::string> verify() override;

private:
    std::unique_ptr<Impl> impl_;
};

struct LmdbAccounts::Impl {
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
StoreResult<std::vector<std::string>> find_alias_loop(LmdbAccounts::Impl& impl, lmdb::Txn& txn,
                                                      const std::string& address);

std::string encode_user(const UserInfo& u);
std::optional<UserInfo> decode_user(std::string_view v, std::string address);
std::string encode_targets(const std::vector<std::string>& targets);
std::vector<std::string> decode_targets(std::string_view v);

}  // namespace postern
