// Accounts: domains, users and aliases in DATA/accounts/ (see accounts_impl.h).
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "libmailstore/accounts_impl.h"
#include "libmailstore/bytes.h"
#include "libmailstore/maildir_layout.h"
#include "libmailstore/password.h"
#include "libproto/log.h"

namespace postern {
namespace {

constexpr uint8_t user_version = 1;

template <class T>
std::unexpected<StoreError> fail(const StoreResult<T>& r) {
    return std::unexpected(r.error());
}

// Moves a deleted user's directory aside: DATA/<domain>/.deleted-<local>-<time>.
void retire_maildir(const fs::path& data_dir, const Address& a) {
    fs::path from = data_dir / a.domain / a.local;
    fs::path to = data_dir / a.domain /
                  (".deleted-" + a.local + "-" + std::to_string(std::time(nullptr)));
    if (::rename(from.c_str(), to.c_str()) == 0) {
        log_msg(LogLevel::info, "accounts: mail of %s kept in %s", a.str().c_str(), to.c_str());
        (void)fsync_path(data_dir / a.domain);
    }
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

StoreResult<bool> Accounts::Impl::domain_exists(lmdb::Txn& txn, const std::string& domain) {
    auto v = txn.get(domains(), domain);
    if (!v) return fail(v);
    return v->has_value();
}

StoreResult<std::optional<UserInfo>> Accounts::Impl::user(lmdb::Txn& txn, const Address& a) {
    auto v = txn.get(users(), key(a));
    if (!v) return fail(v);
    if (!*v) return std::optional<UserInfo>{};
    auto u = decode_user(**v, a.str());
    if (!u) return std::unexpected(StoreError::corrupt);
    return u;
}

StoreResult<std::optional<std::vector<std::string>>> Accounts::Impl::alias(lmdb::Txn& txn,
                                                                            const Address& a) {
    auto v = txn.get(aliases(), key(a));
    if (!v) return fail(v);
    if (!*v) return std::optional<std::vector<std::string>>{};
    return std::optional<std::vector<std::string>>{decode_targets(**v)};
}

Accounts::Accounts(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Accounts::~Accounts() = default;

const std::filesystem::path& Accounts::data_dir() const { return impl_->data_dir; }

StoreResult<std::shared_ptr<Accounts>> Accounts::open(const std::filesystem::path& data_dir,
                                                      uint64_t map_size) {
    auto env = lmdb::Env::open(data_dir / "accounts", map_size, {"domains", "users", "aliases"},
                               0, true);
    if (!env) return fail(env);
    auto impl = std::make_unique<Impl>();
    impl->data_dir = data_dir;
    impl->env = std::move(*env);
    return std::shared_ptr<Accounts>(new Accounts(std::move(impl)));
}

StoreResult<void> Accounts::add_domain(std::string_view domain) {
    auto d = normalize_domain(domain);
    if (!d) return fail(d);
    auto txn = lmdb::Txn::begin(*impl_->env, true);
    if (!txn) return fail(txn);
    if (auto r = txn->put(impl_->domains(), *d, "", MDB_NOOVERWRITE); !r) return r;
    std::error_code ec;
    fs::create_directories(impl_->data_dir / *d, ec);
    if (ec) return std::unexpected(StoreError::temporary);
    return txn->commit();
}

StoreResult<void> Accounts::del_domain(std::string_view domain, bool force) {
    auto d = normalize_domain(domain);
    if (!d) return fail(d);
    auto txn = lmdb::Txn::begin(*impl_->env, true);
    if (!txn) return fail(txn);
    auto exists = impl_->domain_exists(*txn, *d);
    if (!exists) return fail(exists);
    if (!*exists) return std::unexpected(StoreError::not_found);
    std::string prefix = *d + "/";
    std::vector<Address> retired;
    for (MDB_dbi dbi : {impl_->users(), impl_->aliases()}) {
        auto cur = lmdb::Cursor::open(*txn, dbi);
        if (!cur) return fail(cur);
        for (cur->seek(prefix); cur->valid() && cur->key().starts_with(prefix);) {
            if (!force) return std::unexpected(StoreError::not_empty);
            if (dbi == impl_->users())
                retired.push_back({std::string(cur->key().substr(prefix.size())), *d});
            if (auto r = cur->del(); !r) return r;
            cur->next();
        }
    }
    if (auto r = txn->del(impl_->domains(), *d); !r) return fail(r);
    if (auto r = txn->commit(); !r) return r;
    for (const auto& a : retired) retire_maildir(impl_->data_dir, a);
    return {};
}

StoreResult<std::vector<std::string>> Accounts::list_domains() {
    auto txn = lmdb::Txn::begin(*impl_->env, false);
    if (!txn) return fail(txn);
    auto cur = lmdb::Cursor::open(*txn, impl_->domains());
    if (!cur) return fail(cur);
    std::vector<std::string> out;
    for (cur->first(); cur->valid(); cur->next()) out.emplace_back(cur->key());
    return out;
}

bool Accounts::has_domain(std::string_view domain) {
    auto d = normalize_domain(domain);
    if (!d) return false;
    auto txn = lmdb::Txn::begin(*impl_->env, false);
    if (!txn) return false;
    auto e = impl_->domain_exists(*txn, *d);
    return e && *e;
}

namespace {

StoreResult<void> insert_user(Accounts::Impl& impl, const Address& a, const UserInfo& info) {
    auto txn = lmdb::Txn::begin(*impl.env, true);
    if (!txn) return fail(txn);
    auto d = impl.domain_exists(*txn, a.domain);
    if (!d) return fail(d);
    if (!*d) return std::unexpected(StoreError::not_found);
    auto al = impl.alias(*txn, a);
    if (!al) return fail(al);
    if (*al) return std::unexpected(StoreError::exists);
    if (auto r = txn->put(impl.users(), Accounts::Impl::key(a), encode_user(info), MDB_NOOVERWRITE);
        !r)
        return r;
    if (auto r = create_user_maildir(impl.data_dir, a.local, a.domain); !r) return r;
    return txn->commit();
}

}  // namespace

StoreResult<void> Accounts::add_user(std::string_view address, std::string_view password,
                                     uint64_t quota_bytes) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    if (password.empty()) return std::unexpected(StoreError::invalid);
    auto hash = hash_password(password);
    if (!hash) return fail(hash);
    UserInfo info{a->str(), std::move(*hash), quota_bytes, scram_make_keys(password)};
    return insert_user(*impl_, *a, info);
}

StoreResult<void> Accounts::add_user_with_hash(std::string_view address, std::string_view hash,
                                               uint64_t quota_bytes) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    if (hash.empty() || hash.find('\n') != std::string_view::npos)
        return std::unexpected(StoreError::invalid);
    UserInfo info{a->str(), std::string(hash), quota_bytes, {}};
    return insert_user(*impl_, *a, info);
}

StoreResult<void> Accounts::del_user(std::string_view address) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    auto txn = lmdb::Txn::begin(*impl_->env, true);
    if (!txn) return fail(txn);
    auto r = txn->del(impl_->users(), Impl::key(*a));
    if (!r) return fail(r);
    if (!*r) return std::unexpected(StoreError::not_found);
    if (auto c = txn->commit(); !c) return c;
    retire_maildir(impl_->data_dir, *a);
    return {};
}

StoreResult<std::vector<std::string>> Accounts::list_users(std::string_view domain) {
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
StoreResult<void> update_user(Accounts::Impl& impl, std::string_view address, F&& change) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    auto txn = lmdb::Txn::begin(*impl.env, true);
    if (!txn) return fail(txn);
    auto u = impl.user(*txn, *a);
    if (!u) return fail(u);
    if (!*u) return std::unexpected(StoreError::not_found);
    change(**u);
    if (auto r = txn->put(impl.users(), Accounts::Impl::key(*a), encode_user(**u)); !r) return r;
    return txn->commit();
}

}  // namespace

StoreResult<void> Accounts::set_password(std::string_view address, std::string_view password) {
    if (password.empty()) return std::unexpected(StoreError::invalid);
    auto hash = hash_password(password);
    if (!hash) return fail(hash);
    ScramKeys keys = scram_make_keys(password);
    return update_user(*impl_, address, [&](UserInfo& u) {
        u.password_hash = *hash;
        u.scram = keys;
    });
}

StoreResult<void> Accounts::set_quota(std::string_view address, uint64_t quota_bytes) {
    return update_user(*impl_, address, [&](UserInfo& u) { u.quota_bytes = quota_bytes; });
}

StoreResult<UserInfo> Accounts::get_user(std::string_view address) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    auto txn = lmdb::Txn::begin(*impl_->env, false);
    if (!txn) return fail(txn);
    auto u = impl_->user(*txn, *a);
    if (!u) return fail(u);
    if (!*u) return std::unexpected(StoreError::not_found);
    return std::move(**u);
}

StoreResult<void> Accounts::add_alias(std::string_view address,
                                      const std::vector<std::string>& targets) {
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
    return txn->commit();
}

StoreResult<void> Accounts::del_alias(std::string_view address) {
    auto a = parse_address(address);
    if (!a) return fail(a);
    auto txn = lmdb::Txn::begin(*impl_->env, true);
    if (!txn) return fail(txn);
    auto r = txn->del(impl_->aliases(), Impl::key(*a));
    if (!r) return fail(r);
    if (!*r) return std::unexpected(StoreError::not_found);
    return txn->commit();
}

StoreResult<std::vector<AliasInfo>> Accounts::list_aliases(std::string_view domain) {
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

}  // namespace postern
