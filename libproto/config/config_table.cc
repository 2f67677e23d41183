#include "libproto/config/config_table.h"

#include <set>

#include "libproto/config/toml_source.h"

namespace postern {

struct ConfigTable::State {
    Source source;
    std::string prefix;
    std::set<std::string, std::less<>> seen;

    const toml::node* get(const char* key) {
        seen.insert(key);
        return source.table->get(key);
    }
};

ConfigTable::ConfigTable(const Source& source, std::string prefix,
                         std::vector<ConfigError>& warnings)
    : state_(std::make_unique<State>(State{source, std::move(prefix), {}})), warnings_(warnings) {}

ConfigTable::~ConfigTable() = default;

std::string ConfigTable::name(const std::string& key) const {
    return state_->prefix.empty() ? key : state_->prefix + "." + key;
}

void ConfigTable::fail(int line, std::string what) const {
    throw ConfigError{line, std::move(what)};
}

void ConfigTable::warn(int line, std::string what) { warnings_.push_back({line, std::move(what)}); }

bool ConfigTable::has(const char* key) const { return state_->source.table->get(key) != nullptr; }

int ConfigTable::line_of(const char* key) const {
    const auto* n = state_->source.table->get(key);
    return n ? postern::line_of(*n) : 0;
}

void ConfigTable::check_unknown() const {
    for (const auto& [k, v] : *state_->source.table) {
        if (!state_->seen.count(k.str()))
            fail(postern::line_of(v), "unknown setting " + name(std::string(k.str())));
    }
}

void ConfigTable::str(const char* key, std::string& out) {
    if (const auto* n = state_->get(key)) {
        auto v = n->value<std::string>();
        if (!v) fail(postern::line_of(*n), name(key) + " must be a string");
        out = *v;
    }
}

void ConfigTable::path(const char* key, std::filesystem::path& out) {
    const auto* n = state_->get(key);
    if (n == nullptr) return;
    std::string s;
    str(key, s);
    if (s.empty()) fail(postern::line_of(*n), name(key) + " must not be empty");
    std::filesystem::path p(s);
    out = p.is_absolute() ? p : (state_->source.base / p).lexically_normal();
}

bool ConfigTable::read_integer(const char* key, int64_t& out, int64_t min, int64_t max) {
    const auto* n = state_->get(key);
    if (!n) return false;
    auto v = n->value<int64_t>();
    if (!v || !n->is_integer()) fail(postern::line_of(*n), name(key) + " must be an integer");
    if (*v < min || *v > max)
        fail(postern::line_of(*n),
             name(key) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
    out = *v;
    return true;
}

void ConfigTable::boolean(const char* key, bool& out) {
    if (const auto* n = state_->get(key)) {
        auto v = n->value<bool>();
        if (!v || !n->is_boolean())
            fail(postern::line_of(*n), name(key) + " must be true or false");
        out = *v;
    }
}

void ConfigTable::strings(const char* key, std::vector<std::string>& out) {
    if (const auto* n = state_->get(key)) {
        const auto* arr = n->as_array();
        if (!arr) fail(postern::line_of(*n), name(key) + " must be a list of strings");
        out.clear();
        for (const auto& e : *arr) {
            auto v = e.value<std::string>();
            if (!v || !e.is_string())
                fail(postern::line_of(e), name(key) + " must be a list of strings");
            out.push_back(*v);
        }
    }
}

bool ConfigTable::read_integers(const char* key, std::vector<int64_t>& out, int64_t min,
                                int64_t max) {
    const auto* n = state_->get(key);
    if (!n) return false;
    const auto* arr = n->as_array();
    if (!arr) fail(postern::line_of(*n), name(key) + " must be a list of integers");
    for (const auto& e : *arr) {
        auto v = e.value<int64_t>();
        if (!v || !e.is_integer() || *v < min || *v > max)
            fail(postern::line_of(e), name(key) + " must hold integers between " +
                                          std::to_string(min) + " and " + std::to_string(max));
        out.push_back(*v);
    }
    return true;
}

std::vector<ConfigItem> ConfigTable::items(const char* key) const {
    std::vector<ConfigItem> out;
    const auto* n = state_->source.table->get(key);
    const auto* arr = n ? n->as_array() : nullptr;
    if (!arr) return out;
    for (const auto& e : *arr)
        out.push_back({e.value<std::string>().value_or(""), postern::line_of(e)});
    return out;
}

std::vector<ConfigEntry> ConfigTable::string_table(const char* key) {
    std::vector<ConfigEntry> out;
    const auto* n = state_->get(key);
    if (!n) return out;
    const auto* t = n->as_table();
    if (!t) fail(postern::line_of(*n), "[" + name(key) + "] must be a table");
    for (const auto& [k, v] : *t) {
        auto s = v.value<std::string>();
        if (!s || !v.is_string())
            fail(postern::line_of(v),
                 name(key) + ".\"" + std::string(k.str()) + "\" must be a string");
        out.push_back({std::string(k.str()), *s, postern::line_of(v)});
    }
    return out;
}

ConfigTable::Source ConfigTable::table(const char* key) {
    static const toml::table empty;
    const auto* n = state_->get(key);
    if (!n) return {&empty, state_->source.base};
    const auto* t = n->as_table();
    if (!t) fail(postern::line_of(*n), std::string("[") + key + "] must be a table");
    return {t, state_->source.base};
}

}  // namespace postern
