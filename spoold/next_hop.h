#pragma once
// Where a remote destination's mail goes next: the hosts (with their addresses, port, TLS
// policy and AUTH) an SMTP transport tries in order. The planner decides, the transport
// (spoold/smtp_transport.h) connects. This header is the contract between the two; the
// decision itself (routes, smarthost, MX) is DeliveryPlanner in next_hop.cc.
//
// Threading: plan() is called on spoold's loop thread and `done` is called exactly once on
// the loop thread, possibly before plan() returns.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "spoold/remote_transport.h"

namespace postern {

// The TLS a hop needs. may: STARTTLS when offered, no certificate check (opportunistic);
// encrypt: STARTTLS required, certificate not checked; verify: STARTTLS required and the
// certificate must match NextHop::host.
enum class TlsPolicy : uint8_t { none, may, encrypt, verify };

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
};

struct HopPlan {
    std::vector<NextHop> hops;      // in order of preference
    std::vector<NextHop> fallback;  // tried when every hop failed temporarily (smarthost fallback)
    std::optional<TargetResult>
        failure;  // no hop: DNS says permanent (null MX, NXDOMAIN) or temporary
};

class NextHopPlanner {
public:
    virtual ~NextHopPlanner() = default;
    // On the loop thread; done exactly once on the loop thread (maybe before returning).
    virtual void plan(const std::string& destination, std::function<void(HopPlan)> done) = 0;
};

}  // namespace postern
