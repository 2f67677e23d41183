// smtpd's From: header watcher (smtpd/from_header_watcher.h) and the counting mode of the
// HeaderFieldWatcher under it (the queue sink's Received count): any bytes, fed whole and in
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
    HeaderFieldWatcher count_whole{"Received", 0}, count_split{"Received", 0};
    whole.feed(msg);
    count_whole.feed(msg);
    for (size_t i = 0; i < msg.size(); i += piece) {
        split.feed(msg.substr(i, piece));
        count_split.feed(msg.substr(i, piece));
    }
    if (count_whole.count() != count_split.count() || !count_whole.finish().empty()) abort();
    auto a = whole.finish();
    auto b = split.finish();
    if (a.unreadable != b.unreadable || a.addresses != b.addresses) abort();
    size_t kept = 0;
    for (const auto& s : a.addresses) kept += s.size();
    if (kept > 2 * from_header_max_bytes + a.addresses.size() * 32) abort();
    return 0;
}
