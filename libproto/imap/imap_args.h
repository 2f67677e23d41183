#pragma once
// Argument readers shared by the command parsers: mailbox names, flags and flag lists,
// STATUS items, APPEND's per-message head, SELECT/CREATE/LIST options.

#include <optional>
#include <string>
#include <vector>

#include "libproto/imap/imap_command.h"
#include "libproto/imap/imap_limits.h"

namespace postern {

class ImapLexer;

// mailbox: an astring; "INBOX" in any case becomes "INBOX".
bool parse_mailbox(ImapLexer& lx, std::string& out);
// flag: a system flag (canonical spelling; \Recent refused), "\" atom, or a keyword atom.
bool parse_flag(ImapLexer& lx, std::string& out);
// "(" [flag *(SP flag)] ")"
bool parse_flag_list(ImapLexer& lx, std::vector<std::string>& out, size_t max_items);
// "(" status-att *(SP status-att) ")" as StatusItemBits.
bool parse_status_items(ImapLexer& lx, uint16_t& out);

// APPEND's message head after the mailbox (or after the previous message, MULTIAPPEND):
// SP [flag-list SP] [date-time SP] ["UTF8" SP "("], leaving the lexer at the literal's
// header. The UTF8 form (RFC 6855 4) takes a literal8; its ")" follows the data.
struct AppendHead {
    std::vector<std::string> flags;
    std::optional<ImapDateTime> internal_date;
    bool utf8 = false;
};
bool parse_append_head(ImapLexer& lx, AppendHead& out, size_t max_items);

// The arguments after the command name and its SP (or the name when there are none).
bool parse_select_args(ImapLexer& lx, ImapSelect& out, const ImapParserLimits& limits);
bool parse_create_args(ImapLexer& lx, ImapCreate& out, const ImapParserLimits& limits);
bool parse_list_args(ImapLexer& lx, ImapList& out, const ImapParserLimits& limits);

}  // namespace postern
