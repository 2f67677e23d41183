#include "libproto/config/config.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <toml++/toml.h>

#include "libproto/config/cidr.h"

namespace postern {
namespace {

// A config error carries the line it was found on, so the sysadmin gets
// "postern.toml:12: smtpd.mx_port must be 1..65535".
struct ConfigError {
    int line;
    std::string what;
};

// Errors quote keys and values from the file, which TOML escapes can fill with any byte:
// the message stays one line (control bytes as \xNN).
std::string one_line(std::string_view s) {
    std::string out;
    for (unsigned char ch : s) {
        if (ch < 0x20 || ch == 0x7f) {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02x", ch);
            out += buf;
        } else {
            out += char(ch);
        }
    }
    return out;
}

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

class TableReader {
public:
    TableReader(const toml::table& t, std::string prefix) : table_(t), prefix_(std::move(prefix)) {}

    // Any key not read by the time check_unknown() runs is a typo the user
    // would otherwise never learn about.
    void check_unknown() const {
        for (const auto& [k, v] : table_) {
            if (!seen_.count(std::string(k.str())))
                throw ConfigError{line_of(v), "unknown setting " + name(std::string(k.str()))};
        }
    }

    void str(const char* key, std::string& out) {
        if (const auto* n = get(key)) {
            auto v = n->value<std::string>();
            if (!v) throw ConfigError{line_of(*n), name(key) + " must be a string"};
            out = *v;
        }
    }

    void path(const char* key, std::filesystem::path& out, const std::filesystem::path& base) {
        std::string s;
        if (get(key) == nullptr) return;
        str(key, s);
        if (s.empty()) throw ConfigError{line_of(*get(key)), name(key) + " must not be empty"};
        std::filesystem::path p(s);
        out = p.is_absolute() ? p : (base / p).lexically_normal();
    }

    template <typename T>
    void num(const char* key, T& out, int64_t min, int64_t max) {
        if (const auto* n = get(key)) {
            auto v = n->value<int64_t>();
            if (!v || !n->is_integer())
                throw ConfigError{line_of(*n), name(key) + " must be an integer"};
            if (*v < min || *v > max)
                throw ConfigError{line_of(*n), name(key) + " must be between " +
                                                   std::to_string(min) + " and " +
                                                   std::to_string(max)};
            out = static_cast<T>(*v);
        }
    }

    void port(const char* key, uint16_t& out) { num(key, out, 1, 65535); }

    void boolean(const char* key, bool& out) {
        if (const auto* n = get(key)) {
            auto v = n->value<bool>();
            if (!v || !n->is_boolean())
                throw ConfigError{line_of(*n), name(key) + " must be true or false"};
            out = *v;
        }
    }

    void strings(const char* key, std::vector<std::string>& out) {
        if (const auto* n = get(key)) {
            const auto* arr = n->as_array();
            if (!arr) throw ConfigError{line_of(*n), name(key) + " must be a list of strings"};
            out.clear();
            for (const auto& e : *arr) {
                auto v = e.value<std::string>();
                if (!v || !e.is_string())
                    throw ConfigError{line_of(e), name(key) + " must be a list of strings"};
                out.push_back(*v);
            }
        }
    }

    template <typename T>
    void numbers(const char* key, std::vector<T>& out, int64_t min, int64_t max) {
        if (const auto* n = get(key)) {
            const auto* arr = n->as_array();
            if (!arr) throw ConfigError{line_of(*n), name(key) + " must be a list of integers"};
            out.clear();
            for (const auto& e : *arr) {
                auto v = e.value<int64_t>();
                if (!v || !e.is_integer() || *v < min || *v > max)
                    throw ConfigError{line_of(e), name(key) + " must hold integers between " +
                                                      std::to_string(min) + " and " +
                                                      std::to_string(max)};
                out.push_back(static_cast<T>(*v));
            }
        }
    }

    const toml::node* get(const char* key) {
        seen_.insert(key);
        return table_.get(key);
    }

    std::string name(const std::string& key) const {
        return prefix_.empty() ? key : prefix_ + "." + key;
    }

private:
    const toml::table& table_;
    std::string prefix_;
    std::set<std::string> seen_;
};

// Returns the sub-table `key` of the root, or an empty one.
const toml::table& section(TableReader& root, const char* key) {
    static const toml::table empty;
    const auto* n = root.get(key);
    if (!n) return empty;
    const auto* t = n->as_table();
    if (!t) throw ConfigError{line_of(*n), std::string("[") + key + "] must be a table"};
    return *t;
}

bool valid_hostname(const std::string& h) {
    if (h.empty() || h.size() > 253) return false;
    for (char c : h)
        if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
    return true;
}

// What the file itself must say: a config without them is empty, truncated or not ours,
// and its defaults (every interface, a data directory beside the file) would be a surprise.
// Checked after the rest, so a bad value is reported before a missing one.
void check_complete(const toml::table& root, int last_line) {
    if (!root.get("format"))
        throw ConfigError{1,
                          "format = " + std::to_string(config_format) +
                              " is missing: not a complete postern.toml (mailctl init writes one)"};
    static const std::pair<const char*, std::vector<const char*>> required[] = {
        {"server", {"hostname", "listen"}},
        {"paths", {"data", "queue", "run", "log"}},
        {"tls", {"cert", "key"}},
    };
    for (const auto& [name, keys] : required) {
        const auto* n = root.get(name);
        const auto* t = n ? n->as_table() : nullptr;  // not a table: parse() said so already
        if (!t)
            throw ConfigError{last_line,
                              std::string("[") + name + "] is missing (truncated file?)"};
        for (const char* k : keys)
            if (!t->get(k))
                throw ConfigError{line_of(*n),
                                  std::string(name) + "." + k + " is missing (truncated file?)"};
    }
}

// smtpd.relay_networks: every entry must parse (smtpd would refuse to start), and one wider
// than any private network is an open relay, worth a warning.
void check_relay_networks(const toml::table& smtpd, std::vector<ConfigError>& warnings) {
    const auto* arr =
        smtpd.get("relay_networks") ? smtpd.get("relay_networks")->as_array() : nullptr;
    if (!arr) return;
    for (const auto& e : *arr) {
        const std::string text = e.value<std::string>().value_or("");
        auto net = parse_cidr(text);
        if (!net) throw ConfigError{line_of(e), "smtpd.relay_networks: " + net.error()};
        if (wider_than_private(*net))
            warnings.push_back({line_of(e), "smtpd.relay_networks \"" + text +
                                                "\" is wider than any private network: clients "
                                                "anywhere in it may relay mail (open relay)"});
    }
}

void parse(const toml::table& root_table, const std::filesystem::path& base, Config& c,
           std::vector<ConfigError>& warnings) {
    TableReader root(root_table, "");
    int format = 0;
    root.num("format", format, 0, 1000000);
    if (root.get("format") && format != config_format)
        throw ConfigError{line_of(*root.get("format")),
                          "format = " + std::to_string(format) +
                              " is not supported (this version reads format " +
                              std::to_string(config_format) + ")"};

    TableReader server(section(root, "server"), "server");
    server.str("hostname", c.hostname);
    server.str("user", c.run_user);
    server.boolean("allow_root", c.allow_root);
    server.strings("listen", c.listen);
    server.num("shutdown_grace_seconds", c.shutdown_grace_seconds, 0, 3600);
    if (!valid_hostname(c.hostname)) {
        const auto* n = server.get("hostname");
        throw ConfigError{n ? line_of(*n) : 0, "server.hostname must be a valid host name"};
    }
    if (c.listen.empty()) throw ConfigError{0, "server.listen must name at least one address"};
    server.check_unknown();

    TableReader paths(section(root, "paths"), "paths");
    paths.path("data", c.data_dir, base);
    paths.path("queue", c.queue_dir, base);
    paths.path("run", c.run_dir, base);
    paths.path("log", c.log_dir, base);
    paths.check_unknown();

    TableReader tls(section(root, "tls"), "tls");
    tls.path("cert", c.tls_cert, base);
    tls.path("key", c.tls_key, base);
    tls.check_unknown();

    const toml::table& smtpd_table = section(root, "smtpd");
    TableReader smtpd(smtpd_table, "smtpd");
    auto& s = c.smtpd;
    smtpd.port("mx_port", s.mx_port);
    smtpd.port("submission_port", s.submission_port);
    smtpd.port("smtps_port", s.smtps_port);
    smtpd.num("max_message_size", s.max_message_size, 1024, int64_t(1) << 40);
    smtpd.num("max_recipients", s.max_recipients, 1, 100000);
    smtpd.num("max_connections", s.max_connections, 1, 1000000);
    smtpd.num("max_connections_per_ip", s.max_connections_per_ip, 1, 1000000);
    smtpd.num("max_bad_commands", s.max_bad_commands, 1, 1000);
    smtpd.num("max_auth_failures", s.max_auth_failures, 1, 1000);
    smtpd.num("timeout_seconds", s.timeout_seconds, 1, 86400);
    smtpd.num("min_data_rate", s.min_data_rate, 0, 1 << 30);
    smtpd.boolean("allow_plaintext_auth", s.allow_plaintext_auth);
    smtpd.boolean("vrfy", s.vrfy);
    smtpd.boolean("cram_md5", s.cram_md5);
    smtpd.strings("relay_networks", s.relay_networks);
    check_relay_networks(smtpd_table, warnings);
    smtpd.check_unknown();

    TableReader pop3d(section(root, "pop3d"), "pop3d");
    auto& p = c.pop3d;
    pop3d.port("port", p.port);
    pop3d.port("tls_port", p.tls_port);
    pop3d.boolean("allow_plaintext_auth", p.allow_plaintext_auth);
    pop3d.boolean("allow_plaintext_on_loopback", p.allow_plaintext_on_loopback);
    pop3d.boolean("allow_concurrent_sessions", p.allow_concurrent_sessions);
    pop3d.num("idle_timeout_seconds", p.idle_timeout_seconds, 600, 86400);
    pop3d.num("max_auth_failures", p.max_auth_failures, 1, 1000);
    pop3d.num("max_connections", p.max_connections, 1, 1000000);
    pop3d.num("max_connections_per_ip", p.max_connections_per_ip, 1, 1000000);
    pop3d.check_unknown();

    TableReader imapd(section(root, "imapd"), "imapd");
    auto& i = c.imapd;
    imapd.port("port", i.port);
    imapd.port("tls_port", i.tls_port);
    imapd.boolean("allow_plaintext_auth", i.allow_plaintext_auth);
    imapd.num("idle_timeout_seconds", i.idle_timeout_seconds, 60, 86400);
    imapd.num("max_connections", i.max_connections, 1, 1000000);
    imapd.num("max_connections_per_ip", i.max_connections_per_ip, 1, 1000000);
    imapd.check_unknown();

    TableReader auth(section(root, "auth"), "auth");
    auto& a = c.auth;
    auth.num("failure_window_seconds", a.window_seconds, 1, 86400);
    auth.num("failure_delay_ms", a.failure_delay_ms, 0, 60000);
    auth.num("max_failure_delay_ms", a.max_failure_delay_ms, 0, 120000);
    auth.num("ip_lockout_failures", a.ip_lockout_failures, 0, 100);
    auth.num("login_lockout_failures", a.login_lockout_failures, 0, 100);
    auth.num("lockout_seconds", a.lockout_seconds, 1, 86400);
    auth.num("max_tracked", a.max_entries, 100, 1000000);
    auth.check_unknown();

    TableReader spoold(section(root, "spoold"), "spoold");
    spoold.numbers("retry_schedule_seconds", c.spoold.retry_schedule_seconds, 1, 86400 * 7);
    spoold.num("max_queue_lifetime_seconds", c.spoold.max_queue_lifetime_seconds, 60, 86400 * 60);
    spoold.num("workers", c.spoold.workers, 1, 256);
    spoold.check_unknown();

    TableReader store(section(root, "store"), "store");
    store.str("backend", c.store.backend);
    store.num("disk_reserve_bytes", c.store.disk_reserve_bytes, 0, int64_t(1) << 50);
    store.num("lmdb_map_size", c.store.lmdb_map_size, 1 << 20, int64_t(1) << 44);
    store.check_unknown();

    TableReader log(section(root, "log"), "log");
    log.str("target", c.log.target);
    log.str("level", c.log.level);
    if (c.log.target != "stderr" && c.log.target != "syslog")
        throw ConfigError{line_of(*log.get("target")),
                          "log.target must be \"stderr\" or \"syslog\""};
    static const std::set<std::string> levels{"debug", "info", "warning", "error"};
    if (!levels.count(c.log.level))
        throw ConfigError{line_of(*log.get("level")),
                          "log.level must be debug, info, warning or error"};
    log.check_unknown();

    root.check_unknown();

    // Two services on one port would only show up as a confusing bind error.
    std::map<uint16_t, std::string> used;
    auto claim = [&](uint16_t port, const char* what) {
        auto [it, fresh] = used.emplace(port, what);
        if (!fresh)
            throw ConfigError{0, std::string(what) + " uses port " + std::to_string(port) +
                                     ", already taken by " + it->second};
    };
    claim(s.mx_port, "smtpd.mx_port");
    claim(s.submission_port, "smtpd.submission_port");
    claim(s.smtps_port, "smtpd.smtps_port");
    claim(p.port, "pop3d.port");
    claim(p.tls_port, "pop3d.tls_port");
    claim(i.port, "imapd.port");
    claim(i.tls_port, "imapd.tls_port");
}

}  // namespace

std::expected<Config, std::string> load_config(const std::filesystem::path& file) {
    Config c;
    c.file = std::filesystem::absolute(file);
    const auto base = c.file.parent_path();
    c.data_dir = base / "data";
    c.queue_dir = base / "queue";
    c.run_dir = base / "run";
    c.log_dir = base / "log";
    c.tls_cert = base / "tls" / "cert.pem";
    c.tls_key = base / "tls" / "key.pem";
    c.listen = {"0.0.0.0", "::"};
    c.hostname = "localhost";
    // (These defaults only keep the checks in parse() quiet: check_complete() refuses a
    // file that does not set them itself.)

    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
        return std::unexpected(file.string() +
                               ": cannot read config file (does the instance exist?)");
    std::ifstream in(file, std::ios::binary);
    if (!in.is_open()) return std::unexpected(file.string() + ": cannot read config file");
    const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const int last_line =
        std::max<int>(1, static_cast<int>(std::count(body.begin(), body.end(), '\n')));
    std::vector<ConfigError> warnings;
    try {
        toml::table root = toml::parse(body, file.string());
        parse(root, base, c, warnings);
        check_complete(root, last_line);
    } catch (const toml::parse_error& e) {
        return std::unexpected(file.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                               one_line(e.description()));
    } catch (const ConfigError& e) {
        return std::unexpected(file.string() + (e.line > 0 ? ":" + std::to_string(e.line) : "") +
                               ": " + one_line(e.what));
    }
    for (const auto& w : warnings)
        c.warnings.push_back(file.string() + ":" + std::to_string(w.line) + ": " +
                             one_line(w.what));
    return c;
}

std::filesystem::path default_config_path(const std::string& from_flag) {
    if (!from_flag.empty()) return from_flag;
    if (const char* env = std::getenv("POSTERN_CONFIG"); env && *env) return env;
    return "/etc/postern/postern.toml";
}

}  // namespace postern
