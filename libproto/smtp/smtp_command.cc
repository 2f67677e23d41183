#include "libproto/smtp/smtp_command.h"
#include "libproto/core/ascii.h"

#include <array>
#include <cctype>
#include <limits>

namespace postern {

namespace {

constexpr uint8_t greeted = phase_ready | phase_mail | phase_rcpt | phase_bdat;

// Pipelinable per RFC 2920 3.1: RSET, MAIL, RCPT (and BDAT, RFC 3030 4.2) may sit anywhere
// in a group; EHLO, DATA, VRFY, EXPN, NOOP, QUIT, AUTH, STARTTLS end one.
constexpr std::array<SmtpCommandSpec, 15> kCommands{{
    {"HELO", SmtpVerb::helo, phase_any, 0},
    {"EHLO", SmtpVerb::ehlo, phase_any, 0},
    {"MAIL", SmtpVerb::mail, phase_ready, cmd_pipelinable | cmd_needs_auth_on_submission},
    {"RCPT", SmtpVerb::rcpt, phase_mail | phase_rcpt, cmd_pipelinable},
    {"DATA", SmtpVerb::data, phase_rcpt, 0},
    {"BDAT", SmtpVerb::bdat, phase_rcpt | phase_bdat, cmd_pipelinable},
    {"RSET", SmtpVerb::rset, phase_any, cmd_pipelinable},
    {"NOOP", SmtpVerb::noop, phase_any, 0},
    {"QUIT", SmtpVerb::quit, phase_any, 0},
    {"VRFY", SmtpVerb::vrfy, phase_any, 0},
    {"EXPN", SmtpVerb::expn, phase_any, 0},
    {"HELP", SmtpVerb::help, phase_any, 0},
    {"STARTTLS", SmtpVerb::starttls, greeted & ~(phase_mail | phase_rcpt | phase_bdat), 0},
    {"AUTH", SmtpVerb::auth, phase_ready, 0},
    {"", SmtpVerb::unknown, phase_any, cmd_counts_as_bad},
}};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Detail text echoed in a reply: printable ASCII only, bounded.
std::string safe(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 64)) {
        auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7f) ? c : '?';
    }
    return out;
}

std::unexpected<SmtpSyntaxError> fail(SmtpSyntax kind, std::string detail) {
    return std::unexpected(SmtpSyntaxError{kind, std::move(detail)});
}

// Decimal digits only, saturating; nullopt when empty or not all digits.
std::optional<uint64_t> parse_count(std::string_view s) {
    if (s.empty() || s.size() > 40) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        uint64_t d = static_cast<uint64_t>(c - '0');
        if (v > (std::numeric_limits<uint64_t>::max() - d) / 10)
            v = std::numeric_limits<uint64_t>::max();
        else
            v = v * 10 + d;
    }
    return v;
}

// Splits "<path> params" into the bracketed path and the rest. Quoted strings
// and backslash escapes inside the brackets may hold '>' and spaces.
std::expected<std::pair<std::string_view, std::string_view>, SmtpSyntaxError> split_path(
    std::string_view s, const char* usage) {
    s = trim(s);
    if (s.empty() || s.front() != '<') return fail(SmtpSyntax::bad_syntax, usage);
    bool quoted = false;
    for (size_t i = 1; i < s.size(); ++i) {
        char c = s[i];
        if (c == '\\' && quoted) {
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == '>' && !quoted) {
            auto rest = s.substr(i + 1);
            if (!rest.empty() && rest.front() != ' ') return fail(SmtpSyntax::bad_syntax, usage);
            return std::pair{s.substr(1, i - 1), trim(rest)};
        }
    }
    return fail(SmtpSyntax::bad_syntax, usage);
}

// Calls fn(keyword, value, has_value) for each space-separated esmtp-param.
template <class Fn>
std::expected<void, SmtpSyntaxError> for_each_param(std::string_view s, Fn&& fn) {
    while (!s.empty()) {
        size_t sp = s.find(' ');
        std::string_view tok = s.substr(0, sp);
        s = sp == std::string_view::npos ? std::string_view{} : trim(s.substr(sp));
        if (tok.empty()) continue;
        size_t eq = tok.find('=');
        std::string_view key = tok.substr(0, eq);
        std::string_view value =
            eq == std::string_view::npos ? std::string_view{} : tok.substr(eq + 1);
        if (key.empty()) return fail(SmtpSyntax::bad_syntax, "malformed parameter");
        for (char c : key)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-')
                return fail(SmtpSyntax::bad_syntax, "malformed parameter");
        for (char c : value) {
            auto u = static_cast<unsigned char>(c);
            if (u < 0x21 || u == 0x7f || u == '=')  // UTF-8 (RFC 6531) passes
                return fail(SmtpSyntax::bad_parameter_value, "malformed parameter value");
        }
        auto r = fn(ascii_uppered(key), value, eq != std::string_view::npos);
        if (!r) return r;
    }
    return {};
}

std::expected<void, SmtpSyntaxError> parse_mail_params(std::string_view s, MailParams& p) {
    bool seen_size = false, seen_envid = false;
    return for_each_param(
        s,
        [&](const std::string& key, std::string_view value,
            bool has_value) -> std::expected<void, SmtpSyntaxError> {
            if (key == "SIZE") {
                auto n = parse_count(value);
                if (!has_value || !n || seen_size)
                    return fail(SmtpSyntax::bad_parameter_value, "bad SIZE parameter");
                seen_size = true;
                p.size = *n;
            } else if (key == "BODY") {
                if (p.body != SmtpBody::unspecified)
                    return fail(SmtpSyntax::bad_parameter_value, "duplicate BODY parameter");
                if (iequals(value, "7BIT"))
                    p.body = SmtpBody::seven_bit;
                else if (iequals(value, "8BITMIME"))
                    p.body = SmtpBody::eight_bit_mime;
                else
                    return fail(SmtpSyntax::bad_parameter, "unsupported BODY type");
            } else if (key == "SMTPUTF8") {
                if (has_value)
                    return fail(SmtpSyntax::bad_parameter_value, "SMTPUTF8 takes no value");
                p.smtputf8 = true;
            } else if (key == "REQUIRETLS") {
                if (has_value || p.requiretls)
                    return fail(SmtpSyntax::bad_parameter_value, "bad REQUIRETLS parameter");
                p.requiretls = true;
            } else if (key == "RET") {
                if (p.ret != SmtpDsnRet::unspecified)
                    return fail(SmtpSyntax::bad_parameter_value, "duplicate RET parameter");
                if (iequals(value, "FULL"))
                    p.ret = SmtpDsnRet::full;
                else if (iequals(value, "HDRS"))
                    p.ret = SmtpDsnRet::hdrs;
                else
                    return fail(SmtpSyntax::bad_parameter_value, "bad RET parameter");
            } else if (key == "ENVID") {
                auto d = xtext_decode(value);
                if (!has_value || !d || seen_envid || value.size() > 100)
                    return fail(SmtpSyntax::bad_parameter_value, "bad ENVID parameter");
                seen_envid = true;
                p.envid = std::move(*d);
            } else if (key == "AUTH") {
                std::optional<std::string> d =
                    value == "<>" ? std::optional<std::string>("<>") : xtext_decode(value);
                if (!has_value || !d || p.auth)
                    return fail(SmtpSyntax::bad_parameter_value, "bad AUTH parameter");
                p.auth = std::move(*d);
            } else {
                return fail(SmtpSyntax::bad_parameter, "unsupported parameter " + safe(key));
            }
            return {};
        });
}

std::expected<void, SmtpSyntaxError> parse_rcpt_params(std::string_view s, RcptParams& p) {
    bool seen_notify = false, seen_orcpt = false;
    return for_each_param(
        s,
        [&](const std::string& key, std::string_view value,
            bool has_value) -> std::expected<void, SmtpSyntaxError> {
            if (key == "NOTIFY") {
                if (!has_value || seen_notify || value.empty())
                    return fail(SmtpSyntax::bad_parameter_value, "bad NOTIFY parameter");
                seen_notify = true;
                while (true) {
                    size_t comma = value.find(',');
                    auto item = value.substr(0, comma);
                    uint8_t bit = 0;
                    if (iequals(item, "NEVER"))
                        bit = notify_never;
                    else if (iequals(item, "SUCCESS"))
                        bit = notify_success;
                    else if (iequals(item, "FAILURE"))
                        bit = notify_failure;
                    else if (iequals(item, "DELAY"))
                        bit = notify_delay;
                    if (bit == 0 || (p.notify & bit))
                        return fail(SmtpSyntax::bad_parameter_value, "bad NOTIFY parameter");
                    p.notify |= bit;
                    if (comma == std::string_view::npos) break;
                    value.remove_prefix(comma + 1);
                }
                // NEVER excludes the others (RFC 3461 4.1).
                if ((p.notify & notify_never) && p.notify != notify_never)
                    return fail(SmtpSyntax::bad_parameter_value, "bad NOTIFY parameter");
            } else if (key == "ORCPT") {
                size_t semi = value.find(';');
                if (!has_value || seen_orcpt || semi == 0 || semi == std::string_view::npos ||
                    value.size() > 500)
                    return fail(SmtpSyntax::bad_parameter_value, "bad ORCPT parameter");
                auto type = value.substr(0, semi);
                for (char c : type)
                    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-')
                        return fail(SmtpSyntax::bad_parameter_value, "bad ORCPT parameter");
                auto addr = xtext_decode(value.substr(semi + 1));
                if (!addr || addr->empty())
                    return fail(SmtpSyntax::bad_parameter_value, "bad ORCPT parameter");
                seen_orcpt = true;
                p.orcpt_type = ascii_uppered(type);
                for (auto& c : p.orcpt_type)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                p.orcpt = std::move(*addr);
            } else {
                return fail(SmtpSyntax::bad_parameter, "unsupported parameter " + safe(key));
            }
            return {};
        });
}

SmtpVerb lookup_verb(std::string_view word) {
    for (const auto& spec : kCommands)
        if (!spec.name.empty() && iequals(word, spec.name)) return spec.verb;
    return SmtpVerb::unknown;
}

}  // namespace

const SmtpCommandSpec& smtp_command_spec(SmtpVerb verb) {
    for (const auto& spec : kCommands)
        if (spec.verb == verb) return spec;
    return kCommands.back();
}

std::optional<std::string> xtext_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;  // RFC 3461: hexchar is upper-case only
    };
    for (size_t i = 0; i < s.size(); ++i) {
        auto u = static_cast<unsigned char>(s[i]);
        if (u == '+') {
            if (i + 2 >= s.size()) return std::nullopt;
            int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (u >= 0x21 && u <= 0x7e && u != '=') {
            out += static_cast<char>(u);
        } else if (u >= 0x80) {
            out += static_cast<char>(u);  // utf-8-addr-xtext (RFC 6533) passes UTF-8 through
        } else {
            return std::nullopt;
        }
    }
    return out;
}

std::expected<SmtpCommand, SmtpSyntaxError> parse_smtp_command(std::string_view line) {
    SmtpCommand cmd;
    size_t sp = line.find(' ');
    std::string_view word = line.substr(0, sp);
    std::string_view rest = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    cmd.verb = lookup_verb(word);

    switch (cmd.verb) {
    case SmtpVerb::unknown: return fail(SmtpSyntax::unknown_command, "command not recognized");

    case SmtpVerb::helo:
    case SmtpVerb::ehlo: {
        auto domain = trim(rest);
        if (domain.empty() || domain.find(' ') != std::string_view::npos)
            return fail(SmtpSyntax::bad_syntax, cmd.verb == SmtpVerb::ehlo
                                                    ? "Syntax: EHLO hostname"
                                                    : "Syntax: HELO hostname");
        for (char c : domain) {
            auto u = static_cast<unsigned char>(c);
            if (u < 0x21 || u == 0x7f) return fail(SmtpSyntax::bad_syntax, "invalid hostname");
        }
        cmd.arg = std::string(domain);
        return cmd;
    }

    case SmtpVerb::mail:
    case SmtpVerb::rcpt: {
        const bool mail = cmd.verb == SmtpVerb::mail;
        const char* usage = mail ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>";
        std::string_view kw = mail ? "FROM:" : "TO:";
        if (!istarts_with(rest, kw)) return fail(SmtpSyntax::bad_syntax, usage);
        auto split = split_path(rest.substr(kw.size()), usage);
        if (!split) return std::unexpected(split.error());
        cmd.path = std::string(split->first);
        auto r = mail ? parse_mail_params(split->second, cmd.mail)
                      : parse_rcpt_params(split->second, cmd.rcpt);
        if (!r) return std::unexpected(r.error());
        return cmd;
    }

    case SmtpVerb::bdat: {
        auto args = trim(rest);
        size_t s2 = args.find(' ');
        auto n = parse_count(args.substr(0, s2));
        if (!n) return fail(SmtpSyntax::bad_syntax, "Syntax: BDAT size [LAST]");
        if (s2 != std::string_view::npos) {
            if (!iequals(trim(args.substr(s2)), "LAST"))
                return fail(SmtpSyntax::bad_syntax, "Syntax: BDAT size [LAST]");
            cmd.last = true;
        }
        cmd.chunk_size = *n;
        return cmd;
    }

    case SmtpVerb::data:
    case SmtpVerb::rset:
    case SmtpVerb::quit:
    case SmtpVerb::starttls:
        if (!trim(rest).empty())
            return fail(SmtpSyntax::bad_syntax,
                        "Syntax: " + std::string(smtp_command_spec(cmd.verb).name));
        return cmd;

    case SmtpVerb::noop:
    case SmtpVerb::help: cmd.arg = std::string(trim(rest)); return cmd;

    case SmtpVerb::vrfy:
    case SmtpVerb::expn:
        cmd.arg = std::string(trim(rest));
        if (cmd.arg.empty())
            return fail(SmtpSyntax::bad_syntax,
                        cmd.verb == SmtpVerb::vrfy ? "Syntax: VRFY address" : "Syntax: EXPN list");
        return cmd;

    case SmtpVerb::auth: {
        auto args = trim(rest);
        size_t s2 = args.find(' ');
        auto mech = args.substr(0, s2);
        if (mech.empty() || mech.size() > 20)
            return fail(SmtpSyntax::bad_syntax, "Syntax: AUTH mechanism [initial-response]");
        for (char c : mech)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
                return fail(SmtpSyntax::bad_syntax, "Syntax: AUTH mechanism [initial-response]");
        cmd.arg = ascii_uppered(mech);
        if (s2 != std::string_view::npos) {
            cmd.auth_initial = std::string(trim(args.substr(s2)));
            if (cmd.auth_initial.find(' ') != std::string::npos)
                return fail(SmtpSyntax::bad_syntax, "Syntax: AUTH mechanism [initial-response]");
        }
        return cmd;
    }
    }
    return fail(SmtpSyntax::unknown_command, "command not recognized");
}

}  // namespace postern
