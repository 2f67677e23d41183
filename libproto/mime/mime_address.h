#pragma once
// RFC 5322 address lists (with the obs- forms of section 4.4: route addresses, missing
// domains, phrases with dots) as IMAP address structures (RFC 3501 section 7.4.2):
// name, adl (source route), mailbox, host. A group is a start marker (mailbox = the group
// name, host NIL), its members, and an end marker (all NIL). Never fails: what cannot be
// read becomes the nearest address, as Dovecot does ("<>" is MISSING_MAILBOX at
// MISSING_DOMAIN, "a@b <c@d>" is a@b).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

struct MimeAddress {
    std::optional<std::string> name, adl, mailbox, host;
    bool is_group_start() const { return mailbox && !host; }
    bool is_group_end() const { return !mailbox && !host; }
    bool operator==(const MimeAddress&) const = default;
};

// What a missing local part or domain becomes (the names Dovecot uses, so clients that
// know them keep working).
inline constexpr std::string_view kMimeMissingMailbox = "MISSING_MAILBOX";
inline constexpr std::string_view kMimeMissingDomain = "MISSING_DOMAIN";

// The addresses of one unfolded header value (From, To, ...). Names stay raw: encoded
// words are not decoded (IMAP ENVELOPE sends them as they are).
std::vector<MimeAddress> mime_parse_address_list(std::string_view value);

}  // namespace postern
