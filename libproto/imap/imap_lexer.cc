#include "libproto/imap/imap_lexer.h"

#include "libproto/core/ascii.h"

namespace postern {

bool imap_is_atom_char(char ch) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x1f || c >= 0x7f) return false;  // CTL and 8-bit
    switch (c) {
    case '(':
    case ')':
    case '{':
    case ' ':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']': return false;
    default: return true;
    }
}

bool imap_is_astring_char(char c) { return c == ']' || imap_is_atom_char(c); }
bool imap_is_list_char(char c) { return c == '%' || c == '*' || imap_is_astring_char(c); }
bool imap_is_tag_char(char c) { return c != '+' && imap_is_astring_char(c); }

bool ImapLexer::fail(std::string_view text) {
    if (error_.empty()) error_ = text;
    return false;
}

bool ImapLexer::eat(char c) {
    if (peek() != c || at_end()) return false;
    ++pos_;
    return true;
}

bool ImapLexer::sp() { return eat(' ') || fail("expected a space"); }

bool ImapLexer::end() { return at_end() || fail("unexpected text at the end of the command"); }

bool ImapLexer::eat_keyword(std::string_view w) {
    if (buf_.size() - pos_ < w.size() || !iequals(buf_.substr(pos_, w.size()), w)) return false;
    size_t after = pos_ + w.size();
    if (after < buf_.size()) {
        char c = buf_[after];
        if (c != ' ' && c != '(' && c != ')' && c != '[' && c != ']' && c != '<') return false;
    }
    pos_ = after;
    return true;
}

bool ImapLexer::token(std::string_view& out, bool (*is_char)(char), std::string_view what) {
    size_t start = pos_;
    while (pos_ < buf_.size() && is_char(buf_[pos_])) ++pos_;
    if (pos_ == start) return fail(what);
    out = buf_.substr(start, pos_ - start);
    return true;
}

bool ImapLexer::atom(std::string_view& out) {
    return token(out, imap_is_atom_char, "expected an atom");
}

bool ImapLexer::tag(std::string_view& out) { return token(out, imap_is_tag_char, "bad tag"); }

bool ImapLexer::quoted(std::string& out) {
    ++pos_;  // the opening quote
    out.clear();
    while (pos_ < buf_.size()) {
        char c = buf_[pos_++];
        if (c == '"') return true;
        if (c == '\\') {
            if (pos_ >= buf_.size()) break;
            char e = buf_[pos_++];
            if (e != '"' && e != '\\') return fail("bad escape in a quoted string");
            out.push_back(e);
            continue;
        }
        // TEXT-CHAR: no NUL, CR or LF (8-bit is admitted for UTF8=ACCEPT clients).
        if (c == '\0' || c == '\r' || c == '\n') return fail("bad character in a quoted string");
        out.push_back(c);
    }
    return fail("unterminated quoted string");
}

bool ImapLexer::literal_header(uint64_t& size, bool& binary) {
    binary = eat('~');
    if (!eat('{')) return fail("expected a literal");
    uint64_t n = 0;
    size_t digits = 0;
    while (peek() >= '0' && peek() <= '9' && !at_end()) {
        if (++digits > 19) return fail("literal size out of range");
        n = n * 10 + uint64_t(buf_[pos_++] - '0');
    }
    if (digits == 0) return fail("bad literal size");
    eat('+');
    if (!eat('}') || !eat('\r') || !eat('\n')) return fail("bad literal");
    size = n;
    return true;
}

bool ImapLexer::literal(std::string& out, bool binary_ok, bool* was_literal8) {
    uint64_t n = 0;
    bool binary = false;
    if (!literal_header(n, binary)) return false;
    if (binary && !binary_ok) return fail("literal8 is not allowed here");
    if (n > buf_.size() - pos_) return fail("literal shorter than announced");
    out.assign(buf_.substr(pos_, n));
    pos_ += n;
    if (!binary && out.find('\0') != std::string::npos) return fail("NUL in a literal");
    if (was_literal8) *was_literal8 = binary;
    return true;
}

bool ImapLexer::string(std::string& out, bool binary_ok, bool* was_literal8) {
    if (was_literal8) *was_literal8 = false;
    char c = peek();
    if (at_end()) return fail("expected a string");
    if (c == '"') return quoted(out);
    if (c == '{' || c == '~') return literal(out, binary_ok, was_literal8);
    return fail("expected a string");
}

bool ImapLexer::astring(std::string& out) {
    char c = peek();
    if (!at_end() && (c == '"' || c == '{')) return string(out);
    std::string_view a;
    if (!token(a, imap_is_astring_char, "expected an astring")) return false;
    out.assign(a);
    return true;
}

bool ImapLexer::nstring(std::optional<std::string>& out) {
    if (eat_keyword("NIL")) {
        out.reset();
        return true;
    }
    std::string s;
    if (!string(s)) return false;
    out = std::move(s);
    return true;
}

bool ImapLexer::list_mailbox(std::string& out) {
    char c = peek();
    if (!at_end() && (c == '"' || c == '{')) return string(out);
    std::string_view a;
    if (!token(a, imap_is_list_char, "expected a mailbox pattern")) return false;
    out.assign(a);
    return true;
}

bool ImapLexer::number(uint64_t& out) {
    uint64_t n = 0;
    size_t digits = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
        if (++digits > 19) return fail("number out of range");
        n = n * 10 + uint64_t(buf_[pos_++] - '0');
    }
    if (digits == 0) return fail("expected a number");
    if (n > uint64_t(INT64_MAX)) return fail("number out of range");
    out = n;
    return true;
}

bool ImapLexer::number32(uint32_t& out) {
    uint64_t n = 0;
    if (!number(n)) return false;
    if (n > UINT32_MAX) return fail("number out of range");
    out = uint32_t(n);
    return true;
}

bool ImapLexer::nz_number(uint32_t& out) {
    if (!number32(out)) return false;
    return out != 0 || fail("zero is not allowed here");
}

bool ImapLexer::nz_number64(uint64_t& out) {
    if (!number(out)) return false;
    return out != 0 || fail("zero is not allowed here");
}

std::string_view imap_peek_tag(std::string_view buf) {
    size_t n = 0;
    while (n < buf.size() && n < 256 && imap_is_tag_char(buf[n])) ++n;
    if (n == 0 || n == 256 || (n < buf.size() && buf[n] != ' ')) return {};
    return buf.substr(0, n);
}

}  // namespace postern
