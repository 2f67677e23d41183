#pragma once
// SMTP command lines -> typed commands. Pure: no sockets, no clocks, no state.
//
//   auto cmd = parse_smtp_command("MAIL FROM:<a@b.example> SIZE=123 BODY=8BITMIME");
//   if (!cmd) reply(smtp_syntax_reply(cmd.error()));
//
// The line is given without its CR LF. The command table (smtp_command_spec)
// carries the per-command flags the session gates on: the phases a command is
// allowed in and whether it may be followed by more commands in a pipelined
// group (RFC 2920 section 3.1).
//
// The MAIL/RCPT path is only split off here (text between the angle brackets,
// quoted strings honoured); its syntax and the relay-trick checks belong to
// parse_smtp_path (smtp_address.h).

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace postern {

enum class SmtpVerb : uint8_t {
    helo,
    ehlo,
    mail,
    rcpt,
    data,
    bdat,
    rset,
    noop,
    quit,
    vrfy,
    expn,
    help,
    starttls,
    auth,
    unknown,
};

// Session phases a command may be used in (bit set in SmtpCommandSpec::phases).
enum SmtpPhaseBit : uint8_t {
    phase_fresh = 1 << 0,  // no HELO/EHLO yet
    phase_ready = 1 << 1,  // greeted, no transaction
    phase_mail = 1 << 2,   // MAIL accepted, no RCPT yet
    phase_rcpt = 1 << 3,   // at least one RCPT accepted
    phase_bdat = 1 << 4,   // BDAT chunks received, no LAST yet
    phase_any = 0x1f,
};

enum SmtpCommandFlag : uint8_t {
    cmd_pipelinable = 1 << 0,  // may appear anywhere in a pipelined group
    cmd_needs_auth_on_submission = 1 << 1,
    cmd_counts_as_bad = 1 << 2,  // (unknown) counts toward max_bad_commands
};

struct SmtpCommandSpec {
    std::string_view name;
    SmtpVerb verb;
    uint8_t phases;
    uint8_t flags;
};

// The table entry for a verb (unknown has its own entry).
const SmtpCommandSpec& smtp_command_spec(SmtpVerb verb);

enum class SmtpBody : uint8_t { unspecified, seven_bit, eight_bit_mime };
enum class SmtpDsnRet : uint8_t { unspecified, full, hdrs };

// RFC 3461 NOTIFY bits; none set means "not given".
enum DsnNotify : uint8_t {
    notify_never = 1 << 0,
    notify_success = 1 << 1,
    notify_failure = 1 << 2,
    notify_delay = 1 << 3,
};

struct MailParams {
    std::optional<uint64_t> size;  // SIZE=, saturated at UINT64_MAX
    SmtpBody body = SmtpBody::unspecified;
    bool smtputf8 = false;
    SmtpDsnRet ret = SmtpDsnRet::unspecified;
    std::string envid;                // ENVID=, xtext-decoded
    std::optional<std::string> auth;  // AUTH= (RFC 4954 5), xtext-decoded, "<>" kept as is
    bool requiretls = false;          // REQUIRETLS (RFC 8689 4): TLS on every hop, or a bounce
};

struct RcptParams {
    uint8_t notify = 0;      // DsnNotify bits
    std::string orcpt_type;  // "rfc822" (lower-cased) when ORCPT= given
    std::string orcpt;       // decoded original recipient
};

struct SmtpCommand {
    SmtpVerb verb = SmtpVerb::unknown;
    std::string arg;  // HELO/EHLO domain, VRFY/EXPN/HELP text, AUTH mechanism (upper-cased)
    std::string auth_initial;  // AUTH: the initial response as sent (base64 or "="), may be empty
    std::string path;          // MAIL/RCPT: text between < and >, without the brackets
    MailParams mail;
    RcptParams rcpt;
    uint64_t chunk_size = 0;  // BDAT
    bool last = false;        // BDAT ... LAST
};

enum class SmtpSyntax : uint8_t {
    unknown_command,      // 500 5.5.1
    bad_syntax,           // 501 5.5.4 (arguments malformed or missing)
    bad_parameter,        // 555 5.5.4 (unknown or unsupported MAIL/RCPT parameter)
    bad_parameter_value,  // 501 5.5.4
};

struct SmtpSyntaxError {
    SmtpSyntax kind;
    std::string detail;  // safe to echo: never contains CR/LF
};

std::expected<SmtpCommand, SmtpSyntaxError> parse_smtp_command(std::string_view line);

// RFC 3461 4: xtext ("+" HEX HEX escapes, printable ASCII otherwise, no '+' or '=').
// Returns nullopt on malformed input.
std::optional<std::string> xtext_decode(std::string_view s);

}  // namespace postern
