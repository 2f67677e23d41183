#include "imapd/imap_flags.h"

#include "libproto/core/ascii.h"

namespace postern {
namespace {

struct FlagName {
    uint8_t bit;
    std::string_view name;
};
constexpr FlagName flag_names[] = {
    {flag_answered, "\\Answered"}, {flag_flagged, "\\Flagged"}, {flag_deleted, "\\Deleted"},
    {flag_seen, "\\Seen"},         {flag_draft, "\\Draft"},
};

}  // namespace

void write_flag_list(std::string& out, uint8_t flags, const std::vector<std::string>& keywords) {
    out.push_back('(');
    bool first = true;
    for (const FlagName& f : flag_names) {
        if ((flags & f.bit) == 0) continue;
        if (!first) out.push_back(' ');
        out.append(f.name);
        first = false;
    }
    for (const std::string& k : keywords) {
        if (!first) out.push_back(' ');
        out.append(k);
        first = false;
    }
    out.push_back(')');
}

std::optional<ParsedFlags> parse_flag_names(const std::vector<std::string>& names) {
    ParsedFlags p;
    for (const std::string& n : names) {
        if (n.starts_with('\\')) {
            bool known = false;
            for (const FlagName& f : flag_names) {
                if (iequals(n, f.name)) {
                    p.flags |= f.bit;
                    known = true;
                }
            }
            if (!known) return std::nullopt;
        } else {
            p.keywords.push_back(n);
        }
    }
    return p;
}

}  // namespace postern
