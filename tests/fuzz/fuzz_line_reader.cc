// libFuzzer: the bounded line reader under every connection. The first byte picks the mode
// (bit 0: split mode, as SMTP DATA; bit 1: wipe_consumed() after every event, as smtpd and
// pop3d do after a command line), the chunk size and the line limit; the rest is the byte
// stream. Every event's text must come from the input and wiping must change no event.
// Line mode: feeding in chunks gives the same events as byte by byte, and no line exceeds
// the limit. Split mode (pieces depend on the chunking): the pieces and line ends put back
// together are exactly the input up to what is still buffered, no piece ends between a CR
// and its LF, no piece or line holds more than the limit plus one chunk, and the whole
// lines are the same whatever the chunking.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/core/line_reader.h"

namespace {

using postern::LineEnd;
using postern::LineEvent;

struct Event {
    int kind;
    std::string data;
    int end;
    bool operator==(const Event&) const = default;
};

struct Mode {
    bool split = false;
    bool wipe = false;
    size_t max_line = 4;
};

void check(bool ok) {
    if (!ok) std::abort();
}

std::vector<Event> run(std::string_view in, size_t step, const Mode& m, bool wipe) {
    postern::LineReader r(
        {.max_line = m.max_line, .max_buffer = 64 * 1024, .split_long_lines = m.split});
    std::vector<Event> out;
    for (size_t at = 0; at < in.size(); at += step) {
        check(r.feed(in.substr(at, step)));  // we always drain before feeding
        while (auto ev = r.next()) {
            if (!m.split && ev->kind == LineEvent::Kind::line) check(ev->data.size() <= m.max_line);
            // A line is a slice of the input; the same text must occur there.
            check(in.find(ev->data) != std::string_view::npos);
            // `end` means something for lines only.
            int end = ev->kind == LineEvent::Kind::line ? static_cast<int>(ev->end) : -1;
            out.push_back({static_cast<int>(ev->kind), std::string(ev->data), end});
            if (wipe) r.wipe_consumed();  // the view is dead from here on
        }
    }
    return out;
}

// Split mode: the events put back together, checked against the input as we go.
std::vector<std::string> whole_lines(std::string_view in, const std::vector<Event>& evs,
                                     size_t step, size_t max_line) {
    std::vector<std::string> lines;
    std::string current;
    size_t pos = 0;  // input bytes accounted for
    for (const auto& e : evs) {
        check(e.kind == static_cast<int>(LineEvent::Kind::line));  // never too_long
        check(e.data.size() <= max_line + 1 + step);               // bounded buffering
        check(in.substr(pos, e.data.size()) == e.data);
        pos += e.data.size();
        current += e.data;
        auto end = static_cast<LineEnd>(e.end);
        if (end == LineEnd::none) {
            check(!e.data.empty());
            // A piece never splits a CR LF: a piece ending in CR was followed by no LF.
            if (e.data.back() == '\r') check(pos >= in.size() || in[pos] != '\n');
            continue;
        }
        std::string_view term = end == LineEnd::crlf ? "\r\n" : "\n";
        check(in.substr(pos, term.size()) == term);
        pos += term.size();
        lines.push_back(std::move(current));
        current.clear();
    }
    // What is left is one partial line, never more than the limit (and a held-back CR).
    std::string_view rest = in.substr(pos);
    check(rest.find('\n') == std::string_view::npos);
    check(rest.size() <= max_line + 1);
    return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    Mode m;
    m.split = data[0] & 1;
    m.wipe = data[0] & 2;
    size_t v = data[0] >> 2;
    size_t step = v % 13 + 2;
    m.max_line = v % 7 + 4;
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    auto chunked = run(in, step, m, false);
    if (m.wipe) check(run(in, step, m, true) == chunked);
    auto bytewise = run(in, 1, m, m.wipe);
    if (!m.split) {
        check(chunked == bytewise);
        return 0;
    }
    check(whole_lines(in, chunked, step, m.max_line) == whole_lines(in, bytewise, 1, m.max_line));
    return 0;
}
