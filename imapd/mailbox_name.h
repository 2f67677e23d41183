#pragma once
// Mailbox names between the client and the store. The store takes modified UTF-7 names
// with "/" as the separator ("INBOX" case-insensitive); the client sends modified UTF-7,
// or UTF-8 after ENABLE UTF8=ACCEPT (RFC 6855). LIST patterns ("*", "%") match here.

#include <optional>
#include <string>
#include <string_view>

namespace postern {

inline constexpr char mailbox_delimiter = '/';

// The store's name for a client's mailbox name: UTF-8 (with `utf8`) encoded as modified
// UTF-7, a trailing "/" dropped, "INBOX" in any case as "INBOX" (also as a prefix, "inbox/x"
// -> "INBOX/x"). nullopt for a name that is neither valid modified UTF-7 nor (with `utf8`)
// valid UTF-8, and for an empty one.
std::optional<std::string> store_mailbox_name(std::string_view client, bool utf8);
// The client's spelling of a store name: as stored, or decoded to UTF-8 with `utf8`.
std::string client_mailbox_name(std::string_view stored, bool utf8);
// `client` has 8-bit octets that are not valid UTF-8 (RFC 6855 3: a syntax error, BAD).
bool mailbox_name_bad_utf8(std::string_view client);

// RFC 3501 6.3.8: `name` matches `pattern` where "*" matches anything and "%" anything but
// the delimiter. A leading "INBOX" matches case-insensitively.
bool list_match(std::string_view pattern, std::string_view name);

}  // namespace postern
