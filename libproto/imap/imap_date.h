#pragma once
// IMAP dates: the search date ("1-Feb-1994", optionally quoted) and APPEND's date-time
// ("\" 1-Feb-1994 21:52:25 -0800\"", RFC 3501 section 9).

#include <cstdint>

namespace postern {

class ImapLexer;

struct ImapDate {
    uint16_t year = 0;
    uint8_t month = 0;  // 1..12
    uint8_t day = 0;    // 1..31 (checked against the month)
    bool operator==(const ImapDate&) const = default;
};

struct ImapDateTime {
    ImapDate date;
    uint8_t hour = 0, minute = 0, second = 0;
    int16_t zone_minutes = 0;  // east of UTC: "-0800" is -480
    bool operator==(const ImapDateTime&) const = default;
    // Seconds since the epoch (UTC).
    int64_t to_unix() const;
};

bool parse_imap_date(ImapLexer& lx, ImapDate& out);
bool parse_imap_date_time(ImapLexer& lx, ImapDateTime& out);

}  // namespace postern
