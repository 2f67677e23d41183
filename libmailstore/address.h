#pragma once
// Account-name validation for the store (not SMTP path parsing, which lives in libproto).
// Names returned are normalized: domains and local parts lowercase. A valid name is also
// safe as a path component (no '/', no leading '.', no control characters).

#include <string>
#include <string_view>

#include "libmailstore/store_error.h"

namespace postern {

// "Example.COM" -> "example.com". LDH labels of 1..63, total <= 253, no leading/trailing
// '-' in a label, no empty label (so no leading/trailing/double dots). invalid otherwise.
StoreResult<std::string> normalize_domain(std::string_view domain);

// Why a normalized domain cannot be one we host (Accounts::add_domain), or nullptr: an IP
// address ("1.2.3.4": an all-numeric last label, RFC 3696 2), a single label ("localhost",
// "example"), or a loopback name (localhost.localdomain, anything under .localhost, RFC 6761).
// Punycode (xn--) labels are fine. Addresses elsewhere (alias targets, senders) are not
// held to this.
const char* mail_domain_problem(std::string_view domain);

// Dot-atom local part, 1..64 octets, lowercased. Rejects '@', '%', '/', '\\', spaces,
// control characters, leading/trailing/double dots. invalid otherwise.
StoreResult<std::string> normalize_local_part(std::string_view local);

struct Address {
    std::string local;   // normalized local part
    std::string domain;  // normalized domain
    std::string str() const { return local + "@" + domain; }
};

// Splits "user@domain" at the last '@' and normalizes both halves.
StoreResult<Address> parse_address(std::string_view addr);

// parse_address(addr)->str(): the canonical "user@domain" form.
StoreResult<std::string> normalize_address(std::string_view addr);

}  // namespace postern
