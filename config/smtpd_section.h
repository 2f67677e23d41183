#pragma once
// [smtpd]: the receiving SMTP daemon's settings (smtpd/main.cc turns them into the engine's
// SmtpSessionConfig and the policy's SmtpPolicyConfig).

#include <cstdint>
#include <string>
#include <vector>

#include "libproto/config/config_section.h"

namespace postern {

struct SmtpdConfig {
    uint16_t mx_port = 25;
    uint16_t submission_port = 587;
    uint16_t smtps_port = 465;
    uint64_t max_message_size = 50 * 1024 * 1024;  // announced in SIZE
    uint32_t max_recipients = 100;                 // per message
    uint32_t max_connections = 500;                // overall
    uint32_t max_connections_per_ip = 20;
    uint32_t max_bad_commands = 20;  // then the session is ended
    uint32_t max_auth_failures = 3;
    uint32_t timeout_seconds = 300;     // idle client (RFC 5321 4.5.3.2)
    uint32_t min_data_rate = 500;       // bytes/s a message must arrive at; 0: off
    bool allow_plaintext_auth = false;  // AUTH without TLS
    bool vrfy = false;                  // VRFY answers 252 when off
    bool cram_md5 = false;
    // An authenticated client may use as MAIL FROM and in From: only its own address and
    // the aliases that reach it (smtpd/sender_owner.h); true lifts that check.
    bool allow_sender_mismatch = false;
    // AUTH on the MX port (mx_port): off by default, so port 25 takes no passwords and
    // submission is where users log in (RFC 6409). Submission ports always offer it.
    bool auth_on_mx = false;
    std::vector<std::string> relay_networks;  // CIDRs allowed to relay
};

// Every relay_networks entry must parse (smtpd would refuse to start); one wider than any
// private network is an open relay: a warning.
void parse_smtpd(ConfigTable& t, SmtpdConfig& c);
void claim_smtpd_ports(const SmtpdConfig& c, PortClaims& ports);
inline constexpr ConfigSection<SmtpdConfig> smtpd_section{"smtpd", parse_smtpd, claim_smtpd_ports};

}  // namespace postern
