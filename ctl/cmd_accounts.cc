// domain, user and alias commands, through libmailstore's Accounts; users' mail storage
// through the MailStore (account_storage.h says in which order).

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "ctl/account_storage.h"
#include "ctl/accounts_cli.h"
#include "ctl/ctl.h"
#include "ctl/password_input.h"
#include "ctl/queue_output.h"
#include "ctl/size_arg.h"
#include "ctl/store_errors.h"
#include "ctl/validate.h"
#include "libmailstore/accounts.h"
#include "libmailstore/address.h"
#include "libmailstore/store_factory.h"

namespace postern::ctl {
namespace {

// Arguments of the account subcommands (one command runs per process).
struct Args {
    std::string name;     // domain or address
    std::string targets;  // alias targets, comma-separated
    std::string domain;   // optional filter for list
    std::string size;     // user quota SIZE, user add --quota SIZE ("": not given)
    bool password_stdin = false;
    bool force = false;
    bool as_json = false;  // user show --json
};
Args args;

// Opens the accounts database; a missing, empty or truncated one is one line naming the file
// (checked before anything maps it). Only `domain add` may make it, for a new instance.
std::shared_ptr<Accounts> open_accounts(const Config& c, int& code,
                                        Accounts::Open mode = Accounts::Open::existing) {
    if (auto why = Accounts::open_problem(c.data_dir, mode); !why.empty()) {
        code = fail(exit_failed, why);
        return nullptr;
    }
    auto acc = Accounts::open(c.data_dir, c.store.lmdb_map_size, mode);
    if (!acc) {
        code = store_fail(acc.error(), "cannot open the accounts in " + c.data_dir.string());
        return nullptr;
    }
    return *acc;
}

// Opens the mail store (store.backend) for the commands that make or retire a user's storage.
std::unique_ptr<MailStore> open_mail_store(const Config& c, int& code) {
    if (auto bad = backend_problem(c.store.backend); !bad.empty()) {
        code = fail(exit_failed, bad);
        return nullptr;
    }
    StoreOptions opts;
    opts.disk_reserve_bytes = c.store.disk_reserve_bytes;
    auto store = open_store(c.store.backend, c.data_dir, opts);
    if (!store) {
        code = store_fail(store.error(), "cannot open the store in " + c.data_dir.string());
        return nullptr;
    }
    return std::move(*store);
}

// Validated forms of what was typed, so errors name the input and nothing is opened for it.
std::expected<std::string, int> checked_domain(const std::string& d) {
    auto n = normalize_domain(d);
    if (!n) {
        bool idn = std::any_of(d.begin(), d.end(), [](char c) { return (c & 0x80) != 0; });
        return std::unexpected(fail(
            exit_usage, "invalid domain name: " + d + (idn ? " (give it in its xn-- form)" : "")));
    }
    return *n;
}

std::expected<std::string, int> checked_address(const std::string& a) {
    auto n = normalize_address(a);
    if (!n) return std::unexpected(fail(exit_usage, "invalid address (want user@domain): " + a));
    return *n;
}

std::string domain_of(const std::string& addr) { return addr.substr(addr.rfind('@') + 1); }

// DATA/<domain>/<local>: the user's directory.
std::filesystem::path user_dir(const Config& c, const std::string& addr) {
    auto at = addr.rfind('@');
    return c.data_dir / addr.substr(at + 1) / addr.substr(0, at);
}

// A directory left at DATA/<domain>/<local> that add_user will not take over.
bool leftover_dir(const Config& c, const std::string& addr) {
    std::error_code ec;
    auto p = user_dir(c, addr);
    auto st = std::filesystem::symlink_status(p, ec);
    if (st.type() == std::filesystem::file_type::not_found) return false;
    return st.type() != std::filesystem::file_type::directory || !std::filesystem::is_empty(p, ec);
}

// " (DIR is not writable: ...)" when that is why a maildir could not be moved aside.
std::string not_writable(const std::filesystem::path& dir) {
    if (::access(dir.c_str(), W_OK) == 0) return "";
    return " (" + dir.string() + " is not writable: " + std::strerror(errno) + ")";
}

int leftover_fail(const Config& c, const std::string& addr) {
    return fail(exit_failed, user_dir(c, addr).string() + " already exists (mail of an earlier " +
                                 addr + "?): move it away or remove it, then add the user");
}

// The optional DOMAIN argument of `user list` / `alias list`: "" for all, else checked.
std::expected<std::string, int> domain_filter() {
    if (args.domain.empty()) return std::string();
    return checked_domain(args.domain);
}

std::string join_targets(const std::vector<std::string>& targets, const char* sep = ",") {
    std::string joined;
    for (const auto& t : targets) joined += (joined.empty() ? "" : sep) + t;
    return joined;
}

// ---- domain ------------------------------------------------------------------------------

int domain_add(const Config& c) {
    auto d = checked_domain(args.name);
    if (!d) return d.error();
    if (const char* why = mail_domain_problem(*d))
        return fail(exit_usage, "refusing domain " + *d + ": " + why);
    int code = exit_ok;
    auto acc = open_accounts(c, code, Accounts::Open::create);
    if (!acc) return code;
    if (auto r = acc->add_domain(*d); !r) {
        if (r.error() == StoreError::exists)
            return fail(exit_failed, "domain " + *d + " already exists");
        return store_fail(r.error(), "domain " + *d);
    }
    std::printf("added domain %s\n", d->c_str());
    return exit_ok;
}

// --force: every user's storage is retired first (all or none), then the domain and its
// accounts go in one transaction; when that fails the storage is put back.
int domain_del(const Config& c) {
    auto d = checked_domain(args.name);
    if (!d) return d.error();
    int code = exit_ok;
    auto acc = open_accounts(c, code);
    if (!acc) return code;
    if (!acc->has_domain(*d)) return fail(exit_failed, "no such domain: " + *d);
    std::vector<RetiredStorage> retired;
    std::unique_ptr<MailStore> store;
    auto not_deleted = [&](StoreError e) {
        return "domain " + *d + " not deleted: " + describe(e) + "; its users' mail stays in " +
               (c.data_dir / *d).string();
    };
    if (args.force) {
        auto users = acc->list_users(*d);
        if (!users) {
            if (users.error() == StoreError::not_found)
                return fail(exit_failed, "no such domain: " + *d);
            return store_fail(users.error(), "domain " + *d);
        }
        if (!users->empty()) {
            store = open_mail_store(c, code);
            if (!store) return code;
            auto r = retire_all(*store, *users, nullptr);
            if (!r)
                return fail(exit_failed, not_deleted(r.error()) + not_writable(c.data_dir / *d));
            retired = std::move(*r);
        }
    }
    auto r = acc->del_domain(*d, args.force);
    if (!r) {
        std::string stuck = store ? restore_all(*store, retired) : std::string();
        if (!stuck.empty())
            return fail(exit_failed, "domain " + *d + " not deleted: " + describe(r.error()) +
                                         "; " + stuck + " (move it back by hand)");
        if (r.error() == StoreError::not_found) return fail(exit_failed, "no such domain: " + *d);
        if (r.error() == StoreError::not_empty)
            return fail(exit_failed, "domain " + *d + " still has users or aliases (use --force)");
        return fail(exit_failed, not_deleted(r.error()));
    }
    std::printf("deleted domain %s\n", d->c_str());
    // A user added after the list was read went with the domain: retire its storage now (if
    // that fails it stays under the domain, where a new account will not take it over).
    for (const auto& u : *r)
        if (std::none_of(retired.begin(), retired.end(), [&](auto& x) { return x.user == u; })) {
            if (!store) store = open_mail_store(c, code);
            if (!store) return code;
            auto late = retire_all(*store, {u}, nullptr);
            if (late)
                retired.insert(retired.end(), late->begin(), late->end());
            else
                std::printf("mail of %s stays in %s\n", u.c_str(), user_dir(c, u).c_str());
        }
    for (const auto& m : retired)
        if (!m.kept.empty()) std::printf("mail of %s kept in %s\n", m.user.c_str(), m.kept.c_str());
    return exit_ok;
}

int domain_list(const Config& c) {
    int code = exit_ok;
    auto acc = open_accounts(c, code);
    if (!acc) return code;
    auto list = acc->list_domains();
    if (!list) return store_fail(list.error(), "listing domains");
    for (const auto& d : *list) std::printf("%s\n", d.c_str());
    return exit_ok;
}

// ---- user --------------------------------------------------------------------------------

std::expected<std::string, int> new_password() {
    auto pw = args.password_stdin ? read_password_stdin() : prompt_new_password();
    if (!pw) return std::unexpected(fail(exit_usage, pw.error()));
    return std::move(*pw);
}

// The SIZE of `user quota` / `user add --quota`, checked before anything is opened.
std::expected<uint64_t, int> checked_size(const std::string& s) {
    auto n = parse_size(s);
    if (!n) return std::unexpected(fail(exit_usage, "invalid quota: " + n.error()));
    return *n;
}

int user_add(const Config& c) {
    auto a = checked_address(args.name);
    if (!a) return a.error();
    uint64_t quota = 0;
    if (!args.size.empty()) {
        auto q = checked_size(args.size);
        if (!q) return q.error();
        quota = *q;
    }
    int code = exit_ok;
    auto acc = open_accounts(c, code);
    if (!acc) return code;
    // Check what we can before asking for a password.
    if (!acc->has_domain(domain_of(*a)))
        return fail(exit_failed, "no such domain: " + domain_of(*a) +
                                     " (add it with: mailctl domain add " + domain_of(*a) + ")");
    if (acc->get_user(*a)) return fail(exit_failed, "user " + *a + " already exists");
    if (leftover_dir(c, *a)) return leftover_fail(c, *a);
    auto store = open_mail_store(c, code);
    if (!store) return code;
    auto pw = new_password();
    if (!pw) return pw.error();
    // The storage first (the store refuses a leftover), then the account; when the account
    // fails, the new storage goes again so nothing is left for the next add.
    if (auto s = store->create_user(*a); !s) {
        wipe(*pw);
        if (s.error() == StoreError::exists && leftover_dir(c, *a)) return leftover_fail(c, *a);
        if (s.error() == StoreError::exists)
            return fail(exit_failed, "the store still holds mail of an earlier " + *a +
                                         ": remove it, then add the user");
        return store_fail(s.error(), "mail storage of user " + *a);
    }
    auto r = acc->add_user(*a, *pw, quota);
    wipe(*pw);
    if (!r) {
        if (auto d = store->discard_user(*a); !d && d.error() != StoreError::not_found)
            return fail(exit_failed, "user " + *a + " not added: " + describe(r.error()) +
                                         "; its new mail storage could not be removed (" +
                                         describe(d.error()) + "): remove " +
                                         user_dir(c, *a).string() + " by hand");
        if (r.error() == StoreError::exists)
            return fail(exit_failed, *a + " already exists (as a user or an alias)");
        if (r.error() == StoreError::not_found)
            return fail(exit_failed, "no such domain: " + domain_of(*a));
        return store_fail(r.error(), "user " + *a);
    }
    const std::string with_quota = quota ? " (quota " + format_size(quota) + ")" : "";
    std::printf("added user %s%s%s\n", a->c_str(),
                a->rfind("nobody@", 0) == 0 ? " (catch-all for its domain)" : "",
                with_quota.c_str());
    return exit_ok;
}

// Takes effect at once: the daemons look the quota up on every delivery, APPEND and COPY.
int user_quota(const Config& c) {
    auto a = checked_address(args.name);
    if (!a) return a.error();
    auto q = checked_size(args.size);
    if (!q) return q.error();
    int code = exit_ok;
    auto acc = open_accounts(c, code);
    if (!acc) return code;
    if (auto r = acc->set_quota(*a, *q); !r) {
        if (r.error() == StoreError::not_found) return fail(exit_failed, "no such user: " + *a);
        return store_fail(r.error(), "user " + *a);
    }
    if (*q == 0)
        std::printf("quota of %s removed\n", a->c_str());
    else
        std::printf("quota of %s set to %s (%llu octets)\n", a->c_str(), format_size(*q).c_str(),
                    static_cast<unsigned long long>(*q));
    return exit_ok;
}

// The account's quota and the store's usage (octets of all its messages in all folders).
int user_show(const Config& c) {
    auto a = checked_address(args.name);
    if (!a) return a.error();
    int code = exit_ok;
    auto acc = open_accounts(c, code);
    if (!acc) return code;
    auto u = acc->get_user(*a);
    if (!u) {
        if (u.error() == StoreError::not_found) return fail(exit_failed, "no such user: " + *a);
        return store_fail(u.error(), "user " + *a);
    }
    auto store = open_mail_store(c, code);
    if (!store) return code;
    auto used = store->usage(*a);
    if (!used) return store_fail(used.error(), "mail storage of user " + *a);
    const auto quota = static_cast<unsigned long long>(u->quota_bytes);
    const auto usage = static_cast<unsigned long long>(*used);
    if (args.as_json) {
        std::printf("{\"address\":%s,\"quota_bytes\":%llu,\"usage_bytes\":%llu}\n",
                    json_string(*a).c_str(), quota, usage);
        return exit_ok;
    }
    std::printf("user  %s\n", a->c_str());
    if (quota == 0)
        std::printf("quota none\n");
    else
        std::printf("quota %s (%llu octets)\n", format_size(quota).c_str(), quota);
    if (quota == 0)
        std::printf("usage %llu octets\n", usage);
    else
        std::printf("usage %llu octets (%.0Lf%%)\n", usage,
                    std::floor(static_cast<long double>(usage) * 100 / quota));
    return exit_ok;
}

// The storage is retired first (a failed move keeps the account), then the account goes;
// when that fails the storage is put back.
int user_del(const Config& c) {
    auto a = checked_address(args.name);
    if (!a) return a.error();
    int code = exit_ok;
    auto acc = open_accounts(c, code);
    if (!acc) return code;
    // An unknown user touches no storage (an unreadable record may still be deleted).
    if (auto u = acc->get_user(*a); !u && u.error() == StoreError::not_found)
        return fail(exit_failed, "no such user: " + *a);
    auto store = open_mail_store(c, code);
    if (!store) return code;
    auto retired = retire_all(*store, {*a}, nullptr);
    if (!retired)
        return fail(exit_failed, "user " + *a + " not deleted: " + describe(retired.error()) +
                                     "; its mail stays in " + user_dir(c, *a).string() +
                                     not_writable(c.data_dir / domain_of(*a)));
    const std::string kept = retired->front().kept;
    if (auto r = acc->del_user(*a); !r) {
        std::string stuck = restore_all(*store, *retired);
        if (!stuck.empty())
            return fail(exit_failed, "user " + *a + " not deleted: " + describe(r.error()) + "; " +
                                         stuck + " (move it back by hand)");
        if (r.error() == StoreError::not_found) return fail(exit_failed, "no such user: " + *a);
        return fail(exit_failed, "user " + *a + " not deleted: " + describe(r.error()) +
                                     "; its mail stays in " + user_dir(c, *a).string());
    }
    if (kept.empty())
        std::printf("deleted user %s (it had no mail directory)\n", a->c_str());
    else
        std::printf("deleted user %s (mail kept in %s)\n", a->c_str(), kept.c_str());
    return exit_ok;
}

int user_list(const Config& c) {
    auto filter = domain_filter();
    if (!filter) return filter.error();
    int code = exit_ok;
    auto acc = open_accounts(c, code);
    if (!acc) return code;
    auto list = acc->list_users(*filter);
    if (!list) {
        if (list.error() == StoreError::not_found)
            return fail(exit_failed, "no such domain: " + *filter);
        return store_fail(list.error(), "listing users");
    }
    for (const auto& u : *list) std::printf("%s\n", u.c_str());
    return exit_ok;
}

int user_passwd(const Config& c) {
    auto a = checked_address(args.name);
    if (!a) return a.error();
    int code = exit_ok;
    auto acc = open_accounts(c, code);
    if (!acc) return code;
    if (!acc->get_user(*a)) return fail(exit_failed, "no such user: " + *a);
    auto pw = new_password();
    if (!pw) return pw.error();
    auto r = acc->set_password(*a, *pw);
    wipe(*pw);
    if (!r) {
        if (r.error() == StoreError::not_found) return fail(exit_failed, "no such user: " + *a);
        return store_fail(r.error(), "user " + *a);
    }
    std::printf("password changed for %s\n", a->c_str());
    return exit_ok;
}

// ---- alias -------------------------------------------------------------------------------

int alias_add(const Config& c) {
    auto a = checked_address(args.name);
    if (!a) return a.error();
    auto items = split_list(args.targets);
    if (items.empty()) return fail(exit_usage, "alias " + *a + " needs at least one target");
    std::vector<std::string> targets;
    for (const auto& t : items) {
        auto n = checked_address(t);
        if (!n) return n.error();
        targets.push_back(*n);
    }
    int code = exit_ok;
    auto acc = open_accounts(c, code);
    if (!acc) return code;
    std::vector<std::string> loop;
    if (auto r = acc->add_alias(*a, targets, &loop); !r) {
        if (r.error() == StoreError::loop) {
            bool cycle = loop.size() > 1 && loop.front() == loop.back();
            return fail(exit_failed, "refusing alias " + *a +
                                         (cycle ? ": it would loop: " : ": it nests too deep: ") +
                                         join_targets(loop, " -> "));
        }
        if (r.error() == StoreError::exists)
            return fail(exit_failed, *a + " already exists (as a user or an alias)");
        if (r.error() == StoreError::not_found)
            return fail(exit_failed, "no such domain: " + domain_of(*a));
        return store_fail(r.error(), "alias " + *a);
    }
    std::printf("added alias %s -> %s\n", a->c_str(), join_targets(targets).c_str());
    return exit_ok;
}

int alias_del(const Config& c) {
    auto a = checked_address(args.name);
    if (!a) return a.error();
    int code = exit_ok;
    auto acc = open_accounts(c, code);
    if (!acc) return code;
    if (auto r = acc->del_alias(*a); !r) {
        if (r.error() == StoreError::not_found) return fail(exit_failed, "no such alias: " + *a);
        return store_fail(r.error(), "alias " + *a);
    }
    std::printf("deleted alias %s\n", a->c_str());
    return exit_ok;
}

int alias_list(const Config& c) {
    auto filter = domain_filter();
    if (!filter) return filter.error();
    int code = exit_ok;
    auto acc = open_accounts(c, code);
    if (!acc) return code;
    auto list = acc->list_aliases(*filter);
    if (!list) {
        if (list.error() == StoreError::not_found)
            return fail(exit_failed, "no such domain: " + *filter);
        return store_fail(list.error(), "listing aliases");
    }
    for (const auto& al : *list)
        std::printf("%s -> %s\n", al.address.c_str(), join_targets(al.targets).c_str());
    return exit_ok;
}

}  // namespace

void add_account_commands(CLI::App& app, const WithConfig& with_config) {
    auto* domain = app.add_subcommand("domain", "add, delete or list mail domains");
    domain->require_subcommand(1);
    auto* dadd = domain->add_subcommand("add", "add a domain");
    dadd->add_option("DOMAIN", args.name)->required();
    with_config(dadd, domain_add);
    auto* ddel = domain->add_subcommand("del", "delete a domain (must be empty unless --force)");
    ddel->add_option("DOMAIN", args.name)->required();
    ddel->add_flag("--force", args.force,
                   "also delete its users (mail is moved aside) and aliases");
    with_config(ddel, domain_del);
    with_config(domain->add_subcommand("list", "list domains"), domain_list);

    auto* user =
        app.add_subcommand("user", "add, delete, list, show users, set a password or a quota");
    user->require_subcommand(1);
    auto* uadd =
        user->add_subcommand("add", "add a user (nobody@DOMAIN is the domain's catch-all)");
    uadd->add_option("ADDRESS", args.name, "user@domain")->required();
    uadd->add_flag("--password-stdin", args.password_stdin,
                   "read the password from stdin (one line)");
    uadd->add_option("--quota", args.size, "quota: 1048576, 500M, 2G or none (the default)");
    with_config(uadd, user_add);
    auto* udel =
        user->add_subcommand("del", "delete a user (the mail is moved aside, not removed)");
    udel->add_option("ADDRESS", args.name, "user@domain")->required();
    with_config(udel, user_del);
    auto* ulist = user->add_subcommand("list", "list users (of one domain)");
    ulist->add_option("DOMAIN", args.domain);
    with_config(ulist, user_list);
    auto* upw = user->add_subcommand("passwd", "set a user's password");
    upw->add_option("ADDRESS", args.name, "user@domain")->required();
    upw->add_flag("--password-stdin", args.password_stdin,
                  "read the password from stdin (one line)");
    with_config(upw, user_passwd);
    auto* uquota = user->add_subcommand("quota", "set or remove a user's quota");
    uquota->add_option("ADDRESS", args.name, "user@domain")->required();
    uquota->add_option("SIZE", args.size, "1048576, 500K, 500M, 2G, 1T; none or 0 removes it")
        ->required();
    with_config(uquota, user_quota);
    auto* ushow = user->add_subcommand("show", "show a user's quota and usage");
    ushow->add_option("ADDRESS", args.name, "user@domain")->required();
    ushow->add_flag("--json", args.as_json, "as one JSON object (docs/mailctl.md)");
    with_config(ushow, user_show);

    auto* alias = app.add_subcommand("alias", "add, delete or list aliases");
    alias->require_subcommand(1);
    auto* aadd = alias->add_subcommand("add", "add an alias forwarding to one or more addresses");
    aadd->add_option("ADDRESS", args.name, "alias@domain (a local domain)")->required();
    aadd->add_option("TARGETS", args.targets, "target[,target...] (local or remote)")->required();
    with_config(aadd, alias_add);
    auto* adel = alias->add_subcommand("del", "delete an alias");
    adel->add_option("ADDRESS", args.name)->required();
    with_config(adel, alias_del);
    auto* alist = alias->add_subcommand("list", "list aliases (of one domain)");
    alist->add_option("DOMAIN", args.domain);
    with_config(alist, alias_list);
}

}  // namespace postern::ctl
