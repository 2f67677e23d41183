#include "libproto/imap/imap_section.h"

#include "libproto/core/ascii.h"

namespace postern {

namespace {

// Longer than any field name a header filter needs to look at.
constexpr size_t kMaxFieldName = 1000;

}  // namespace

std::expected<ImapSectionRange, ImapSectionError> imap_resolve_section(const MimeMessage& msg,
                                                                       const BodySection& s) {
    if (msg.parts.empty()) return std::unexpected(ImapSectionError::no_such_part);
    uint32_t cur = 0;
    bool at_message = true;  // cur is a message (the top one or an encapsulated one)
    for (uint32_t k : s.part) {
        const MimePart* node = &msg.parts[cur];
        if (!at_message && node->is_message()) {
            if (node->children.empty()) return std::unexpected(ImapSectionError::no_such_part);
            cur = node->children[0];
            node = &msg.parts[cur];
        }
        if (node->is_multipart()) {
            if (k == 0 || k > node->children.size())
                return std::unexpected(ImapSectionError::no_such_part);
            cur = node->children[k - 1];
        } else if (k != 1) {
            return std::unexpected(ImapSectionError::no_such_part);
        }
        at_message = false;
    }
    const MimePart& p = msg.parts[cur];
    ImapSectionRange r;
    r.part = cur;
    switch (s.text) {
    case SectionText::none:
        if (s.part.empty()) {
            r.size = msg.root().end();
        } else {
            r.offset = p.body_start;
            r.size = p.body_size;
        }
        return r;
    case SectionText::mime:
        if (s.part.empty()) return std::unexpected(ImapSectionError::not_a_message);
        r.offset = p.header_start;
        r.size = p.header_size;
        return r;
    case SectionText::header:
    case SectionText::header_fields:
    case SectionText::header_fields_not:
    case SectionText::text: break;
    }
    const MimePart* m = &msg.root();
    if (!s.part.empty()) {
        if (!p.is_message() || p.children.empty())
            return std::unexpected(ImapSectionError::not_a_message);
        r.part = p.children[0];
        m = &msg.parts[r.part];
    }
    if (s.text == SectionText::text) {
        r.offset = m->body_start;
        r.size = m->body_size;
    } else {
        r.offset = m->header_start;
        r.size = m->header_size;
        r.filter = s.text != SectionText::header;
        r.filter_exclude = s.text == SectionText::header_fields_not;
    }
    return r;
}

ImapHeaderFilter::ImapHeaderFilter(const std::vector<std::string>& fields, bool exclude)
    : fields_(fields), exclude_(exclude) {}

bool ImapHeaderFilter::selected(std::string_view name) const {
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    bool listed = false;
    for (const std::string& f : fields_) {
        if (iequals(f, name)) {
            listed = true;
            break;
        }
    }
    return listed != exclude_;
}

void ImapHeaderFilter::feed(std::string_view in, std::string& out) {
    size_t i = 0;
    while (i < in.size()) {
        switch (mode_) {
        case Mode::done: return;
        case Mode::line_start: {
            char c = in[i];
            if (c == ' ' || c == '\t') {
                mode_ = keep_ ? Mode::copy : Mode::skip;
            } else {
                mode_ = Mode::name;
                pending_.clear();
            }
            break;
        }
        case Mode::name: {
            char c = in[i++];
            pending_ += c;
            if (c == ':') {
                keep_ = selected(std::string_view(pending_).substr(0, pending_.size() - 1));
                if (keep_) out += pending_;
                mode_ = keep_ ? Mode::copy : Mode::skip;
            } else if (c == '\n') {
                if (pending_ == "\n" || pending_ == "\r\n") {
                    out += pending_;  // the end of the header
                    mode_ = Mode::done;
                    return;
                }
                keep_ = false;  // not a field
                mode_ = Mode::line_start;
            } else if (pending_.size() > kMaxFieldName) {
                keep_ = false;
                mode_ = Mode::skip;
            }
            break;
        }
        case Mode::copy:
        case Mode::skip: {
            size_t lf = in.find('\n', i);
            size_t end = lf == std::string_view::npos ? in.size() : lf + 1;
            if (mode_ == Mode::copy) out.append(in.substr(i, end - i));
            i = end;
            if (lf != std::string_view::npos) mode_ = Mode::line_start;
            break;
        }
        }
    }
}

void ImapHeaderFilter::finish(std::string& out) {
    if (mode_ != Mode::done) {
        if (mode_ == Mode::copy) out += "\r\n";  // the last kept line had no line break
        out += "\r\n";
        mode_ = Mode::done;
    }
}

}  // namespace postern
