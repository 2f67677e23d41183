#pragma once
// POP3 command parser (RFC 1939, 2449, 2595, 5034): one line in, a typed
// command or a parse error out. Pure: no sockets, no session state. Framing
// (CRLF splitting, over-long lines) is LineReader's job; this file sees one
// line without its CR LF.
//
// Keywords are case-insensitive; arguments are checked for count and range
// here so the session only ever sees well-formed commands.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace postern {

enum class Pop3Verb : uint8_t {
    user,
    pass,
    apop,
    auth,
    capa,
    stls,  // AUTHORIZATION
    stat,
    list,
    retr,
    dele,
    noop,
    rset,
    top,
    uidl,  // TRANSACTION
    quit,
};

// RFC 2449 section 4: servers must accept commands up to 255 octets. We are
// tolerant up to this bound (some clients send long PASS lines); beyond it
// the line is refused as too long.
inline constexpr size_t pop3_max_command_line = 1024;
// RFC 5034 continuation lines (SCRAM, PLAIN with long tokens) may be longer.
inline constexpr size_t pop3_max_sasl_line = 8192;

struct Pop3Command {
    Pop3Verb verb = Pop3Verb::noop;
    // USER name, PASS secret (may contain spaces), APOP name, AUTH mechanism
    // (upper-cased). Empty when the command takes none.
    std::string arg;
    // AUTH initial response (base64 or "="), APOP digest.
    std::string arg2;
    bool has_arg2 = false;
    // LIST/UIDL [msg], RETR/DELE/TOP msg: 1-based message number; 0 = absent.
    uint32_t msg = 0;
    // TOP msg n: body lines to send.
    uint64_t lines = 0;
};

enum class Pop3ParseError : uint8_t {
    empty,  // blank line
    unknown_command,
    missing_argument,
    extra_argument,
    bad_number,  // not a decimal number, 0, or out of range
    too_long,
};

// "-ERR " text for a parse error (without the "-ERR ").
std::string_view pop3_parse_error_text(Pop3ParseError e);

// Parses one command line (no CR LF). Never throws.
std::expected<Pop3Command, Pop3ParseError> parse_pop3_command(std::string_view line);

std::string_view pop3_verb_name(Pop3Verb v);

}  // namespace postern
