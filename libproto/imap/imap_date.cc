#include "libproto/imap/imap_date.h"

#include <array>
#include <string_view>

#include "libproto/core/ascii.h"
#include "libproto/core/civil_date.h"
#include "libproto/imap/imap_lexer.h"

namespace postern {
namespace {

constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Exactly `n` digits.
bool digits(ImapLexer& lx, size_t n, unsigned& out) {
    std::string_view r = lx.rest();
    if (r.size() < n) return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; ++i) {
        if (r[i] < '0' || r[i] > '9') return false;
        v = v * 10 + unsigned(r[i] - '0');
    }
    for (size_t i = 0; i < n; ++i) lx.eat(r[i]);
    out = v;
    return true;
}

bool month(ImapLexer& lx, uint8_t& out) {
    std::string_view r = lx.rest();
    if (r.size() < 3) return false;
    for (size_t i = 0; i < months.size(); ++i) {
        if (iequals(r.substr(0, 3), months[i])) {
            for (int k = 0; k < 3; ++k) lx.eat(r[k]);
            out = uint8_t(i + 1);
            return true;
        }
    }
    return false;
}

// "-" month "-" 4digit after the day.
bool rest_of_date(ImapLexer& lx, unsigned day, ImapDate& out) {
    unsigned year = 0;
    if (!lx.eat('-') || !month(lx, out.month) || !lx.eat('-') || !digits(lx, 4, year)) return false;
    if (day < 1 || day > days_in_month(year, out.month)) return false;
    out.year = uint16_t(year);
    out.day = uint8_t(day);
    return true;
}

}  // namespace

bool parse_imap_date(ImapLexer& lx, ImapDate& out) {
    bool q = lx.eat('"');
    unsigned day = 0;
    if (!digits(lx, 2, day) && !digits(lx, 1, day)) return lx.fail("bad date");
    if (!rest_of_date(lx, day, out)) return lx.fail("bad date");
    if (q && !lx.eat('"')) return lx.fail("bad date");
    return true;
}

bool parse_imap_date_time(ImapLexer& lx, ImapDateTime& out) {
    if (!lx.eat('"')) return lx.fail("bad date-time");
    unsigned day = 0;
    // date-day-fixed: (SP DIGIT) / 2DIGIT
    if (lx.eat(' ')) {
        if (!digits(lx, 1, day)) return lx.fail("bad date-time");
    } else if (!digits(lx, 2, day)) {
        return lx.fail("bad date-time");
    }
    unsigned h = 0, m = 0, s = 0, zh = 0, zm = 0;
    if (!rest_of_date(lx, day, out.date) || !lx.eat(' ') || !digits(lx, 2, h) || !lx.eat(':') ||
        !digits(lx, 2, m) || !lx.eat(':') || !digits(lx, 2, s) || !lx.eat(' '))
        return lx.fail("bad date-time");
    char sign = lx.peek();
    if ((sign != '+' && sign != '-') || !lx.eat(sign) || !digits(lx, 2, zh) || !digits(lx, 2, zm) ||
        !lx.eat('"'))
        return lx.fail("bad date-time");
    if (h > 23 || m > 59 || s > 60 || zh > 23 || zm > 59) return lx.fail("bad date-time");
    out.hour = uint8_t(h);
    out.minute = uint8_t(m);
    out.second = uint8_t(s);
    out.zone_minutes = int16_t((sign == '-' ? -1 : 1) * int(zh * 60 + zm));
    return true;
}

int64_t ImapDateTime::to_unix() const {
    const int64_t days = days_from_civil(date.year, date.month, date.day);
    return days * 86400 + hour * 3600 + minute * 60 + second - int64_t(zone_minutes) * 60;
}

}  // namespace postern
