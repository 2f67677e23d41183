#pragma once
// SMTP replies (RFC 5321 4.2) with enhanced status codes (RFC 2034 / RFC 3463),
// and the one place where the closed error sets map to reply codes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/smtp/smtp_command.h"

namespace postern {

struct SmtpReply {
    int code = 250;
    std::string status;              // "2.0.0"; empty: none (greeting, EHLO/HELO, RFC 2034 3)
    std::vector<std::string> lines;  // one text per line; at least one

    // Wire form: "250-2.1.0 a\r\n250 2.1.0 b\r\n" (the status repeated on every line).
    std::string format() const;
};

SmtpReply smtp_reply(int code, std::string_view status, std::string_view text);

// What a policy check (handler) answered. Mapped to replies by smtp_verdict_reply.
enum class SmtpVerdict : uint8_t {
    ok,
    unknown_user,  // 550 5.1.1
    relay_denied,  // 554 5.7.1
    bad_address,   // 553 5.1.3 (address forms we refuse: %-hack, source route...)
    temp_failure,  // 451 4.3.0
    no_room,       // 452 4.3.1
    over_quota,    // 452 4.2.2 (RCPT) / 552 5.2.2 is never used: quota is a temporary state
    too_big,       // 552 5.3.4
    rejected,      // 550 5.7.1 (other policy refusal)
    // The authenticated user does not own the sender address: 553 5.7.1 at MAIL (the
    // envelope sender), 550 5.7.1 after DATA (the From: header).
    sender_mismatch,
    too_many_hops,  // 554 5.4.6: a mail loop (RFC 5321 6.3, counted Received fields)
};

// Which command the verdict answers (texts differ).
enum class SmtpStage : uint8_t { mail, rcpt, data };

SmtpReply smtp_verdict_reply(SmtpVerdict v, SmtpStage stage);
SmtpReply smtp_syntax_reply(const SmtpSyntaxError& e);

}  // namespace postern
