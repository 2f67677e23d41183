#pragma once
// RFC 5321 section 5.1 as pure functions: from the MX answer for a domain to
// the hosts to try, and from those hosts' A/AAAA answers to the delivery plan.
// MxResolver (mx_resolver.h) runs the lookups; these decide. No I/O, no clock:
// randomness comes from the caller's generator, so tests seed it.

#include <cstdint>
#include <expected>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/dns/resolver.h"

namespace postern {

enum class AddressFamilies : uint8_t { both, ipv4_only, ipv6_only };

struct MxPlanOptions {
    size_t max_hosts = 10;              // MX hosts looked up and tried
    size_t max_addresses_per_host = 6;  // after interleaving
    AddressFamilies families = AddressFamilies::both;
    // Both families interleaved, IPv6 first (RFC 8305 section 4 order): a
    // host with a broken IPv6 path costs one failed connect, not all of them,
    // and IPv6 is still preferred where it works. false: IPv4 first.
    bool prefer_ipv6 = true;
    // Names this server answers to: an MX naming one of them ends the list
    // before it and anything less preferred (RFC 5321 5.1, mail loops).
    std::vector<std::string> local_names;
};

// Why a destination cannot be planned. permanent: bounce (NXDOMAIN, null MX,
// no usable host); otherwise try again later (SERVFAIL, timeout).
struct MxFailure {
    bool permanent = false;
    std::string reason;  // one line for the DSN's Diagnostic-Code and the log
};

struct MxHost {
    std::string name;  // lower-case, no trailing dot
    uint16_t preference = 0;
    bool operator==(const MxHost&) const = default;
};

// Step 1's result: the hosts in the order to try them.
struct MxCandidates {
    std::vector<MxHost> hosts;
    bool implicit = false;             // no MX: the domain itself (RFC 5321 5.1)
    bool authenticated = false;        // the MX answer had AD (for DANE, RFC 7672 2.2.1)
    std::vector<std::string> skipped;  // "host: why" for records left out, for the log
};

// Step 1: the MX answer (CNAMEs of the domain followed) to ordered hosts:
// by preference, equal preferences shuffled with `rng`; duplicates, IP
// literals and "." dropped; a lone "." is a null MX (RFC 7505); at most
// max_hosts. NODATA gives the implicit MX; NXDOMAIN and null MX fail permanently.
std::expected<MxCandidates, MxFailure> mx_candidates(std::string_view domain,
                                                     const DnsResult<DnsMessage>& mx_answer,
                                                     const MxPlanOptions& opts, std::mt19937& rng);

// One host's address answers, as returned by Resolver::lookup.
struct HostAnswers {
    DnsResult<DnsMessage> a = std::unexpected(DnsError::no_data);
    DnsResult<DnsMessage> aaaa = std::unexpected(DnsError::no_data);
};

struct DeliveryHost {
    std::string name;
    uint16_t preference = 0;
    std::vector<std::string> addresses;  // textual, in the order to connect
    // Every address answer that answered had AD (and at least one did): what
    // DANE asks before it looks for TLSA records (RFC 7672 2.2.2).
    bool authenticated = false;
};

struct DeliveryPlan {
    std::string domain;
    bool implicit_mx = false;
    bool mx_authenticated = false;
    std::vector<DeliveryHost> hosts;   // never empty
    std::vector<std::string> skipped;  // hosts left out and why
};

// Step 2: candidates plus their answers (answers[i] for candidates.hosts[i])
// to the plan. Hosts without an address are left out (noted in `skipped`); an
// address already given by a more preferred host is not repeated. No host
// left: temporary when any lookup failed temporarily, else permanent.
std::expected<DeliveryPlan, MxFailure> assemble_plan(std::string_view domain,
                                                     const MxCandidates& candidates,
                                                     const std::vector<HostAnswers>& answers,
                                                     const MxPlanOptions& opts);

// True for "192.0.2.1", "2001:db8::1" and their bracketed forms.
bool is_ip_literal(std::string_view host);

}  // namespace postern
