#include "libproto/core/log_escape.h"

#include <algorithm>
#include <cstdint>

namespace postern {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (2..4), or 0 when it is not one
// (overlong forms, surrogates, > U+10FFFF and C1 controls count as invalid here).
size_t utf8_sequence(std::string_view s, size_t i) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (size_t k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3f);
    }
    if (len == 2 && cp < 0xa0) return 0;                     // C1 controls (0x80..0x9f)
    if (len == 3 && cp < 0x800) return 0;                    // overlong
    if (len == 3 && cp >= 0xd800 && cp <= 0xdfff) return 0;  // surrogates
    if (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) return 0;
    return len;
}

void hex_escape(std::string& out, unsigned char c) {
    static constexpr char digits[] = "0123456789abcdef";
    out += "\\x";
    out += digits[c >> 4];
    out += digits[c & 0x0f];
}

}  // namespace

std::string log_escape(std::string_view s, size_t max_len) {
    std::string out;
    out.reserve(std::min(s.size(), max_len) + 8);
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : utf8_sequence(s, i);
        if (i + (len ? len : 1) > max_len) {
            out += "...";
            return out;
        }
        if (len > 1) {
            out.append(s.substr(i, len));
            i += len;
            continue;
        }
        switch (c) {
        case '\r': out += "\\r"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        default:
            if (c < 0x20 || c >= 0x7f)
                hex_escape(out, c);
            else
                out += static_cast<char>(c);
        }
        ++i;
    }
    return out;
}

}  // namespace postern
