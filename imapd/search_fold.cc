#include "imapd/search_fold.h"

namespace postern {
namespace {

void put_utf8(char32_t cp, std::string& out) {
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xC0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(char(0xE0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(char(0xF0 | (cp >> 18)));
        out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    }
}

bool even(char32_t cp) { return (cp & 1) == 0; }

}  // namespace

char32_t search_fold_code_point(char32_t cp) {
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
    if (cp >= 0x100 && cp <= 0x17F) {
        if (cp == 0x130) return 'i';  // I with dot above
        if (cp == 0x178) return 0xFF;
        if (cp == 0x17F) return 's';  // long s
        bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
        if (odd_upper) return even(cp) ? cp : cp + 1;
        if (cp == 0x138 || cp == 0x149) return cp;
        return even(cp) ? cp + 1 : cp;
    }
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;  // Greek capitals
    if (cp == 0x3C2) return 0x3C3;                                  // final sigma
    if (cp == 0x386) return 0x3AC;
    if (cp >= 0x388 && cp <= 0x38A) return cp + 37;
    if (cp == 0x38C) return 0x3CC;
    if (cp == 0x38E || cp == 0x38F) return cp + 63;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;  // Cyrillic capitals
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    if (((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48A && cp <= 0x4BF)) && even(cp)) return cp + 1;
    if (cp == 0x1E9E) return 0xDF;  // capital sharp s
    if (((cp >= 0x1E00 && cp <= 0x1E95) || (cp >= 0x1EA0 && cp <= 0x1EFF)) && even(cp))
        return cp + 1;
    if (cp >= 0xFF21 && cp <= 0xFF3A) return cp + 32;  // fullwidth Latin
    return cp;
}

void search_fold_append(std::string_view s, std::string& out) {
    out.reserve(out.size() + s.size());
    size_t i = 0;
    while (i < s.size()) {
        auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            out.push_back(b >= 'A' && b <= 'Z' ? char(b + 32) : char(b));
            ++i;
            continue;
        }
        size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
        char32_t cp = len == 4 ? b & 0x07 : len == 3 ? b & 0x0F : b & 0x1F;
        bool ok = len > 1 && i + len <= s.size();
        for (size_t k = 1; ok && k < len; ++k) {
            auto c = static_cast<unsigned char>(s[i + k]);
            if ((c & 0xC0) != 0x80) ok = false;
            cp = (cp << 6) | (c & 0x3F);
        }
        if (!ok) {  // not a (complete) sequence: the byte as it is
            out.push_back(s[i]);
            ++i;
            continue;
        }
        char32_t f = search_fold_code_point(cp);
        if (f == cp) {
            out.append(s.substr(i, len));
        } else {
            put_utf8(f, out);
        }
        i += len;
    }
}

std::string search_fold(std::string_view s) {
    std::string out;
    search_fold_append(s, out);
    return out;
}

}  // namespace postern
