// The flag arithmetic of STORE and APPEND (flag_change.h).
#include "libmailstore/flag_change.h"

#include <algorithm>

#include "libproto/core/ascii.h"

namespace postern {

bool has_keyword(const std::vector<std::string>& ks, std::string_view k) {
    return std::any_of(ks.begin(), ks.end(), [&](const auto& x) { return iequals(x, k); });
}

void add_keywords(std::vector<std::string>& to, const std::vector<std::string>& ks) {
    for (const auto& k : ks)
        if (!k.empty() && !has_keyword(to, k)) to.push_back(k);
}

bool apply_flag_change(uint8_t& flags, std::vector<std::string>& keywords,
                       const FlagChange& change) {
    uint8_t f = flags;
    std::vector<std::string> kw = keywords;
    const uint8_t bits = change.flags & all_flags;
    switch (change.op) {
    case FlagOp::set:
        f = bits;
        kw.clear();
        add_keywords(kw, change.keywords);
        break;
    case FlagOp::add:
        f |= bits;
        add_keywords(kw, change.keywords);
        break;
    case FlagOp::remove:
        f &= uint8_t(~bits);
        std::erase_if(kw, [&](const std::string& k) { return has_keyword(change.keywords, k); });
        break;
    }
    const bool changed = f != flags || kw != keywords;
    flags = f;
    keywords = std::move(kw);
    return changed;
}

}  // namespace postern
