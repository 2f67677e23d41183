#pragma once
// What a REQUIRETLS message (RFC 8689 4.2.1) does to a destination's plan, before any hop is
// contacted. A hop stays only when its host name can be trusted (NextHop::name_authenticated:
// a route or smarthost the configuration names, the domain itself when it has no MX, an MX
// answer DNSSEC authenticated, or an MX an MTA-STS policy lists); each that stays needs TLS
// with a certificate that verifies against that name, or DANE (RFC 8689 4.2.1 accepts both,
// and a DANE hop keeps DANE; the TLS policy is part of SmtpTransport's link key, so such a
// hop never reuses a connection of ordinary mail). When no hop stays, the plan fails for good with 550 5.7.30
// (RFC 8689 5: the message is returned, never sent another way).
//
// The smarthost of "fallback" mode is a configured hop: when no MX can be trusted, the
// message goes to it (which must honour REQUIRETLS in turn: it is asked for it in MAIL).

#include <string>

#include "spoold/next_hop.h"

namespace postern {

void apply_requiretls(HopPlan& plan, const std::string& domain);

}  // namespace postern
