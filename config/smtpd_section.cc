#include "config/smtpd_section.h"

#include "libproto/config/cidr.h"

namespace postern {

void parse_smtpd(ConfigTable& t, SmtpdConfig& s) {
    t.port("mx_port", s.mx_port);
    t.port("submission_port", s.submission_port);
    t.port("smtps_port", s.smtps_port);
    t.num("max_message_size", s.max_message_size, 1024, int64_t(1) << 40);
    t.num("max_recipients", s.max_recipients, 1, 100000);
    t.num("max_connections", s.max_connections, 1, 1000000);
    t.num("max_connections_per_ip", s.max_connections_per_ip, 1, 1000000);
    t.num("max_bad_commands", s.max_bad_commands, 1, 1000);
    t.num("max_auth_failures", s.max_auth_failures, 1, 1000);
    t.num("timeout_seconds", s.timeout_seconds, 1, 86400);
    t.num("min_data_rate", s.min_data_rate, 0, 1 << 30);
    t.boolean("allow_plaintext_auth", s.allow_plaintext_auth);
    t.boolean("vrfy", s.vrfy);
    t.boolean("cram_md5", s.cram_md5);
    t.boolean("allow_sender_mismatch", s.allow_sender_mismatch);
    t.boolean("auth_on_mx", s.auth_on_mx);
    t.strings("relay_networks", s.relay_networks);
    for (const auto& [text, line] : t.items("relay_networks")) {
        auto net = parse_cidr(text);
        if (!net) t.fail(line, "smtpd.relay_networks: " + net.error());
        if (wider_than_private(*net))
            t.warn(line, "smtpd.relay_networks \"" + text +
                             "\" is wider than any private network: clients "
                             "anywhere in it may relay mail (open relay)");
    }
}

void claim_smtpd_ports(const SmtpdConfig& s, PortClaims& ports) {
    ports.claim(s.mx_port, "smtpd.mx_port");
    ports.claim(s.submission_port, "smtpd.submission_port");
    ports.claim(s.smtps_port, "smtpd.smtps_port");
}

}  // namespace postern
