#pragma once
// Watches a message's header go by (the body bytes smtpd stores, in chunks of any size)
// and keeps only the values of one field, by name in any case, so a check can read them at
// the end of DATA without the message ever being buffered. Pure and incremental; memory is
// bounded by `max_bytes`. The header ends at the first empty line, or at a line that is not
// a header field (no colon in it), as in Postfix's cleanup. Both CRLF and bare-LF lines.
// Users: FromHeaderWatcher (the sender check) and the queue sink (TLS-Required, RFC 8689).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

class HeaderFieldWatcher {
public:
    // `name` without the colon ("From"); at most 32 bytes. max_bytes 0: count the fields only.
    HeaderFieldWatcher(std::string_view name, size_t max_bytes) : want_(name), max_(max_bytes) {}
    void feed(std::string_view bytes);
    // The header is over: bytes fed from now on are not looked at.
    bool header_done() const { return done_; }
    // The end of the message (a header without a body ends here too); then every value of
    // the field, unfolded, in order.
    const std::vector<std::string>& finish();
    // The values together passed max_bytes: what is past it was not kept.
    bool overflowed() const { return overflow_; }
    // Fields of that name seen so far (kept or not).
    size_t count() const { return count_; }

private:
    enum class State : uint8_t { line_start, name, value };
    void keep(char c);  // one byte of the value, within max_bytes
    void end_field();
    void end_header();

    std::string want_;
    size_t max_;
    State state_ = State::line_start;
    std::string name_;   // the field name so far (line_start/name), at most a few bytes
    std::string value_;  // the value being read (unfolded), when capturing_
    std::vector<std::string> values_;
    size_t kept_ = 0;  // bytes of values kept so far
    size_t count_ = 0;
    bool capturing_ = false;
    bool overflow_ = false;
    bool done_ = false;
};

}  // namespace postern
