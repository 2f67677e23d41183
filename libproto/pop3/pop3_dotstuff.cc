#include "libproto/pop3/pop3_dotstuff.h"

#include <cstring>

namespace postern {

void Pop3DotStuffer::feed(std::string_view in, std::string& out) {
    size_t i = 0;
    while (i < in.size() && !done_) {
        if (at_line_start_ && in[i] == '.') out.push_back('.');
        at_line_start_ = false;
        const void* nl = std::memchr(in.data() + i, '\n', in.size() - i);
        size_t end = nl ? size_t(static_cast<const char*>(nl) - in.data()) + 1 : in.size();
        std::string_view seg = in.substr(i, end - i);
        i = end;
        if (!nl) {
            out.append(seg);
            line_len_ += seg.size();
            last_was_cr_ = seg.back() == '\r';
            continue;
        }
        // A complete line: its content length excludes CR LF (or a bare LF).
        bool cr = seg.size() >= 2 ? seg[seg.size() - 2] == '\r' : last_was_cr_;
        // A bare LF (a file from another delivery agent) goes out as CR LF: the
        // client must see "CRLF.CRLF" at the end, and LIST counted it so.
        if (cr) {
            out.append(seg);
        } else {
            out.append(seg.substr(0, seg.size() - 1));
            out.append("\r\n");
        }
        uint64_t content = line_len_ + seg.size() - 1 - (cr ? 1 : 0);
        line_len_ = 0;
        last_was_cr_ = false;
        at_line_start_ = true;
        if (!top_) continue;
        if (!in_body_) {
            if (content == 0) {
                in_body_ = true;
                if (lines_left_ == 0) done_ = true;
            }
        } else if (--lines_left_ == 0) {
            done_ = true;
        }
    }
}

void Pop3DotStuffer::finish(std::string& out) {
    if (!at_line_start_) out.append("\r\n");
    out.append(".\r\n");
    at_line_start_ = true;
    done_ = true;
}

}  // namespace postern
