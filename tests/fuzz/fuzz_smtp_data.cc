// libFuzzer: the DATA reader. The first byte picks a chunk size; the rest is the
// stream after "354". Feeding it in chunks must give exactly what feeding it in
// one go gives (same end position, same stored message, same flags), and a
// BDAT reader must keep bytes verbatim. Taking the stored bytes out after every
// feed (the session streams them to the queue) must give the same message.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "libproto/smtp/smtp_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    size_t step = data[0] % 17 + 1;
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    const uint64_t max = 512;

    postern::DataReader whole(max);
    size_t used_whole = whole.feed(in);

    postern::DataReader parts(max);
    size_t used = 0;
    while (used < in.size() && !parts.done()) {
        size_t n = std::min(step, in.size() - used);
        used += parts.feed(in.substr(used, n));
    }
    // As the session streams: the stored bytes taken out after every feed.
    postern::DataReader streamed(max);
    std::string taken;
    size_t used_streamed = 0;
    while (used_streamed < in.size() && !streamed.done()) {
        size_t n = std::min(step, in.size() - used_streamed);
        used_streamed += streamed.feed(in.substr(used_streamed, n));
        if (streamed.message().size() > 2 * n + 2) std::abort();  // one piece, never more
        taken += streamed.message();
        streamed.message().clear();
    }
    if (streamed.done() != whole.done() || used_streamed != used ||
        (!whole.too_big() && whole.done() && taken != whole.message()))
        std::abort();
    if (whole.done() != parts.done()) std::abort();
    if (whole.done() && used != used_whole) std::abort();
    if (whole.message() != parts.message() || whole.too_big() != parts.too_big() ||
        whole.eight_bit() != parts.eight_bit() || whole.size() != parts.size())
        std::abort();
    if (whole.done()) {
        // The stream up to the end must finish with the real terminator.
        if (in.substr(0, used_whole).size() < 3) {
            if (in.substr(0, used_whole) != ".\r\n") std::abort();
        } else if (in.substr(used_whole - 3, 3) != ".\r\n") {
            std::abort();
        }
        if (!whole.too_big() && whole.message().size() > max) std::abort();
        const auto& m = whole.message();
        if (!m.empty() && !m.ends_with("\r\n")) std::abort();
    }

    postern::ChunkReader chunks(max);
    chunks.begin_chunk(in.size());
    size_t got = 0;
    while (!chunks.chunk_done()) got += chunks.feed(in.substr(got, step));
    if (!chunks.too_big() && chunks.message() != in) std::abort();
    return 0;
}
