#include "smtpd/header_field_watcher.h"

#include "libproto/core/ascii.h"

namespace postern {

namespace {

// Longer names are never the one watched (trailing blanks before the colon included, RFC
// 5322 4.5.3).
constexpr size_t kMaxName = 32;

bool same_name(std::string_view name, std::string_view want) {
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    return iequals(name, want);
}

}  // namespace

void HeaderFieldWatcher::keep(char c) {
    if (kept_ < max_) {
        value_ += c;
        ++kept_;
    } else {
        overflow_ = true;
    }
}

void HeaderFieldWatcher::end_field() {
    if (capturing_ && max_ > 0) values_.push_back(std::move(value_));
    value_.clear();
    capturing_ = false;
}

void HeaderFieldWatcher::end_header() {
    end_field();
    done_ = true;
    name_.clear();
    name_.shrink_to_fit();
}

void HeaderFieldWatcher::feed(std::string_view bytes) {
    for (size_t i = 0; i < bytes.size() && !done_; ++i) {
        const char c = bytes[i];
        if (c == '\r') continue;  // CRLF and LF alike; a stray CR says nothing here
        switch (state_) {
        case State::line_start:
            if (c == '\n') {  // the empty line: the body follows
                end_header();
            } else if (c == ' ' || c == '\t') {  // folded: the field goes on
                state_ = State::value;
                if (capturing_ && max_ > 0) keep(c);
            } else {
                end_field();
                name_.assign(1, c);
                state_ = State::name;
            }
            break;
        case State::name:
            if (c == '\n') {  // a line without a colon: not a header field, the body began
                end_header();
            } else if (c == ':') {
                capturing_ = same_name(name_, want_);
                if (capturing_) ++count_;
                state_ = State::value;
            } else if (name_.size() < kMaxName) {
                name_ += c;  // cut: at worst an odd field is taken for the one watched
            }
            break;
        case State::value:
            if (c == '\n') {
                state_ = State::line_start;
            } else if (capturing_ && max_ > 0) {
                keep(c);
            }
            break;
        }
    }
}

const std::vector<std::string>& HeaderFieldWatcher::finish() {
    if (!done_) end_header();
    return values_;
}

}  // namespace postern
