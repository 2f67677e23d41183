#pragma once
// One complete, framed IMAP command (the bytes ImapParser collected: literals inline as
// "{n}\r\n" + data, no final CRLF) to a typed ImapCommand, or why not. APPEND is not parsed
// here (it streams; see imap_parser.h).

#include <cstdint>
#include <expected>
#include <string_view>

#include "libproto/imap/imap_command.h"
#include "libproto/imap/imap_limits.h"

namespace postern {

enum class ImapBadReason : uint8_t {
    syntax,           // the grammar was not followed (includes a bad tag: tag is then empty)
    unknown_command,  // no such command (or not with UID)
    line_too_long,    // ImapParserLimits::line_max
    literal_too_big,  // a small literal over literal_max, or APPEND's over the append limit
    command_too_big,  // command_max
    limit,            // ranges, search keys, nesting depth or item counts
    refused,          // the session called refuse_literal()
};

struct ImapParseError {
    ImapBadReason reason = ImapBadReason::syntax;
    std::string_view text;  // static text for the BAD reply
    ImapCommandId id = ImapCommandId::unknown;
};

std::expected<ImapCommand, ImapParseError> parse_imap_command(std::string_view framed,
                                                              const ImapParserLimits& limits);

// The command named at the start of `buf` ("tag SP [UID SP] name"), when it is known; for
// early checks while a command is still being collected.
ImapCommandId imap_peek_command(std::string_view buf, bool* uid = nullptr);

}  // namespace postern
