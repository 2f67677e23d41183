// libFuzzer: the POP3 command parser on arbitrary lines, and the dot-stuffer
// on arbitrary message bytes (checks its output never has a bare "." line).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "libproto/pop3/pop3_command.h"
#include "libproto/pop3/pop3_dotstuff.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    size_t pos = 0;
    while (pos <= in.size()) {
        size_t nl = in.find('\n', pos);
        std::string_view line = in.substr(pos, nl == std::string_view::npos ? in.npos : nl - pos);
        auto c = postern::parse_pop3_command(line);
        if (c) {
            if (c->verb == postern::Pop3Verb::retr || c->verb == postern::Pop3Verb::dele ||
                c->verb == postern::Pop3Verb::top)
                if (c->msg == 0) __builtin_trap();
        } else {
            (void)postern::pop3_parse_error_text(c.error());
        }
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }

    std::optional<uint64_t> top;
    if (size > 0 && data[0] < 16) top = data[0];
    postern::Pop3DotStuffer d(top);
    std::string out;
    size_t step = size > 1 ? 1 + data[1] % 64 : 1;
    for (size_t i = 0; i < in.size() && !d.done(); i += step) d.feed(in.substr(i, step), out);
    d.finish(out);
    // The terminator must appear only at the very end.
    size_t term = out.find("\n.\r\n");
    if (out != ".\r\n" && term != out.size() - 4) __builtin_trap();
    return 0;
}
