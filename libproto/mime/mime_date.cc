#include "libproto/mime/mime_date.h"

#include <array>
#include <string>

#include "libproto/core/ascii.h"
#include "libproto/core/civil_date.h"

namespace postern {
namespace {

constexpr std::array<std::string_view, 12> months{"jan", "feb", "mar", "apr", "may", "jun",
                                                  "jul", "aug", "sep", "oct", "nov", "dec"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

class Cursor {
public:
    explicit Cursor(std::string_view s) : s_(s) {}

    // White space and (nested) comments; an unclosed comment ends the input.
    void skip_cfws() {
        while (pos_ < s_.size()) {
            char c = s_[pos_];
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                ++pos_;
            } else if (c == '(') {
                unsigned depth = 0;
                while (pos_ < s_.size()) {
                    char d = s_[pos_++];
                    if (d == '\\' && pos_ < s_.size()) {
                        ++pos_;
                    } else if (d == '(') {
                        ++depth;
                    } else if (d == ')' && --depth == 0) {
                        break;
                    }
                }
            } else {
                return;
            }
        }
    }
    bool eat(char c) {
        skip_cfws();
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    // 1..max_digits digits; their count in `n`.
    bool number(unsigned max_digits, unsigned& out, unsigned& n) {
        skip_cfws();
        out = 0;
        n = 0;
        while (pos_ < s_.size() && is_digit(s_[pos_]) && n < max_digits) {
            out = out * 10 + unsigned(s_[pos_++] - '0');
            ++n;
        }
        return n > 0 && (pos_ >= s_.size() || !is_digit(s_[pos_]));
    }
    std::string_view word() {
        skip_cfws();
        size_t b = pos_;
        while (pos_ < s_.size() && is_alpha(s_[pos_])) ++pos_;
        return s_.substr(b, pos_ - b);
    }
    char peek() {
        skip_cfws();
        return pos_ < s_.size() ? s_[pos_] : '\0';
    }

private:
    std::string_view s_;
    size_t pos_ = 0;
};

// Obsolete alphabetic zones (RFC 5322 4.3); military letters are "-0000" (unknown).
std::optional<int> named_zone(std::string_view z) {
    static constexpr std::array<std::pair<std::string_view, int>, 10> zones{{
        {"ut", 0},
        {"gmt", 0},
        {"est", -300},
        {"edt", -240},
        {"cst", -360},
        {"cdt", -300},
        {"mst", -420},
        {"mdt", -360},
        {"pst", -480},
        {"pdt", -420},
    }};
    for (const auto& [name, minutes] : zones)
        if (iequals(name, z)) return minutes;
    if (z.size() == 1 && is_alpha(z[0]) && ascii_lower(z[0]) != 'j') return 0;
    return std::nullopt;
}

}  // namespace

int64_t MimeDateTime::to_unix() const {
    const int64_t days = days_from_civil(int(year), month, day);
    return days * 86400 + hour * 3600 + minute * 60 + second - int64_t(zone_minutes) * 60;
}

std::optional<MimeDateTime> mime_parse_date(std::string_view value) {
    Cursor c(value);
    MimeDateTime d;
    unsigned n = 0, digits = 0;
    // [day-of-week ","]
    if (is_alpha(c.peek())) {
        if (c.word().empty()) return std::nullopt;
        c.eat(',');
    }
    if (!c.number(2, n, digits) || n < 1 || n > 31) return std::nullopt;
    unsigned day = n;
    c.eat('-');  // "1-Jul-2003" is common enough
    std::string_view mon = c.word();
    if (mon.size() < 3) return std::nullopt;
    for (size_t i = 0; i < months.size(); ++i)
        if (iequals(mon.substr(0, 3), months[i])) d.month = uint8_t(i + 1);
    if (d.month == 0) return std::nullopt;
    c.eat('-');
    if (!c.number(4, n, digits)) return std::nullopt;
    // RFC 5322 4.3: two digits below 50 are 20xx, others 19xx; three digits add 1900.
    if (digits == 2) n += n < 50 ? 2000 : 1900;
    if (digits == 3) n += 1900;
    if (n < 1900 || n > 9999) return std::nullopt;
    d.year = uint16_t(n);
    if (day > days_in_month(d.year, d.month)) return std::nullopt;
    d.day = uint8_t(day);
    // time-of-day: hour ":" minute [":" second]
    if (!c.number(2, n, digits) || n > 23) return std::nullopt;
    d.hour = uint8_t(n);
    if (!c.eat(':') || !c.number(2, n, digits) || n > 59) return std::nullopt;
    d.minute = uint8_t(n);
    if (c.eat(':')) {
        if (!c.number(2, n, digits) || n > 60) return std::nullopt;
        d.second = uint8_t(n);
    }
    // zone: ("+" / "-") 4DIGIT, or an obsolete name; a missing zone is taken as UTC.
    char sign = c.peek();
    if (sign == '+' || sign == '-') {
        c.eat(sign);
        if (!c.number(4, n, digits) || digits != 4 || n % 100 > 59 || n / 100 > 99)
            return std::nullopt;
        int minutes = int(n / 100) * 60 + int(n % 100);
        d.zone_minutes = int16_t(sign == '-' ? -minutes : minutes);
    } else if (is_alpha(sign)) {
        auto z = named_zone(c.word());
        d.zone_minutes = int16_t(z.value_or(0));
    }
    return d;
}

}  // namespace postern
