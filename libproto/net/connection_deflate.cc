// The compression half of Connection (IMAP COMPRESS=DEFLATE, RFC 4978): raw deflate above
// TLS. Output: write() -> Deflater (Z_NO_FLUSH) -> send_wire(); flush() ends each batch with
// a sync flush so every reply reaches the peer at once. Input: plaintext from the socket or
// from SSL_read collects in zin_ (at most one read's worth, since reading stops while the
// handler is paused) and dispatch() inflates it a chunk at a time into the line reader.
#include <algorithm>

#include "libproto/core/log.h"
#include "libproto/net/connection.h"
#include "libproto/net/deflate_stream.h"

namespace postern {
namespace {

// Plaintext inflated per step: the line reader never holds more than this plus one partial
// line, whatever the compression ratio (a zip bomb is read at the pace the handler reads).
constexpr size_t inflate_chunk = 16 * 1024;

}  // namespace

bool Connection::start_compression(std::string_view received) {
    if (deflater_ || closing_ || handle_closed_) return false;
    auto d = Deflater::create();
    auto i = Inflater::create();
    if (!d || !i) {
        log_msg(LogLevel::error, "connection %llu: cannot start DEFLATE compression",
                static_cast<unsigned long long>(id_));
        return false;
    }
    // The reply that turned compression on is already queued (or encrypted) as it was.
    deflater_ = std::move(d);
    inflater_ = std::move(i);
    // Everything after the command was sent compressed: what the handler had not used yet,
    // then what the reader still holds.
    zin_.assign(received);
    reader_.take_buffered(zin_);
    dispatch();
    return true;
}

void Connection::send_wire(std::string_view bytes) {
    if (ssl_)
        tls_write(bytes);
    else
        out_.append(bytes);
}

void Connection::deflate_write(std::string_view plain) {
    zbuf_.clear();
    if (!deflater_->write(plain, zbuf_)) {
        log_msg(LogLevel::error, "connection %llu: deflate failed",
                static_cast<unsigned long long>(id_));
        abort(CloseReason::compress_error);
        return;
    }
    if (!zbuf_.empty()) send_wire(zbuf_);
}

void Connection::deflate_flush() {
    if (!deflater_->pending() || handle_closed_) return;
    zbuf_.clear();
    if (!deflater_->flush(zbuf_)) {
        abort(CloseReason::compress_error);
        return;
    }
    send_wire(zbuf_);
    check_blocked();
}

bool Connection::take_plain(std::string_view plain) {
    if (inflater_) {
        zin_.append(plain);
        return true;
    }
    if (!reader_.feed(plain)) {
        log_msg(LogLevel::warning, "connection %llu from %s: input buffer limit exceeded",
                static_cast<unsigned long long>(id_), peer_.ip.c_str());
        abort(CloseReason::overflow);
        return false;
    }
    return true;
}

bool Connection::inflate_some() {
    if (!inflater_ || zin_.empty() || handle_closed_) return false;
    std::string_view in = zin_;
    zbuf_.clear();
    InflateStatus st = inflater_->read(in, zbuf_, inflate_chunk);
    size_t used = zin_.size() - in.size();
    if (st == InflateStatus::error || (used == 0 && zbuf_.empty())) {
        log_msg(LogLevel::info, "connection %llu from %s: compressed input does not inflate",
                static_cast<unsigned long long>(id_), peer_.ip.c_str());
        zin_.clear();
        abort(CloseReason::compress_error);
        return false;
    }
    zin_.erase(0, used);
    if (!zbuf_.empty() && !reader_.feed(zbuf_)) {
        abort(CloseReason::overflow);
        return false;
    }
    // The peer ended its deflate stream: nothing more can come (anything would be an error).
    if (st == InflateStatus::finished) {
        eof_ = true;
        update_reading();
    }
    return true;
}

}  // namespace postern
