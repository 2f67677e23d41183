#pragma once
// Bounds on what one IMAP command may make the parser hold or do. Over a limit the command
// is answered BAD (or, for APPEND's message, NO [TOOBIG]) and the parser resynchronises at
// the next command; memory never grows past these.

#include <cstddef>
#include <cstdint>

namespace postern {

struct ImapParserLimits {
    size_t line_max = 64 * 1024;         // a command's bytes outside literals
    size_t literal_max = 64 * 1024;      // each literal other than APPEND's messages
    size_t command_max = 256 * 1024;     // everything buffered for one command
    uint64_t append_max = 64ull << 20;   // APPENDLIMIT; ImapParser::set_append_limit
    unsigned depth_max = 16;             // nesting of parenthesised search keys
    unsigned search_keys_max = 1000;     // keys in one SEARCH / SORT / THREAD
    size_t sequence_ranges_max = 20000;  // ranges in one sequence set
    size_t fetch_items_max = 256;        // FETCH data items
    size_t list_items_max = 256;         // flags, patterns, ENABLE / ID / SETQUOTA entries
};

}  // namespace postern
