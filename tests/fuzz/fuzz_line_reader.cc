// libFuzzer: the bounded line reader under every connection. The first byte
// picks a chunk size and the line limit; the rest is the byte stream. Feeding
// it in chunks must give the same events as feeding it byte by byte, no line
// may exceed the limit, and every event's text must come from the input.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/core/line_reader.h"

namespace {

struct Event {
    int kind;
    std::string data;
    int end;
    bool operator==(const Event&) const = default;
};

std::vector<Event> run(std::string_view in, size_t step, size_t max_line) {
    postern::LineReader r({.max_line = max_line, .max_buffer = 64 * 1024});
    std::vector<Event> out;
    for (size_t at = 0; at < in.size(); at += step) {
        if (!r.feed(in.substr(at, step))) std::abort();  // we always drain before feeding
        while (auto ev = r.next()) {
            if (ev->kind == postern::LineEvent::Kind::line && ev->data.size() > max_line)
                std::abort();
            // A line is a slice of the input; the same text must occur there.
            if (in.find(ev->data) == std::string_view::npos) std::abort();
            // `end` means something for lines only.
            int end = ev->kind == postern::LineEvent::Kind::line ? static_cast<int>(ev->end) : -1;
            out.push_back({static_cast<int>(ev->kind), std::string(ev->data), end});
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    size_t step = data[0] % 13 + 2;
    size_t max_line = data[0] % 7 + 4;
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    if (run(in, step, max_line) != run(in, 1, max_line)) std::abort();
    return 0;
}
