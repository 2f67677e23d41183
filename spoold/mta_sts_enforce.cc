#include "spoold/mta_sts_enforce.h"

#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"
#include "spoold/dane_hops.h"

namespace postern {

void apply_sts_policy(const StsPolicy& policy, const std::string& domain, HopPlan& plan) {
    if (policy.mode == StsMode::none || plan.failure) return;
    const std::string d = log_escape(domain);
    const bool testing = policy.mode == StsMode::testing;
    std::string refused;
    for (auto& h : plan.hops) {
        if (sts_mx_matches(policy, h.host)) {
            h.name_authenticated = true;  // the policy came over HTTPS (RFC 8689 4.2.1)
            continue;
        }
        refused += (refused.empty() ? "" : ", ") + h.host;
        if (testing)
            log_msg(LogLevel::warning,
                    "mta-sts %s: testing mode: MX %s does not match the policy; enforce would "
                    "not deliver to it",
                    d.c_str(), log_escape(h.host).c_str());
        else
            log_msg(LogLevel::warning, "mta-sts %s: MX %s does not match the policy: skipped",
                    d.c_str(), log_escape(h.host).c_str());
    }
    if (testing) return;
    std::erase_if(plan.hops, [&](const NextHop& h) { return !sts_mx_matches(policy, h.host); });
    // A dane/dane-only hop keeps its policy: usable TLSA records win over MTA-STS (RFC 8461
    // 2); apply_dane (dane_hops.h) falls back to verify for it when they are not there.
    for (auto& h : plan.hops) {
        if (!is_dane_policy(h.tls)) h.tls = TlsPolicy::verify;
        h.sts_verify = true;
    }
    if (plan.hops.empty()) {
        plan.fallback.clear();
        plan.failure =
            TargetResult{TargetState::deferred,
                         "451 4.7.5 MTA-STS policy of " + domain +
                             " (mode enforce) matches none of its MX hosts (" + refused + ")"};
    }
}

}  // namespace postern
