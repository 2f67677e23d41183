#include "libproto/imap/imap_mutf7.h"

#include <cstdint>

namespace postern {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == ',') return 63;
    return -1;
}

bool printable(uint32_t c) { return c >= 0x20 && c <= 0x7e; }

void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xc0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.push_back(char(0xe0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(char(0x80 | (cp & 0x3f)));
    } else {
        out.push_back(char(0xf0 | (cp >> 18)));
        out.push_back(char(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(char(0x80 | (cp & 0x3f)));
    }
}

// One UTF-8 code point at s[i]; advances i. nullopt on invalid input.
std::optional<uint32_t> get_utf8(std::string_view s, size_t& i) {
    auto b = [&](size_t k) { return uint32_t(static_cast<unsigned char>(s[k])); };
    uint32_t c = b(i);
    size_t n = 0;
    uint32_t min = 0;
    if (c < 0x80) {
        ++i;
        return c;
    } else if ((c & 0xe0) == 0xc0) {
        n = 1, c &= 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 2, c &= 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 3, c &= 0x07, min = 0x10000;
    } else {
        return std::nullopt;
    }
    if (i + n >= s.size()) return std::nullopt;
    for (size_t k = 1; k <= n; ++k) {
        if ((b(i + k) & 0xc0) != 0x80) return std::nullopt;
        c = (c << 6) | (b(i + k) & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return std::nullopt;
    i += n + 1;
    return c;
}

// Decodes one shifted run (the text between "&" and "-", not empty) into UTF-8.
bool decode_run(std::string_view run, std::string& out) {
    uint32_t bits = 0;
    int nbits = 0;
    uint32_t high = 0;  // a pending high surrogate
    for (char ch : run) {
        int v = b64_value(ch);
        if (v < 0) return false;
        bits = (bits << 6) | uint32_t(v);
        nbits += 6;
        if (nbits < 16) continue;
        nbits -= 16;
        uint32_t unit = (bits >> nbits) & 0xffff;
        bits &= (1u << nbits) - 1;
        if (high) {
            if (unit < 0xdc00 || unit > 0xdfff) return false;
            put_utf8(out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
            high = 0;
        } else if (unit >= 0xd800 && unit <= 0xdbff) {
            high = unit;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
            return false;
        } else {
            if (printable(unit)) return false;  // must have been written directly
            put_utf8(out, unit);
        }
    }
    // Leftover: fewer than 6 bits, all zero; no dangling surrogate.
    return high == 0 && nbits < 6 && bits == 0;
}

void encode_run(std::string_view units_be, std::string& out) {
    uint32_t bits = 0;
    int nbits = 0;
    for (char c : units_be) {
        bits = (bits << 8) | static_cast<unsigned char>(c);
        nbits += 8;
        while (nbits >= 6) {
            nbits -= 6;
            out.push_back(alphabet[(bits >> nbits) & 0x3f]);
        }
        bits &= (1u << nbits) - 1;
    }
    if (nbits > 0) out.push_back(alphabet[(bits << (6 - nbits)) & 0x3f]);
}

}  // namespace

std::optional<std::string> mutf7_to_utf8(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    bool last_was_run = false;
    for (size_t i = 0; i < in.size();) {
        auto c = static_cast<unsigned char>(in[i]);
        if (!printable(c)) return std::nullopt;
        if (c != '&') {
            out.push_back(char(c));
            ++i;
            last_was_run = false;
            continue;
        }
        size_t end = in.find('-', i + 1);
        if (end == std::string_view::npos) return std::nullopt;
        if (end == i + 1) {
            out.push_back('&');
            last_was_run = false;
        } else {
            if (last_was_run) return std::nullopt;  // "&AOQ-&AOQ-" must be one run
            if (!decode_run(in.substr(i + 1, end - i - 1), out)) return std::nullopt;
            last_was_run = true;
        }
        i = end + 1;
    }
    return out;
}

std::optional<std::string> utf8_to_mutf7(std::string_view in) {
    std::string out;
    out.reserve(in.size() + 8);
    std::string units;  // UTF-16BE of the current run
    auto flush = [&] {
        if (units.empty()) return;
        out.push_back('&');
        encode_run(units, out);
        out.push_back('-');
        units.clear();
    };
    for (size_t i = 0; i < in.size();) {
        auto cp = get_utf8(in, i);
        if (!cp) return std::nullopt;
        if (printable(*cp)) {
            flush();
            if (*cp == '&') {
                out.append("&-");
            } else {
                out.push_back(char(*cp));
            }
            continue;
        }
        auto unit = [&](uint32_t u) {
            units.push_back(char(u >> 8));
            units.push_back(char(u & 0xff));
        };
        if (*cp >= 0x10000) {
            uint32_t v = *cp - 0x10000;
            unit(0xd800 + (v >> 10));
            unit(0xdc00 + (v & 0x3ff));
        } else {
            unit(*cp);
        }
    }
    flush();
    return out;
}

}  // namespace postern
