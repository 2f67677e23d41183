// libFuzzer: the MIME structure parser and everything FETCH runs over its result.
// Invariants: no crash; the first byte picks a chunk size and parsing in chunks gives the
// same tree as parsing whole; every part lies inside the message and its parent's body;
// ENVELOPE / BODYSTRUCTURE of every message part format; every section of every part
// resolves inside the message; the HEADER.FIELDS filter output is no longer than its input
// plus the added line break; bare-LF counts fit their ranges; the cache form
// round-trips exactly.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "libproto/imap/imap_bodystructure.h"
#include "libproto/imap/imap_envelope.h"
#include "libproto/imap/imap_section.h"
#include "libproto/mime/mime_cache.h"
#include "libproto/mime/mime_encoded_word.h"
#include "libproto/mime/mime_parser.h"
#include "libproto/mime/mime_text.h"
#include "libproto/core/ascii.h"

using namespace postern;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

// The part-number path of each part (empty for the root), as BODY[] would name it.
void paths(const MimeMessage& m, uint32_t i, std::vector<uint32_t>& cur,
           std::vector<std::vector<uint32_t>>& out) {
    const MimePart& p = m.parts[i];
    if (p.is_multipart()) {
        for (size_t k = 0; k < p.children.size(); ++k) {
            cur.push_back(static_cast<uint32_t>(k + 1));
            out.push_back(cur);
            paths(m, p.children[k], cur, out);
            cur.pop_back();
        }
    } else if (p.is_message() && !p.children.empty()) {
        const MimePart& inner = m.parts[p.children[0]];
        if (inner.is_multipart()) {
            paths(m, p.children[0], cur, out);
        } else {
            cur.push_back(1);
            out.push_back(cur);
            cur.pop_back();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    size_t chunk = 1 + data[0] % 17;
    std::string_view msg(reinterpret_cast<const char*>(data) + 1, size - 1);

    MimeMessage whole = MimeParser::parse(msg);
    MimeParser p;
    for (size_t i = 0; i < msg.size(); i += chunk) p.feed(msg.substr(i, chunk));
    MimeMessage split = p.finish();
    check(split == whole);
    check(whole.size == msg.size());
    check(!whole.parts.empty() && whole.parts.size() <= kMimeMaxParts);
    for (size_t i = 0; i < whole.parts.size(); ++i) {
        const MimePart& part = whole.parts[i];
        check(part.end() <= msg.size());
        check(part.body_start == part.header_start + part.header_size);
        check(part.depth <= kMimeMaxDepth);
        check(part.body_lines <= part.body_size && part.body_bare_lf <= part.body_lines);
        check(part.header_bare_lf <= part.header_size);
        if (i > 0) {
            const MimePart& parent = whole.parts[part.parent];
            check(part.header_start >= parent.body_start && part.end() <= parent.end());
        }
        if (part.envelope) {
            std::string env;
            imap_write_envelope(env, *part.envelope);
            if (part.envelope->subject) (void)mime_decode_encoded_words(*part.envelope->subject);
        }
        if (part.children.empty() && iequals(part.fields.type, "text")) {
            (void)mime_decode_text(part, msg.substr(part.body_start, part.body_size));
        }
    }
    std::string bs;
    imap_write_bodystructure(bs, whole, 0, true);
    imap_write_bodystructure(bs, whole, 0, false);

    std::vector<std::vector<uint32_t>> all{{}};
    std::vector<uint32_t> cur;
    paths(whole, 0, cur, all);
    std::vector<std::string> fields{"subject", "content-type"};
    for (const auto& path : all) {
        for (SectionText t :
             {SectionText::none, SectionText::header, SectionText::header_fields,
              SectionText::header_fields_not, SectionText::text, SectionText::mime}) {
            BodySection s{path, t, fields};
            auto r = imap_resolve_section(whole, s);
            if (!r) continue;
            check(r->offset + r->size <= msg.size());
            if (r->filter) {
                ImapHeaderFilter f(fields, r->filter_exclude);
                std::string out;
                f.feed(msg.substr(r->offset, r->size), out);
                f.finish(out);
                check(out.size() <= r->size + 4);
            }
        }
    }

    std::string blob = mime_cache_encode(whole);
    auto back = mime_cache_decode(blob);
    check(back.has_value() && *back == whole);
    return 0;
}
