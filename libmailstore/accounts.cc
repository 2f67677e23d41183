// Accounts: domains, users and aliases in DATA/accounts/ (see accounts_impl.h). Records
// only: a user's storage is the MailStore's (mailctl makes and retires it around these).
#include <algorithm>

#include "libmailstore/accounts_impl.h"
#include "libmailstore/bytes.h"
#include "libmailstore/maildir_layout.h"
#include "libmailstore/password.h"
#include "libproto/core/log.h"

namespace postern {
namespace {

constexpr uint8_t user_version = 1;

template <class T>
std::unexpected<StoreError> fail(const StoreResult<T>& r) {
    return std::unexpected(r.error());
}

// What problem Accounts::open would meet, and the error it returns for it.
struct OpenProblem {
    StoreError error;
    std::string why;
};

// True when DATA holds a directory named like a domain: an instance that had accounts.
bool has_domain_dirs(const fs::path& data_dir) {
    auto names = list_dir(data_dir);
    if (!names) return false;
    for (const auto& n : *names) {
        auto d = normalize_domain(n);
        std::error_code ec;
        if (d && *d == n && fs::is_directory(data_dir / n, ec)) return true;
    }
    return false;
}

std::optional<OpenProblem> open_problem_of(const fs::path& data_dir, Accounts::Open mode) {
    const fs::path dir = data_dir / "accounts";
    const bool create = mode == Accounts::Open::create;
    std::error_code ec;
    if (!fs::exists(dir, ec) || (create && fs::is_directory(dir, ec) && fs::is_empty(dir, ec))) {
        if (!create)
            return OpenProblem{StoreError::not_found,
                               dir.string() + ": no accounts database (mailctl init makes it)"};
        if (has_domain_dirs(data_dir))
            return OpenProblem{StoreError::corrupt,
                               dir.string() + ": missing, but " + data_dir.string() +
                                   " has domains: the accounts database is lost; restore it"
                                   " from a backup"};
        return std::nullopt;
    }
    auto fc = lmdb::check_data_file(dir);
    switch (fc.state) {
    case lmdb::FileCheck::ok: return std::nullopt;
    case lmdb::FileCheck::unreadable: return OpenProblem{StoreError::temporary, fc.why};
    case lmdb::FileCheck::missing:
    case lmdb::FileCheck::empty:
        return OpenProblem{StoreError::corrupt,
                           fc.why + ": the accounts database is lost; restore it from a backup"};
    case lmdb::FileCheck::damaged: break;
    }
    return OpenProblem{StoreError::corrupt,
                       fc.why + ": the accounts database is damaged; restore it from a backup"};
}

}  // namespace

std::string encode_user(const UserInfo& u) {
    ByteWriter w;
    w.u8(user_version);
    w.str(u.password_hash);
    w.u64(u.quota_bytes);
    w.str(u.scram.salt);
    w.u32(u.scram.iterations);
    w.bytes(u.scram.stored_key.data(), u.scram.stored_key.size());
    w.bytes(u.scram.server_key.data(), u.scram.server_key.size());
    return w.take();
}

std::optional<UserInfo> decode_user(std::string_view v, std::string address) {
    ByteReader r(v);
    if (r.u8() != user_version) return std::nullopt;
    UserInfo u;
    u.address = std::move(address);
    u.password_hash = r.str();
    u.quota_bytes = r.u64();
    u.scram.salt = r.str();
    u.scram.iterations = r.u32();
    r.bytes(u.scram.stored_key.data(), u.scram.stored_key.size());
    r.bytes(u.scram.server_key.data(), u.scram.server_key.size());
    if (!r.ok()) return std::nullopt;
    return u;
}

std::string encode_targets(const std::vector<std::string>& targets) {
    std::string s;
    for (const auto& t : targets) {
        if (!s.empty()) s.push_back('\n');
        s += t;
    }
    return s;
}

std::vector<std::string> decode_targets(std::string_view v) {
    std::vector<std::string> out;
    while (!v.empty()) {
        auto nl = v.find('\n');
        out.emplace_back(v.substr(0, nl));
        if (nl == std::string_view::npos) break;
        v.remove_prefix(nl + 1);
    }
    return out;
}

StoreResult<bool> LmdbAccounts::Impl::domain_exists(lmdb::Txn& txn, const std::string& domain) {
    auto v = txn.get(domains(), domain);
    if (!v) return fail(v);
    return v->has_value();
}

StoreResult<std::optional<UserInfo>> LmdbAccounts::Impl::user(lmdb::Txn& txn, const Address& a) {
    auto v = txn.get(users(), key(a));
    if (!v) return fail(v);
    if (!*v) return std::optional<UserInfo>{};
    auto u = decode_user(**v, a.str());
    if (!u) return std::unexpected(StoreError::corrupt);
    return u;
}

StoreResult<std::optional<std::vector<std::string>>> LmdbAccounts::Impl::alias(lmdb::Txn& txn,
                                                                               const Address& a) {
    auto v = txn.get(aliases(), key(a));
    if (!v) return fail(v);
    if (!*v) return std::optional<std::vector<std::string>>{};
    return std::optional<std::vector<std::string>>{decode_targets(**v)};
}

LmdbAccounts::LmdbAccounts(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LmdbAccounts::~LmdbAccounts() = default;

std::string Accounts::open_problem(const std::filesystem::path& data_dir, Open mode) {
    auto p = open_problem_of(data_dir, mode);
    return p ? p->why : std::string();
}

StoreResult<std::shared_ptr<Accounts>> Accounts::open(const std::filesystem::path& data_dir,
                                                      uint64_t map_size, Open mode) {
    if (auto p = open_problem_of(data_dir, mode)) {
        log_msg(LogLevel::error, "accounts: %s", p->why.c_str());
        return std::unexpected(p->error);
    }
    const fs::path dir = data_dir / "accounts";
    unsigned flags = 0;
    auto how = mode == Open::create ? lmdb::OpenMode::create : lmdb::OpenMode::existing;
    if (mode == Open::read_only) {
        // Without a lock file no process has the database open, and none is made here.
        std::error_code ec;
        flags = MDB_RDONLY | (fs::exists(dir / "lock.mdb", ec) ? 0u : unsigned(MDB_NOLOCK));
    }
    auto env = lmdb::Env::open(dir, map_size, {"domains", "users", "aliases"}, flags, how);
    if (!env) return fail(env);
    auto impl = std::make_unique<LmdbAccounts::Impl>();
    impl->data_dir = data_dir;
    impl->env = std::move(*env);
    return std::shared_ptr<Accounts>(std::make_shared<LmdbAccounts>(std::move(impl)));
}

StoreResult<void> LmdbAccounts::add_domain(std::string_view domain) {
    auto d = normalize_domain(domain);
    if (!d) return fail(d);
    if (mail_domain_problem(*d) != nullptr) return std::unexpected(StoreError::invalid);
    auto txn = lmdb::Txn::begin(*impl_->env, true);
    if (!txn) return fail(txn);
    if (auto r = txn->put(impl_->domains(), *d, "", MDB_NOOVERWRITE); !r) return r;
    // The directory before the commit, removed again if the commit fails.
    const fs::path dir = impl_->data_dir / *d;
    std::error_code ec;
    const bool made = fs::create_directories(dir, ec);
    if (ec) return std::unexpected(StoreError::temporary);
    auto c = txn->commit();
    if (!c && made) fs::remove(dir, ec);
    return c;
}

StoreResult<std::vector<std::string>> LmdbAccounts::del_domain(std::string_view domain,
                                                               bool force) {
    auto d = normalize_domain(domain);
    if (!d) return fail(d);
    auto txn = lmdb::Txn::begin(*impl_->env, true);
    if (!txn) return fail(txn);
    auto exists = impl_->domain_exists(*txn, *d);
    if (!exists) return fail(exists);
    if (!*exists) return std::unexpected(StoreError::not_found);
    std::string prefix = *d + "/";
    std::vector<std::string> deleted;
    for (MDB_dbi dbi : {impl_->users(), impl_->aliases()}) {
        auto cur = lmdb::Cursor::open(*txn, dbi);
        if (!cur) return fail(cur);
        for (cur->seek(prefix); cur->valid() && cur->key().starts_with(prefix);) {
            if (!force) return std::unexpected(StoreError::not_empty);
            if (dbi == impl_->users())
                deleted.push_back(std::string(cur->key().substr(prefix.size())) + "@" + *d);
            if (auto r = cur->del(); !r) return fail(r);
            cur->next();
        }
    }
    if (auto r = txn->del(impl_->domains(), *d); !r) return fail(r);
    if (auto r = txn->commit(); !r) return fail(r);
    return deleted;
}

StoreResult<std::vector<std::string>> LmdbAccounts::list_domains() {
    auto txn = lmdb::Txn::begin(*impl_->env, false);
    if (!txn) return fail(txn);
    auto cur = lmdb::Cursor::open(*txn, impl_->domains());
    if (!cur) return fail(cur);
    std::vector<std::string> out;
    for (cur->first(); cur->valid(); cur->next()) out.emplace_back(cur->key());
    return out;
}

bool LmdbAccounts::has_domain(std::string_view domain) {
    auto d = normalize_domain(domain);
    if (!d) return false;
    auto txn = lmdb::Txn::begin(*impl_->env, false);
    if (!txn) return false;
    auto e = impl_->domain_exists(*txn, *d);
    return e && *e;
}

namespace {

StoreResult<void> insert_user(LmdbAccounts::Impl& impl, const Address& a, const UserInfo& info) {
    auto txn = lmdb::Txn::begin(*impl.env, true);
    if (!txn) return fail(txn);
    auto d = impl.domain_exists(*txn, a.domain);
    if (!d) return fail(d);
    if (!*d) return std::unexpected(StoreError::not_found);
    auto al = impl.alias(*txn, a);
    if (!al) return fail(al);
    if (*al) return std::unexpected(StoreError::exists);
    if (auto r =
            txn->put(impl.users(), LmdbAccounts::Impl::key(a), encode_user(info), MDB_NOOVERWRITE);
        !r)
        return r;
    return txn->commit();
}

}  // namespace

StoreResult<void> LmdbAccounts::add_user(std::string_view address, std::string_view password,
                                         uint64_t quota_bytes) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    if (password.empty()) return std::unexpected(StoreError::invalid);
    auto hash = hash_password(password);
    if (!hash) return fail(hash);
    UserInfo info{a->str(), std::move(*hash), quota_bytes, scram_make_keys(password)};
    return insert_user(*impl_, *a, info);
}

StoreResult<void> LmdbAccounts::add_user_with_hash(std::string_view address, std::string_view hash,
                                                   uint64_t quota_bytes) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    if (hash.empty() || hash.find('\n') != std::string_view::npos)
        return std::unexpected(StoreError::invalid);
    UserInfo info{a->str(), std::string(hash), quota_bytes, {}};
    return insert_user(*impl_, *a, info);
}

StoreResult<void> LmdbAccounts::del_user(std::string_view address) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    auto txn = lmdb::Txn::begin(*impl_->env, true);
    if (!txn) return fail(txn);
    auto r = txn->del(impl_->users(), Impl::key(*a));
    if (!r) return fail(r);
    if (!*r) return std::unexpected(StoreError::not_found);
    return txn->commit();
}

StoreResult<std::vector<std::string>> LmdbAccounts::list_users(std::string_view domain) {
    auto txn = lmdb::Txn::begin(*impl_->env, false);
    if (!txn) return fail(txn);
    std::string prefix;
    if (!domain.empty()) {
        auto d = normalize_domain(domain);
        if (!d) return fail(d);
        auto e = impl_->domain_exists(*txn, *d);
        if (!e) return fail(e);
        if (!*e) return std::unexpected(StoreError::not_found);
        prefix = *d + "/";
    }
    auto cur = lmdb::Cursor::open(*txn, impl_->users());
    if (!cur) return fail(cur);
    std::vector<std::string> out;
    for (cur->seek(prefix); cur->valid() && cur->key().starts_with(prefix); cur->next()) {
        std::string_view k = cur->key();
        auto slash = k.find('/');
        out.push_back(std::string(k.substr(slash + 1)) + "@" + std::string(k.substr(0, slash)));
    }
    return out;
}

namespace {

template <class F>
StoreResult<void> update_user(LmdbAccounts::Impl& impl, std::string_view address, F&& change) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    auto txn = lmdb::Txn::begin(*impl.env, true);
    if (!txn) return fail(txn);
    auto u = impl.user(*txn, *a);
    if (!u) return fail(u);
    if (!*u) return std::unexpected(StoreError::not_found);
    change(**u);
    if (auto r = txn->put(impl.users(), LmdbAccounts::Impl::key(*a), encode_user(**u)); !r)
        return r;
    return txn->commit();
}

}  // namespace

StoreResult<void> LmdbAccounts::set_password(std::string_view address, std::string_view password) {
    if (password.empty()) return std::unexpected(StoreError::invalid);
    auto hash = hash_password(password);
    if (!hash) return fail(hash);
    ScramKeys keys = scram_make_keys(password);
    return update_user(*impl_, address, [&](UserInfo& u) {
        u.password_hash = *hash;
        u.scram = keys;
    });
}

StoreResult<void> LmdbAccounts::set_quota(std::string_view address, uint64_t quota_bytes) {
    return update_user(*impl_, address, [&](UserInfo& u) { u.quota_bytes = quota_bytes; });
}

StoreResult<UserInfo> LmdbAccounts::get_user(std::string_view address) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    auto txn = lmdb::Txn::begin(*impl_->env, false);
    if (!txn) return fail(txn);
    auto u = impl_->user(*txn, *a);
    if (!u) return fail(u);
    if (!*u) return std::unexpected(StoreError::not_found);
    return std::move(**u);
}

StoreResult<void> LmdbAccounts::add_alias(std::string_view address,
                                          const std::vector<std::string>& targets,
                                          std::vector<std::string>* loop) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    if (targets.empty()) return std::unexpected(StoreError::invalid);
    std::vector<std::string> norm;
    for (const auto& t : targets) {
        auto n = normalize_address(t);
        if (!n) return fail(n);
        if (std::find(norm.begin(), norm.end(), *n) == norm.end()) norm.push_back(*n);
    }
    auto txn = lmdb::Txn::begin(*impl_->env, true);
    if (!txn) return fail(txn);
    auto d = impl_->domain_exists(*txn, a->domain);
    if (!d) return fail(d);
    if (!*d) return std::unexpected(StoreError::not_found);
    auto u = impl_->user(*txn, *a);
    if (!u) return fail(u);
    if (*u) return std::unexpected(StoreError::exists);
    if (auto r = txn->put(impl_->aliases(), Impl::key(*a), encode_targets(norm), MDB_NOOVERWRITE);
        !r)
        return r;
    // Expand it as delivery would, with the new alias in place (the transaction sees its own
    // put): a loop found now is refused instead of bouncing every message later.
    auto chain = find_alias_loop(*impl_, *txn, a->str());
    if (!chain) return fail(chain);
    if (!chain->empty()) {
        if (loop) *loop = std::move(*chain);
        return std::unexpected(StoreError::loop);
    }
    return txn->commit();
}

StoreResult<void> LmdbAccounts::del_alias(std::string_view address) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    auto txn = lmdb::Txn::begin(*impl_->env, true);
    if (!txn) return fail(txn);
    auto r = txn->del(impl_->aliases(), Impl::key(*a));
    if (!r) return fail(r);
    if (!*r) return std::unexpected(StoreError::not_found);
    return txn->commit();
}

StoreResult<std::vector<AliasInfo>> LmdbAccounts::list_aliases(std::string_view domain) {
    auto txn = lmdb::Txn::begin(*impl_->env, false);
    if (!txn) return fail(txn);
    std::string prefix;
    if (!domain.empty()) {
        auto d = normalize_domain(domain);
        if (!d) return fail(d);
        auto e = impl_->domain_exists(*txn, *d);
        if (!e) return fail(e);
        if (!*e) return std::unexpected(StoreError::not_found);
        prefix = *d + "/";
    }
    auto cur = lmdb::Cursor::open(*txn, impl_->aliases());
    if (!cur) return fail(cur);
    std::vector<AliasInfo> out;
    for (cur->seek(prefix); cur->valid() && cur->key().starts_with(prefix); cur->next()) {
        std::string_view k = cur->key();
        auto slash = k.find('/');
        out.push_back({std::string(k.substr(slash + 1)) + "@" + std::string(k.substr(0, slash)),
                       decode_targets(cur->value())});
    }
    return out;
}

std::vector<std::string> LmdbAccounts::verify() {
    std::vector<std::string> out;
    const std::string where = (impl_->data_dir / "accounts").string() + ": ";
    if (auto e = impl_->env->verify(); !e.empty()) {
        out.push_back(where + e);
        return out;
    }
    auto txn = lmdb::Txn::begin(*impl_->env, false);
    if (!txn) return {where + describe(txn.error())};
    auto cur = lmdb::Cursor::open(*txn, impl_->users());
    if (!cur) return {where + describe(cur.error())};
    for (cur->first(); cur->valid(); cur->next()) {
        std::string_view k = cur->key();
        auto slash = k.find('/');
        std::string addr = std::string(k);
        if (slash != std::string_view::npos)
            addr = std::string(k.substr(slash + 1)) + "@" + std::string(k.substr(0, slash));
        auto a = parse_address(addr);
        if (!a || Impl::key(*a) != k || !decode_user(cur->value(), addr)) {
            out.push_back(where + "user record " + std::string(k) + " is unreadable");
            continue;
        }
        std::error_code ec;
        auto md = impl_->data_dir / a->domain / a->local / "Maildir";
        if (!fs::is_directory(md, ec))
            out.push_back(md.string() + ": missing (user " + addr + " has no maildir)");
    }
    return out;
}

}  // namespace postern
