#include "libproto/config/instance_config.h"

#include <cctype>
#include <cstdlib>
#include <set>

namespace postern {
namespace {

bool valid_hostname(const std::string& h) {
    if (h.empty() || h.size() > 253) return false;
    for (char c : h)
        if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
    return true;
}

}  // namespace

void parse_server(ConfigTable& t, InstanceConfig& c) {
    t.str("hostname", c.hostname);
    t.str("user", c.run_user);
    t.boolean("allow_root", c.allow_root);
    t.strings("listen", c.listen);
    t.num("shutdown_grace_seconds", c.shutdown_grace_seconds, 0, 3600);
    if (!valid_hostname(c.hostname))
        t.fail(t.line_of("hostname"), "server.hostname must be a valid host name");
    if (c.listen.empty()) t.fail(0, "server.listen must name at least one address");
}

void parse_paths(ConfigTable& t, InstanceConfig& c) {
    t.path("data", c.data_dir);
    t.path("queue", c.queue_dir);
    t.path("run", c.run_dir);
    t.path("log", c.log_dir);
}

void parse_tls(ConfigTable& t, InstanceConfig& c) {
    t.path("cert", c.tls_cert);
    t.path("key", c.tls_key);
}

void parse_auth(ConfigTable& t, AuthBudgetConfig& a) {
    t.num("failure_window_seconds", a.window_seconds, 1, 86400);
    t.num("failure_delay_ms", a.failure_delay_ms, 0, 60000);
    t.num("max_failure_delay_ms", a.max_failure_delay_ms, 0, 120000);
    t.num("ip_lockout_failures", a.ip_lockout_failures, 0, 100);
    t.num("login_lockout_failures", a.login_lockout_failures, 0, 100);
    t.num("lockout_seconds", a.lockout_seconds, 1, 86400);
    t.num("max_tracked", a.max_entries, 100, 1000000);
}

void parse_log(ConfigTable& t, LogConfig& c) {
    t.str("target", c.target);
    t.str("level", c.level);
    if (c.target != "stderr" && c.target != "syslog")
        t.fail(t.line_of("target"), "log.target must be \"stderr\" or \"syslog\"");
    static const std::set<std::string> levels{"debug", "info", "warning", "error"};
    if (!levels.count(c.level))
        t.fail(t.line_of("level"), "log.level must be debug, info, warning or error");
}

std::expected<InstanceConfig, std::string> InstanceConfig::load(const std::filesystem::path& file) {
    InstanceConfig c;
    const SectionBinding sections[] = {
        bind(server_section, c),    bind(paths_section, c),   bind(tls_section, c),
        bind(auth_section, c.auth), bind(log_section, c.log),
    };
    if (auto r = load_config_file(file, c, sections); !r) return std::unexpected(r.error());
    return c;
}

std::filesystem::path default_config_path(const std::string& from_flag) {
    if (!from_flag.empty()) return from_flag;
    if (const char* env = std::getenv("POSTERN_CONFIG"); env && *env) return env;
    return "/etc/postern/postern.toml";
}

}  // namespace postern
