#pragma once
// RFC 2047 encoded words ("=?charset?B?...?=", "=?charset?Q?...?=") in an unstructured
// header value -> UTF-8, for SEARCH and display. White space between two encoded words
// is dropped (section 6.2); adjacent words in one charset are converted together so a
// character split across them survives. A word in a charset iconv does not know, or one
// that is malformed, is kept as written. Text outside encoded words is sanitized UTF-8.

#include <string>
#include <string_view>

namespace postern {

std::string mime_decode_encoded_words(std::string_view value);

}  // namespace postern
