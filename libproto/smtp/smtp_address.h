#pragma once
// SMTP path parsing for the arguments of MAIL FROM and RCPT TO
// (RFC 5321 section 4.1.2 / 4.5.3.1, RFC 6531 for SMTPUTF8). Pure: no I/O.

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

enum class PathKind {
    reverse_path,  // MAIL FROM: "<>" (null path) is allowed
    forward_path,  // RCPT TO: "<Postmaster>" without a domain is allowed
};

// Closed set of reasons a path is refused. path_error_text() gives a short,
// client-safe English phrase for each (the SMTP layer picks the reply code).
enum class PathError {
    empty,                // nothing after the colon
    missing_brackets,     // not of the form <...>
    source_route,         // <@a,@b:user@d>: refused, no relaying tricks
    multiple_at,          // more than one unquoted '@'
    empty_local_part,     // <@domain> or <""@domain>
    missing_domain,       // <user> (only <Postmaster> may omit the domain, RCPT only)
    null_not_allowed,     // <> given for RCPT
    local_too_long,       // local part > 64 octets
    domain_too_long,      // domain > 255 octets (or a label > 63)
    path_too_long,        // <...> > 256 octets including the brackets
    bad_local_part,       // bad characters / syntax in the local part
    bad_domain,           // bad characters / syntax in the domain
    bad_address_literal,  // [..] that is neither a valid IPv4 nor [IPv6:...] address
    utf8_not_allowed,     // non-ASCII without SMTPUTF8
    invalid_utf8,         // non-ASCII that is not well-formed UTF-8
    bad_parameter,        // ESMTP parameter with bad keyword/value syntax
    trailing_garbage,     // something glued to the closing '>'
};

std::string_view path_error_text(PathError e);

struct SmtpParam {
    std::string key;                   // uppercased, e.g. "SIZE", "BODY", "SMTPUTF8"
    std::optional<std::string> value;  // as sent (not xtext-decoded); nullopt for "KEY" alone
    bool operator==(const SmtpParam&) const = default;
};

struct ParsedPath {
    // Local part with quoting removed: "a b"@x gives `a b`; \" gives ".
    // Empty for the null path. For <Postmaster> it is "Postmaster" as sent.
    std::string local;
    // Lowercased (ASCII letters only; UTF-8 labels are kept as sent). An address
    // literal keeps its brackets: "[192.0.2.1]", "[IPv6:2001:db8::1]".
    std::string domain;
    bool is_null = false;        // "<>" (MAIL only)
    bool is_postmaster = false;  // "<Postmaster>" without domain (RCPT only)
    bool local_was_quoted = false;
    bool domain_is_literal = false;
    bool has_utf8 = false;  // local part or domain contains non-ASCII
    // '%' or '!' in the local part (user%other@us, host!user@us): syntactically
    // fine, but the policy layer should refuse to relay on its strength.
    bool percent_hack = false;
    std::vector<SmtpParam> params;  // ESMTP parameters after the path, in order
};

// `text` is everything after "MAIL FROM:" / "RCPT TO:" without the CRLF.
// Leading spaces before '<' are tolerated (some clients send "MAIL FROM: <a@b>");
// parameters are separated by one or more spaces; trailing spaces are ignored.
// `utf8_allowed`: the client gave SMTPUTF8 (MAIL) / the transaction has it (RCPT).
std::expected<ParsedPath, PathError> parse_smtp_path(std::string_view text, PathKind kind,
                                                     bool utf8_allowed);

// The local part in wire form: as a dot-string when possible, else quoted.
std::string smtp_quote_local(std::string_view local);

// "<local@domain>", "<>" or "<Postmaster>" for a parsed path.
std::string format_smtp_path(const ParsedPath& p);

}  // namespace postern
