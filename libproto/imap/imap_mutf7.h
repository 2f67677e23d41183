#pragma once
// Modified UTF-7 for mailbox names (RFC 3501 section 5.1.3): printable ASCII stands for
// itself ("&" as "&-"), everything else is UTF-16 in modified base64 ("," for "/") between
// "&" and "-". Decoding is strict: a name that another encoder would spell differently
// (an encoded printable character, two shifted runs in a row, padding bits set, an unpaired
// surrogate, a bare control or 8-bit byte, an unterminated run) is refused, so each mailbox
// has exactly one spelling on the wire.

#include <optional>
#include <string>
#include <string_view>

namespace postern {

// Modified UTF-7 to UTF-8; nullopt when `mutf7` is not valid modified UTF-7.
std::optional<std::string> mutf7_to_utf8(std::string_view mutf7);
// UTF-8 to modified UTF-7; nullopt when `utf8` is not valid UTF-8 (overlong forms,
// surrogates and code points above U+10FFFF are invalid).
std::optional<std::string> utf8_to_mutf7(std::string_view utf8);

}  // namespace postern
