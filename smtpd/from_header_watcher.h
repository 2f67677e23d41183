#pragma once
// Watches a message's header go by (the body bytes smtpd stores, in chunks of any size)
// and keeps only the From: field values, so the sender check can read them at the end of
// DATA without the message ever being buffered. Pure and incremental; memory is bounded by
// from_header_max_bytes. The header ends at the first empty line, or at a line that is not
// a header field (no colon in it), as in Postfix's cleanup. Both CRLF and bare-LF lines.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

// All From: values of a message together; past this the field counts as unreadable.
inline constexpr size_t from_header_max_bytes = 8192;

struct FromHeaderAddresses {
    // A From: field that could not be read: over the size limit, or an address without
    // local part or domain, or a field with no address at all. Never sent as owned.
    bool unreadable = false;
    std::vector<std::string> addresses;  // "local@domain" of every From: mailbox, in order
};

class FromHeaderWatcher {
public:
    void feed(std::string_view bytes);
    // The header is over: bytes fed from now on are not looked at.
    bool header_done() const { return done_; }
    // The end of the message (a header without a body ends here too); then the result.
    FromHeaderAddresses finish();

private:
    enum class State : uint8_t { line_start, name, value };
    void end_field();
    void end_header();

    State state_ = State::line_start;
    std::string name_;   // the field name so far (line_start/name), at most a few bytes
    std::string value_;  // the From: value being read (unfolded), when capturing_
    std::vector<std::string> values_;
    size_t kept_ = 0;  // bytes of From: kept so far
    bool capturing_ = false;
    bool overflow_ = false;
    bool done_ = false;
};

}  // namespace postern
