#pragma once
// The header of a message as DKIM sees it (RFC 6376 section 5.4): its fields in order, each
// a name and its raw value (folding kept), and the selection of fields an h= list names.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

struct HeaderField {
    std::string_view name;   // as written, before the colon
    std::string_view value;  // after the colon, up to (not including) the field's last CRLF
};

// Where the header ends in the first bytes of a message: the offset just past the empty
// line (the body starts there), or nullopt if `head` holds no empty line yet. A message
// that starts with CRLF has an empty header (offset 2).
std::optional<size_t> header_end(std::string_view head);

// Splits a header (the bytes before the body, with or without the empty line) into its
// fields. Lines are CRLF-terminated; a line starting with SP/HTAB continues the field
// before it; a line without a colon, or whose name has characters outside %x21-7E, is not
// a field and is skipped (it cannot be signed). The views point into `header`.
std::vector<HeaderField> parse_header_fields(std::string_view header);

// RFC 6376 section 5.4.2: for each name in `names` (lower-case), the next instance of that
// field counting from the bottom of the header; a name with no instance left selects
// nothing (that is how a signature "oversigns" a field it does not want added).
std::vector<const HeaderField*> select_fields(const std::vector<HeaderField>& fields,
                                              const std::vector<std::string>& names);

}  // namespace postern
