#include "libproto/imap/imap_bodystructure.h"

#include "libproto/core/ascii.h"
#include "libproto/imap/imap_envelope.h"
#include "libproto/imap/imap_string.h"

namespace postern {

namespace {

struct Writer {
    std::string& out;
    const MimeMessage& msg;
    bool extended;
    bool utf8;
    bool crlf_sizes;

    void str(std::string_view s) { imap_write_string(out, s, utf8); }
    void nstr(const std::optional<std::string>& s) {
        imap_write_nstring(out, s ? std::optional<std::string_view>(*s) : std::nullopt, utf8);
    }

    void params(const std::vector<MimeParam>& ps, bool add_charset) {
        if (ps.empty() && !add_charset) {
            out += "NIL";
            return;
        }
        out += '(';
        bool first = true;
        for (const MimeParam& p : ps) {
            if (!first) out += ' ';
            first = false;
            str(p.name);
            out += ' ';
            str(p.value);
        }
        if (add_charset) out += first ? "\"charset\" \"us-ascii\"" : " \"charset\" \"us-ascii\"";
        out += ')';
    }

    void disposition(const MimeFields& f) {
        if (!f.disposition) {
            out += "NIL";
            return;
        }
        out += '(';
        str(*f.disposition);
        out += ' ';
        params(f.disposition_params, false);
        out += ')';
    }

    void language(const MimeFields& f) {
        if (f.language.empty()) {
            out += "NIL";
            return;
        }
        out += '(';
        for (size_t i = 0; i < f.language.size(); ++i) {
            if (i) out += ' ';
            str(f.language[i]);
        }
        out += ')';
    }

    void number(uint64_t n) { out += std::to_string(n); }

    static constexpr std::string_view kEmptyText =
        R"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)";

    void empty_text_part() {
        out += '(';
        out += kEmptyText;
        if (extended) out += " NIL NIL NIL NIL";
        out += ')';
    }

    void multipart(const MimePart& p) {
        out += '(';
        if (p.children.empty()) {
            empty_text_part();
        } else {
            for (uint32_t c : p.children) part(c);
        }
        out += ' ';
        str(p.fields.subtype);
        if (extended) {
            out += ' ';
            params(p.fields.params, false);
            out += ' ';
            disposition(p.fields);
            out += ' ';
            language(p.fields);
            out += ' ';
            nstr(p.fields.location);
        }
        out += ')';
    }

    void single(const MimePart& p) {
        const MimeFields& f = p.fields;
        bool text = iequals(f.type, "text");
        out += '(';
        str(f.type);
        out += ' ';
        str(f.subtype);
        out += ' ';
        params(f.params, text && !MimeMessage::param(f.params, "charset"));
        out += ' ';
        nstr(f.id);
        out += ' ';
        nstr(f.description);
        out += ' ';
        str(f.encoding ? std::string_view(*f.encoding) : "7bit");
        out += ' ';
        number(p.body_size + (crlf_sizes ? p.body_bare_lf : 0));
        if (p.is_message()) {
            out += ' ';
            const MimePart* inner = p.children.empty() ? nullptr : &msg.parts[p.children[0]];
            if (inner && inner->envelope) {
                imap_write_envelope(out, *inner->envelope, utf8);
            } else {
                imap_write_empty_envelope(out);
            }
            out += ' ';
            if (inner) {
                part(p.children[0]);
            } else {
                empty_text_part();
            }
            out += ' ';
            number(p.body_lines);
        } else if (text) {
            out += ' ';
            number(p.body_lines);
        }
        if (extended) {
            out += ' ';
            nstr(f.md5);
            out += ' ';
            disposition(f);
            out += ' ';
            language(f);
            out += ' ';
            nstr(f.location);
        }
        out += ')';
    }

    // Recursion is bounded by kMimeMaxDepth (the parser and the cache decoder enforce it).
    void part(uint32_t i) {
        const MimePart& p = msg.parts[i];
        if (p.is_multipart()) {
            multipart(p);
        } else {
            single(p);
        }
    }
};

}  // namespace

void imap_write_bodystructure(std::string& out, const MimeMessage& msg, uint32_t part,
                              bool extended, bool utf8, bool crlf_sizes) {
    if (part >= msg.parts.size()) return;
    Writer{out, msg, extended, utf8, crlf_sizes}.part(part);
}

}  // namespace postern
