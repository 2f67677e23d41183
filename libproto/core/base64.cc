#include "libproto/core/base64.h"

#include <array>
#include <cstdint>

namespace postern {

namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_reverse() {
    std::array<int8_t, 256> r{};
    for (auto& v : r) v = -1;
    for (int i = 0; i < 64; ++i) r[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
    return r;
}
constexpr auto reverse = make_reverse();

}  // namespace

std::string base64_encode(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        uint32_t v = uint32_t(uint8_t(data[i])) << 16 | uint32_t(uint8_t(data[i + 1])) << 8 |
                     uint8_t(data[i + 2]);
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += alphabet[v & 63];
    }
    size_t rest = data.size() - i;
    if (rest == 1) {
        uint32_t v = uint32_t(uint8_t(data[i])) << 16;
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += "==";
    } else if (rest == 2) {
        uint32_t v = uint32_t(uint8_t(data[i])) << 16 | uint32_t(uint8_t(data[i + 1])) << 8;
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        bool last = i + 4 == text.size();
        int pad = 0;
        if (last) {
            if (text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
        }
        uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            if (k >= 4 - pad) {
                v <<= 6;
                continue;
            }
            int8_t d = reverse[static_cast<uint8_t>(text[i + k])];
            if (d < 0) return std::nullopt;  // also rejects '=' in the middle
            v = v << 6 | uint32_t(d);
        }
        out += char(v >> 16 & 0xff);
        if (pad == 2) {
            if (v & 0xffff) return std::nullopt;  // non-zero unused bits
            break;
        }
        out += char(v >> 8 & 0xff);
        if (pad == 1) {
            if (v & 0xff) return std::nullopt;
            break;
        }
        out += char(v & 0xff);
    }
    return out;
}

}  // namespace postern
