#pragma once
// Tokens of one framed IMAP command (RFC 3501 / 9051 section 9 grammar): a cursor over the
// bytes ImapParser collected, where every literal appears as "{n}\r\n" (or "{n+}", "~{n}")
// followed by its n bytes and the final CRLF is removed. Pure and allocation-free except
// for the strings it fills in.
//
// Every reader returns false on a syntax error and records the first error's text
// (error()); the cursor is then somewhere inside the bad token and should be abandoned.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern {

// Character classes of the grammar.
bool imap_is_atom_char(char c);     // ATOM-CHAR
bool imap_is_astring_char(char c);  // ASTRING-CHAR: ATOM-CHAR or "]"
bool imap_is_list_char(char c);     // list-char: ASTRING-CHAR, "%" or "*"
bool imap_is_tag_char(char c);      // tag: ASTRING-CHAR except "+"

class ImapLexer {
public:
    explicit ImapLexer(std::string_view buf) : buf_(buf) {}

    bool at_end() const { return pos_ >= buf_.size(); }
    // The next byte, or '\0' at the end.
    char peek() const { return at_end() ? '\0' : buf_[pos_]; }
    size_t pos() const { return pos_; }
    std::string_view rest() const { return buf_.substr(pos_); }

    // Consumes `c` when it is next.
    bool eat(char c);
    // Exactly one SP (an error when absent).
    bool sp();
    // Requires the end of the command.
    bool end();
    // Consumes keyword `w` (case-insensitive) when it is next and followed by a delimiter
    // (SP, "(", ")", "[", "]", "<" or the end): "BODY" does not match "BODYSTRUCTURE".
    bool eat_keyword(std::string_view w);

    // 1*ATOM-CHAR (or a wider class) as a view into the buffer.
    bool atom(std::string_view& out);
    bool token(std::string_view& out, bool (*is_char)(char), std::string_view what);
    // tag (the command's first token).
    bool tag(std::string_view& out);

    // quoted / literal; `binary_ok` admits literal8 (~{n}), which `was_literal8` then reports.
    bool string(std::string& out, bool binary_ok = false, bool* was_literal8 = nullptr);
    bool astring(std::string& out);
    // nstring: NIL or a string.
    bool nstring(std::optional<std::string>& out);
    // list-mailbox: 1*list-char or a string.
    bool list_mailbox(std::string& out);
    // A literal's header "{n}\r\n" / "~{n}\r\n" without its data: the size.
    bool literal_header(uint64_t& size, bool& binary);

    bool number(uint64_t& out);       // number64 (RFC 9051): up to 2^63-1
    bool number32(uint32_t& out);     // number: up to 2^32-1
    bool nz_number(uint32_t& out);    // nz-number
    bool nz_number64(uint64_t& out);  // mod-sequence-value style, nonzero
    bool fail(std::string_view text);
    // A limit (ranges, keys, depth) rather than the syntax was exceeded.
    bool fail_limit(std::string_view text) {
        limit_ = error_.empty() || limit_;
        return fail(text);
    }
    std::string_view error() const { return error_; }
    bool limit_exceeded() const { return limit_; }

private:
    bool quoted(std::string& out);
    bool literal(std::string& out, bool binary_ok, bool* was_literal8);

    std::string_view buf_;
    size_t pos_ = 0;
    std::string_view error_;
    bool limit_ = false;
};

// The tag and command name at the start of a command buffer, when they are there and well
// formed (for error replies and early checks before a command is complete).
std::string_view imap_peek_tag(std::string_view buf);

}  // namespace postern
