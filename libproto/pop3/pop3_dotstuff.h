#pragma once
// Multi-line response body encoding (RFC 1939 section 3): a '.' starting a
// line is doubled, the body ends with CRLF "." CRLF. Streaming: message bytes
// go in chunk by chunk, with lines split anywhere. A bare LF goes out as
// CR LF (the store counts message sizes that way). For TOP it stops after the
// header, the blank line and `n` body lines.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern {

class Pop3DotStuffer {
public:
    // top_lines: nullopt for RETR (the whole message), n for TOP msg n.
    explicit Pop3DotStuffer(std::optional<uint64_t> top_lines = std::nullopt)
        : top_(top_lines.has_value()), lines_left_(top_lines.value_or(0)) {}

    // Appends the stuffed form of `chunk` to `out`. Once TOP's limit is
    // reached, done() is true and further input is ignored.
    void feed(std::string_view chunk, std::string& out);
    // Ends the response: CRLF if the last line had none, then ".\r\n".
    void finish(std::string& out);
    bool done() const { return done_; }

private:
    bool top_;
    uint64_t lines_left_;
    bool done_ = false;
    bool at_line_start_ = true;
    bool in_body_ = false;
    bool last_was_cr_ = false;
    uint64_t line_len_ = 0;  // bytes of the current line so far, LF excluded
};

}  // namespace postern
