#pragma once
// FETCH data items (RFC 3501 6.4.5, RFC 9051 6.4.5, BINARY RFC 3516, CONDSTORE RFC 7162):
// macros expanded, BODY[section]<partial>, BINARY[part]<partial>, and the FETCH modifiers
// CHANGEDSINCE and VANISHED.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace postern {

class ImapLexer;

enum class FetchItem : uint8_t {
    flags,
    internaldate,
    rfc822,         // = BODY[] (sets \Seen)
    rfc822_header,  // = BODY.PEEK[HEADER]
    rfc822_size,
    rfc822_text,  // = BODY[TEXT]
    envelope,
    body,  // BODY without a section: non-extensible BODYSTRUCTURE
    bodystructure,
    uid,
    modseq,
    body_section,  // BODY[...] / BODY.PEEK[...]: section, partial, peek
    binary,        // BINARY[part] / BINARY.PEEK[part]: section.part, partial, peek
    binary_size,   // BINARY.SIZE[part]
};

enum class SectionText : uint8_t {
    none,  // BODY[] or BODY[1.2]: the whole message or part
    header,
    header_fields,
    header_fields_not,
    text,
    mime,  // only after a part number
};

struct BodySection {
    std::vector<uint32_t> part;  // "1.2.3": {1, 2, 3}; empty for the top level
    SectionText text = SectionText::none;
    std::vector<std::string> fields;  // HEADER.FIELDS (...) names as sent
};

struct FetchPartial {
    uint32_t offset = 0;
    uint32_t count = 0;  // nonzero
};

struct FetchAttr {
    FetchItem item = FetchItem::flags;
    bool peek = false;  // BODY.PEEK / BINARY.PEEK: do not set \Seen
    BodySection section;
    std::optional<FetchPartial> partial;
};

// A macro (ALL FAST FULL), one item, or "(" item *(SP item) ")"; at most `max_items` items.
bool parse_fetch_attrs(ImapLexer& lx, std::vector<FetchAttr>& out, size_t max_items);

}  // namespace postern
