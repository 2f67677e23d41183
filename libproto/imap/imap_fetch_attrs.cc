#include "libproto/imap/imap_fetch_attrs.h"

#include <array>
#include <string_view>

#include "libproto/core/ascii.h"
#include "libproto/imap/imap_lexer.h"

namespace postern {
namespace {

bool push(ImapLexer& lx, std::vector<FetchAttr>& out, FetchAttr a, size_t max_items) {
    if (out.size() >= max_items) return lx.fail_limit("too many FETCH items");
    out.push_back(std::move(a));
    return true;
}

bool simple(ImapLexer& lx, std::vector<FetchAttr>& out, FetchItem item, size_t max_items) {
    FetchAttr a;
    a.item = item;
    return push(lx, out, std::move(a), max_items);
}

// "<" number "." nz-number ">"
bool partial(ImapLexer& lx, FetchAttr& a) {
    if (!lx.eat('<')) return true;
    FetchPartial p;
    if (!lx.number32(p.offset) || !lx.eat('.') || !lx.nz_number(p.count) || !lx.eat('>'))
        return lx.fail("bad partial range");
    a.partial = p;
    return true;
}

// section-part: nz-number *("." nz-number), leaving the cursor after the last number; a
// trailing "." followed by text stays for the caller.
bool part_numbers(ImapLexer& lx, std::vector<uint32_t>& part) {
    for (;;) {
        uint32_t n = 0;
        if (!lx.nz_number(n)) return lx.fail("bad section part");
        if (part.size() >= 64) return lx.fail("section part too deep");
        part.push_back(n);
        std::string_view r = lx.rest();
        if (r.size() >= 2 && r[0] == '.' && r[1] >= '0' && r[1] <= '9') {
            lx.eat('.');
            continue;
        }
        return true;
    }
}

// "(" header-fld-name *(SP header-fld-name) ")"
bool header_list(ImapLexer& lx, std::vector<std::string>& fields) {
    if (!lx.sp() || !lx.eat('(')) return lx.fail("expected a header list");
    for (;;) {
        std::string f;
        if (!lx.astring(f)) return false;
        if (fields.size() >= 256) return lx.fail("too many header fields");
        fields.push_back(std::move(f));
        if (lx.eat(')')) return true;
        if (!lx.sp()) return false;
    }
}

// "[" [section-spec] "]"
bool section(ImapLexer& lx, BodySection& s) {
    if (!lx.eat('[')) return lx.fail("expected a section");
    if (lx.eat(']')) return true;
    char c = lx.peek();
    bool has_part = c >= '0' && c <= '9';
    if (has_part) {
        if (!part_numbers(lx, s.part)) return false;
        if (lx.eat(']')) return true;
        if (!lx.eat('.')) return lx.fail("bad section");
    }
    if (lx.eat_keyword("HEADER.FIELDS.NOT")) {
        s.text = SectionText::header_fields_not;
        if (!header_list(lx, s.fields)) return false;
    } else if (lx.eat_keyword("HEADER.FIELDS")) {
        s.text = SectionText::header_fields;
        if (!header_list(lx, s.fields)) return false;
    } else if (lx.eat_keyword("HEADER")) {
        s.text = SectionText::header;
    } else if (lx.eat_keyword("TEXT")) {
        s.text = SectionText::text;
    } else if (has_part && lx.eat_keyword("MIME")) {
        s.text = SectionText::mime;
    } else {
        return lx.fail("bad section");
    }
    return lx.eat(']') || lx.fail("bad section");
}

// "[" [section-part] "]" for BINARY
bool binary_section(ImapLexer& lx, BodySection& s) {
    if (!lx.eat('[')) return lx.fail("expected a section");
    if (lx.eat(']')) return true;
    if (!part_numbers(lx, s.part)) return false;
    return lx.eat(']') || lx.fail("bad section");
}

bool item(ImapLexer& lx, std::vector<FetchAttr>& out, size_t max_items) {
    // Longest names first where one is a prefix of another followed by "[" or ".".
    FetchAttr a;
    if (lx.eat_keyword("BODY.PEEK")) {
        a.item = FetchItem::body_section;
        a.peek = true;
        if (!section(lx, a.section) || !partial(lx, a)) return false;
        return push(lx, out, std::move(a), max_items);
    }
    if (lx.eat_keyword("BODYSTRUCTURE"))
        return simple(lx, out, FetchItem::bodystructure, max_items);
    if (lx.eat_keyword("BODY")) {
        if (lx.peek() != '[') return simple(lx, out, FetchItem::body, max_items);
        a.item = FetchItem::body_section;
        if (!section(lx, a.section) || !partial(lx, a)) return false;
        return push(lx, out, std::move(a), max_items);
    }
    if (lx.eat_keyword("BINARY.SIZE")) {
        a.item = FetchItem::binary_size;
        if (!binary_section(lx, a.section)) return false;
        return push(lx, out, std::move(a), max_items);
    }
    bool binary_peek = lx.eat_keyword("BINARY.PEEK");
    if (binary_peek || lx.eat_keyword("BINARY")) {
        a.item = FetchItem::binary;
        a.peek = binary_peek;
        if (!binary_section(lx, a.section) || !partial(lx, a)) return false;
        return push(lx, out, std::move(a), max_items);
    }
    static constexpr std::array<std::pair<std::string_view, FetchItem>, 9> plain{{
        {"FLAGS", FetchItem::flags},
        {"INTERNALDATE", FetchItem::internaldate},
        {"RFC822.HEADER", FetchItem::rfc822_header},
        {"RFC822.SIZE", FetchItem::rfc822_size},
        {"RFC822.TEXT", FetchItem::rfc822_text},
        {"RFC822", FetchItem::rfc822},
        {"ENVELOPE", FetchItem::envelope},
        {"UID", FetchItem::uid},
        {"MODSEQ", FetchItem::modseq},
    }};
    for (const auto& [name, it] : plain)
        if (lx.eat_keyword(name)) return simple(lx, out, it, max_items);
    return lx.fail("unknown FETCH item");
}

}  // namespace

bool parse_fetch_attrs(ImapLexer& lx, std::vector<FetchAttr>& out, size_t max_items) {
    out.clear();
    using F = FetchItem;
    if (lx.eat_keyword("ALL")) {
        for (F f : {F::flags, F::internaldate, F::rfc822_size, F::envelope})
            simple(lx, out, f, max_items);
        return true;
    }
    if (lx.eat_keyword("FAST")) {
        for (F f : {F::flags, F::internaldate, F::rfc822_size}) simple(lx, out, f, max_items);
        return true;
    }
    if (lx.eat_keyword("FULL")) {
        for (F f : {F::flags, F::internaldate, F::rfc822_size, F::envelope, F::body})
            simple(lx, out, f, max_items);
        return true;
    }
    if (!lx.eat('(')) return item(lx, out, max_items);
    for (;;) {
        if (!item(lx, out, max_items)) return false;
        if (lx.eat(')')) return true;
        if (!lx.sp()) return false;
    }
}

}  // namespace postern
