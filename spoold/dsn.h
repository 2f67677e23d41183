#pragma once
// Delivery status notifications (RFC 3464 multipart/report): failures (permanent, or
// expiry), the one delay warning, and success (NOTIFY=SUCCESS) for local delivery and for
// relaying to a server without DSN. Pure:
// text in, message out (CRLF line ends), no clock or I/O.
//
// The three parts: a human-readable text/plain, message/delivery-status (Reporting-MTA,
// Arrival-Date; per recipient Final-Recipient, Original-Recipient when known, Action,
// Status, Remote-MTA and "Diagnostic-Code: smtp; <reply>" when a remote server answered,
// Last-Attempt-Date, Will-Retry-Until for a delay) and the original: the whole message
// (message/rfc822) for a failure report when the sender asked RET=FULL, else its header
// (text/rfc822-headers). SMTPUTF8 mail gets the message/global* types (RFC 6533).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libmailstore/queue/queue.h"

namespace postern {

// RFC 3461 NOTIFY: does the recipient want this kind of report? NOTIFY not given means
// FAILURE and DELAY (RFC 3461 4.1 leaves it to us; Postfix and Sendmail do the same);
// SUCCESS only when asked; NEVER means none.
bool wants_failure_dsn(const Recipient& r);
bool wants_delay_dsn(const Recipient& r);
bool wants_success_dsn(const Recipient& r);

// The status code of a reply or error text: "5.1.1" from "5.1.1 no such user" or from
// "550 5.1.1 no such user"; from a basic code alone its class ("550 no" -> "5.0.0");
// otherwise "5.0.0", or "4.0.0" when not permanent.
std::string dsn_status(std::string_view error, bool permanent = true);

// A remote server's answer as spoold records it: "host mx.example.org said: 550 5.1.1 ..."
// (so the Remote-MTA survives in the state log), and the split back into (host, reply);
// host is empty for a text of ours ("4.4.7 delivery time expired...").
std::string remote_reply_text(std::string_view remote_mta, std::string_view reply);
std::pair<std::string, std::string> split_remote_reply(std::string_view text);

// RFC 5322 date for `t` (unix seconds), in UTC: "Tue, 03 Jun 2025 10:00:00 +0000".
std::string rfc5322_date(int64_t t);

// relayed: handed to a server that does not do DSN (RFC 3461 5.2.2), the last word on it.
enum class DsnAction : uint8_t { failed, delayed, delivered, expanded, relayed };

struct DsnReport {
    DsnAction action = DsnAction::failed;
    std::string to;                // who gets it: the envelope sender, or postmaster
    bool postmaster_copy = false;  // the failure of mail with the null sender (to postmaster)
    // Each with address (Final-Recipient), orcpt ("rfc822;x", may be empty) and last_error
    // (the reply or error text, maybe remote_reply_text; may be empty for success).
    std::vector<const Recipient*> rcpts;
    int64_t retry_until = 0;  // delayed: Will-Retry-Until (0: not said)
};

// The report on `env` (whose message bytes are `original`) made at `now`.
std::string build_dsn(std::string_view hostname, const Envelope& env, const DsnReport& report,
                      std::string_view original, int64_t now);

// build_dsn for a failure report to env.reverse_path.
std::string build_failure_dsn(std::string_view hostname, const Envelope& env,
                              const std::vector<const Recipient*>& failed,
                              std::string_view original, int64_t now);

}  // namespace postern
