// DANE for a plan's hops: which hops ask for TLSA, and what the answer makes of them.
#include "spoold/dane_hops.h"

#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"

namespace postern {

bool is_dane_policy(TlsPolicy p) { return p == TlsPolicy::dane || p == TlsPolicy::dane_only; }

namespace {

bool wants_lookup(const NextHop& h) { return is_dane_policy(h.tls) && h.dnssec; }

}  // namespace

bool dane_lookups_wanted(const HopPlan& p) {
    for (const auto* list : {&p.hops, &p.fallback})
        for (const auto& h : *list)
            if (wants_lookup(h)) return true;
    return false;
}

DaneInput dane_input(const NextHop& h, const DnsResult<TlsaAnswer>* tlsa) {
    DaneInput in;
    in.mandatory = h.tls == TlsPolicy::dane_only;
    in.secure = h.dnssec;
    if (!tlsa) return in;  // skipped
    if (tlsa->has_value()) {
        in.lookup = TlsaLookup::found;
        in.tlsa_authenticated = (*tlsa)->authenticated;
        in.records = (*tlsa)->records;
    } else if (tlsa->error() == DnsError::not_found || tlsa->error() == DnsError::no_data) {
        in.lookup = TlsaLookup::none;
    } else {
        in.lookup = TlsaLookup::temporary;
    }
    return in;
}

void apply_dane(NextHop& h, const DnsResult<TlsaAnswer>* tlsa, const std::string& destination) {
    if (!is_dane_policy(h.tls)) return;
    const char* policy = tls_policy_name(h.tls);
    h.dane = dane_decide(dane_input(h, tlsa));
    switch (h.dane.outcome) {
    case DaneOutcome::verify: h.tls = TlsPolicy::dane; break;
    // Without usable TLSA records an MTA-STS policy in enforce mode (sts_verify) still holds.
    case DaneOutcome::encrypt: h.tls = h.sts_verify ? TlsPolicy::verify : TlsPolicy::encrypt; break;
    case DaneOutcome::not_dane: h.tls = h.sts_verify ? TlsPolicy::verify : TlsPolicy::may; break;
    case DaneOutcome::defer: break;  // the transport skips the hop
    }
    const char* outcome = h.dane.outcome != DaneOutcome::not_dane
                              ? dane_outcome_text(h.dane.outcome)
                          : h.sts_verify ? "fallback to MTA-STS verify"
                                         : "fallback to may";
    // Hops whose DNS was not authenticated are most of them: their line is debug only.
    log_msg(h.dnssec || h.dane.outcome == DaneOutcome::defer ? LogLevel::info : LogLevel::debug,
            "smtp %s %s:%u for %s: %s (%s)", policy, log_escape(h.host).c_str(), unsigned(h.port),
            log_escape(destination).c_str(), outcome, h.dane.why.c_str());
}

std::string dane_defer_reply(const NextHop& h) {
    // RFC 3463 X.7.5: cryptographic failure (Postfix uses 4.7.5 for TLSA lookup errors).
    return "451 4.7.5 " + h.host + ":" + std::to_string(h.port) + ": " + h.dane.why;
}

DaneLookups::DaneLookups(MxResolver& mx, HopPlan plan, std::string destination,
                         std::function<void(HopPlan)> done)
    : plan_(std::move(plan)), destination_(std::move(destination)), done_(std::move(done)) {
    for (auto* list : {&plan_.hops, &plan_.fallback})
        for (auto& h : *list)
            if (wants_lookup(h)) pending_.push_back({&h, {}, std::nullopt});
    // Every lookup is started before any can answer (MxResolver answers on a later turn).
    outstanding_ = pending_.size() + 1;
    for (size_t i = 0; i < pending_.size(); ++i) {
        auto& p = pending_[i];
        p.job = mx.tlsa(p.hop->host, p.hop->port, [this, i](DnsResult<TlsaAnswer> r) {
            pending_[i].answer = std::move(r);
            one_done();
        });
    }
    one_done();
}

void DaneLookups::one_done() {
    if (--outstanding_ > 0) return;
    size_t k = 0;
    for (auto* list : {&plan_.hops, &plan_.fallback})
        for (auto& h : *list) {
            const DnsResult<TlsaAnswer>* answer = nullptr;
            if (k < pending_.size() && pending_[k].hop == &h) answer = &*pending_[k++].answer;
            apply_dane(h, answer, destination_);
        }
    // Last thing done: the callback may destroy this object.
    auto done = std::move(done_);
    done(std::move(plan_));
}

}  // namespace postern
