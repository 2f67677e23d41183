#pragma once
// RFC 2231 extended parameter values -> UTF-8 (file names for SEARCH and display).

#include <optional>
#include <string>

#include "libproto/mime/mime_part.h"

namespace postern {

struct MimeParamValue {
    std::string value;     // UTF-8
    std::string charset;   // of an extended value, else empty
    std::string language;  // of an extended value, else empty
};

// "name*" = charset'language'%XX..., percent-decoded and converted (unknown charset:
// the decoded bytes, sanitized); any other value: RFC 2047 words decoded (mailers put
// them in quoted file names), sanitized.
MimeParamValue mime_param_value(const MimeParam& p);

// The UTF-8 value of parameter `name` (extended "name*" preferred), nullopt when absent.
std::optional<MimeParamValue> mime_find_param(const std::vector<MimeParam>& ps,
                                              std::string_view name);

}  // namespace postern
