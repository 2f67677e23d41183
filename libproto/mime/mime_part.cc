#include "libproto/mime/mime_part.h"

#include "libproto/core/ascii.h"

namespace postern {

bool MimePart::is_multipart() const { return iequals(fields.type, "multipart"); }

bool MimePart::is_message() const {
    return iequals(fields.type, "message") &&
           (iequals(fields.subtype, "rfc822") || iequals(fields.subtype, "global"));
}

const std::string* MimeMessage::param(const std::vector<MimeParam>& ps, std::string_view name) {
    for (const MimeParam& p : ps) {
        if (iequals(p.name, name)) return &p.value;
    }
    return nullptr;
}

std::string MimeMessage::charset_of(const MimePart& p) {
    if (const std::string* cs = param(p.fields.params, "charset"); cs && !cs->empty()) return *cs;
    return "us-ascii";
}

}  // namespace postern
