// TLSA RDATA: the strict parser and SMTP's usable subset.
#include "libproto/dane/dane_tlsa.h"

namespace postern {

const char* tlsa_error_text(TlsaError e) {
    switch (e) {
    case TlsaError::short_rdata: return "TLSA RDATA shorter than 3 bytes";
    case TlsaError::no_data: return "TLSA record without association data";
    case TlsaError::digest_length: return "TLSA digest of the wrong length";
    }
    return "bad TLSA record";
}

std::expected<TlsaRecord, TlsaError> parse_tlsa(std::string_view rdata) {
    if (rdata.size() < 3) return std::unexpected(TlsaError::short_rdata);
    TlsaRecord r{static_cast<uint8_t>(rdata[0]), static_cast<uint8_t>(rdata[1]),
                 static_cast<uint8_t>(rdata[2]), std::string(rdata.substr(3))};
    if (r.data.empty()) return std::unexpected(TlsaError::no_data);
    if ((r.matching == 1 && r.data.size() != 32) || (r.matching == 2 && r.data.size() != 64))
        return std::unexpected(TlsaError::digest_length);
    return r;
}

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
