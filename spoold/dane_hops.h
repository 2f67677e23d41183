#pragma once
// DANE for the hops of a plan (RFC 7672 2.2), between the planner's DNS answers and the
// transport. For each hop whose policy is dane or dane-only and whose MX (or configured name)
// and address answers were DNSSEC-authenticated (NextHop::dnssec): one TLSA lookup at
// _PORT._tcp.HOST through the MxResolver (so cached); no lookup for the others. Then each
// hop gets NextHop::dane (libproto/dane/dane_policy.h) and its effective TlsPolicy:
//
//   verify -> TlsPolicy::dane (STARTTLS, the peer must match a record; spoold/dane_tls.h)
//   encrypt -> TlsPolicy::encrypt; not_dane -> TlsPolicy::may;
//   defer -> the transport skips the hop with "451 4.7.5 ..." (SmtpTransport::next_address).
//
// One log line per DANE hop ("smtp dane HOST:PORT for DOMAIN: OUTCOME (why)").

#include <functional>
#include <string>
#include <vector>

#include "libproto/dns/mx_resolver.h"
#include "spoold/next_hop.h"

namespace postern {

bool is_dane_policy(TlsPolicy p);  // dane or dane_only
// Some hop (or fallback hop) needs a TLSA lookup.
bool dane_lookups_wanted(const HopPlan& p);
// The TLSA answer as dane_decide's input, for a hop whose policy is dane/dane_only.
DaneInput dane_input(const NextHop& h, const DnsResult<TlsaAnswer>* tlsa);
// Sets h.dane and h.tls from the decision (hops without a DANE policy are left alone).
void apply_dane(NextHop& h, const DnsResult<TlsaAnswer>* tlsa, const std::string& destination);
// The reply for a hop whose DANE outcome is defer.
std::string dane_defer_reply(const NextHop& h);

// The lookups of one plan; `done` gets the finished plan on a later loop turn. Destroying
// it cancels (done is not called). The MxResolver must outlive it.
class DaneLookups {
public:
    DaneLookups(MxResolver& mx, HopPlan plan, std::string destination,
                std::function<void(HopPlan)> done);
    DaneLookups(const DaneLookups&) = delete;
    DaneLookups& operator=(const DaneLookups&) = delete;

private:
    void one_done();

    HopPlan plan_;
    std::string destination_;
    std::function<void(HopPlan)> done_;
    struct Pending {
        NextHop* hop;
        DnsJob job;
        std::optional<DnsResult<TlsaAnswer>> answer;
    };
    std::vector<Pending> pending_;
    size_t outstanding_ = 0;
};

}  // namespace postern
