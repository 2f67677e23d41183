#pragma once
// A cursor over one unfolded MIME header field value (RFC 2045 section 5.1 / RFC 5322
// section 3.2): tokens, quoted strings and comments. Internal to proto_mime.

#include <string>
#include <string_view>

namespace postern::mime_detail {

// RFC 2045 tspecials plus SPACE and CTLs end a token.
bool is_tspecial(char c);

class HeaderLexer {
public:
    explicit HeaderLexer(std::string_view s) : s_(s) {}

    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }
    void skip() { ++pos_; }
    std::string_view rest() const { return s_.substr(pos_ < s_.size() ? pos_ : s_.size()); }

    // Skips white space and (nested) comments; an unclosed comment runs to the end.
    void skip_cfws();
    // Appends the text of a comment starting at "(" (escapes removed, nesting kept).
    void comment(std::string& out);
    // An RFC 2045 token (may be empty when none is next).
    std::string_view token();
    // A quoted string at '"' into out (escapes removed); an unclosed one runs to the end.
    void quoted(std::string& out);
    // A parameter value: quoted string or token, with what follows up to ';' tolerated.
    std::string value();

private:
    std::string_view s_;
    size_t pos_ = 0;
};

}  // namespace postern::mime_detail
