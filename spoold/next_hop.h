#pragma once
// Where a remote destination's mail goes next: the hosts (with their addresses, port, TLS
// policy and AUTH) an SMTP transport tries in order. The planner decides, the transport
// (spoold/smtp_transport.h) connects. NextHopPlanner is the contract between the two; the
// decision itself is DeliveryPlanner, from [delivery] (config/delivery_section.h):
//
//   1. a route ([delivery.routes], the domain or its nearest ".parent"): its host, an IP used
//      as is, a name resolved A/AAAA (no MX lookup), on the route's port;
//   2. else smarthost_mode = "exclusive": the smarthost;
//   3. else the domain's MX hosts (libproto/dns MxResolver: RFC 5321 5.1, null MX, loops).
//   In "fallback" mode the smarthost is the plan's `fallback` for 1 and 3, and the only hop
//   when the MX lookup failed temporarily.
//   For 3 only, MTA-STS (spoold/mta_sts.h, beside the MX lookup; off with delivery.mta_sts =
//   false; skipped for a domain with its own [delivery.tls_policy] entry, and for a message
//   that waives it, PlanFor) may then narrow the MX hosts and raise their TLS to verify
//   (spoold/mta_sts_enforce.h).
//
// A route or smarthost name that does not resolve defers (a configuration problem: the mail
// waits for the fix instead of bouncing).
//
// Threading: plan() is called on spoold's loop thread and `done` is called exactly once on
// the loop thread, possibly before plan() returns.

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <uv.h>

#include "config/delivery_section.h"
#include "libproto/dane/dane_policy.h"
#include "libproto/dns/mx_resolver.h"
#include "spoold/mta_sts.h"
#include "spoold/remote_transport.h"

namespace postern {

// The TLS a hop needs. may: STARTTLS when offered, no certificate check (opportunistic);
// encrypt: STARTTLS required, certificate not checked; verify: STARTTLS required and the
// certificate must match NextHop::host. dane / dane_only (RFC 7672, spoold/dane_hops.h) are
// what the config says; the plan a NextHopPlanner gives has turned them into may, encrypt,
// dane (TLS required and the peer must match NextHop::dane.records) or a deferred hop.
enum class TlsPolicy : uint8_t { none, may, encrypt, verify, dane, dane_only };
const char* tls_policy_name(TlsPolicy p);  // as the config spells it: "dane-only"

struct SmtpCredentials {
    std::string user;
    std::string password;
};

struct NextHop {
    std::string host;                    // MX / route / smarthost name: logs, SNI, verify
    std::vector<std::string> addresses;  // IPs to try, in order (both families)
    uint16_t port = 25;
    TlsPolicy tls = TlsPolicy::may;
    std::optional<SmtpCredentials> auth;  // smarthost AUTH (only after TLS, or on loopback)
    bool smarthost = false;
    // MTA-STS (mode enforce) raised `tls` to verify for this MX host (spoold/mta_sts_enforce.h):
    // the hook for DANE, whose usable TLSA records take precedence (RFC 8461 2).
    bool sts_verify = false;
    // DANE: the MX (or the configured route/smarthost name) and the address answers were
    // DNSSEC-authenticated; and what the TLSA lookup decided (outcome defer: skip this hop).
    bool dnssec = false;
    DaneDecision dane;
    // RFC 8689 4.2.1 (spoold/requiretls_hops.h): `host` can be trusted as the destination's:
    // a route or smarthost the configuration names, the domain itself (no MX), an MX from a
    // DNSSEC-authenticated answer, or an MX an MTA-STS policy (enforce or testing) lists.
    bool name_authenticated = false;
};

struct HopPlan {
    std::vector<NextHop> hops;      // in order of preference
    std::vector<NextHop> fallback;  // tried when every hop failed temporarily (smarthost fallback)
    std::optional<TargetResult>
        failure;  // no hop: DNS says permanent (null MX, NXDOMAIN) or temporary
};

// What the message asks of its plan.
struct PlanFor {
    // false for "TLS-Required: No" (RFC 8689 5, Envelope::tls_optional): the recipient's
    // published policies are waived: no MTA-STS lookup, and dane / dane-only read as may.
    // This server's own none / may / encrypt / verify stay.
    bool recipient_tls_policies = true;
};

class NextHopPlanner {
public:
    virtual ~NextHopPlanner() = default;
    // On the loop thread; done exactly once on the loop thread (maybe before returning).
    virtual void plan(const std::string& destination, PlanFor what,
                      std::function<void(HopPlan)> done) = 0;
    void plan(const std::string& destination, std::function<void(HopPlan)> done) {
        plan(destination, PlanFor{}, std::move(done));
    }
};

struct DeliveryPlannerOptions {
    DeliveryConfig delivery;
    std::optional<SmtpCredentials> smarthost_auth;  // smarthost_user + the password file
    std::vector<std::string> local_names;           // our names: an MX naming one is a loop
    uint32_t dns_timeout_ms = 5000;                 // per try (ResolverOptions)
    uint32_t dns_tries = 2;
    std::optional<uint32_t> seed;  // the shuffle among equal MX; unset: random
    MtaStsOptions sts;             // used when delivery.mta_sts is on
};

// The options from the config: [delivery], the smarthost password (read now; a
// world-readable file is refused with its one-line error) and `hostname` as our name.
std::expected<DeliveryPlannerOptions, std::string> delivery_planner_options(
    const DeliveryConfig& delivery, const std::string& hostname);

// The RFC 5321 / RFC 3463 reply for an MX failure: "556 5.1.10" for a null MX (RFC 7505
// 4.2), "550 5.1.2" for NXDOMAIN, "550 5.4.6" for a loop, "550 5.4.4" for other permanent
// ones, "451 4.4.3" for temporary ones, then the reason.
TargetResult mx_failure_result(const MxFailure& f);

class DeliveryPlanner final : public NextHopPlanner {
public:
    // One c-ares resolver on `loop` with delivery.dns_servers (empty: /etc/resolv.conf).
    static std::expected<std::unique_ptr<DeliveryPlanner>, std::string> create(
        uv_loop_t* loop, DeliveryPlannerOptions opts);
    ~DeliveryPlanner() override;  // plans in flight end without calling back
    DeliveryPlanner(const DeliveryPlanner&) = delete;
    DeliveryPlanner& operator=(const DeliveryPlanner&) = delete;

    using NextHopPlanner::plan;
    void plan(const std::string& destination, PlanFor what,
              std::function<void(HopPlan)> done) override;
    size_t in_flight() const { return jobs_.size(); }

    struct Job;  // one plan() in flight (next_hop.cc)

private:
    DeliveryPlanner(DeliveryPlannerOptions opts, std::unique_ptr<Resolver> resolver,
                    std::unique_ptr<MxResolver> mx);
    void finish(uint64_t id);

    DeliveryPlannerOptions opts_;
    std::unique_ptr<Resolver> resolver_;
    std::unique_ptr<MxResolver> mx_;
    std::unique_ptr<MtaSts> sts_;  // null when delivery.mta_sts is off
    std::unordered_map<uint64_t, std::unique_ptr<Job>> jobs_;
    uint64_t next_id_ = 1;
};

}  // namespace postern
