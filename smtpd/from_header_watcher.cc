#include "smtpd/from_header_watcher.h"

#include "libproto/core/ascii.h"
#include "libproto/mime/mime_address.h"

namespace postern {

namespace {

// Longer names are never "From" (trailing blanks before the colon included, RFC 5322 4.5.3).
constexpr size_t kMaxName = 32;

bool is_from(std::string_view name) {
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    return iequals(name, "from");
}

}  // namespace

void FromHeaderWatcher::end_field() {
    if (capturing_) values_.push_back(std::move(value_));
    value_.clear();
    capturing_ = false;
}

void FromHeaderWatcher::end_header() {
    end_field();
    done_ = true;
    name_.clear();
    name_.shrink_to_fit();
}

void FromHeaderWatcher::feed(std::string_view bytes) {
    for (size_t i = 0; i < bytes.size() && !done_; ++i) {
        const char c = bytes[i];
        if (c == '\r') continue;  // CRLF and LF alike; a stray CR says nothing here
        switch (state_) {
        case State::line_start:
            if (c == '\n') {  // the empty line: the body follows
                end_header();
            } else if (c == ' ' || c == '\t') {  // folded: the field goes on
                state_ = State::value;
                if (capturing_) value_ += c;
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
                capturing_ = is_from(name_);
                state_ = State::value;
            } else if (name_.size() < kMaxName) {
                name_ += c;  // cut: at worst an odd field is checked as From, never the reverse
            }
            break;
        case State::value:
            if (c == '\n') {
                state_ = State::line_start;
            } else if (capturing_) {
                if (kept_ < from_header_max_bytes) {
                    value_ += c;
                    ++kept_;
                } else {
                    overflow_ = true;
                }
            }
            break;
        }
    }
}

FromHeaderAddresses FromHeaderWatcher::finish() {
    if (!done_) end_header();
    FromHeaderAddresses out;
    out.unreadable = overflow_;
    for (const auto& v : values_) {
        size_t found = 0;
        for (const auto& a : mime_parse_address_list(v)) {
            if (a.is_group_start() || a.is_group_end()) continue;
            ++found;
            if (!a.mailbox || !a.host || a.mailbox->empty() || a.host->empty() ||
                *a.mailbox == kMimeMissingMailbox || *a.host == kMimeMissingDomain) {
                out.unreadable = true;
                continue;
            }
            out.addresses.push_back(*a.mailbox + "@" + *a.host);
        }
        if (found == 0) out.unreadable = true;
    }
    return out;
}

}  // namespace postern
