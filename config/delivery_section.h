#pragma once
// [delivery]: where spoold sends remote mail (spoold/next_hop.h turns this into hops).
//
//   [delivery]
//   dns_servers = ["127.0.0.1:5353"]      # default: /etc/resolv.conf
//   smarthost = "smtp.example.net:587"    # optional
//   smarthost_mode = "fallback"           # or "exclusive"
//   smarthost_user = "relayuser"          # optional AUTH after STARTTLS
//   smarthost_password_file = "/etc/postern/smarthost.secret"
//   [delivery.routes]
//   "example.org" = "127.0.0.1:2526"      # like Postfix transport maps
//   [delivery.tls_policy]
//   "example.org" = "verify"              # none | may | encrypt | verify | dane | dane-only;
//                                         # default dane (docs/delivery.md)
//
// These spellings are relied on by outside tests: keep them.

#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/config/config_section.h"

namespace postern {

// Same order and meaning as spoold's TlsPolicy (next_hop.h), which the config layer cannot see.
enum class DeliveryTls : uint8_t { none, may, encrypt, verify, dane, dane_only };
enum class SmarthostMode : uint8_t { fallback, exclusive };

struct HostPort {
    std::string host;  // a name (lower-case) or an IP literal without brackets
    uint16_t port = 25;
    bool operator==(const HostPort&) const = default;
};

struct DeliveryConfig {
    std::vector<std::string> dns_servers;  // "IP", "IP:PORT", "[v6]:PORT"; empty: resolv.conf
    std::optional<HostPort> smarthost;
    SmarthostMode smarthost_mode = SmarthostMode::fallback;
    std::string smarthost_user;                     // empty: no AUTH
    std::filesystem::path smarthost_password_file;  // read by spoold at start
    std::map<std::string, HostPort> routes;         // lower-case domain -> next hop
    std::map<std::string, DeliveryTls> tls_policy;  // lower-case domain -> policy
    DeliveryTls default_tls = DeliveryTls::dane;    // delivery.tls_policy_default
    // Concurrent deliveries per destination domain and in total (Postfix's
    // default_destination_concurrency_limit 20 and default_process_limit 100).
    uint32_t destination_concurrency_limit = 20;
    uint32_t remote_concurrency_limit = 100;
    // Connections open to one MX/route host at a time; 20 as Postfix's destination limit.
    uint32_t host_concurrency_limit = 20;
    // The SMTP client's waits (Postfix's smtp_connect_timeout, smtp_helo_timeout for the
    // greeting and EHLO, smtp_data_done_timeout); the others are RFC 5321 4.5.3.2's.
    uint32_t connect_timeout_seconds = 30;
    uint32_t helo_timeout_seconds = 300;
    uint32_t data_done_timeout_seconds = 600;
    // PEM CA bundle for the verify policy and the MTA-STS fetch; empty: the system's store.
    std::filesystem::path tls_ca_file;
    bool mta_sts = true;    // apply MTA-STS (RFC 8461) to MX delivery (spoold/mta_sts.h)
    uint16_t mx_port = 25;  // the port of MX hosts (Postfix's smtp_tcp_port): tests change it
};

void parse_delivery(ConfigTable& t, DeliveryConfig& c);
inline constexpr ConfigSection<DeliveryConfig> delivery_section{"delivery", parse_delivery};

// "HOST", "HOST:PORT", "IP", "[IPv6]" or "[IPv6]:PORT" (port 25 when none); nullopt when
// malformed. A bare IPv6 literal without brackets is taken whole, with port 25.
std::optional<HostPort> parse_host_port(std::string_view s);

// The smarthost password: the file's first line. Refused (one line naming the file) when
// it cannot be read, is not a regular file, is empty, or can be read or written by others.
std::expected<std::string, std::string> read_smarthost_password(const std::filesystem::path& file);

// The route for `domain` (lower-case): its own entry, else the nearest ".parent" entry,
// else nullptr (no route: MX or smarthost).
const HostPort* route_for(const DeliveryConfig& c, const std::string& domain);
// The TLS policy for `domain`, looked up the same way, else the default.
DeliveryTls tls_policy_for(const DeliveryConfig& c, const std::string& domain);
// `domain` has a [delivery.tls_policy] entry of its own (or a ".parent" one): MTA-STS yields.
bool has_tls_policy_entry(const DeliveryConfig& c, const std::string& domain);

}  // namespace postern
