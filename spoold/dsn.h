#pragma once
// Delivery status notifications (RFC 3464 multipart/report) for recipients that failed
// permanently. Pure: text in, message out (CRLF line ends), no clock or I/O.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/queue/queue.h"

namespace postern {

struct FailedRecipient {
    const Recipient* rcpt;  // address, orcpt, last_error (starts with an "X.Y.Z" status)
};

// True when the sender asked for (or by default gets) a failure DSN for this recipient.
bool wants_failure_dsn(const Recipient& r);

// "5.1.1" from "5.1.1 no such user"; "5.0.0" (or "4.0.0" when temporary) otherwise.
std::string dsn_status(std::string_view error, bool permanent = true);

// RFC 5322 date for `t` (unix seconds), in UTC: "Tue, 03 Jun 2025 10:00:00 +0000".
std::string rfc5322_date(int64_t t);

// The bounce message for `env` (whose message bytes are `original`), reporting `failed`
// (each with its error) to env.reverse_path. With RET=HDRS only the header is returned.
std::string build_failure_dsn(std::string_view hostname, const Envelope& env,
                              const std::vector<const Recipient*>& failed,
                              std::string_view original, int64_t now);

}  // namespace postern
