#pragma once
// FETCH ENVELOPE (RFC 3501 section 7.4.2, RFC 9051 7.5.2) from a message's raw envelope
// fields (libproto/mime): date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to,
// message-id. Absent fields are NIL; an absent or empty Sender / Reply-To is the From list;
// an address list with no address is NIL; groups are written as start and end markers.
// Strings are quoted, or literals for 8-bit (unless utf8, after ENABLE UTF8=ACCEPT), CR,
// LF, NUL or long text; encoded words are sent as written.

#include <optional>
#include <string>
#include <vector>

#include "libproto/mime/mime_address.h"
#include "libproto/mime/mime_part.h"

namespace postern {

// Appends "(" ... ")".
void imap_write_envelope(std::string& out, const MimeEnvelopeFields& env, bool utf8 = false);
// An envelope of NILs, for a message part whose content was not parsed.
void imap_write_empty_envelope(std::string& out);
// "(" 1*address ")" or NIL for an empty list.
void imap_write_address_list(std::string& out, const std::vector<MimeAddress>& list,
                             bool utf8 = false);

}  // namespace postern
