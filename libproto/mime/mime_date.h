#pragma once
// The RFC 5322 Date: field (section 3.3, with the obsolete forms of 4.3: two- and three-digit
// years, alphabetic zones, comments and extra white space) for SEARCH SENTBEFORE / SENTON /
// SENTSINCE and SORT DATE. Lenient as a receiver must be, but it never guesses: what does
// not parse as day, month, year and time gives nullopt.

#include <cstdint>
#include <optional>
#include <string_view>

namespace postern {

struct MimeDateTime {
    uint16_t year = 0;
    uint8_t month = 0;                         // 1..12
    uint8_t day = 0;                           // 1..31, valid for the month
    uint8_t hour = 0, minute = 0, second = 0;  // second 60 (a leap second) is kept
    int16_t zone_minutes = 0;                  // east of UTC: "-0800" is -480
    bool operator==(const MimeDateTime&) const = default;
    // Seconds since the epoch (UTC).
    int64_t to_unix() const;
};

// "Tue, 1 Jul 2003 10:52:37 +0200" and its relatives.
std::optional<MimeDateTime> mime_parse_date(std::string_view value);

}  // namespace postern
