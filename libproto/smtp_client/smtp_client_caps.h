#pragma once
// What a server's EHLO reply offers (RFC 5321 4.1.1.1: the first line is the greeting, each
// further line one keyword with its parameters). Keywords are case-insensitive; unknown
// ones are ignored.

#include <cstdint>
#include <string>
#include <vector>

#include "libproto/smtp_client/smtp_client_reply.h"

namespace postern {

struct EhloCapabilities {
    bool pipelining = false;        // RFC 2920
    bool starttls = false;          // RFC 3207
    bool size = false;              // RFC 1870
    uint64_t size_limit = 0;        // SIZE n; 0: no limit announced
    bool eight_bit_mime = false;    // RFC 6152
    bool binary_mime = false;       // RFC 3030
    bool smtputf8 = false;          // RFC 6531
    bool dsn = false;               // RFC 3461
    bool chunking = false;          // RFC 3030
    bool enhanced_status = false;   // RFC 2034
    bool requiretls = false;        // RFC 8689 (offered only inside TLS)
    std::vector<std::string> auth;  // AUTH mechanisms, upper-cased
    bool has_auth(std::string_view mech) const;
};

EhloCapabilities parse_ehlo(const ClientReply& reply);

}  // namespace postern
