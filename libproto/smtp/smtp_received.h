#pragma once
// The Received: trace header smtpd prepends (RFC 5321 4.4, RFC 3848 "with"
// keywords, RFC 6531 UTF8SMTP*), and the RFC 5322 date it ends with.

#include <ctime>
#include <string>
#include <string_view>

namespace postern {

struct ReceivedInfo {
    std::string helo;       // as the client gave it; empty: none (printed "unknown")
    std::string client_ip;  // "192.0.2.1" or "2001:db8::1"
    std::string hostname;   // ours
    bool esmtp = true;      // EHLO (false: HELO)
    bool tls = false;
    bool authenticated = false;
    bool smtputf8 = false;
    std::string tls_version;  // "TLSv1.3"
    std::string tls_cipher;
    std::string auth_user;
    std::string for_rcpt;  // set when the message has exactly one recipient
    std::time_t when = 0;
};

// "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA", "UTF8SMTPSA", ...
std::string received_protocol(const ReceivedInfo& r);

// "Tue, 02 Jan 2024 10:00:00 +0000" (always UTC).
std::string rfc5322_date(std::time_t t);

// The whole header, folded, CRLF-terminated. `id` is the queue id.
std::string format_received(const ReceivedInfo& r, std::string_view id);

}  // namespace postern
