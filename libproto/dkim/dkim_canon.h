#pragma once
// DKIM "relaxed" canonicalization (RFC 6376 section 3.4.2 and 3.4.4), for signing.
// Header fields are canonicalized one at a time; the body is a stream, fed in chunks of any
// size (a CRLF or a run of white space may be split across chunks) with bounded memory.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace postern {

// Appends "name:value\r\n" in relaxed form: the name lower-cased and stripped of trailing
// white space, the value unfolded (every CRLF removed), each run of SP/HTAB made one SP,
// and white space at its start and end removed. `value` is everything after the colon up
// to, not including, the field's final CRLF.
void append_relaxed_header(std::string_view name, std::string_view value, std::string& out);

// The relaxed body: white space at line ends removed, other runs of SP/HTAB made one SP,
// empty lines at the end dropped, a missing final CRLF added; an empty body stays empty.
// A CR not followed by LF, and a lone LF, are ordinary octets (as python3-dkim and
// OpenDKIM treat them in a CRLF message). Output goes to `sink` in pieces of up to 16 KiB.
class RelaxedBody {
public:
    using Sink = std::function<void(std::string_view)>;
    explicit RelaxedBody(Sink sink);
    void feed(std::string_view chunk);
    void finish();  // once, after the last feed
    uint64_t canonical_size() const { return total_; }

private:
    void put(char c);
    void put_crlfs(uint64_t n);
    void content(char c);  // an octet that is part of the line's text
    void flush();

    Sink sink_;
    std::string out_;
    uint64_t total_ = 0;
    uint64_t empty_lines_ = 0;  // empty lines held back: dropped if the body ends after them
    bool cr_ = false;           // the last octet was a CR (is it a line end?)
    bool wsp_ = false;          // SP/HTAB since the last text octet of this line
    bool text_ = false;         // this line has text
};

}  // namespace postern
