// dkim keygen|list|show|activate: the keys spoold signs outgoing mail with, in
// <paths.data>/dkim/<domain>/<selector>.key (libproto/dkim/dkim_key_dir.h has the layout).
// Run as root, mailctl has dropped to server.user before any of these, so key files belong
// to the user that signs.

#include <cstdio>
#include <ctime>

#include "ctl/accounts_cli.h"
#include "ctl/ctl.h"
#include "ctl/validate.h"
#include "libproto/core/ascii.h"
#include "libproto/dkim/dkim_key.h"
#include "libproto/dkim/dkim_key_dir.h"

namespace postern::ctl {
namespace {

std::string dkim_domain;
std::string dkim_selector;
std::string dkim_type = "rsa";
unsigned dkim_bits = kDkimDefaultRsaBits;
bool dkim_force = false;
bool dkim_activate = false;

// "s" and today's UTC date: a new selector per rotation without having to think of one.
std::string default_selector() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "s%Y%m%d", &tm);
    return buf;
}

// Lower-cases and checks the domain (and the selector). true: fine; else rc is set.
bool bad_names(int& rc) {
    dkim_domain = ascii_lowered(dkim_domain);
    if (!valid_hostname(dkim_domain) || !dkim_valid_name(dkim_domain)) {
        rc = fail(exit_usage, "invalid domain: " + dkim_domain);
        return true;
    }
    if (!dkim_selector.empty()) {
        dkim_selector = ascii_lowered(dkim_selector);
        if (!valid_hostname(dkim_selector) || !dkim_valid_name(dkim_selector)) {
            rc = fail(exit_usage, "invalid selector (a DNS label list): " + dkim_selector);
            return true;
        }
    }
    return false;
}

int dkim_keygen(const Config& c) {
    if (int rc; bad_names(rc)) return rc;
    DkimKeyType type;
    if (dkim_type == "rsa")
        type = DkimKeyType::rsa;
    else if (dkim_type == "ed25519")
        type = DkimKeyType::ed25519;
    else
        return fail(exit_usage, "--type is rsa or ed25519, not " + dkim_type);
    if (type == DkimKeyType::rsa && (dkim_bits < kDkimMinRsaBits || dkim_bits > kDkimMaxRsaBits))
        return fail(exit_usage, "--bits is 1024 to 8192 for RSA (2048 by default)");
    if (dkim_selector.empty()) dkim_selector = default_selector();
    auto dir = dkim_key_dir(c.data_dir);
    auto path = dir / dkim_domain / (dkim_selector + ".key");
    std::error_code ec;
    if (!dkim_force &&
        std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found)
        return fail(exit_failed, path.string() + " exists (--force replaces it)");
    auto key = DkimKey::generate(type, dkim_bits);
    if (!key) return fail(exit_failed, key.error());
    // The domain's first key signs at once; a later one (a rotation) only with --activate,
    // once its record is in DNS: until then the key that signed before goes on signing.
    auto before = dkim_active_selector(dir, dkim_domain);
    bool first = true;
    for (const auto& k : dkim_list_keys(dir)) first = first && k.domain != dkim_domain;
    if (auto r = dkim_write_key_file(dir, dkim_domain, dkim_selector, *key, dkim_force); !r)
        return fail(exit_failed, r.error());
    if (dkim_activate || (before && *before != dkim_selector)) {
        auto r = dkim_set_active(dir, dkim_domain, dkim_activate ? dkim_selector : *before);
        if (!r) return fail(exit_failed, r.error());
    }
    bool signs = dkim_active_selector(dir, dkim_domain) == dkim_selector;
    std::printf("wrote %s (%s, %u bits)\n", path.c_str(), std::string(key->algorithm()).c_str(),
                key->bits());
    std::printf("publish this DNS record:\n%s\n",
                dkim_dns_zone_line(dkim_domain, dkim_selector, *key).c_str());
    if (signs)
        std::printf(
            "mail from %s is signed with selector %s after a SIGHUP or restart of spoold%s\n",
            dkim_domain.c_str(), dkim_selector.c_str(), first ? " (publish the record first)" : "");
    else
        std::printf(
            "%s still signs for %s; `mailctl dkim activate %s %s` switches once the "
            "record is published\n",
            before ? before->c_str() : "no key", dkim_domain.c_str(), dkim_domain.c_str(),
            dkim_selector.c_str());
    return exit_ok;
}

int dkim_list(const Config& c) {
    auto keys = dkim_list_keys(dkim_key_dir(c.data_dir));
    if (keys.empty()) std::printf("no DKIM keys\n");
    for (const auto& k : keys) {
        auto key = dkim_read_key_file(k.path);
        if (!key) {
            std::printf("%s %s unusable: %s\n", k.domain.c_str(), k.selector.c_str(),
                        key.error().c_str());
            continue;
        }
        std::printf("%s %s %s %u%s\n", k.domain.c_str(), k.selector.c_str(),
                    std::string(key->dns_key_type()).c_str(), key->bits(),
                    k.active ? " active" : "");
    }
    return exit_ok;
}

int dkim_show(const Config& c) {
    if (int rc; bad_names(rc)) return rc;
    bool any = false;
    int rc = exit_ok;
    for (const auto& k : dkim_list_keys(dkim_key_dir(c.data_dir))) {
        if (k.domain != dkim_domain) continue;
        any = true;
        auto key = dkim_read_key_file(k.path);
        if (!key) {
            rc = fail(exit_failed, key.error());
            continue;
        }
        std::printf("%s %s %s %u%s\n%s\n", k.domain.c_str(), k.selector.c_str(),
                    std::string(key->dns_key_type()).c_str(), key->bits(),
                    k.active ? " active" : "",
                    dkim_dns_zone_line(k.domain, k.selector, *key).c_str());
    }
    if (!any) return fail(exit_failed, "no DKIM key for " + dkim_domain);
    return rc;
}

int dkim_activate_cmd(const Config& c) {
    if (int rc; bad_names(rc)) return rc;
    if (auto r = dkim_set_active(dkim_key_dir(c.data_dir), dkim_domain, dkim_selector); !r)
        return fail(exit_failed, r.error());
    std::printf("%s signs with selector %s after a SIGHUP or restart of spoold\n",
                dkim_domain.c_str(), dkim_selector.c_str());
    return exit_ok;
}

}  // namespace

void add_dkim_commands(CLI::App& app, const WithConfig& with_config) {
    auto* dkim = app.add_subcommand("dkim", "DKIM signing keys for outgoing mail (docs/dkim.md)");
    dkim->require_subcommand(1);
    auto* keygen = dkim->add_subcommand(
        "keygen", "make a signing key for DOMAIN and print the DNS record to publish");
    keygen->add_option("DOMAIN", dkim_domain)->required();
    keygen->add_option("--selector", dkim_selector, "selector (default: s<today, UTC>)");
    keygen->add_option("--type", dkim_type, "rsa (default) or ed25519");
    keygen->add_option("--bits", dkim_bits, "RSA key size, 1024..8192 (default 2048)");
    keygen->add_flag("--force", dkim_force, "replace an existing key of that selector");
    keygen->add_flag("--activate", dkim_activate,
                     "sign with it at once even if the domain has another key");
    with_config(keygen, dkim_keygen);
    auto* list = dkim->add_subcommand("list", "every key: domain, selector, type, bits, active");
    with_config(list, dkim_list);
    auto* show = dkim->add_subcommand("show", "DOMAIN's keys and the DNS records to publish");
    show->add_option("DOMAIN", dkim_domain)->required();
    with_config(show, dkim_show);
    auto* activate = dkim->add_subcommand("activate", "sign DOMAIN's mail with SELECTOR");
    activate->add_option("DOMAIN", dkim_domain)->required();
    activate->add_option("SELECTOR", dkim_selector)->required();
    with_config(activate, dkim_activate_cmd);
}

}  // namespace postern::ctl
