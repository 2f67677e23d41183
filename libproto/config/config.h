#pragma once
// The instance configuration (postern.toml), parsed once into plain structs.
// Relative paths in the file are resolved against the file's own directory,
// so an instance made by `mailctl init DIR` can be moved as a whole.

#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <vector>

#include "libproto/auth/auth_budget.h"

namespace postern {

struct SmtpdConfig {
    uint16_t mx_port = 25;
    uint16_t submission_port = 587;
    uint16_t smtps_port = 465;
    uint64_t max_message_size = 50 * 1024 * 1024;  // announced in SIZE
    uint32_t max_recipients = 100;                 // per message
    uint32_t max_connections = 500;                // overall
    uint32_t max_connections_per_ip = 20;
    uint32_t max_bad_commands = 20;  // then the session is ended
    uint32_t max_auth_failures = 3;
    uint32_t timeout_seconds = 300;     // idle client (RFC 5321 4.5.3.2)
    uint32_t min_data_rate = 500;       // bytes/s a message must arrive at; 0: off
    bool allow_plaintext_auth = false;  // AUTH without TLS
    bool vrfy = false;                  // VRFY answers 252 when off
    bool cram_md5 = false;
    std::vector<std::string> relay_networks;  // CIDRs allowed to relay
};

struct Pop3dConfig {
    uint16_t port = 110;
    uint16_t tls_port = 995;
    bool allow_plaintext_auth = false;  // USER/PASS, AUTH PLAIN without TLS
    bool allow_plaintext_on_loopback = false;
    bool allow_concurrent_sessions = false;  // false: second session gets [IN-USE]
    uint32_t idle_timeout_seconds = 600;     // RFC 1939: at least 10 minutes
    uint32_t max_auth_failures = 3;
    uint32_t max_connections = 500;
    uint32_t max_connections_per_ip = 20;
};

struct ImapdConfig {
    uint16_t port = 143;
    uint16_t tls_port = 993;
    bool allow_plaintext_auth = false;
    uint32_t idle_timeout_seconds = 1800;  // RFC 9051: at least 30 minutes
    uint32_t max_connections = 1000;
    uint32_t max_connections_per_ip = 50;
};

struct SpooldConfig {
    std::vector<uint32_t> retry_schedule_seconds{60, 300, 900, 1800, 3600};
    uint32_t max_queue_lifetime_seconds = 5 * 24 * 3600;  // then bounce
    uint32_t workers = 4;                                 // concurrent deliveries
};

struct StoreConfig {
    std::string backend = "maildir";  // libmailstore/store_factory.h knows the names
    uint64_t disk_reserve_bytes = 256ull * 1024 * 1024;  // refuse mail below this free space
    uint64_t lmdb_map_size = 1ull << 30;
};

struct LogConfig {
    std::string target = "stderr";  // "stderr" or "syslog"
    std::string level = "info";     // debug, info, warning, error
};

struct Config {
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
    SmtpdConfig smtpd;
    Pop3dConfig pop3d;
    ImapdConfig imapd;
    AuthBudgetConfig auth;  // [auth]: failed-login budgets (auth_budget.h)
    SpooldConfig spoold;
    StoreConfig store;
    LogConfig log;
    // Not errors, but worth telling the sysadmin ("FILE:LINE: ..."): mailctl check prints
    // them, daemons log them at start (e.g. an open relay in smtpd.relay_networks).
    std::vector<std::string> warnings;
};

// The value of the top-level `format` key this version reads (mailctl init writes it).
constexpr int config_format = 1;

// Reads and validates a config file. On error returns one line of the form
// "FILE:LINE: what is wrong" (LINE omitted when the file could not be read). The file
// must carry `format = 1` and the [server], [paths] and [tls] settings (an empty or
// truncated file is an error, not a set of defaults).
std::expected<Config, std::string> load_config(const std::filesystem::path& file);

// The config file a command uses: the -c value, else $POSTERN_CONFIG,
// else /etc/postern/postern.toml.
std::filesystem::path default_config_path(const std::string& from_flag);

}  // namespace postern
