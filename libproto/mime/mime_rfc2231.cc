#include "libproto/mime/mime_rfc2231.h"

#include "libproto/core/ascii.h"
#include "libproto/mime/mime_charset.h"
#include "libproto/mime/mime_encoded_word.h"

namespace postern {

namespace {

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

MimeParamValue mime_param_value(const MimeParam& p) {
    MimeParamValue v;
    if (p.name.empty() || p.name.back() != '*') {
        v.value = mime_decode_encoded_words(p.value);
        return v;
    }
    std::string_view s = p.value;
    size_t q1 = s.find('\'');
    size_t q2 = q1 == std::string_view::npos ? q1 : s.find('\'', q1 + 1);
    if (q2 == std::string_view::npos) {
        v.value = mime_utf8_sanitize(percent_decode(s));
        return v;
    }
    v.charset = std::string(s.substr(0, q1));
    v.language = std::string(s.substr(q1 + 1, q2 - q1 - 1));
    std::string bytes = percent_decode(s.substr(q2 + 1));
    auto utf8 = v.charset.empty() ? std::nullopt : mime_charset_to_utf8(v.charset, bytes);
    v.value = utf8 ? std::move(*utf8) : mime_utf8_sanitize(bytes);
    return v;
}

std::optional<MimeParamValue> mime_find_param(const std::vector<MimeParam>& ps,
                                              std::string_view name) {
    const MimeParam* plain = nullptr;
    for (const MimeParam& p : ps) {
        if (p.name.size() == name.size() + 1 && p.name.back() == '*' &&
            iequals(std::string_view(p.name).substr(0, name.size()), name))
            return mime_param_value(p);
        if (!plain && iequals(p.name, name)) plain = &p;
    }
    if (plain) return mime_param_value(*plain);
    return std::nullopt;
}

}  // namespace postern
