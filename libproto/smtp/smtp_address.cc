#include "libproto/smtp/smtp_address.h"
#include "libproto/core/ascii.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace postern {

namespace {

constexpr size_t max_local = 64;
constexpr size_t max_domain = 255;
constexpr size_t max_path = 256;  // including '<' and '>'
constexpr size_t max_label = 63;

bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

// RFC 5322 atext; RFC 6531 adds UTF8-non-ascii (checked for well-formedness separately).
bool is_atext(unsigned char c) {
    if (is_alpha(c) || is_digit(c) || c >= 0x80) return true;
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(char(c)) != std::string_view::npos;
}

// Well-formed UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n >= s.size()) return false;  // truncated sequence
        for (size_t k = 1; k <= n; ++k) {
            unsigned char cc = s[i + k];
            if ((cc & 0xc0) != 0x80) return false;
            cp = cp << 6 | (cc & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

bool has_non_ascii(std::string_view s) {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// Dot-string = Atom *("." Atom)
bool valid_dot_string(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.') return false;
    for (size_t i = 0; i < s.size(); ++i) {
        unsigned char c = s[i];
        if (c == '.') {
            if (s[i - 1] == '.') return false;
            continue;
        }
        if (!is_atext(c)) return false;
    }
    return true;
}

// sub-domain = Let-dig [Ldh-str]; UTF-8 octets count as letters (U-labels).
std::optional<PathError> check_domain(std::string_view d) {
    if (d.empty()) return PathError::missing_domain;
    if (d.size() > max_domain) return PathError::domain_too_long;
    size_t start = 0;
    while (true) {
        size_t dot = d.find('.', start);
        std::string_view label = d.substr(start, dot == d.npos ? d.npos : dot - start);
        if (label.empty()) return PathError::bad_domain;
        if (label.size() > max_label) return PathError::domain_too_long;
        if (label.front() == '-' || label.back() == '-') return PathError::bad_domain;
        for (unsigned char c : label)
            if (!(is_alpha(c) || is_digit(c) || c == '-' || c >= 0x80))
                return PathError::bad_domain;
        if (dot == d.npos) break;
        start = dot + 1;
    }
    return std::nullopt;
}

// address-literal = "[" ( IPv4-address-literal / IPv6-address-literal ) "]"
std::expected<std::string, PathError> check_literal(std::string_view d) {
    if (d.size() < 3 || d.back() != ']') return std::unexpected(PathError::bad_address_literal);
    std::string_view inner = d.substr(1, d.size() - 2);
    unsigned char buf[16];
    std::string text(inner);
    if (inner.size() > 5 && iequals(inner.substr(0, 5), "IPv6:")) {
        std::string addr(inner.substr(5));
        if (inet_pton(AF_INET6, addr.c_str(), buf) != 1)
            return std::unexpected(PathError::bad_address_literal);
        for (auto& c : addr) c = char(std::tolower(static_cast<unsigned char>(c)));
        return "[IPv6:" + addr + "]";
    }
    if (inet_pton(AF_INET, text.c_str(), buf) != 1)
        return std::unexpected(PathError::bad_address_literal);
    return "[" + text + "]";
}

// esmtp-param = esmtp-keyword ["=" esmtp-value]
std::expected<std::vector<SmtpParam>, PathError> parse_params(std::string_view s, bool utf8) {
    std::vector<SmtpParam> out;
    size_t i = 0;
    while (i < s.size()) {
        if (s[i] == ' ') {
            ++i;
            continue;
        }
        size_t end = s.find(' ', i);
        std::string_view tok = s.substr(i, end == s.npos ? s.npos : end - i);
        i = end == s.npos ? s.size() : end;
        size_t eq = tok.find('=');
        std::string_view key = tok.substr(0, eq);
        if (key.empty() || !(is_alpha(key[0]) || is_digit(key[0])))
            return std::unexpected(PathError::bad_parameter);
        for (unsigned char c : key)
            if (!(is_alpha(c) || is_digit(c) || c == '-'))
                return std::unexpected(PathError::bad_parameter);
        SmtpParam p;
        p.key.reserve(key.size());
        for (unsigned char c : key) p.key += char(std::toupper(c));
        if (eq != tok.npos) {
            std::string_view val = tok.substr(eq + 1);
            if (val.empty()) return std::unexpected(PathError::bad_parameter);
            for (unsigned char c : val) {
                if (c >= 0x80) {
                    if (!utf8) return std::unexpected(PathError::utf8_not_allowed);
                    continue;
                }
                if (c < 33 || c > 126 || c == '=') return std::unexpected(PathError::bad_parameter);
            }
            if (!valid_utf8(val)) return std::unexpected(PathError::invalid_utf8);
            p.value = std::string(val);
        }
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace

std::string_view path_error_text(PathError e) {
    switch (e) {
    case PathError::empty: return "Missing address";
    case PathError::missing_brackets: return "Address must be enclosed in <>";
    case PathError::source_route: return "Source routes are not accepted";
    case PathError::multiple_at: return "Address has more than one @";
    case PathError::empty_local_part: return "Empty local part";
    case PathError::missing_domain: return "Address has no domain";
    case PathError::null_not_allowed: return "Null recipient not allowed";
    case PathError::local_too_long: return "Local part too long";
    case PathError::domain_too_long: return "Domain too long";
    case PathError::path_too_long: return "Path too long";
    case PathError::bad_local_part: return "Bad local part syntax";
    case PathError::bad_domain: return "Bad domain syntax";
    case PathError::bad_address_literal: return "Bad address literal";
    case PathError::utf8_not_allowed: return "Non-ASCII address without SMTPUTF8";
    case PathError::invalid_utf8: return "Invalid UTF-8 in address";
    case PathError::bad_parameter: return "Bad parameter syntax";
    case PathError::trailing_garbage: return "Unexpected text after address";
    }
    return "Bad address syntax";
}

std::expected<ParsedPath, PathError> parse_smtp_path(std::string_view text, PathKind kind,
                                                     bool utf8_allowed) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    if (text.empty()) return std::unexpected(PathError::empty);
    if (text.front() != '<') return std::unexpected(PathError::missing_brackets);

    // Find the closing '>' outside a quoted string.
    size_t close = std::string_view::npos;
    bool quoted = false;
    for (size_t i = 1; i < text.size(); ++i) {
        char c = text[i];
        if (quoted && c == '\\') {
            ++i;
            continue;
        }
        if (c == '"') quoted = !quoted;
        if (c == '>' && !quoted) {
            close = i;
            break;
        }
    }
    if (close == std::string_view::npos) return std::unexpected(PathError::missing_brackets);
    std::string_view inner = text.substr(1, close - 1);
    std::string_view after = text.substr(close + 1);

    ParsedPath out;
    if (!after.empty()) {
        if (after.front() != ' ') return std::unexpected(PathError::trailing_garbage);
        auto params = parse_params(after, utf8_allowed);
        if (!params) return std::unexpected(params.error());
        out.params = std::move(*params);
    }

    if (inner.size() + 2 > max_path) return std::unexpected(PathError::path_too_long);
    if (inner.empty()) {
        if (kind == PathKind::forward_path) return std::unexpected(PathError::null_not_allowed);
        out.is_null = true;
        return out;
    }
    if (has_non_ascii(inner)) {
        if (!valid_utf8(inner)) return std::unexpected(PathError::invalid_utf8);
        if (!utf8_allowed) return std::unexpected(PathError::utf8_not_allowed);
        out.has_utf8 = true;
    }
    if (inner.front() == '@') {
        // A-d-l ":" Mailbox (RFC 5321 4.1.2): refused outright.
        if (inner.find(':') != inner.npos) return std::unexpected(PathError::source_route);
        return std::unexpected(PathError::empty_local_part);
    }
    if (kind == PathKind::forward_path && iequals(inner, "postmaster")) {
        out.local = std::string(inner);
        out.is_postmaster = true;
        return out;
    }

    // Local part.
    std::string_view rest;
    if (inner.front() == '"') {
        out.local_was_quoted = true;
        size_t i = 1;
        bool closed = false;
        for (; i < inner.size(); ++i) {
            unsigned char c = inner[i];
            if (c == '"') {
                closed = true;
                ++i;
                break;
            }
            if (c == '\\') {
                // quoted-pairSMTP = "\" %d32-126
                if (i + 1 >= inner.size()) return std::unexpected(PathError::bad_local_part);
                unsigned char n = inner[++i];
                if (n < 32 || n > 126) return std::unexpected(PathError::bad_local_part);
                out.local += char(n);
                continue;
            }
            // qtextSMTP = %d32-33 / %d35-91 / %d93-126 / UTF8-non-ascii
            if (c < 32 || c == 127) return std::unexpected(PathError::bad_local_part);
            out.local += char(c);
        }
        if (!closed) return std::unexpected(PathError::bad_local_part);
        if (i > max_local) return std::unexpected(PathError::local_too_long);  // wire form
        if (i >= inner.size() || inner[i] != '@') {
            if (i >= inner.size()) return std::unexpected(PathError::missing_domain);
            return std::unexpected(PathError::bad_local_part);
        }
        if (out.local.empty()) return std::unexpected(PathError::empty_local_part);
        rest = inner.substr(i + 1);
    } else {
        size_t at = inner.find('@');
        if (at == inner.npos) return std::unexpected(PathError::missing_domain);
        std::string_view local = inner.substr(0, at);
        rest = inner.substr(at + 1);
        if (rest.find('@') != rest.npos) return std::unexpected(PathError::multiple_at);
        if (local.size() > max_local) return std::unexpected(PathError::local_too_long);
        if (!valid_dot_string(local)) return std::unexpected(PathError::bad_local_part);
        out.local = std::string(local);
    }
    if (out.local.find_first_of("%!") != std::string::npos) out.percent_hack = true;

    // Domain.
    if (rest.empty()) return std::unexpected(PathError::missing_domain);
    if (rest.find('@') != rest.npos) return std::unexpected(PathError::multiple_at);
    if (rest.front() == '[') {
        auto lit = check_literal(rest);
        if (!lit) return std::unexpected(lit.error());
        out.domain = std::move(*lit);
        out.domain_is_literal = true;
        return out;
    }
    if (auto e = check_domain(rest)) return std::unexpected(*e);
    out.domain.reserve(rest.size());
    for (unsigned char c : rest) out.domain += c < 0x80 ? char(std::tolower(c)) : char(c);
    return out;
}

std::string smtp_quote_local(std::string_view local) {
    if (valid_dot_string(local)) return std::string(local);
    std::string out = "\"";
    for (char c : local) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

std::string format_smtp_path(const ParsedPath& p) {
    if (p.is_null) return "<>";
    if (p.is_postmaster) return "<" + p.local + ">";
    return "<" + smtp_quote_local(p.local) + "@" + p.domain + ">";
}

}  // namespace postern
