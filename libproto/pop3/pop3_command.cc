#include "libproto/pop3/pop3_command.h"

#include <array>
#include <charconv>
#include <vector>

namespace postern {
namespace {

// How many arguments each command takes, and of what kind.
enum class ArgShape : uint8_t {
    none,         // CAPA STLS STAT NOOP RSET QUIT
    name,         // USER name
    rest,         // PASS everything after the first space
    name_digest,  // APOP name digest
    auth,         // AUTH [mech [initial-response]]
    opt_msg,      // LIST [msg], UIDL [msg]
    msg,          // RETR msg, DELE msg
    msg_lines,    // TOP msg n
};

struct VerbSpec {
    std::string_view name;
    Pop3Verb verb;
    ArgShape shape;
};

constexpr std::array<VerbSpec, 15> verbs{{
    {"USER", Pop3Verb::user, ArgShape::name},
    {"PASS", Pop3Verb::pass, ArgShape::rest},
    {"APOP", Pop3Verb::apop, ArgShape::name_digest},
    {"AUTH", Pop3Verb::auth, ArgShape::auth},
    {"CAPA", Pop3Verb::capa, ArgShape::none},
    {"STLS", Pop3Verb::stls, ArgShape::none},
    {"STAT", Pop3Verb::stat, ArgShape::none},
    {"LIST", Pop3Verb::list, ArgShape::opt_msg},
    {"RETR", Pop3Verb::retr, ArgShape::msg},
    {"DELE", Pop3Verb::dele, ArgShape::msg},
    {"NOOP", Pop3Verb::noop, ArgShape::none},
    {"RSET", Pop3Verb::rset, ArgShape::none},
    {"TOP", Pop3Verb::top, ArgShape::msg_lines},
    {"UIDL", Pop3Verb::uidl, ArgShape::opt_msg},
    {"QUIT", Pop3Verb::quit, ArgShape::none},
}};

bool is_space(char c) { return c == ' ' || c == '\t'; }

char upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (upper(a[i]) != upper(b[i])) return false;
    return true;
}

std::vector<std::string_view> split_words(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) ++i;
        size_t j = i;
        while (j < s.size() && !is_space(s[j])) ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

// A decimal number with no sign, at most 20 digits (RFC 2449: 40 for
// arguments; numbers beyond 64 bits are out of range anyway).
std::expected<uint64_t, Pop3ParseError> parse_number(std::string_view s) {
    if (s.empty() || s.size() > 20) return std::unexpected(Pop3ParseError::bad_number);
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size())
        return std::unexpected(Pop3ParseError::bad_number);
    return v;
}

std::expected<uint32_t, Pop3ParseError> parse_msg(std::string_view s) {
    auto n = parse_number(s);
    if (!n) return std::unexpected(n.error());
    if (*n == 0 || *n > UINT32_MAX) return std::unexpected(Pop3ParseError::bad_number);
    return static_cast<uint32_t>(*n);
}

}  // namespace

std::string_view pop3_verb_name(Pop3Verb v) {
    for (const auto& s : verbs)
        if (s.verb == v) return s.name;
    return "?";
}

std::string_view pop3_parse_error_text(Pop3ParseError e) {
    switch (e) {
    case Pop3ParseError::empty: return "Empty command";
    case Pop3ParseError::unknown_command: return "Unknown command";
    case Pop3ParseError::missing_argument: return "Missing argument";
    case Pop3ParseError::extra_argument: return "Too many arguments";
    case Pop3ParseError::bad_number: return "Invalid message number";
    case Pop3ParseError::too_long: return "Line too long";
    }
    return "Syntax error";
}

std::expected<Pop3Command, Pop3ParseError> parse_pop3_command(std::string_view line) {
    if (line.size() > pop3_max_command_line) return std::unexpected(Pop3ParseError::too_long);
    // Tolerate a stray CR left by a client that sends CR CR LF.
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t start = 0;
    while (start < line.size() && is_space(line[start])) ++start;
    line.remove_prefix(start);
    if (line.empty()) return std::unexpected(Pop3ParseError::empty);

    size_t kw_end = 0;
    while (kw_end < line.size() && !is_space(line[kw_end])) ++kw_end;
    std::string_view keyword = line.substr(0, kw_end);
    const VerbSpec* spec = nullptr;
    for (const auto& s : verbs)
        if (iequals(s.name, keyword)) spec = &s;
    if (!spec) return std::unexpected(Pop3ParseError::unknown_command);

    Pop3Command cmd;
    cmd.verb = spec->verb;
    // PASS keeps its argument verbatim (RFC 1939 7: it may contain spaces),
    // after exactly one separator.
    std::string_view after = line.substr(kw_end);
    if (spec->shape == ArgShape::rest) {
        if (after.empty() || after.size() == 1)
            return std::unexpected(Pop3ParseError::missing_argument);
        cmd.arg = std::string(after.substr(1));
        return cmd;
    }

    auto args = split_words(after);
    auto want = [&](size_t min, size_t max) -> std::expected<void, Pop3ParseError> {
        if (args.size() < min) return std::unexpected(Pop3ParseError::missing_argument);
        if (args.size() > max) return std::unexpected(Pop3ParseError::extra_argument);
        return {};
    };
    std::expected<void, Pop3ParseError> ok;
    switch (spec->shape) {
    case ArgShape::none: ok = want(0, 0); break;
    case ArgShape::name:
        ok = want(1, 1);
        if (ok) cmd.arg = std::string(args[0]);
        break;
    case ArgShape::rest: break;  // handled above
    case ArgShape::name_digest:
        ok = want(2, 2);
        if (ok) {
            cmd.arg = std::string(args[0]);
            cmd.arg2 = std::string(args[1]);
            cmd.has_arg2 = true;
        }
        break;
    case ArgShape::auth:
        ok = want(0, 2);
        if (ok && !args.empty()) {
            cmd.arg.reserve(args[0].size());
            for (char c : args[0]) cmd.arg.push_back(upper(c));
            if (args.size() == 2) {
                cmd.arg2 = std::string(args[1]);
                cmd.has_arg2 = true;
            }
        }
        break;
    case ArgShape::opt_msg:
        ok = want(0, 1);
        if (ok && args.size() == 1) {
            auto n = parse_msg(args[0]);
            if (!n) return std::unexpected(n.error());
            cmd.msg = *n;
        }
        break;
    case ArgShape::msg:
        ok = want(1, 1);
        if (ok) {
            auto n = parse_msg(args[0]);
            if (!n) return std::unexpected(n.error());
            cmd.msg = *n;
        }
        break;
    case ArgShape::msg_lines:
        ok = want(2, 2);
        if (ok) {
            auto n = parse_msg(args[0]);
            if (!n) return std::unexpected(n.error());
            auto l = parse_number(args[1]);
            if (!l) return std::unexpected(l.error());
            cmd.msg = *n;
            cmd.lines = *l;
        }
        break;
    }
    if (!ok) return std::unexpected(ok.error());
    return cmd;
}

}  // namespace postern
