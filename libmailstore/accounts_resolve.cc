// Lookups the daemons make per session or per recipient: login names, passwords, SCRAM
// keys, RCPT classification and alias expansion.
#include <algorithm>
#include <set>

#include "libmailstore/accounts_impl.h"
#include "libmailstore/password.h"
#include "libproto/core/log.h"

namespace postern {
namespace {

constexpr int max_alias_depth = 10;

// A valid yescrypt hash of a random string: verifying against it costs what a real check
// costs, so unknown users are not faster to reject.
const std::string& dummy_hash() {
    static const std::string h = hash_password("postern-dummy-password").value_or("");
    return h;
}

struct Expander {
    LmdbAccounts::Impl& impl;
    lmdb::Txn& txn;
    RecipientExpansion out;
    std::vector<std::string> path;  // aliases being expanded, for loop detection
    bool quiet = false;             // no warnings (checking an alias at add time)
    std::vector<std::string> loop;  // set when expand fails with loop

    StoreResult<bool> expand(const std::string& addr, int depth);
};

void add_unique(std::vector<std::string>& v, const std::string& s) {
    if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

// true when addr delivered somewhere.
StoreResult<bool> Expander::expand(const std::string& addr, int depth) {
    auto a = parse_address(addr);
    if (!a) return std::unexpected(a.error());
    auto local = impl.domain_exists(txn, a->domain);
    if (!local) return std::unexpected(local.error());
    if (!*local) {
        add_unique(out.remote, a->str());
        return true;
    }
    auto u = impl.user(txn, *a);
    if (!u) return std::unexpected(u.error());
    if (*u) {
        add_unique(out.local_mailboxes, a->str());
        return true;
    }
    auto al = impl.alias(txn, *a);
    if (!al) return std::unexpected(al.error());
    if (*al) {
        std::string me = a->str();
        auto seen = std::find(path.begin(), path.end(), me);
        if (seen != path.end() || depth >= max_alias_depth) {
            loop.assign(seen != path.end() ? seen : path.begin(), path.end());
            loop.push_back(me);
            return std::unexpected(StoreError::loop);
        }
        path.push_back(me);
        bool any = false;
        for (const auto& t : **al) {
            auto r = expand(t, depth + 1);
            if (!r) return r;
            any = any || *r;
        }
        path.pop_back();
        return any;
    }
    if (a->local != "nobody") {
        Address catch_all{"nobody", a->domain};
        auto cu = impl.user(txn, catch_all);
        if (!cu) return std::unexpected(cu.error());
        auto ca = impl.alias(txn, catch_all);
        if (!ca) return std::unexpected(ca.error());
        if (*cu || *ca) return expand(catch_all.str(), depth + 1);
    }
    if (depth > 0 && !quiet)
        log_msg(LogLevel::warning, "accounts: alias target %s does not exist", addr.c_str());
    return false;
}

}  // namespace

StoreResult<std::vector<std::string>> find_alias_loop(LmdbAccounts::Impl& impl, lmdb::Txn& txn,
                                                      const std::string& address) {
    // The new alias itself first (every new cycle runs through it), then every other alias,
    // whose chain the new one may have made too deep or turned into a loop (a target that
    // went to the catch-all is now this alias). Problems not involving it are not its fault.
    std::vector<std::string> starts{address};
    {
        auto cur = lmdb::Cursor::open(txn, impl.aliases());
        if (!cur) return std::unexpected(cur.error());
        for (cur->first(); cur->valid(); cur->next()) {
            std::string_view k = cur->key();
            auto slash = k.find('/');
            if (slash == std::string_view::npos) continue;
            std::string a =
                std::string(k.substr(slash + 1)) + "@" + std::string(k.substr(0, slash));
            if (a != address) starts.push_back(std::move(a));
        }
        if (cur->error() != 0) return std::unexpected(lmdb::to_store_error(cur->error()));
    }
    for (const auto& start : starts) {
        Expander ex{impl, txn, {}, {}, true, {}};
        auto r = ex.expand(start, 0);
        if (r) continue;
        if (r.error() != StoreError::loop) return std::unexpected(r.error());
        if (std::find(ex.loop.begin(), ex.loop.end(), address) != ex.loop.end())
            return std::move(ex.loop);
    }
    return std::vector<std::string>{};
}

StoreResult<std::string> LmdbAccounts::resolve_login(std::string_view login) {
    std::string addr;
    auto txn = lmdb::Txn::begin(*impl_->env, false);
    if (!txn) return std::unexpected(txn.error());
    if (login.find('@') != std::string_view::npos) {
        addr = std::string(login);
    } else if (auto pct = login.rfind('%'); pct != std::string_view::npos) {
        addr = std::string(login.substr(0, pct)) + "@" + std::string(login.substr(pct + 1));
    } else {
        auto local = normalize_local_part(login);
        if (!local) return std::unexpected(local.error());
        auto cur = lmdb::Cursor::open(*txn, impl_->domains());
        if (!cur) return std::unexpected(cur.error());
        std::vector<std::string> domains;
        for (cur->first(); cur->valid(); cur->next()) domains.emplace_back(cur->key());
        std::string found;
        for (const auto& d : domains) {
            auto u = impl_->user(*txn, Address{*local, d});
            if (!u) return std::unexpected(u.error());
            if (!*u) continue;
            if (!found.empty()) return std::unexpected(StoreError::not_found);  // ambiguous
            found = (*u)->address;
        }
        if (found.empty()) return std::unexpected(StoreError::not_found);
        return found;
    }
    auto a = parse_address(addr);
    if (!a) return std::unexpected(a.error());
    auto u = impl_->user(*txn, *a);
    if (!u) return std::unexpected(u.error());
    if (!*u) return std::unexpected(StoreError::not_found);
    return a->str();
}

bool LmdbAccounts::verify_password(std::string_view address, std::string_view password) {
    auto u = get_user(address);
    if (!u) {
        (void)postern::verify_password(dummy_hash(), password);
        return false;
    }
    return postern::verify_password(u->password_hash, password);
}

StoreResult<ScramKeys> LmdbAccounts::scram_credentials(std::string_view address) {
    auto u = get_user(address);
    if (!u) return std::unexpected(u.error());
    if (u->scram.iterations == 0) return std::unexpected(StoreError::not_found);
    return u->scram;
}

StoreResult<RecipientKind> LmdbAccounts::resolve_recipient(std::string_view address) {
    auto a = parse_address(address);
    if (!a) return std::unexpected(a.error());
    auto txn = lmdb::Txn::begin(*impl_->env, false);
    if (!txn) return std::unexpected(txn.error());
    auto local = impl_->domain_exists(*txn, a->domain);
    if (!local) return std::unexpected(local.error());
    if (!*local) return RecipientKind::not_local;
    auto u = impl_->user(*txn, *a);
    if (!u) return std::unexpected(u.error());
    if (*u) return RecipientKind::local_user;
    auto al = impl_->alias(*txn, *a);
    if (!al) return std::unexpected(al.error());
    if (*al) return RecipientKind::alias;
    Address catch_all{"nobody", a->domain};
    auto cu = impl_->user(*txn, catch_all);
    if (!cu) return std::unexpected(cu.error());
    auto ca = impl_->alias(*txn, catch_all);
    if (!ca) return std::unexpected(ca.error());
    if (*cu || *ca) return RecipientKind::catch_all;
    return RecipientKind::unknown_local;
}

StoreResult<RecipientExpansion> LmdbAccounts::expand_recipient(std::string_view address) {
    auto a = normalize_address(address);
    if (!a) return std::unexpected(a.error());
    auto txn = lmdb::Txn::begin(*impl_->env, false);
    if (!txn) return std::unexpected(txn.error());
    Expander ex{*impl_, *txn, {}, {}, false, {}};
    auto r = ex.expand(*a, 0);
    if (!r) return std::unexpected(r.error());
    if (!*r) return std::unexpected(StoreError::not_found);
    return std::move(ex.out);
}

}  // namespace postern
