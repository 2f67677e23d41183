// load_config_file: the file, the format key, the registered sections, the checks across them.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "libproto/config/config_section.h"
#include "libproto/config/instance_config.h"
#include "libproto/config/toml_source.h"

namespace postern {
namespace {

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
        const auto* t = n ? n->as_table() : nullptr;  // not a table: the section said so already
        if (!t)
            throw ConfigError{last_line,
                              std::string("[") + name + "] is missing (truncated file?)"};
        for (const char* k : keys)
            if (!t->get(k))
                throw ConfigError{line_of(*n),
                                  std::string(name) + "." + k + " is missing (truncated file?)"};
    }
}

void parse(const toml::table& root_table, const std::filesystem::path& base,
           std::span<const SectionBinding> sections, std::vector<ConfigError>& warnings) {
    ConfigTable root(ConfigTable::Source{&root_table, base}, "", warnings);
    int format = 0;
    root.num("format", format, 0, 1000000);
    if (root.has("format") && format != config_format)
        root.fail(root.line_of("format"), "format = " + std::to_string(format) +
                                              " is not supported (this version reads format " +
                                              std::to_string(config_format) + ")");
    for (const auto& s : sections) {
        ConfigTable table(root.table(s.name), s.name, warnings);
        s.parse(table);
        table.check_unknown();
    }
    root.check_unknown();
    PortClaims ports;
    for (const auto& s : sections)
        if (s.claim_ports) s.claim_ports(ports);
}

}  // namespace

void PortClaims::claim(uint16_t port, const std::string& what) {
    auto [it, fresh] = used_.emplace(port, what);
    if (!fresh)
        throw ConfigError{
            0, what + " uses port " + std::to_string(port) + ", already taken by " + it->second};
}

std::expected<void, std::string> load_config_file(const std::filesystem::path& file,
                                                  InstanceConfig& c,
                                                  std::span<const SectionBinding> sections) {
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
    // (These defaults only keep the section checks quiet: check_complete() refuses a
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
        parse(root, base, sections, warnings);
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
    return {};
}

}  // namespace postern
