#pragma once
// Base64 (RFC 4648 section 4, standard alphabet, with padding) as used by SASL
// exchanges in SMTP AUTH, POP3 AUTH and IMAP AUTHENTICATE.

#include <optional>
#include <string>
#include <string_view>

namespace postern {

// Always padded; never inserts line breaks.
std::string base64_encode(std::string_view data);

// Strict decoder: the input length must be a multiple of 4, only the standard
// alphabet is allowed, '=' only as one or two trailing pad characters, and the
// unused bits before the padding must be zero (so every decodable text has one
// canonical form). No whitespace is skipped. Returns nullopt on any violation.
// The empty string decodes to the empty string.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace postern
