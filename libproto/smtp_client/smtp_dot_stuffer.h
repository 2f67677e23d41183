#pragma once
// The message as the SMTP client sends it (RFC 5321 4.5.2): streaming, the message fed in
// chunks split anywhere. Every line end goes out as CR LF (a bare LF becomes CR LF; a CR
// LF split across chunks stays one); with dot stuffing (DATA), a '.' starting a line is
// doubled and finish() ends the message with CR LF "." CR LF. Without it (BDAT, RFC 3030)
// only the line ends are made canonical and finish() adds a CR LF the last line lacked.

#include <cstdint>
#include <string>
#include <string_view>

namespace postern {

class DotStuffer {
public:
    explicit DotStuffer(bool stuff_dots = true) : stuff_(stuff_dots) {}

    // Appends the wire form of `chunk` to `out`.
    void feed(std::string_view chunk, std::string& out);
    // Ends the message (see the header comment); the stuffer is then ready for another.
    void finish(std::string& out);
    // Bytes fed so far whose byte value is >= 0x80 (8-bit content seen).
    bool saw_eight_bit() const { return eight_bit_; }

private:
    bool stuff_;
    bool at_line_start_ = true;
    bool last_was_cr_ = false;
    bool eight_bit_ = false;
};

}  // namespace postern
