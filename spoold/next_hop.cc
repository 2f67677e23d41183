// DeliveryPlanner: routes, smarthost and MX into a HopPlan (see next_hop.h for the order).
#include "spoold/next_hop.h"

#include "libproto/core/secret.h"
#include "spoold/mta_sts_enforce.h"
#include "spoold/dane_hops.h"

namespace postern {

const char* tls_policy_name(TlsPolicy p) {
    switch (p) {
    case TlsPolicy::none: return "none";
    case TlsPolicy::may: return "may";
    case TlsPolicy::encrypt: return "encrypt";
    case TlsPolicy::verify: return "verify";
    case TlsPolicy::dane: return "dane";
    case TlsPolicy::dane_only: return "dane-only";
    }
    return "?";
}

namespace {

TlsPolicy to_policy(DeliveryTls t) {
    static_assert(int(DeliveryTls::none) == int(TlsPolicy::none) &&
                  int(DeliveryTls::may) == int(TlsPolicy::may) &&
                  int(DeliveryTls::encrypt) == int(TlsPolicy::encrypt) &&
                  int(DeliveryTls::verify) == int(TlsPolicy::verify) &&
                  int(DeliveryTls::dane) == int(TlsPolicy::dane) &&
                  int(DeliveryTls::dane_only) == int(TlsPolicy::dane_only));
    return TlsPolicy(t);
}

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

TargetResult mx_failure_result(const MxFailure& f) {
    if (!f.permanent) return {TargetState::deferred, "451 4.4.3 " + f.reason};
    // MxFailure carries its kind only in its text (libproto/dns/mx_plan.cc); the tests of
    // this file pin each text, so a change there shows up here.
    const char* code = "550 5.4.4 ";  // unable to route
    if (contains(f.reason, "(null MX"))
        code = "556 5.1.10 ";  // RFC 7505 4.2
    else if (contains(f.reason, "(NXDOMAIN)"))
        code = "550 5.1.2 ";  // bad destination system
    else if (contains(f.reason, "loops back to myself"))
        code = "550 5.4.6 ";  // routing loop
    return {TargetState::failed, code + f.reason};
}

std::expected<DeliveryPlannerOptions, std::string> delivery_planner_options(
    const DeliveryConfig& delivery, const std::string& hostname) {
    DeliveryPlannerOptions o;
    o.delivery = delivery;
    o.local_names = {hostname};
    if (!delivery.smarthost_user.empty()) {
        auto pw = read_smarthost_password(delivery.smarthost_password_file);
        if (!pw) return std::unexpected(pw.error());
        o.smarthost_auth = SmtpCredentials{delivery.smarthost_user, std::move(*pw)};
    }
    return o;
}

// One plan in flight: the primary lookup (MX, or a route's or the exclusive smarthost's
// addresses) and, in fallback mode, the smarthost's addresses, side by side.
struct DeliveryPlanner::Job {
    // A host name's A and AAAA answers, made into its address list by assemble_plan (the same
    // IPv6-first interleaving and limits as an MX host's).
    struct Addresses {
        HostPort where;
        HostAnswers answers;
        DnsQuery a, aaaa;
        std::optional<std::expected<std::vector<std::string>, MxFailure>> result;
    };
    enum class Primary : uint8_t { route, smarthost, mx };

    uint64_t id = 0;
    std::string destination;
    PlanFor what;
    std::function<void(HopPlan)> done;
    Primary primary = Primary::mx;
    Addresses first;  // route or exclusive smarthost
    DnsJob mx_job;
    std::optional<PlanResult> mx_result;
    std::optional<Addresses> fallback;  // the smarthost in fallback mode
    DnsQuery sts_query;                 // MTA-STS, beside the MX lookup
    std::optional<StsPolicy> sts;
    int pending = 0;
    std::unique_ptr<DaneLookups> dane;  // the TLSA lookups after the plan (dane_hops.h)
};

DeliveryPlanner::DeliveryPlanner(DeliveryPlannerOptions opts, std::unique_ptr<Resolver> resolver,
                                 std::unique_ptr<MxResolver> mx)
    : opts_(std::move(opts)), resolver_(std::move(resolver)), mx_(std::move(mx)) {}

DeliveryPlanner::~DeliveryPlanner() {
    jobs_.clear();  // cancels their lookups before the resolvers go
    sts_.reset();
    if (opts_.smarthost_auth) wipe(opts_.smarthost_auth->password);
}

std::expected<std::unique_ptr<DeliveryPlanner>, std::string> DeliveryPlanner::create(
    uv_loop_t* loop, DeliveryPlannerOptions opts) {
    ResolverOptions ro;
    ro.servers = opts.delivery.dns_servers;
    ro.timeout_ms = opts.dns_timeout_ms;
    ro.tries = opts.dns_tries;
    auto ares = AresResolver::create(loop, ro);
    if (!ares) return std::unexpected("DNS resolver: " + ares.error());
    std::unique_ptr<Resolver> resolver = std::move(*ares);
    MxResolverOptions mo;
    mo.plan.local_names = opts.local_names;
    mo.seed = opts.seed;
    auto mx = std::make_unique<MxResolver>(loop, *resolver, mo);
    std::unique_ptr<MtaSts> sts;
    if (opts.delivery.mta_sts) sts = std::make_unique<MtaSts>(loop, *mx, opts.sts);
    auto planner = std::unique_ptr<DeliveryPlanner>(
        new DeliveryPlanner(std::move(opts), std::move(resolver), std::move(mx)));
    planner->sts_ = std::move(sts);
    return planner;
}

void DeliveryPlanner::plan(const std::string& destination, PlanFor what,
                           std::function<void(HopPlan)> done) {
    const auto& cfg = opts_.delivery;
    auto owned = std::make_unique<Job>();
    Job& job = *owned;
    job.id = next_id_++;
    job.destination = destination;
    job.what = what;
    job.done = std::move(done);
    jobs_.emplace(job.id, std::move(owned));
    const uint64_t id = job.id;

    // Counts the lookup as pending, or answers it now for an IP literal.
    auto lookup = [this, id](Job::Addresses& a) {
        if (is_ip_literal(a.where.host)) {
            a.result = std::vector<std::string>{a.where.host};
            return;
        }
        auto& job = *jobs_.at(id);
        job.pending += 2;
        auto one = [this, id] {
            auto it = jobs_.find(id);
            if (it == jobs_.end()) return;
            if (--it->second->pending > 0) return;
            finish(id);
        };
        a.a = mx_->cached(a.where.host, dns_type::a, [&a, one](DnsResult<DnsMessage> r) {
            a.answers.a = std::move(r);
            one();
        });
        a.aaaa = mx_->cached(a.where.host, dns_type::aaaa, [&a, one](DnsResult<DnsMessage> r) {
            a.answers.aaaa = std::move(r);
            one();
        });
    };

    if (const HostPort* route = route_for(cfg, destination)) {
        job.primary = Job::Primary::route;
        job.first.where = *route;
    } else if (cfg.smarthost && cfg.smarthost_mode == SmarthostMode::exclusive) {
        job.primary = Job::Primary::smarthost;
        job.first.where = *cfg.smarthost;
    } else {
        job.primary = Job::Primary::mx;
    }
    if (cfg.smarthost && cfg.smarthost_mode == SmarthostMode::fallback) {
        job.fallback.emplace();
        job.fallback->where = *cfg.smarthost;
    }

    // Every lookup is started before any can finish the job (cached answers come on a later
    // loop turn, network ones later still; IP literals count nothing).
    ++job.pending;  // held until the end of this function
    if (job.primary == Job::Primary::mx) {
        ++job.pending;
        job.mx_job = mx_->resolve(destination, [this, id](PlanResult r) {
            auto it = jobs_.find(id);
            if (it == jobs_.end()) return;
            it->second->mx_result = std::move(r);
            if (--it->second->pending == 0) finish(id);
        });
        if (sts_ && what.recipient_tls_policies && !has_tls_policy_entry(cfg, destination)) {
            ++job.pending;
            job.sts_query = sts_->lookup(destination, [this, id](std::optional<StsPolicy> p) {
                auto it = jobs_.find(id);
                if (it == jobs_.end()) return;
                it->second->sts = std::move(p);
                if (--it->second->pending == 0) finish(id);
            });
        }
    } else {
        lookup(job.first);
    }
    if (job.fallback) lookup(*job.fallback);
    if (--job.pending == 0) finish(id);
}

namespace {

// The address list of a route or smarthost host from its answers; `authenticated` (when
// given) says whether they all had the AD bit.
std::expected<std::vector<std::string>, MxFailure> addresses_of(const HostPort& where,
                                                                const HostAnswers& answers,
                                                                const MxPlanOptions& opts,
                                                                bool* authenticated = nullptr) {
    MxCandidates one;
    one.hosts.push_back({where.host, 0});
    one.implicit = true;
    auto plan = assemble_plan(where.host, one, {answers}, opts);
    if (!plan) return std::unexpected(plan.error());
    if (authenticated) *authenticated = plan->hosts.front().authenticated;
    return plan->hosts.front().addresses;
}

}  // namespace

void DeliveryPlanner::finish(uint64_t id) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    std::unique_ptr<Job> job = std::move(it->second);
    jobs_.erase(it);
    const auto& cfg = opts_.delivery;
    // The configured policy for a name; dane and dane-only are the recipient's (TLSA records)
    // and a message may waive them (PlanFor).
    auto policy_for = [&](const std::string& name) {
        const TlsPolicy p = to_policy(tls_policy_for(cfg, name));
        return !job->what.recipient_tls_policies && is_dane_policy(p) ? TlsPolicy::may : p;
    };
    const TlsPolicy domain_tls = policy_for(job->destination);

    // `secure`: the configured name's addresses were DNSSEC-authenticated (the configuration
    // stands in for the MX lookup, as for Postfix's [host] next hops); never for an IP.
    auto resolved = [&](Job::Addresses& a,
                        bool* secure =
                            nullptr) -> std::expected<std::vector<std::string>, MxFailure> {
        if (a.result) return *a.result;
        return addresses_of(a.where, a.answers, mx_->plan_options(), secure);
    };
    auto smarthost_hop = [&](const HostPort& where, std::vector<std::string> addrs) {
        NextHop h;
        h.host = where.host;
        h.addresses = std::move(addrs);
        h.port = where.port;
        h.tls = policy_for(where.host);
        h.auth = opts_.smarthost_auth;
        h.smarthost = true;
        h.name_authenticated = true;  // configured
        return h;
    };

    HopPlan plan;
    std::vector<NextHop> fallback;
    if (job->fallback) {
        bool secure = false;
        if (auto addrs = resolved(*job->fallback, &secure)) {
            fallback.push_back(smarthost_hop(job->fallback->where, std::move(*addrs)));
            fallback.back().dnssec = secure;
        }
    }

    // A route's or the smarthost's name that does not resolve is a configuration problem:
    // defer, whatever DNS said.
    auto config_host_failed = [&](const char* what, const HostPort& where, const MxFailure& f) {
        return TargetResult{TargetState::deferred, "451 4.4.3 " + std::string(what) + " " +
                                                       where.host + " for " + job->destination +
                                                       ": " + f.reason};
    };

    switch (job->primary) {
    case Job::Primary::route: {
        bool secure = false;
        auto addrs = resolved(job->first, &secure);
        if (addrs) {
            NextHop h;
            h.dnssec = secure;
            h.host = job->first.where.host;
            h.addresses = std::move(*addrs);
            h.port = job->first.where.port;
            h.tls = domain_tls;
            h.name_authenticated = true;  // configured
            plan.hops.push_back(std::move(h));
            plan.fallback = std::move(fallback);
        } else if (!fallback.empty()) {
            plan.hops = std::move(fallback);
        } else {
            plan.failure = config_host_failed("route", job->first.where, addrs.error());
        }
        break;
    }
    case Job::Primary::smarthost: {
        bool secure = false;
        auto addrs = resolved(job->first, &secure);
        if (addrs) {
            plan.hops.push_back(smarthost_hop(job->first.where, std::move(*addrs)));
            plan.hops.back().dnssec = secure;
        } else
            plan.failure = config_host_failed("smarthost", job->first.where, addrs.error());
        break;
    }
    case Job::Primary::mx: {
        auto& r = *job->mx_result;
        if (r) {
            for (auto& host : r->hosts) {
                NextHop h;
                h.host = host.name;
                h.addresses = std::move(host.addresses);
                h.port = cfg.mx_port;
                h.tls = domain_tls;
                h.dnssec = r->mx_authenticated && host.authenticated;  // RFC 7672 2.2
                h.name_authenticated = r->mx_authenticated || r->implicit_mx;
                plan.hops.push_back(std::move(h));
            }
            plan.fallback = std::move(fallback);
            if (job->sts) apply_sts_policy(*job->sts, job->destination, plan);
        } else if (!r.error().permanent && !fallback.empty()) {
            plan.hops = std::move(fallback);  // direct delivery failed temporarily
        } else {
            plan.failure = mx_failure_result(r.error());
        }
        break;
    }
    }
    // DANE: TLSA lookups for the authenticated hops with a dane policy, then the plan.
    if (dane_lookups_wanted(plan)) {
        const uint64_t id = job->id;
        Job& j = *job;
        jobs_.emplace(id, std::move(job));
        j.dane = std::make_unique<DaneLookups>(*mx_, std::move(plan), j.destination,
                                               [this, id](HopPlan p) {
                                                   auto it = jobs_.find(id);
                                                   if (it == jobs_.end()) return;
                                                   auto done = std::move(it->second->done);
                                                   auto gone = std::move(it->second);
                                                   jobs_.erase(it);
                                                   done(std::move(p));
                                               });
        return;
    }
    for (auto* list : {&plan.hops, &plan.fallback})
        for (auto& h : *list) apply_dane(h, nullptr, job->destination);
    auto done = std::move(job->done);
    job.reset();
    done(std::move(plan));
}

}  // namespace postern
