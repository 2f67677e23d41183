#pragma once
// Writing strings in server responses (RFC 3501 section 4.3, 9051 4.3): the shortest form the
// grammar allows. An atom only where an astring is expected; quoted for short printable text
// (with "\" and '"' escaped); a literal "{n}\r\n" + bytes for CR, LF, NUL, 8-bit (unless
// `utf8`, after ENABLE UTF8=ACCEPT) or long text.

#include <optional>
#include <string>
#include <string_view>

namespace postern {

// Longest string written quoted; longer ones go as literals.
inline constexpr size_t imap_quoted_max = 1024;

// `s` can be a quoted string: no CR, LF or NUL; 8-bit only when `utf8`.
bool imap_quotable(std::string_view s, bool utf8 = false);
// `s` can be written as an atom in an astring position (not "NIL", not empty).
bool imap_atom_safe(std::string_view s);

// "..." with escapes; `s` must be quotable.
void imap_write_quoted(std::string& out, std::string_view s);
// "{n}\r\n" and the bytes.
void imap_write_literal(std::string& out, std::string_view s);
// string: quoted or literal.
void imap_write_string(std::string& out, std::string_view s, bool utf8 = false);
// astring: atom, quoted or literal.
void imap_write_astring(std::string& out, std::string_view s, bool utf8 = false);
// nstring: NIL or a string.
void imap_write_nstring(std::string& out, std::optional<std::string_view> s, bool utf8 = false);

}  // namespace postern
