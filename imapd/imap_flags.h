#pragma once
// Message flags on the wire: the store's Flag bits and keywords as IMAP flag lists, and
// back. \Recent is not a stored flag (imapd reports no message as recent, docs/imap.md).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/store.h"

namespace postern {

// "(\Seen \Flagged kw)" for the bits and keywords.
void write_flag_list(std::string& out, uint8_t flags, const std::vector<std::string>& keywords);
// The five system flags, space-separated, without parentheses.
inline constexpr std::string_view system_flag_names =
    "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

struct ParsedFlags {
    uint8_t flags = 0;
    std::vector<std::string> keywords;
};
// Flag names as the parser gives them (system flags canonically spelled): bits and
// keywords; nullopt for an unknown or non-storable system flag (\Recent, \Foo).
std::optional<ParsedFlags> parse_flag_names(const std::vector<std::string>& names);

}  // namespace postern
