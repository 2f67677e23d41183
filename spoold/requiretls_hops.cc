#include "spoold/requiretls_hops.h"

#include <algorithm>

#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"

namespace postern {

void apply_requiretls(HopPlan& plan, const std::string& domain) {
    if (plan.failure) return;
    std::string refused;
    auto untrusted = [&](const NextHop& h) {
        if (h.name_authenticated) return false;
        refused += (refused.empty() ? "" : ", ") + h.host;
        return true;
    };
    std::erase_if(plan.hops, untrusted);
    std::erase_if(plan.fallback, untrusted);
    if (!refused.empty())
        log_msg(LogLevel::warning,
                "requiretls %s: skipped %s: the MX answer was not DNSSEC-authenticated and no "
                "MTA-STS policy lists it",
                log_escape(domain).c_str(), log_escape(refused).c_str());
    if (plan.hops.empty()) std::swap(plan.hops, plan.fallback);
    if (plan.hops.empty()) {
        plan.failure =
            TargetResult{TargetState::failed,
                         "550 5.7.30 REQUIRETLS support required: no authenticated MX host for " +
                             domain + " (" + refused +
                             ": the MX answer was not DNSSEC-authenticated and no MTA-STS "
                             "policy lists it)"};
        return;
    }
    for (auto* list : {&plan.hops, &plan.fallback})
        for (auto& h : *list)
            if (h.tls != TlsPolicy::dane) h.tls = TlsPolicy::verify;
}

}  // namespace postern
