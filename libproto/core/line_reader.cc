#include "libproto/core/line_reader.h"
#include "libproto/core/secret.h"

#include <algorithm>
#include <cstring>

namespace postern {

LineReader::LineReader(LineReaderLimits limits) : limits_(limits) {}

// What was not consumed may be a credential the session never saw (a client that left
// mid-line); consumed lines that held one were wiped by the session.
LineReader::~LineReader() { wipe(buf_.data() + pos_, buf_.size() - pos_); }

bool LineReader::feed(std::string_view bytes) {
    if (bytes.empty()) return true;
    if (buffered() + bytes.size() > limits_.max_buffer) return false;
    // Compact only here: views handed out by next() are dead by contract. What compaction
    // leaves past the new end is stale (wipe_consumed zeroes it).
    if (pos_ == buf_.size()) {
        stale_end_ = std::max(stale_end_, buf_.size());
        buf_.clear();
        pos_ = 0;
        wiped_ = 0;
    } else if (pos_ > 0 &&
               (pos_ >= buf_.size() / 2 || buf_.size() + bytes.size() > buf_.capacity())) {
        stale_end_ = std::max(stale_end_, buf_.size());
        buf_.erase(0, pos_);
        pos_ = 0;
        wiped_ = 0;
    }
    if (buf_.size() + bytes.size() > buf_.capacity()) grow(buf_.size() + bytes.size());
    buf_.append(bytes);
    return true;
}

// std::string's own growth frees the old storage as it was: copy by hand, wipe, then free.
void LineReader::grow(size_t need) {
    std::string bigger;
    bigger.reserve(std::max(need, 2 * buf_.capacity()));
    bigger.assign(buf_);
    zero_stale();
    wipe(buf_.data(), buf_.size());
    buf_.swap(bigger);  // `bigger` now holds the zeroed old storage and frees it
    stale_end_ = 0;
}

// Zeroes buf_[size(), stale_end_): resize() writes the zeros (it never reallocates within
// the capacity), the second resize gives the live bytes back.
void LineReader::zero_stale() {
    size_t live = buf_.size();
    if (stale_end_ > live) {
        buf_.resize(stale_end_, '\0');
        wipe(buf_.data() + live, stale_end_ - live);
        buf_.resize(live);
    }
    stale_end_ = 0;
}

void LineReader::wipe_consumed() {
    if (pos_ > wiped_) wipe(buf_.data() + wiped_, pos_ - wiped_);
    wiped_ = pos_;
    zero_stale();
}

std::optional<LineEvent> LineReader::next() {
    if (raw_left_ > 0) {
        size_t avail = buffered();
        if (avail == 0) return std::nullopt;
        size_t n = static_cast<size_t>(std::min<uint64_t>(avail, raw_left_));
        LineEvent ev;
        ev.kind = LineEvent::Kind::raw;
        ev.data = std::string_view(buf_).substr(pos_, n);
        pos_ += n;
        raw_left_ -= n;
        ev.raw_last = raw_left_ == 0;
        return ev;
    }
    const char* base = buf_.data();
    const size_t end = buf_.size();
    if (skipping_) {
        const void* lf = pos_ < end ? std::memchr(base + pos_, '\n', end - pos_) : nullptr;
        if (!lf) {
            pos_ = end;  // drop the rest of the over-long line
            return std::nullopt;
        }
        pos_ = static_cast<size_t>(static_cast<const char*>(lf) - base) + 1;
        skipping_ = false;
        scanned_ = 0;
    }
    size_t from = pos_ + scanned_;
    const void* lf = from < end ? std::memchr(base + from, '\n', end - from) : nullptr;
    if (!lf) {
        scanned_ = end - pos_;
        // +1: the CR of a line of exactly max_line bytes may already be here.
        if (scanned_ > limits_.max_line + 1 && limits_.split_long_lines) {
            size_t n = scanned_ - (base[end - 1] == '\r' ? 1 : 0);
            LineEvent ev{LineEvent::Kind::line, std::string_view(base + pos_, n), LineEnd::none,
                         false};
            pos_ += n;
            scanned_ -= n;
            return ev;
        }
        if (scanned_ > limits_.max_line + 1) {
            pos_ = end;
            scanned_ = 0;
            skipping_ = true;
            return LineEvent{LineEvent::Kind::too_long, {}, LineEnd::crlf, false};
        }
        return std::nullopt;
    }
    size_t i = static_cast<size_t>(static_cast<const char*>(lf) - base);
    size_t len = i - pos_;
    LineEvent ev;
    ev.end = LineEnd::bare_lf;
    if (len > 0 && base[i - 1] == '\r') {
        ev.end = LineEnd::crlf;
        --len;
    }
    if (len > limits_.max_line && !limits_.split_long_lines) {
        ev.kind = LineEvent::Kind::too_long;
    } else {
        ev.kind = LineEvent::Kind::line;
        ev.data = std::string_view(base + pos_, len);
    }
    pos_ = i + 1;
    scanned_ = 0;
    return ev;
}

void LineReader::read_raw(uint64_t count) {
    raw_left_ = count;
    scanned_ = 0;
}

size_t LineReader::discard() {
    size_t n = buffered();
    wipe_consumed();
    wipe(buf_.data() + pos_, n);
    buf_.clear();
    pos_ = 0;
    wiped_ = 0;
    stale_end_ = 0;  // all of it is zero now
    scanned_ = 0;
    return n;
}

void LineReader::take_buffered(std::string& to) {
    to.append(buf_.data() + pos_, buffered());
    discard();
}

void LineReader::reset() {
    discard();
    raw_left_ = 0;
    skipping_ = false;
}

}  // namespace postern
