#include "imapd/fetch_plan.h"

#include <algorithm>

#include "libproto/imap/imap_string.h"

namespace postern {
namespace {

bool reads_body(const FetchAttr& a) {
    switch (a.item) {
    case FetchItem::rfc822:
    case FetchItem::rfc822_text: return true;
    case FetchItem::body_section:
    case FetchItem::binary: return !a.peek;
    default: return false;
    }
}

uint8_t needs_of(const FetchAttr& a) {
    switch (a.item) {
    case FetchItem::flags:
    case FetchItem::uid: return 0;
    case FetchItem::internaldate:
    case FetchItem::rfc822_size:
    case FetchItem::modseq: return fetch_needs_info;
    case FetchItem::envelope:
    case FetchItem::body:
    case FetchItem::bodystructure: return fetch_needs_mime;
    case FetchItem::rfc822: return fetch_needs_body;
    case FetchItem::rfc822_header:
    case FetchItem::rfc822_text: return fetch_needs_mime | fetch_needs_body;
    case FetchItem::body_section:
    case FetchItem::binary:
    case FetchItem::binary_size: {
        // The whole message needs no structure (its size is the reader's).
        bool whole = a.section.part.empty() && a.section.text == SectionText::none;
        return whole ? fetch_needs_body : fetch_needs_mime | fetch_needs_body;
    }
    }
    return 0;
}

FetchAttr simple_attr(FetchItem item) {
    FetchAttr a;
    a.item = item;
    return a;
}

bool asked(const std::vector<FetchAttr>& attrs, FetchItem item) {
    return std::any_of(attrs.begin(), attrs.end(),
                       [item](const FetchAttr& a) { return a.item == item; });
}

void write_part(std::string& out, const std::vector<uint32_t>& part) {
    for (size_t i = 0; i < part.size(); ++i) {
        if (i > 0) out.push_back('.');
        out.append(std::to_string(part[i]));
    }
}

}  // namespace

FetchPlan make_fetch_plan(const ImapFetch& f, bool uid, bool read_only, bool condstore, bool utf8) {
    FetchPlan p;
    p.utf8 = utf8;
    if (uid && !asked(f.attrs, FetchItem::uid)) p.attrs.push_back(simple_attr(FetchItem::uid));
    for (const FetchAttr& a : f.attrs) {
        // ALL / FULL and a list may name an item twice: answer it once.
        bool simple = !is_section_item(a.item) && a.item != FetchItem::binary &&
                      a.item != FetchItem::binary_size;
        if (simple && asked(p.attrs, a.item)) continue;
        p.attrs.push_back(a);
        p.needs |= needs_of(a);
        if (reads_body(a) && !read_only) p.sets_seen = true;
    }
    if (f.changedsince && !asked(p.attrs, FetchItem::modseq)) {
        p.attrs.push_back(simple_attr(FetchItem::modseq));
        p.needs |= fetch_needs_info;
    }
    p.has_flags = asked(p.attrs, FetchItem::flags);
    p.seen_modseq = p.sets_seen && condstore && !asked(p.attrs, FetchItem::modseq);
    if (p.seen_modseq) p.needs |= fetch_needs_info;
    return p;
}

bool is_section_item(FetchItem item) {
    return item == FetchItem::body_section || item == FetchItem::rfc822 ||
           item == FetchItem::rfc822_header || item == FetchItem::rfc822_text;
}

BodySection section_of(const FetchAttr& a) {
    BodySection s;
    switch (a.item) {
    case FetchItem::rfc822_header: s.text = SectionText::header; return s;
    case FetchItem::rfc822_text: s.text = SectionText::text; return s;
    case FetchItem::rfc822: return s;
    default: return a.section;
    }
}

void write_fetch_item_name(std::string& out, const FetchAttr& a) {
    switch (a.item) {
    case FetchItem::rfc822: out.append("RFC822"); return;
    case FetchItem::rfc822_header: out.append("RFC822.HEADER"); return;
    case FetchItem::rfc822_text: out.append("RFC822.TEXT"); return;
    case FetchItem::binary_size:
        out.append("BINARY.SIZE[");
        write_part(out, a.section.part);
        out.append("]");
        return;
    case FetchItem::binary:
        out.append("BINARY[");
        write_part(out, a.section.part);
        out.append("]");
        break;
    case FetchItem::body_section: {
        out.append("BODY[");
        const BodySection& s = a.section;
        write_part(out, s.part);
        if (s.text != SectionText::none && !s.part.empty()) out.push_back('.');
        switch (s.text) {
        case SectionText::none: break;
        case SectionText::header: out.append("HEADER"); break;
        case SectionText::header_fields: out.append("HEADER.FIELDS"); break;
        case SectionText::header_fields_not: out.append("HEADER.FIELDS.NOT"); break;
        case SectionText::text: out.append("TEXT"); break;
        case SectionText::mime: out.append("MIME"); break;
        }
        if (s.text == SectionText::header_fields || s.text == SectionText::header_fields_not) {
            out.append(" (");
            for (size_t i = 0; i < s.fields.size(); ++i) {
                if (i > 0) out.push_back(' ');
                imap_write_astring(out, s.fields[i]);
            }
            out.append(")");
        }
        out.append("]");
        break;
    }
    default: return;  // the simple items are written by the job
    }
    if (a.partial) out.append("<").append(std::to_string(a.partial->offset)).append(">");
}

}  // namespace postern
