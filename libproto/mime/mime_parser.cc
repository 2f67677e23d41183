#include "libproto/mime/mime_parser.h"

#include <algorithm>
#include <cstring>

#include "libproto/core/ascii.h"
#include "libproto/mime/mime_boundary.h"

namespace postern {

using mime_detail::BoundaryMatch;
using mime_detail::match_boundary;

namespace {

// A header line keeps up to one field's worth; a body line only what a boundary needs.
constexpr size_t kHeaderLineKeep = kMimeMaxFieldBytes + 256;
constexpr size_t kBodyLineKeep = kMimeMaxBoundary + 64;

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

MimeParser::MimeParser() {
    msg_.parts.emplace_back();
    stack_.push_back(Open{});
    header_.reset(true);
    keep_limit_ = kHeaderLineKeep;
}

MimeMessage MimeParser::parse(std::string_view message) {
    MimeParser p;
    p.feed(message);
    return p.finish();
}

void MimeParser::feed(std::string_view bytes) {
    if (finished_) return;
    while (!bytes.empty()) {
        if (fast_) {
            count_fast(bytes);
            return;
        }
        const void* lf = std::memchr(bytes.data(), '\n', bytes.size());
        size_t seg =
            lf ? static_cast<size_t>(static_cast<const char*>(lf) - bytes.data()) : bytes.size();
        if (seg > 0) {
            std::string_view piece = bytes.substr(0, seg);
            size_t room = keep_limit_ - std::min(keep_limit_, line_.size());
            line_.append(piece.substr(0, std::min(room, piece.size())));
            if (piece.size() > room && !line_dropped_nonws_) {
                // A dropped CR right before the LF is the line break, not content.
                for (size_t i = room; i < piece.size(); ++i) {
                    if (!is_ws(piece[i])) {
                        line_dropped_nonws_ = true;
                        break;
                    }
                }
            }
            line_len_ += seg;
            line_last_cr_ = piece.back() == '\r';
            pos_ += seg;
        }
        if (!lf) return;
        pos_ += 1;
        bytes.remove_prefix(seg + 1);
        uint32_t eol = line_last_cr_ ? 2 : 1;
        uint64_t len = line_len_ - (line_last_cr_ ? 1 : 0);
        std::string_view kept(line_);
        if (kept.size() > len) kept = kept.substr(0, len);
        on_line(kept, len, eol, line_dropped_nonws_);
        ++lines_;
        if (eol == 1) ++bare_lf_;
        last_byte_ = '\n';
        line_.clear();
        line_len_ = 0;
        line_dropped_nonws_ = false;
        line_last_cr_ = false;
        line_start_ = pos_;
        keep_limit_ = stack_.back().in_header ? kHeaderLineKeep : kBodyLineKeep;
        update_fast();
    }
}

MimeMessage MimeParser::finish() {
    if (finished_) return {};
    if (!fast_ && line_len_ > 0) on_line(line_, line_len_, 0, line_dropped_nonws_);
    close_to(0, pos_, lines_, bare_lf_);
    msg_.size = pos_;
    finished_ = true;
    return std::move(msg_);
}

void MimeParser::count_fast(std::string_view bytes) {
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] != '\n') continue;
        ++lines_;
        char before = i > 0 ? bytes[i - 1] : last_byte_;
        if (before != '\r') ++bare_lf_;
    }
    last_byte_ = bytes.back();
    pos_ += bytes.size();
}

void MimeParser::update_fast() {
    if (stack_.back().in_header) {
        fast_ = false;
        return;
    }
    for (const Open& o : stack_) {
        if (!o.boundary.empty() && !o.epilogue) {
            fast_ = false;
            return;
        }
    }
    fast_ = true;
}

void MimeParser::on_line(std::string_view kept, uint64_t len, uint32_t eol, bool dropped_nonws) {
    if (boundary_line(kept, dropped_nonws, eol, len)) {
        prev_eol_ = eol;
        return;
    }
    if (stack_.back().in_header) {
        if (len == 0) {
            end_header(line_start_ + eol, lines_ + 1, bare_lf_ + (eol == 1 ? 1 : 0));
        } else {
            header_.line(kept);
        }
    }
    prev_eol_ = eol;
}

bool MimeParser::boundary_line(std::string_view kept, bool dropped_nonws, uint32_t eol,
                               uint64_t len) {
    if (kept.size() < 2 || kept[0] != '-' || kept[1] != '-') return false;
    size_t found = stack_.size();
    BoundaryMatch how = BoundaryMatch::kNone;
    // Innermost first; a strict match anywhere beats a lenient one, so that nested
    // boundaries where one is a prefix of the other still work.
    for (bool strict : {true, false}) {
        for (size_t i = stack_.size(); i-- > 0;) {
            const Open& o = stack_[i];
            if (o.boundary.empty() || o.epilogue || o.in_header) continue;
            how = match_boundary(kept, dropped_nonws, o.boundary, strict);
            if (how != BoundaryMatch::kNone) {
                found = i;
                break;
            }
        }
        if (found != stack_.size()) break;
    }
    if (found == stack_.size()) return false;

    // The line break before the boundary belongs to the boundary.
    uint64_t end = line_start_ - prev_eol_;
    uint64_t lines_at_end = lines_ - (prev_eol_ > 0 ? 1 : 0);
    uint64_t bare_at_end = bare_lf_ - (prev_eol_ == 1 ? 1 : 0);
    close_to(found + 1, end, lines_at_end, bare_at_end);
    if (how == BoundaryMatch::kClose) {
        stack_[found].epilogue = true;
    } else if (msg_.parts.size() < kMimeMaxParts) {
        start_part(stack_[found].part, line_start_ + len + eol, bare_lf_ + (eol == 1 ? 1 : 0),
                   false);
    }
    return true;
}

void MimeParser::start_part(uint32_t parent, uint64_t header_start, uint64_t bare,
                            bool message_header) {
    auto idx = static_cast<uint32_t>(msg_.parts.size());
    MimePart& p = msg_.parts.emplace_back();
    p.header_start = header_start;
    p.body_start = header_start;
    p.parent = parent;
    p.depth = msg_.parts[parent].depth + 1;
    p.opaque = p.depth >= kMimeMaxDepth;
    msg_.parts[parent].children.push_back(idx);
    Open o;
    o.part = idx;
    o.bare_at_header = bare;
    stack_.push_back(std::move(o));
    header_.reset(message_header);
}

void MimeParser::apply_header(MimePart& p) {
    header_.finish(p.fields, p.envelope);
    if (p.depth > 0 && !p.fields.has_content_type) {
        const MimePart& parent = msg_.parts[p.parent];
        if (parent.is_multipart() && iequals(parent.fields.subtype, "digest")) {
            p.fields.type = "message";  // RFC 2046 section 5.1.5
            p.fields.subtype = "rfc822";
        }
    }
}

void MimeParser::end_header(uint64_t body_start, uint64_t lines, uint64_t bare) {
    uint32_t idx = stack_.back().part;
    MimePart& p = msg_.parts[idx];
    p.header_size = body_start - p.header_start;
    p.header_bare_lf = bare - stack_.back().bare_at_header;
    stack_.back().bare_at_body = bare;
    p.body_start = body_start;
    apply_header(p);
    stack_.back().in_header = false;
    stack_.back().lines_at_body = lines;
    if (p.opaque) return;
    if (p.is_multipart()) {
        const std::string* b = MimeMessage::param(p.fields.params, "boundary");
        if (b && !b->empty() && b->size() <= kMimeMaxBoundary) stack_.back().boundary = *b;
    } else if (p.is_message()) {
        if (msg_.parts.size() < kMimeMaxParts) {
            start_part(idx, body_start, bare, true);
        } else {
            p.opaque = true;
        }
    }
}

void MimeParser::close_to(size_t keep, uint64_t end, uint64_t lines_at_end, uint64_t bare_at_end) {
    // A part never ends before its child: a boundary right after another one closes a
    // child that starts after the line break the boundary takes.
    uint64_t floor = 0;
    while (stack_.size() > keep) {
        Open& o = stack_.back();
        MimePart& p = msg_.parts[o.part];
        if (o.in_header) {
            // A header without an empty line: it runs to the end, the body is empty.
            p.header_size = std::max(end, p.header_start) - p.header_start;
            p.body_start = p.header_start + p.header_size;
            apply_header(p);
            o.lines_at_body = lines_at_end;
            p.header_bare_lf = bare_at_end > o.bare_at_header ? bare_at_end - o.bare_at_header : 0;
            o.bare_at_body = bare_at_end;
        }
        uint64_t e = std::max({end, p.body_start, floor});
        floor = e;
        p.body_size = e - p.body_start;
        p.body_lines = lines_at_end > o.lines_at_body ? lines_at_end - o.lines_at_body : 0;
        p.body_bare_lf = bare_at_end > o.bare_at_body ? bare_at_end - o.bare_at_body : 0;
        if (p.body_size == 0) p.body_lines = p.body_bare_lf = 0;
        stack_.pop_back();
    }
}

}  // namespace postern
