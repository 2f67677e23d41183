#include "libproto/dkim/dkim_canon.h"

#include "libproto/core/ascii.h"

namespace postern {
namespace {

constexpr size_t kFlushAt = 16 * 1024;

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

}  // namespace

void append_relaxed_header(std::string_view name, std::string_view value, std::string& out) {
    while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
    for (char c : name) out += ascii_lower(c);
    out += ':';
    bool pending_space = false;
    bool started = false;
    for (size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (c == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
            ++i;  // unfold: the CRLF goes, the white space after it is a run like any other
            continue;
        }
        if (is_wsp(c)) {
            pending_space = started;
            continue;
        }
        if (pending_space) out += ' ';
        pending_space = false;
        started = true;
        out += c;
    }
    out += "\r\n";
}

RelaxedBody::RelaxedBody(Sink sink) : sink_(std::move(sink)) { out_.reserve(kFlushAt + 64); }

void RelaxedBody::flush() {
    if (out_.empty()) return;
    sink_(out_);
    out_.clear();
}

void RelaxedBody::put(char c) {
    out_ += c;
    ++total_;
    if (out_.size() >= kFlushAt) flush();
}

void RelaxedBody::put_crlfs(uint64_t n) {
    for (; n > 0; --n) {
        put('\r');
        put('\n');
    }
}

void RelaxedBody::content(char c) {
    if (!text_) {
        put_crlfs(empty_lines_);  // the empty lines were inside the body after all
        empty_lines_ = 0;
        text_ = true;
    }
    if (wsp_) put(' ');  // a run of white space before text, also at a line's start
    wsp_ = false;
    put(c);
}

void RelaxedBody::feed(std::string_view chunk) {
    for (char c : chunk) {
        if (cr_) {
            cr_ = false;
            if (c == '\n') {
                if (text_) {
                    put('\r');
                    put('\n');
                } else {
                    ++empty_lines_;
                }
                text_ = false;
                wsp_ = false;
                continue;
            }
            content('\r');  // a bare CR is text; go on with c
        }
        if (c == '\r')
            cr_ = true;
        else if (is_wsp(c))
            wsp_ = true;  // held: dropped at the line's end, one SP before more text
        else
            content(c);
    }
}

void RelaxedBody::finish() {
    if (cr_) content('\r');
    cr_ = false;
    if (text_) {
        put('\r');
        put('\n');  // the last line had no CRLF
    }
    text_ = false;
    flush();
}

}  // namespace postern
