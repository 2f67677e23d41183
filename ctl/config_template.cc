#include "ctl/config_template.h"

#include <cstdio>
#include <map>

#include "ctl/config_template_data.h"

namespace postern::ctl {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

std::string_view config_template() { return kConfigTemplate; }

std::expected<std::string, std::string> render_config(std::string_view tmpl,
                                                      const std::vector<ConfigValue>& values) {
    std::map<std::string, std::string> pending(values.begin(), values.end());
    std::string out;
    out.reserve(tmpl.size() + 256);
    std::string section;
    while (!tmpl.empty()) {
        auto nl = tmpl.find('\n');
        std::string_view line = tmpl.substr(0, nl);
        tmpl.remove_prefix(nl == std::string_view::npos ? tmpl.size() : nl + 1);
        const bool had_newline = nl != std::string_view::npos;

        auto t = trim(line);
        if (t.size() > 2 && t.front() == '[' && t.back() == ']') {
            section = std::string(trim(t.substr(1, t.size() - 2)));
        } else if (!t.empty() && t.front() != '#') {
            // A "key = value" line: only simple one-line settings are ever replaced.
            auto eq = t.find('=');
            if (eq != std::string_view::npos) {
                std::string key = section + "." + std::string(trim(t.substr(0, eq)));
                if (auto it = pending.find(key); it != pending.end()) {
                    auto indent = line.substr(0, line.find_first_not_of(" \t"));
                    out.append(indent)
                        .append(trim(t.substr(0, eq)))
                        .append(" = ")
                        .append(it->second);
                    if (had_newline) out.push_back('\n');
                    pending.erase(it);
                    continue;
                }
            }
        }
        out.append(line);
        if (had_newline) out.push_back('\n');
    }
    if (!pending.empty())
        return std::unexpected("config template has no setting " + pending.begin()->first);
    return out;
}

std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
    }
    out += "\"";
    return out;
}

}  // namespace postern::ctl
