#pragma once
// FETCH BODY and BODYSTRUCTURE (RFC 3501 section 7.4.2, RFC 9051 7.5.2) from a parsed
// message (libproto/mime), written the way Dovecot writes them so clients see the same
// answers: type and subtype as the header has them; a text part without a charset
// parameter gets ("charset" "us-ascii") added last; parameters as written, an RFC 2231 value
// merged from its continuations under "name*" with its charset'language' prefix; encoding
// "7bit" by default; a multipart without parts (no boundary, or nothing between them)
// holds one empty text/plain part, since the grammar needs one. BODYSTRUCTURE adds the
// extension data: multipart: parameters, disposition, language, location; single part:
// MD5, disposition, language, location.

#include <cstdint>
#include <string>

#include "libproto/mime/mime_part.h"

namespace postern {

// Appends the structure of parts[part] (0: the whole message). `extended`: BODYSTRUCTURE,
// else BODY. `crlf_sizes`: sizes as if every bare LF were CRLF (for a server that sends
// stored bare-LF messages with CRLF line ends, as Dovecot does); else the stored octets.
void imap_write_bodystructure(std::string& out, const MimeMessage& msg, uint32_t part,
                              bool extended, bool utf8 = false, bool crlf_sizes = false);

}  // namespace postern
