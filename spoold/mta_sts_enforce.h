#pragma once
// What an MTA-STS policy (RFC 8461 4 and 5) does to the MX hops DeliveryPlanner found for a
// destination domain. MX delivery only: routes and the smarthost are configured next hops,
// not the domain's MX, and never get here; nor do domains with their own
// [delivery.tls_policy] entry (that entry wins over MTA-STS).
//
//   enforce: only hops whose host matches an mx pattern stay, each with TLS policy verify
//            (certificate checked against the MX host name) and `sts_verify` set; when none
//            match, the plan fails temporarily with a 451 4.7.5 naming MTA-STS;
//   testing: the hops stay as they are; what enforce would have refused is logged;
//   none:    nothing changes.
// In enforce and testing, the hops the policy lists are `name_authenticated` (REQUIRETLS).
//
// `sts_verify` is the hook for DANE (RFC 8461 2: usable TLSA records take precedence).

#include <string>

#include "libproto/mta_sts/sts_policy.h"
#include "spoold/next_hop.h"

namespace postern {

void apply_sts_policy(const StsPolicy& policy, const std::string& domain, HopPlan& plan);

}  // namespace postern
