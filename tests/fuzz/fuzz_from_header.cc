// smtpd's From: header watcher (smtpd/from_header_watcher.h): any bytes, fed whole and in
// pieces chosen by the first input byte, must give the same answer, and what is kept stays
// within from_header_max_bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "smtpd/from_header_watcher.h"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const size_t piece = 1 + data[0] % 17;
    std::string_view msg(reinterpret_cast<const char*>(data) + 1, size - 1);
    FromHeaderWatcher whole, split;
    whole.feed(msg);
    for (size_t i = 0; i < msg.size(); i += piece) split.feed(msg.substr(i, piece));
    auto a = whole.finish();
    auto b = split.finish();
    if (a.unreadable != b.unreadable || a.addresses != b.addresses) abort();
    size_t kept = 0;
    for (const auto& s : a.addresses) kept += s.size();
    if (kept > 2 * from_header_max_bytes + a.addresses.size() * 32) abort();
    return 0;
}
