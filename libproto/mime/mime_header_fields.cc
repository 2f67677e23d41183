#include "libproto/mime/mime_header_fields.h"

#include <algorithm>
#include <charconv>

#include "libproto/core/ascii.h"
#include "libproto/mime/mime_header_lexer.h"

namespace postern {

using mime_detail::HeaderLexer;

namespace {

// One raw "attribute=value" before continuations are merged.
struct RawParam {
    std::string base;  // attribute without its "*N" / "*" suffix
    int section = -1;  // N of "*N", -1 when none
    bool extended = false;
    std::string value;
};

RawParam split_attribute(std::string_view attr, std::string value) {
    RawParam p;
    p.value = std::move(value);
    if (!attr.empty() && attr.back() == '*') {
        p.extended = true;
        attr.remove_suffix(1);
    }
    auto star = attr.rfind('*');
    if (star != std::string_view::npos && star + 1 < attr.size()) {
        std::string_view digits = attr.substr(star + 1);
        int n = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        // "*0" or "*12" but not "*01" (RFC 2231 section 3: no leading zeros).
        if (ec == std::errc{} && end == digits.data() + digits.size() &&
            (digits.size() == 1 || digits[0] != '0') && n < 1000) {
            p.section = n;
            attr = attr.substr(0, star);
        }
    }
    if (p.section < 0 && p.extended) {
        p.section = 0;  // "name*=" is a single extended segment
    }
    p.base = std::string(attr);
    return p;
}

std::vector<MimeParam> merge_continuations(std::vector<RawParam>& raw) {
    // Plain parameters first, then the merged RFC 2231 ones, each in first-seen order (the
    // order Dovecot answers in).
    std::vector<MimeParam> out;
    std::vector<bool> used(raw.size(), false);
    for (size_t i = 0; i < raw.size() && out.size() < kMimeMaxParams; ++i) {
        if (raw[i].section < 0) {
            used[i] = true;
            out.push_back({raw[i].base, raw[i].value});
        }
    }
    for (size_t i = 0; i < raw.size() && out.size() < kMimeMaxParams; ++i) {
        if (used[i]) continue;
        // Gather sections 0, 1, 2 ... of this name; stop at the first gap.
        std::string value;
        bool extended = false;
        bool any = false;
        for (int want = 0;; ++want) {
            size_t found = raw.size();
            for (size_t j = i; j < raw.size(); ++j) {
                if (!used[j] && raw[j].section == want && iequals(raw[j].base, raw[i].base)) {
                    found = j;
                    break;
                }
            }
            if (found == raw.size()) break;
            used[found] = true;
            any = true;
            if (want == 0) extended = raw[found].extended;
            if (value.size() + raw[found].value.size() <= kMimeMaxFieldBytes) {
                value += raw[found].value;
            }
        }
        if (!any) {
            // Sections without a "*0": kept as written.
            used[i] = true;
            std::string name = raw[i].base + "*" + std::to_string(raw[i].section);
            if (raw[i].extended) name += '*';
            out.push_back({std::move(name), raw[i].value});
            continue;
        }
        out.push_back({extended ? raw[i].base + "*" : raw[i].base, std::move(value)});
    }
    return out;
}

}  // namespace

std::vector<MimeParam> mime_parse_params(std::string_view rest) {
    HeaderLexer lx(rest);
    std::vector<RawParam> raw;
    while (raw.size() < kMimeMaxParams * 2) {
        lx.skip_cfws();
        if (lx.at_end()) break;
        if (lx.peek() != ';') {
            // Junk between parameters: skip to the next ';'.
            while (!lx.at_end() && lx.peek() != ';') {
                if (lx.peek() == '"') {
                    std::string ignored;
                    lx.quoted(ignored);
                } else {
                    lx.skip();
                }
            }
            continue;
        }
        lx.skip();
        lx.skip_cfws();
        std::string_view attr = lx.token();
        lx.skip_cfws();
        if (attr.empty() || lx.peek() != '=') continue;
        lx.skip();
        raw.push_back(split_attribute(attr, lx.value()));
    }
    return merge_continuations(raw);
}

void mime_parse_content_type(std::string_view value, MimeFields& f) {
    HeaderLexer lx(value);
    lx.skip_cfws();
    std::string_view type = lx.token();
    lx.skip_cfws();
    if (type.empty() || lx.peek() != '/') return;
    lx.skip();
    lx.skip_cfws();
    std::string_view subtype = lx.token();
    if (subtype.empty()) return;
    f.type = std::string(type);
    f.subtype = std::string(subtype);
    f.has_content_type = true;
    f.params = mime_parse_params(lx.rest());
}

void mime_parse_content_disposition(std::string_view value, MimeFields& f) {
    HeaderLexer lx(value);
    lx.skip_cfws();
    std::string_view type = lx.token();
    if (type.empty()) return;
    f.disposition = std::string(type);
    f.disposition_params = mime_parse_params(lx.rest());
}

std::vector<std::string> mime_parse_content_language(std::string_view value) {
    std::vector<std::string> out;
    HeaderLexer lx(value);
    while (out.size() < kMimeMaxParams) {
        lx.skip_cfws();
        if (lx.at_end()) break;
        if (lx.peek() == ',') {
            lx.skip();
            continue;
        }
        std::string_view tag = lx.token();
        if (tag.empty()) {
            lx.skip();  // a stray special
            continue;
        }
        out.emplace_back(tag);
    }
    return out;
}

std::string mime_parse_token_field(std::string_view value) {
    HeaderLexer lx(value);
    lx.skip_cfws();
    return std::string(lx.token());
}

}  // namespace postern
