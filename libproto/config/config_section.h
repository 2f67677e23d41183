#pragma once
// How postern.toml is read: every [section] belongs to a struct that a daemon or component
// owns, and a ConfigSection says how to fill it from its table. The full instance config
// (config/config.h: postern_config) binds each section to its member and lists them in
// the order they are read; the loader knows no section but the ones it is given, so a
// [name] nobody registered is an unknown setting, as is a key no parse function read.
//
// A new section is a struct plus
//     void parse_x(ConfigTable& t, XConfig& out);   // errors: t.fail(line, "x.key ...")
//     inline constexpr ConfigSection<XConfig> x_section{"x", parse_x};
// and one bind(x_section, c.x) line in config/config.cc.

#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "libproto/config/config_table.h"

namespace postern {

struct InstanceConfig;

// The ports the sections listen on: two services on one port would only show up as a
// confusing bind error. claim() fails with "WHAT uses port N, already taken by OTHER".
class PortClaims {
public:
    void claim(uint16_t port, const std::string& what);

private:
    std::map<uint16_t, std::string> used_;
};

template <typename S>
struct ConfigSection {
    const char* name;                 // "smtpd": the [smtpd] table
    void (*parse)(ConfigTable&, S&);  // reads the table into S, which holds the defaults
    void (*claim_ports)(const S&, PortClaims&) = nullptr;  // after every section was read
};

// A section bound to the struct it fills.
struct SectionBinding {
    const char* name;
    std::function<void(ConfigTable&)> parse;
    std::function<void(PortClaims&)> claim_ports;  // may be empty
};

template <typename S>
SectionBinding bind(const ConfigSection<S>& section, S& into) {
    SectionBinding b{section.name, [p = section.parse, &into](ConfigTable& t) { p(t, into); }, {}};
    if (section.claim_ports)
        b.claim_ports = [c = section.claim_ports, &into](PortClaims& ports) { c(into, ports); };
    return b;
}

// Reads `file` into `instance` (its file, path defaults and warnings) and whatever
// `sections` are bound to, in this order: the format key, each section in list order, unknown
// top-level keys, port claims, then what a complete file must say ([server], [paths], [tls]).
// On error returns one line "FILE:LINE: what is wrong" (LINE omitted when the file could not
// be read or the error names no line).
std::expected<void, std::string> load_config_file(const std::filesystem::path& file,
                                                  InstanceConfig& instance,
                                                  std::span<const SectionBinding> sections);

}  // namespace postern
