#pragma once
// Raw DEFLATE streams (RFC 1951: no zlib or gzip framing, windowBits -15) for IMAP
// COMPRESS=DEFLATE (RFC 4978), one RAII object per direction over zlib's z_stream.
// Pure: bytes in, bytes out; no sockets.
//
//   auto d = Deflater::create();      // null when zlib cannot allocate
//   d->write(bytes, wire);            // appends compressed bytes (zlib may hold some back)
//   d->flush(wire);                   // Z_SYNC_FLUSH: the peer can decode all written so far
//
//   auto i = Inflater::create();
//   std::string_view in = received;
//   i->read(in, plain, 16 * 1024);    // consumes from `in`, appends at most 16 KiB to `plain`
//
// Memory (zlib's documented use, zconf.h): deflate (1 << (window_bits + 2)) +
// (1 << (mem_level + 9)) bytes, inflate (1 << 15) (the peer may use the full window, so the
// inflater always allows it) plus about 7 KB of state each. The defaults below (window 2^13,
// memLevel 6) make a deflater of about 70 KB instead of zlib's 262 KB (15, 8); with the
// inflater about 110 KB per compressed connection (docs/imap.md has the measured RSS).
//
// Zip bombs: Inflater::read never produces more than `max_out` bytes per call, whatever the
// ratio, and the caller asks for more only when it has consumed what it got, so memory stays
// bounded by max_out plus the compressed input not yet read.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <zlib.h>

namespace postern {

struct DeflateOptions {
    int level = 6;         // Z_DEFAULT_COMPRESSION's level (1 fastest .. 9 best)
    int window_bits = 13;  // 8..15: the history window is 2^window_bits bytes
    int mem_level = 6;     // 1..9: the hash table (zlib's default is 8)
};

class Deflater {
public:
    // Null when zlib cannot initialise (out of memory, bad options).
    static std::unique_ptr<Deflater> create(const DeflateOptions& o = {});
    ~Deflater();
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;

    // Compresses `in`, appending what zlib emits to `out` (Z_NO_FLUSH). False on a zlib
    // error (the stream is then unusable).
    bool write(std::string_view in, std::string& out);
    // Ends the batch with Z_SYNC_FLUSH (an empty stored block, 00 00 ff ff) so every byte
    // written so far can be decoded. Nothing when nothing was written since the last flush.
    bool flush(std::string& out);
    bool pending() const { return dirty_; }

private:
    Deflater() = default;
    bool run(std::string& out, int mode);

    z_stream z_{};
    bool dirty_ = false;
};

enum class InflateStatus : uint8_t {
    ok,        // progress (or `in` is empty): call again while input is left
    finished,  // the peer ended the deflate stream (a final block); no more input is valid
    error,     // corrupt input, input after the end, or a zlib failure
};

class Inflater {
public:
    static std::unique_ptr<Inflater> create();
    ~Inflater();
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;

    // Inflates from the front of `in` (consumed bytes are removed), appending at most
    // `max_out` bytes to `out`. Input it did not get to stays in `in`.
    InflateStatus read(std::string_view& in, std::string& out, size_t max_out);
    bool finished() const { return finished_; }
    uint64_t total_out() const { return z_.total_out; }

private:
    Inflater() = default;

    z_stream z_{};
    bool finished_ = false;
};

}  // namespace postern
