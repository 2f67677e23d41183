#include "libproto/smtp/smtp_data.h"

namespace postern {

namespace {

bool has_high_bit(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) & 0x80) return true;
    return false;
}

}  // namespace

void DataReader::put(std::string_view bytes) {
    size_ += bytes.size();
    if (too_big_) return;
    if (size_ > max_size_) {
        too_big_ = true;
        msg_.clear();
        msg_.shrink_to_fit();
        return;
    }
    msg_.append(bytes);
}

// One byte in the middle of a line (state mid).
void DataReader::mid_byte(char c) {
    if (c == '\r') {
        state_ = State::cr;
    } else if (c == '\n') {
        ++bare_lf_;
        put("\r\n");
        state_ = State::mid;  // not a line start: no terminator, no unstuffing
    } else {
        if (static_cast<unsigned char>(c) & 0x80) eight_bit_ = true;
        put(std::string_view(&c, 1));
        state_ = State::mid;
    }
}

size_t DataReader::feed(std::string_view in) {
    size_t i = 0;
    while (i < in.size() && state_ != State::done) {
        switch (state_) {
        case State::mid: {
            // Fast path: copy a run of ordinary bytes in one go.
            size_t j = in.find_first_of("\r\n", i);
            if (j == std::string_view::npos) j = in.size();
            if (j > i) {
                auto run = in.substr(i, j - i);
                if (!eight_bit_ && has_high_bit(run)) eight_bit_ = true;
                put(run);
                i = j;
                continue;
            }
            mid_byte(in[i++]);
            break;
        }
        case State::bol:
            if (in[i] == '.') {
                state_ = State::dot;
                ++i;
            } else {
                state_ = State::mid;
            }
            break;
        case State::dot:
            // A leading dot is removed (unstuffed), except on a "." line with a
            // non-CRLF ending: that one is kept verbatim (it is content, not an end).
            if (in[i] == '\r') {
                state_ = State::dot_cr;
                ++i;
            } else if (in[i] == '\n') {
                put(".");
                state_ = State::mid;
            } else {
                state_ = State::mid;
            }
            break;
        case State::dot_cr:
            if (in[i] == '\n') {
                state_ = State::done;
                ++i;
            } else {
                put(".");  // ".<CR>x": kept verbatim, the CR is pending
                state_ = State::cr;
            }
            break;
        case State::cr:
            if (in[i] == '\n') {
                put("\r\n");
                state_ = State::bol;
                ++i;
            } else {
                put("\r");  // bare CR kept as is
                state_ = State::mid;
            }
            break;
        case State::done: break;
        }
    }
    return i;
}

size_t ChunkReader::feed(std::string_view in) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
    auto part = in.substr(0, n);
    remaining_ -= n;
    size_ += n;
    if (!eight_bit_ && has_high_bit(part)) eight_bit_ = true;
    if (!too_big_) {
        if (size_ > max_size_) {
            too_big_ = true;
            msg_.clear();
            msg_.shrink_to_fit();
        } else {
            msg_.append(part);
        }
    }
    return n;
}

}  // namespace postern
