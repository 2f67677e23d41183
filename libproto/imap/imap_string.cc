#include "libproto/imap/imap_string.h"

#include "libproto/core/ascii.h"
#include "libproto/imap/imap_lexer.h"

namespace postern {

bool imap_quotable(std::string_view s, bool utf8) {
    if (s.size() > imap_quoted_max) return false;
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c == 0 || c == '\r' || c == '\n') return false;
        if (c >= 0x80 && !utf8) return false;
    }
    return true;
}

bool imap_atom_safe(std::string_view s) {
    if (s.empty() || s.size() > imap_quoted_max || iequals(s, "NIL")) return false;
    for (char c : s)
        if (!imap_is_astring_char(c)) return false;
    return true;
}

void imap_write_quoted(std::string& out, std::string_view s) {
    out.push_back('"');
    for (char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
}

void imap_write_literal(std::string& out, std::string_view s) {
    out.push_back('{');
    out.append(std::to_string(s.size()));
    out.append("}\r\n");
    out.append(s);
}

void imap_write_string(std::string& out, std::string_view s, bool utf8) {
    if (imap_quotable(s, utf8)) {
        imap_write_quoted(out, s);
    } else {
        imap_write_literal(out, s);
    }
}

void imap_write_astring(std::string& out, std::string_view s, bool utf8) {
    if (imap_atom_safe(s)) {
        out.append(s);
    } else {
        imap_write_string(out, s, utf8);
    }
}

void imap_write_nstring(std::string& out, std::optional<std::string_view> s, bool utf8) {
    if (!s) {
        out.append("NIL");
    } else {
        imap_write_string(out, *s, utf8);
    }
}

}  // namespace postern
