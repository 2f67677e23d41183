// libFuzzer: the Maildir folder attribute files (maildir_folder_attrs.h), which Dovecot,
// Courier, scripts and admins also write: `subscriptions` (first byte even) and
// `postern-special-use` (odd). Every name parsed is a valid folder name, and what we write
// parses back to the same names, attributes and kept lines, and writes the same text again.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libmailstore/maildir_folder_attrs.h"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) {
        auto s = parse_subscriptions(text);
        for (const auto& n : s.names) {
            auto c = canonical_folder(n);
            if (!c || *c != n) std::abort();
        }
        auto written = format_subscriptions(s);
        auto again = parse_subscriptions(written);
        if (again.version != s.version || again.names != s.names ||
            again.other_lines != s.other_lines || format_subscriptions(again) != written)
            std::abort();
    } else {
        auto t = parse_special_use(text);
        for (const auto& [folder, bits] : t.uses) {
            auto c = canonical_folder(folder);
            if (!c || *c != folder || bits == 0 || (bits & ~all_special_uses) != 0) std::abort();
        }
        auto written = format_special_use(t);
        auto again = parse_special_use(written);
        if (again.uses != t.uses || again.other_lines != t.other_lines ||
            format_special_use(again) != written)
            std::abort();
    }
    return 0;
}
