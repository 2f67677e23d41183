#include "libproto/smtp_client/smtp_dot_stuffer.h"

namespace postern {

void DotStuffer::feed(std::string_view chunk, std::string& out) {
    out.reserve(out.size() + chunk.size() + chunk.size() / 64 + 8);
    size_t run = 0;  // start of the bytes not yet copied
    for (size_t i = 0; i < chunk.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(chunk[i]);
        if (c >= 0x80) eight_bit_ = true;
        if (c == '\n') {
            if (!last_was_cr_) {
                out.append(chunk.data() + run, i - run);
                out += '\r';
                run = i;
            }
            at_line_start_ = true;
            last_was_cr_ = false;
            continue;
        }
        if (at_line_start_ && c == '.' && stuff_) {
            out.append(chunk.data() + run, i - run);
            out += '.';
            run = i;
        }
        at_line_start_ = false;
        last_was_cr_ = c == '\r';
    }
    out.append(chunk.data() + run, chunk.size() - run);
}

void DotStuffer::finish(std::string& out) {
    if (!at_line_start_) out += last_was_cr_ ? "\n" : "\r\n";
    if (stuff_) out += ".\r\n";
    at_line_start_ = true;
    last_was_cr_ = false;
    eight_bit_ = false;
}

}  // namespace postern
