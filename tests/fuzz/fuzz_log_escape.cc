// log_escape on arbitrary bytes: the result never holds a control byte (C0, DEL, or a C1
// control as a raw byte or as UTF-8), an unescaped quote, or a dangling backslash, and it
// never keeps more than max_len input bytes. Byte 0 picks max_len.
#include "libproto/core/log_escape.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    size_t max_len = data[0];
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    std::string out = log_escape(in, max_len);
    for (size_t i = 0; i < out.size(); ++i) {
        auto c = static_cast<unsigned char>(out[i]);
        if (c < 0x20 || c == 0x7f || c == '"') abort();
        if (c == 0xc2 && i + 1 < out.size() && static_cast<unsigned char>(out[i + 1]) < 0xa0)
            abort();  // U+0080..U+009F
        if (c >= 0x80 && c < 0xc0) continue;
        if (c == '\\') {
            if (i + 1 >= out.size()) abort();
            ++i;
        }
    }
    // Every kept input byte costs at most 4 output bytes ("\xHH"), plus "...".
    if (out.size() > 4 * max_len + 3) abort();
    return 0;
}
