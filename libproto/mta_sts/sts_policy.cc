#include "libproto/mta_sts/sts_policy.h"

#include "libproto/core/ascii.h"

namespace postern {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_wsp(std::string_view s) {
    while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
    return s;
}

// sts-policy-ext-name / sts-ext-name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
bool is_field_name(std::string_view s) {
    if (s.empty() || s.size() > 32 || !(is_alpha(s[0]) || is_digit(s[0]))) return false;
    for (char c : s)
        if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.')) return false;
    return true;
}

// A host name: labels of letters, digits, '-' (and '_', seen in the wild), 1..63 each,
// at most 253 in all.
bool is_domain(std::string_view s) {
    if (s.empty() || s.size() > 253) return false;
    size_t label = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '_') || ++label > 63) return false;
    }
    return label > 0;
}

std::string_view strip_dot(std::string_view s) {
    if (!s.empty() && s.back() == '.') s.remove_suffix(1);
    return s;
}

}  // namespace

const char* sts_mode_name(StsMode m) {
    switch (m) {
    case StsMode::none: return "none";
    case StsMode::testing: return "testing";
    case StsMode::enforce: return "enforce";
    }
    return "?";
}

std::expected<StsPolicy, std::string> parse_sts_policy(std::string_view body) {
    using std::unexpected;
    if (body.size() > kStsPolicyMaxBytes) return unexpected("policy larger than 64 KB");
    StsPolicy p;
    bool have_version = false, have_mode = false, have_max_age = false;
    size_t line_no = 0;
    while (!body.empty()) {
        size_t eol = body.find('\n');
        std::string_view line = body.substr(0, eol);
        body = eol == std::string_view::npos ? std::string_view{} : body.substr(eol + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        auto where = [&](const std::string& what) {
            return unexpected("line " + std::to_string(line_no) + ": " + what);
        };
        if (line.find('\0') != std::string_view::npos) return where("NUL byte");
        if (trim_wsp(line).empty()) continue;
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) return where("not \"key: value\"");
        std::string_view key = line.substr(0, colon);
        std::string_view value = trim_wsp(line.substr(colon + 1));
        if (!is_field_name(key)) return where("bad key name");
        if (key == "version") {
            if (have_version) return where("version given twice");
            have_version = true;
            if (value != "STSv1") return where("version is not STSv1");
        } else if (key == "mode") {
            if (have_mode) return where("mode given twice");
            have_mode = true;
            if (value == "enforce")
                p.mode = StsMode::enforce;
            else if (value == "testing")
                p.mode = StsMode::testing;
            else if (value == "none")
                p.mode = StsMode::none;
            else
                return where("mode is not enforce, testing or none");
        } else if (key == "max_age") {
            if (have_max_age) return where("max_age given twice");
            have_max_age = true;
            if (value.empty() || value.size() > 10) return where("max_age is not 1 to 10 digits");
            uint64_t v = 0;
            for (char c : value) {
                if (!is_digit(c)) return where("max_age is not 1 to 10 digits");
                v = v * 10 + uint64_t(c - '0');
            }
            p.max_age = uint32_t(v > kStsMaxAge ? kStsMaxAge : v);
        } else if (key == "mx") {
            std::string_view host = value;
            if (host.starts_with("*.")) host.remove_prefix(2);
            if (!is_domain(strip_dot(host))) return where("mx is not a [*.]domain");
            if (p.mx.size() >= kStsMaxMx) return where("more than 256 mx lines");
            p.mx.push_back(ascii_lowered(strip_dot(value)));
        }
        // Other keys: extensions, ignored (RFC 8461 3.2).
    }
    if (!have_version) return unexpected("no version");
    if (!have_mode) return unexpected("no mode");
    if (!have_max_age) return unexpected("no max_age");
    if (p.mode != StsMode::none && p.mx.empty()) return unexpected("no mx (mode is not none)");
    return p;
}

bool sts_mx_pattern_matches(std::string_view pattern, std::string_view host) {
    host = strip_dot(host);
    pattern = strip_dot(pattern);
    if (host.empty() || pattern.empty()) return false;
    if (!pattern.starts_with("*.")) return iequals(pattern, host);
    std::string_view rest = pattern.substr(1);  // ".example.com"
    size_t dot = host.find('.');
    if (dot == 0 || dot == std::string_view::npos) return false;
    return iequals(host.substr(dot), rest);
}

bool sts_mx_matches(const StsPolicy& p, std::string_view host) {
    for (const auto& m : p.mx)
        if (sts_mx_pattern_matches(m, host)) return true;
    return false;
}

std::expected<StsRecord, std::string> parse_sts_record(std::string_view txt) {
    using std::unexpected;
    if (!txt.starts_with("v=STSv1")) return unexpected("does not start with v=STSv1");
    std::string_view rest = txt.substr(7);
    StsRecord r;
    bool have_id = false;
    bool first = true;
    while (true) {
        rest = trim_wsp(rest);
        if (rest.empty()) break;
        if (rest.front() != ';') return unexpected(first ? "no ';' after v=STSv1" : "bad field");
        rest.remove_prefix(1);
        first = false;
        rest = trim_wsp(rest);
        if (rest.empty()) break;  // a trailing ';'
        size_t end = rest.find(';');
        std::string_view field = trim_wsp(rest.substr(0, end));
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
        size_t eq = field.find('=');
        if (eq == std::string_view::npos) return unexpected("field without '='");
        std::string_view name = field.substr(0, eq), value = field.substr(eq + 1);
        if (!is_field_name(name)) return unexpected("bad field name");
        if (value.empty()) return unexpected("empty field value");
        for (char c : value)
            if (c <= 0x20 || c >= 0x7f || c == ';' || c == '=')
                return unexpected("bad character in a field value");
        if (name == "id") {
            if (have_id) return unexpected("id given twice");
            if (value.size() > 32) return unexpected("id longer than 32");
            for (char c : value)
                if (!(is_alpha(c) || is_digit(c)))
                    return unexpected("id is not letters and digits");
            r.id = std::string(value);
            have_id = true;
        }
    }
    if (first) return unexpected("no fields after v=STSv1");
    if (!have_id) return unexpected("no id");
    return r;
}

std::expected<StsRecord, std::string> select_sts_record(const std::vector<std::string>& txts) {
    const std::string* one = nullptr;
    size_t n = 0;
    for (const auto& t : txts) {
        std::string_view rest = std::string_view(t);
        if (!rest.starts_with("v=STSv1")) continue;
        rest = trim_wsp(rest.substr(7));
        if (!rest.empty() && rest.front() != ';') continue;  // "v=STSv10": another version
        ++n;
        one = &t;
    }
    if (n == 0) return std::unexpected("no v=STSv1 record");
    if (n > 1) return std::unexpected(std::to_string(n) + " v=STSv1 records");
    return parse_sts_record(*one);
}

}  // namespace postern
