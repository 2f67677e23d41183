// libFuzzer: the queue's envelope trailer parser (read back from disk by spoold
// and mailctl, so a damaged file must give an error, never a crash). Whatever
// decodes must encode and decode again to the same envelope text.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libmailstore/queue/queue.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto env = postern::decode_envelope(text);
    if (!env) return 0;
    auto once = postern::encode_envelope(*env);
    auto again = postern::decode_envelope(once);
    if (!again || postern::encode_envelope(*again) != once) std::abort();
    return 0;
}
