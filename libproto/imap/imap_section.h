#pragma once
// BODY[section] / BINARY[part] resolution (RFC 3501 section 6.4.5, RFC 9051 6.4.5): which
// bytes of the raw message a section names, from the parsed structure (libproto/mime).
// Part numbers: part 1 of a message that is not multipart is its body; below a
// message/rfc822 part the numbers count in the encapsulated message; HEADER, HEADER.FIELDS
// (.NOT) and TEXT after part numbers need a message/rfc822 part and name its encapsulated
// message's header or body; MIME needs part numbers and names that part's own header.
// The <start.len> partial is left to the caller.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/imap/imap_fetch_attrs.h"
#include "libproto/mime/mime_part.h"

namespace postern {

enum class ImapSectionError : uint8_t {
    no_such_part,   // a part number beyond what the message has
    not_a_message,  // HEADER / TEXT after a part that is not message/rfc822, MIME on top
};

struct ImapSectionRange {
    uint64_t offset = 0;  // in the raw message
    uint64_t size = 0;
    uint32_t part = 0;  // the part the bytes belong to (its encoding decodes BINARY[])
    // HEADER.FIELDS / HEADER.FIELDS.NOT: run ImapHeaderFilter over the bytes.
    bool filter = false;
    bool filter_exclude = false;
};

std::expected<ImapSectionRange, ImapSectionError> imap_resolve_section(const MimeMessage& msg,
                                                                       const BodySection& s);

// Streams a header through HEADER.FIELDS (keep only the named fields) or
// HEADER.FIELDS.NOT (drop them): names compared ignoring ASCII case, folded continuation
// lines go with their field, the empty line that ends the header is kept (and added when
// the header had none), lines that are not fields are dropped.
class ImapHeaderFilter {
public:
    ImapHeaderFilter(const std::vector<std::string>& fields, bool exclude);
    void feed(std::string_view header_bytes, std::string& out);
    void finish(std::string& out);

private:
    enum class Mode : uint8_t { line_start, name, copy, skip, done };
    bool selected(std::string_view name) const;

    const std::vector<std::string>& fields_;
    bool exclude_;
    Mode mode_ = Mode::line_start;
    bool keep_ = false;  // the current field is kept (continuations follow it)
    std::string pending_;
};

}  // namespace postern
