#pragma once
// Parsers for the MIME header fields of one part (RFC 2045, 2183, 3282, 2231): each takes an
// unfolded field value and fills in MimeFields. They never fail: what cannot be parsed is
// left out, as RFC 2045 asks of a receiver.

#include <string>
#include <string_view>
#include <vector>

#include "libproto/mime/mime_part.h"

namespace postern {

// Content-Type: type "/" subtype *(";" parameter). An unusable type leaves the defaults.
void mime_parse_content_type(std::string_view value, MimeFields& f);
// Content-Disposition: type *(";" parameter).
void mime_parse_content_disposition(std::string_view value, MimeFields& f);
// Content-Language: 1#language-tag.
std::vector<std::string> mime_parse_content_language(std::string_view value);
// A single-token field (Content-Transfer-Encoding), comments and white space removed.
std::string mime_parse_token_field(std::string_view value);

// *(";" attribute "=" value) with RFC 2231 continuations merged: "name*0", "name*1*" ...
// become one "name" (or "name*" when any segment is extended), in first-seen order. At most
// kMimeMaxParams parameters are kept.
std::vector<MimeParam> mime_parse_params(std::string_view rest);

}  // namespace postern
