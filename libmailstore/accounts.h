#pragma once
// Domains, users and aliases, kept in one LMDB environment in DATA/accounts/.
// All names are normalized (see address.h) before they are stored or looked up, so
// callers may pass any case. Safe to use from several processes at once (LMDB);
// one Accounts object per process per data dir is enough (it may be shared by threads).
//
// Accounts are records only: a user's mail storage is the MailStore's (create_user,
// remove_user in store.h), and mailctl orders the two so that a failure leaves nothing
// half-done (docs/store.md, "Users' storage"). A user named `nobody@D` is domain D's
// catch-all.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/store_error.h"
#include "libproto/core/scram_keys.h"

namespace postern {

struct UserInfo {
    std::string address;        // canonical "local@domain"
    std::string password_hash;  // "$y$..." or an imported {SCHEME} hash
    uint64_t quota_bytes = 0;   // 0: unlimited
    ScramKeys scram;            // empty stored_key when the hash was imported without a password
};

struct AliasInfo {
    std::string address;               // canonical "local@domain" (local domain)
    std::vector<std::string> targets;  // normalized addresses, local or remote
};

enum class RecipientKind {
    local_user,     // a user of a local domain
    alias,          // an alias of a local domain
    catch_all,      // unknown local part, but the domain has nobody@domain
    unknown_local,  // local domain, no such user/alias, no catch-all: reject (550 5.1.1)
    not_local,      // domain is not ours: relay decision belongs to the caller
};

struct RecipientExpansion {
    std::vector<std::string> local_mailboxes;  // users to deliver to, "user@domain", deduplicated
    std::vector<std::string> remote;           // non-local addresses to relay to, deduplicated
};

// The accounts interface; Accounts::open gives the LMDB one (accounts_impl.h), and another
// directory (SQL, LDAP) would implement the same calls.
class Accounts {
public:
    // What open may do with DATA/accounts/. The database is made once, for a new instance;
    // after that a missing, empty or truncated one is an error, never a new empty database
    // (which would silently lose every account).
    enum class Open {
        existing,   // daemons and mailctl: not_found when DATA/accounts/ is not there,
                    // corrupt when its data.mdb is missing, empty, truncated or damaged
        create,     // mailctl init and domain add: as existing, but a new instance (neither
                    // DATA/accounts/ nor any domain directory under DATA) gets an empty one
        read_only,  // mailctl check: as existing, opened MDB_RDONLY (without a lock file
                    // when there is none, so nothing is created)
    };

    // Opens the LMDB accounts in DATA/accounts/. map_size is the LMDB map size in bytes.
    static StoreResult<std::shared_ptr<Accounts>> open(const std::filesystem::path& data_dir,
                                                       uint64_t map_size = 1ull << 30,
                                                       Open mode = Open::existing);
    // Why open(data_dir, ..., mode) would fail, found from the files without mapping them:
    // one line naming the file and what to do, or "" (for mailctl's one-line errors).
    static std::string open_problem(const std::filesystem::path& data_dir, Open mode);
    virtual ~Accounts() = default;

    // Domains. add_domain refuses (invalid) what cannot be a mail domain of ours: see
    // mail_domain_problem in address.h. del_domain refuses with not_empty while users or
    // aliases remain, unless force (then they are deleted too, in the same transaction) and
    // returns the users it deleted, sorted (their storage is the caller's to retire).
    virtual StoreResult<void> add_domain(std::string_view domain) = 0;
    virtual StoreResult<std::vector<std::string>> del_domain(std::string_view domain,
                                                             bool force = false) = 0;
    virtual StoreResult<std::vector<std::string>> list_domains() = 0;
    virtual bool has_domain(std::string_view domain) = 0;

    // Users. add_user fails with exists (user or alias of that name), not_found (domain
    // unknown), invalid (bad name, empty password). Nothing is left behind when it fails.
    virtual StoreResult<void> add_user(std::string_view address, std::string_view password,
                                       uint64_t quota_bytes = 0) = 0;
    // Imports an existing hash (any form password.h verifies); SCRAM is then unavailable
    // for the user until set_password.
    virtual StoreResult<void> add_user_with_hash(std::string_view address, std::string_view hash,
                                                 uint64_t quota_bytes = 0) = 0;
    // Removes the account record (not_found for an unknown user).
    virtual StoreResult<void> del_user(std::string_view address) = 0;
    // Sorted "user@domain" list; domain empty: all domains (not_found if domain unknown).
    virtual StoreResult<std::vector<std::string>> list_users(std::string_view domain = {}) = 0;
    virtual StoreResult<void> set_password(std::string_view address, std::string_view password) = 0;
    virtual StoreResult<void> set_quota(std::string_view address, uint64_t quota_bytes) = 0;
    virtual StoreResult<UserInfo> get_user(std::string_view address) = 0;

    // Aliases: address must be in a local domain and not be a user; targets are non-empty
    // valid addresses (local or remote). add_alias on an existing alias fails with exists,
    // and with loop when, with it in place, expanding it or any alias that reaches it
    // (through other aliases and catch-alls) would loop or nest deeper than expand_recipient
    // allows, so delivery would bounce; then *loop (if given) gets the chain through it, e.g.
    // {a, b, a} (a cycle starts and ends alike).
    virtual StoreResult<void> add_alias(std::string_view address,
                                        const std::vector<std::string>& targets,
                                        std::vector<std::string>* loop = nullptr) = 0;
    virtual StoreResult<void> del_alias(std::string_view address) = 0;
    // All aliases, or one domain's (not_found for an unknown domain), sorted by address.
    virtual StoreResult<std::vector<AliasInfo>> list_aliases(std::string_view domain = {}) = 0;

    // Login name -> canonical "user@domain": "user@domain", "user%domain", or a bare "user"
    // held by exactly one domain. not_found when unknown or ambiguous, invalid when malformed.
    virtual StoreResult<std::string> resolve_login(std::string_view login) = 0;

    // True when address names a user and password matches. Runs a dummy hash for unknown
    // users so timing does not reveal which users exist.
    virtual bool verify_password(std::string_view address, std::string_view password) = 0;

    // The user's SCRAM-SHA-256 keys; not_found for unknown users or users without keys.
    virtual StoreResult<ScramKeys> scram_credentials(std::string_view address) = 0;

    // What RCPT TO needs to know about an address (invalid for a malformed one).
    virtual StoreResult<RecipientKind> resolve_recipient(std::string_view address) = 0;

    // Final destinations: aliases expanded recursively (max depth 10), unknown local parts
    // sent to the catch-all. loop when aliases form a cycle; not_found when a local
    // address resolves to nothing (unknown_local). Remote addresses pass through.
    virtual StoreResult<RecipientExpansion> expand_recipient(std::string_view address) = 0;

    // Reads every record (for mailctl check): one line per problem (an unreadable database
    // or record, a user without a maildir); empty when all is well.
    virtual std::vector<std::string> verify() = 0;
};

// StoreOptions::quota_of over these accounts: the user's quota_bytes, 0 (none) for an
// unknown user or an unreadable record (the store then delivers; the account check is
// the recipient lookup's job). accounts_quota.cc.
std::function<uint64_t(std::string_view user)> quota_lookup(std::shared_ptr<Accounts> accounts);

}  // namespace postern
