#pragma once
// Case folding for SEARCH's case-insensitive substring match (RFC 3501 6.4.4, RFC 9051:
// "case-insensitive"): UTF-8 in, UTF-8 out with upper-case letters mapped to lower case.
// Simple one-to-one folding for ASCII, Latin-1, Latin Extended-A and Additional, Greek,
// Cyrillic and fullwidth Latin (what mail in European languages needs); other characters,
// and invalid or truncated sequences, are copied as they are. Both the needle and the
// text are folded the same way, so a match never depends on case in these scripts.

#include <string>
#include <string_view>

namespace postern {

// Appends the folded form of `utf8` to `out`.
void search_fold_append(std::string_view utf8, std::string& out);
std::string search_fold(std::string_view utf8);

// The lower-case code point for `cp` (cp itself when it has none in the table).
char32_t search_fold_code_point(char32_t cp);

}  // namespace postern
