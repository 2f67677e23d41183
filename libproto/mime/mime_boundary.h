#pragma once
// Matching a line against a multipart boundary (RFC 2046 section 5.1.1). Internal.

#include <string_view>

namespace postern::mime_detail {

enum class BoundaryMatch { kNone, kDelimiter, kClose };

// `line` (without its line break) against "--" boundary. Strict: only white space may
// follow (dropped_nonws says whether bytes past what was kept of the line were not white
// space). Lenient, as Dovecot and most readers do: anything may follow.
BoundaryMatch match_boundary(std::string_view line, bool dropped_nonws, std::string_view boundary,
                             bool strict);

}  // namespace postern::mime_detail
