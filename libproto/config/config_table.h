#pragma once
// One table of postern.toml ([smtpd], [paths], the root), as a section's parse function sees
// it: typed reads that check range and type, keys resolved against the file's directory, and
// errors and warnings that load_config turns into "FILE:LINE: what". toml++ stays behind
// this class: no section header includes it.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace postern {

// What a parse function raises through ConfigTable::fail(): thrown only inside
// load_config_file (config_section.h), which catches it and returns the error line.
// LINE 0: the error names no line.
struct ConfigError {
    int line;
    std::string what;
};

// A list entry with the line it is on (for checks of single entries).
struct ConfigItem {
    std::string value;
    int line;
};

// One `"key" = "value"` of a table whose keys are data, not settings ([delivery.routes]).
struct ConfigEntry {
    std::string key;
    std::string value;
    int line;
};

class ConfigTable {
public:
    struct Source;  // the toml++ table and the file's directory (toml_source.h, private)
    ConfigTable(const Source& source, std::string prefix, std::vector<ConfigError>& warnings);
    ConfigTable(const ConfigTable&) = delete;
    ConfigTable& operator=(const ConfigTable&) = delete;
    ~ConfigTable();

    // Each read leaves `out` alone when the key is absent and fails when it has the wrong
    // type or range. Every key read (present or not) counts as known for check_unknown().
    void str(const char* key, std::string& out);
    // A non-empty string; relative paths resolve against the config file's directory.
    void path(const char* key, std::filesystem::path& out);
    template <typename T>
    void num(const char* key, T& out, int64_t min, int64_t max) {
        int64_t v = 0;
        if (read_integer(key, v, min, max)) out = static_cast<T>(v);
    }
    void port(const char* key, uint16_t& out) { num(key, out, 1, 65535); }
    void boolean(const char* key, bool& out);
    void strings(const char* key, std::vector<std::string>& out);
    template <typename T>
    void numbers(const char* key, std::vector<T>& out, int64_t min, int64_t max) {
        std::vector<int64_t> v;
        if (!read_integers(key, v, min, max)) return;
        out.assign(v.begin(), v.end());
    }
    // The string entries of list `key` with their lines (non-strings skipped: strings()
    // reports them). Empty when absent.
    std::vector<ConfigItem> items(const char* key) const;

    // The sub-table `key` ([prefix.key]) of arbitrary keys with string values, in key order;
    // the keys are data, so none is unknown. Empty when absent. Fails when `key` is not a
    // table or a value is not a string ("delivery.routes.\"a.org\" must be a string").
    std::vector<ConfigEntry> string_table(const char* key);

    bool has(const char* key) const;
    // The line of `key`'s value; 0 when absent.
    int line_of(const char* key) const;
    // "smtpd.mx_port" for "mx_port" in [smtpd].
    std::string name(const std::string& key) const;

    [[noreturn]] void fail(int line, std::string what) const;
    // Not an error, but worth telling the sysadmin (mailctl check prints it, daemons log it).
    void warn(int line, std::string what);
    // Fails on the first key no read asked for: a typo the user would otherwise never see.
    void check_unknown() const;

    // The sub-table `key` (marked known), or an empty one; fails when `key` is not a table.
    // (For the loader: Source is complete only in toml_source.h.)
    Source table(const char* key);

private:
    bool read_integer(const char* key, int64_t& out, int64_t min, int64_t max);
    bool read_integers(const char* key, std::vector<int64_t>& out, int64_t min, int64_t max);

    struct State;
    std::unique_ptr<State> state_;
    std::vector<ConfigError>& warnings_;
};

}  // namespace postern
