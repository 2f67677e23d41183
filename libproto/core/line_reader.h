#pragma once
// A pure, bounded, incremental CRLF line splitter. No sockets, no clocks.
//
//   LineReader r({.max_line = 998});
//   r.feed(bytes);                       // copy bytes in
//   while (auto ev = r.next()) { ... }   // drain every complete event
//
// Contract: drain with next() until it returns nullopt before the next feed();
// then the buffer never holds more than one partial line (<= max_line) plus
// one fed chunk. The string_view in an event points into the reader's buffer
// and is valid until the next call to feed(), next(), discard() or reset().
//
// Over-long lines: once max_line bytes are buffered without an LF, one
// `too_long` event is produced and the rest of that line is skipped; the
// reader resynchronises after the next LF (the session answers "line too
// long" and carries on instead of dropping the connection).
//
// Split mode (limits.split_long_lines, SMTP DATA): instead of too_long, an
// over-long line comes out in pieces of about max_line bytes with end `none`
// (more of the same line follows), then its last piece with the real end. A
// trailing CR is held back so a piece never splits a CR LF.
//
// Raw mode: read_raw(n) makes the next n bytes come out as `raw` chunks (SMTP
// BDAT, IMAP literals), the last one flagged `raw_last`; then line mode resumes.
//
// Secrets: a line that held a credential (AUTH, a SASL response, PASS) must not stay
// in memory. The buffer never leaves a copy behind when it grows (the old storage is
// wiped before it is freed); compaction leaves stale copies past the live bytes, and
// consumed lines stay where they were, until wipe_consumed() zeroes both. The session
// calls it once it is done with such a line. discard() and the destructor wipe what
// they drop.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern {

// How a line was terminated: SMTP DATA must refuse a bare LF (smuggling defense).
// `none`: a piece of a longer line (split mode only).
enum class LineEnd : uint8_t { crlf, bare_lf, none };

struct LineReaderLimits {
    size_t max_line = 8192;          // content bytes, not counting CR LF
    size_t max_buffer = 256 * 1024;  // feed() refuses to grow the buffer past this
    bool split_long_lines = false;   // see "Split mode" above
};

struct LineEvent {
    enum class Kind : uint8_t { line, too_long, raw };
    Kind kind = Kind::line;
    std::string_view data;        // line without its CR LF, or a raw chunk; empty for too_long
    LineEnd end = LineEnd::crlf;  // kind == line only
    bool raw_last = false;        // kind == raw: the last chunk of the counted bytes
};

class LineReader {
public:
    explicit LineReader(LineReaderLimits limits = {});
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // Appends bytes. Returns false (and keeps nothing) when the buffer would
    // exceed limits.max_buffer, i.e. the caller did not drain with next().
    bool feed(std::string_view bytes);

    // The next complete event, or nullopt when more bytes are needed.
    std::optional<LineEvent> next();

    // The next `count` bytes are delivered as raw chunks; count 0 is a no-op.
    void read_raw(uint64_t count);
    bool in_raw() const { return raw_left_ > 0; }
    uint64_t raw_remaining() const { return raw_left_; }

    // Drops every buffered byte (STARTTLS: plaintext pipelined after the
    // command must never be read as if it came over TLS). Returns how many.
    size_t discard();
    // Moves the unconsumed bytes to the end of `to` and drops them like discard(), keeping
    // the mode (COMPRESS: bytes already buffered were sent compressed and must be inflated).
    void take_buffered(std::string& to);
    // discard() plus back to line mode, not skipping.
    void reset();

    // Zeroes every byte already handed out by next() and every stale copy left by
    // compaction: only the bytes not yet consumed remain. Views from next() die.
    // Cheap to call after every line: each byte is zeroed at most once.
    void wipe_consumed();

    size_t buffered() const { return buf_.size() - pos_; }
    void set_limits(LineReaderLimits limits) { limits_ = limits; }
    const LineReaderLimits& limits() const { return limits_; }

    // The whole storage, up to its capacity (tests check that no secret is left in it).
    std::string_view raw_buffer_for_tests() const { return {buf_.data(), buf_.capacity()}; }

private:
    void grow(size_t need);
    void zero_stale();

    LineReaderLimits limits_;
    std::string buf_;       // reused: compacted, never shrunk
    size_t pos_ = 0;        // first unconsumed byte
    size_t scanned_ = 0;    // bytes after pos_ already known to hold no LF
    size_t wiped_ = 0;      // buf_[0, wiped_) of the consumed bytes is already zero
    size_t stale_end_ = 0;  // buf_[size(), stale_end_) may hold stale copies
    uint64_t raw_left_ = 0;
    bool skipping_ = false;  // inside an over-long line, waiting for LF
};

}  // namespace postern
