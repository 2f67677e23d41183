#pragma once
// The part of the instance configuration (postern.toml) every process shares: [server],
// [paths], [tls], [log] and [auth]. The daemon scaffold needs only this; each daemon's own
// section lives outside libproto (config/: postern_config), whose Config extends this one.
// Relative paths in the file are resolved against the file's own directory, so an instance
// made by `mailctl init DIR` can be moved as a whole.

#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <vector>

#include "libproto/auth/auth_budget.h"
#include "libproto/config/config_section.h"

namespace postern {

struct LogConfig {
    std::string target = "stderr";  // "stderr" or "syslog"
    std::string level = "info";     // debug, info, warning, error
};

struct InstanceConfig {
    std::filesystem::path file;       // the config file itself
    std::string hostname;             // greeting and Received: name
    std::string run_user;             // drop to this user when started as root; empty: stay
    bool allow_root = false;          // started as root with no (or a root) run_user: serve as root
    std::vector<std::string> listen;  // addresses every listener binds
    std::filesystem::path data_dir;   // mailboxes and the LMDB databases
    std::filesystem::path queue_dir;
    std::filesystem::path run_dir;  // pid files, sockets
    std::filesystem::path log_dir;
    std::filesystem::path tls_cert;
    std::filesystem::path tls_key;
    uint32_t shutdown_grace_seconds = 10;  // SIGTERM: sessions get this long to finish
    AuthBudgetConfig auth;                 // [auth]: failed-login budgets (auth_budget.h)
    LogConfig log;
    // Not errors, but worth telling the sysadmin ("FILE:LINE: ..."): mailctl check prints
    // them, daemons log them at start (e.g. an open relay in smtpd.relay_networks).
    std::vector<std::string> warnings;

    // A file with only the shared sections (a [smtpd] is an unknown setting here): what the
    // scaffold's own tests run on. Daemons load config/config.h's Config.
    static std::expected<InstanceConfig, std::string> load(const std::filesystem::path& file);
};

// The shared sections, for the list in config/config.cc (and InstanceConfig::load).
void parse_server(ConfigTable& t, InstanceConfig& c);  // [server]: hostname, user, listen, ...
void parse_paths(ConfigTable& t, InstanceConfig& c);   // [paths]
void parse_tls(ConfigTable& t, InstanceConfig& c);     // [tls]
void parse_auth(ConfigTable& t, AuthBudgetConfig& c);  // [auth]
void parse_log(ConfigTable& t, LogConfig& c);          // [log]
inline constexpr ConfigSection<InstanceConfig> server_section{"server", parse_server};
inline constexpr ConfigSection<InstanceConfig> paths_section{"paths", parse_paths};
inline constexpr ConfigSection<InstanceConfig> tls_section{"tls", parse_tls};
inline constexpr ConfigSection<AuthBudgetConfig> auth_section{"auth", parse_auth};
inline constexpr ConfigSection<LogConfig> log_section{"log", parse_log};

// The value of the top-level `format` key this version reads (mailctl init writes it).
constexpr int config_format = 1;

// The config file a command uses: the -c value, else $POSTERN_CONFIG,
// else /etc/postern/postern.toml.
std::filesystem::path default_config_path(const std::string& from_flag);

}  // namespace postern
