#pragma once
// The SMTP message body readers. Pure and incremental: feed() any split of the
// byte stream, single bytes included.
//
// DataReader (DATA, RFC 5321 4.1.1.4 / 4.5.2):
//   - The message ends ONLY on <CR><LF>.<CR><LF> (the first CR LF belongs to
//     the message; "." right after the 354 also ends it: empty message).
//     "<LF>.<LF>", "<CR><LF>.<LF>", "<LF>.<CR><LF>" and "<CR>.<CR>" do NOT end
//     it (SMTP smuggling, CVE-2023-51764/-51765/-51766): they stay message
//     content, so nothing after them can be read as a new SMTP command.
//   - Dot-unstuffing only for lines that start after a real CR LF; a "." line
//     ended by a bare LF or bare CR keeps its dot (it is content).
//   - Bare LF: normalised to CR LF in the stored message (Postfix 3.9's
//     "normal" smtpd_forbid_bare_newline behaviour: broken clients keep
//     working, the message is stored with CRLF line ends). A line that began
//     after a bare LF is never a terminator and is not unstuffed, so a stored
//     "." line is possible; whoever sends the message on must dot-stuff it.
//   - Bare CR (CR not followed by LF) is kept as is, byte for byte.
//   - No per-line length limit in the body (lenient: RFC 5321 4.5.3.1.6's
//     1000 octets is a sender obligation; we pass long lines through).
//   - max_size: bytes stored beyond it are dropped but reading goes on to the
//     terminator, so the session can answer 552 5.3.4 in sync with the client.
//
// ChunkReader (BDAT, RFC 3030): counted raw bytes, no dot handling.
//
// Streaming: message() holds what was stored since it was last emptied; the
// session moves it to its SmtpMessageSink after every feed and clears it, so
// neither reader ever holds more than one fed piece (the message goes to the
// queue file as it arrives).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace postern {

class DataReader {
public:
    explicit DataReader(uint64_t max_size) : max_size_(max_size) {}

    // Consumes bytes up to and including the terminator; returns how many of
    // `in` were used (less than in.size() only when done() became true).
    size_t feed(std::string_view in);

    bool done() const { return state_ == State::done; }
    bool too_big() const { return too_big_; }
    bool eight_bit() const { return eight_bit_; }
    uint64_t bare_lf_count() const { return bare_lf_; }
    // Size of the message as it would be stored (counted even past max_size).
    uint64_t size() const { return size_; }
    // The stored bytes not yet taken (CRLF line ends); empty once too_big().
    std::string& message() { return msg_; }

private:
    enum class State : uint8_t { bol, dot, dot_cr, mid, cr, done };
    void put(std::string_view bytes);
    void mid_byte(char c);

    uint64_t max_size_;
    uint64_t size_ = 0;
    uint64_t bare_lf_ = 0;
    State state_ = State::bol;
    bool too_big_ = false;
    bool eight_bit_ = false;
    std::string msg_;
};

// Accumulates BDAT chunks into one message, enforcing max_size over the sum.
class ChunkReader {
public:
    explicit ChunkReader(uint64_t max_size) : max_size_(max_size) {}

    // Starts a chunk of `count` bytes.
    void begin_chunk(uint64_t count) { remaining_ = count; }
    // Consumes up to remaining() bytes of `in`; returns how many it used.
    size_t feed(std::string_view in);
    uint64_t remaining() const { return remaining_; }
    bool chunk_done() const { return remaining_ == 0; }

    bool too_big() const { return too_big_; }
    bool eight_bit() const { return eight_bit_; }
    uint64_t size() const { return size_; }
    std::string& message() { return msg_; }

private:
    uint64_t max_size_;
    uint64_t remaining_ = 0;
    uint64_t size_ = 0;
    bool too_big_ = false;
    bool eight_bit_ = false;
    std::string msg_;
};

}  // namespace postern
