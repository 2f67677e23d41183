// libFuzzer: the RFC 5322 Date: parser (SEARCH SENT*, SORT DATE) on arbitrary bytes.
// Invariants: no crash; a parsed date is in range, and its canonical form parses back to the
// same value.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "libproto/mime/mime_date.h"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto d = mime_parse_date(in);
    if (!d) return 0;
    if (d->month < 1 || d->month > 12 || d->day < 1 || d->day > 31 || d->hour > 23 ||
        d->minute > 59 || d->second > 60 || d->year < 1900)
        std::abort();
    static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int z = d->zone_minutes < 0 ? -d->zone_minutes : d->zone_minutes;
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%u %s %04u %02u:%02u:%02u %c%02d%02d", d->day,
                          months[d->month - 1], d->year, d->hour, d->minute, d->second,
                          d->zone_minutes < 0 ? '-' : '+', z / 60, z % 60);
    auto again = mime_parse_date(std::string_view(buf, size_t(n)));
    if (!again || !(*again == *d)) std::abort();
    (void)d->to_unix();
    return 0;
}
