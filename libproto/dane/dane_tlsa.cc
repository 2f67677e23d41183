// TLSA records: SMTP's usable subset, and their text for logs.
#include "libproto/dane/dane_tlsa.h"

namespace postern {

bool tlsa_usable_for_smtp(const TlsaRecord& r) {
    if (r.usage != tlsa_usage::dane_ta && r.usage != tlsa_usage::dane_ee) return false;
    if (r.selector > 1 || r.matching > 2 || r.data.empty()) return false;
    if (r.matching == 1) return r.data.size() == 32;
    if (r.matching == 2) return r.data.size() == 64;
    return true;
}

std::string tlsa_text(const TlsaRecord& r) {
    static const char hex[] = "0123456789abcdef";
    std::string out = std::to_string(r.usage) + " " + std::to_string(r.selector) + " " +
                      std::to_string(r.matching) + " ";
    size_t n = 0;
    for (unsigned char c : r.data) {
        if (n == 16) {
            out += "...";
            break;
        }
        out += hex[c >> 4];
        out += hex[c & 15];
        n += 2;
    }
    return out;
}

}  // namespace postern
