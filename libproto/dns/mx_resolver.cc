// MxResolver: the lookups behind a delivery plan, each through the cache.
#include "libproto/dns/mx_resolver.h"

namespace postern {

struct MxResolver::Later {
    Timer timer;
    std::vector<std::function<void()>> queue;
    explicit Later(uv_loop_t* loop) : timer(loop) {}
    void post(std::function<void()> fn) {
        queue.push_back(std::move(fn));
        if (!timer.active())
            timer.start(0, [this] {
                auto q = std::move(queue);
                queue.clear();
                for (auto& f : q) f();
            });
    }
};

namespace {

// MX, then A and AAAA of every candidate at once, then the plan.
struct ResolveJob final : DnsJob::Job {
    MxResolver& owner;
    std::string domain;
    PlanCallback cb;
    DnsQuery mx_query;
    MxCandidates candidates;
    std::vector<HostAnswers> answers;
    std::vector<DnsQuery> queries;
    size_t outstanding = 0;

    ResolveJob(MxResolver& o, std::string_view d, PlanCallback c)
        : owner(o), domain(dns_name_key(d)), cb(std::move(c)) {}

    void start() {
        mx_query = owner.cached(domain, dns_type::mx,
                                [this](DnsResult<DnsMessage> r) { on_mx(std::move(r)); });
    }
    void on_mx(DnsResult<DnsMessage> r) {
        auto c = mx_candidates(domain, r, owner.plan_options(), owner.rng());
        if (!c) return finish(std::unexpected(std::move(c.error())));
        candidates = std::move(*c);
        answers.resize(candidates.hosts.size());
        auto fam = owner.plan_options().families;
        for (size_t i = 0; i < candidates.hosts.size(); ++i) {
            const auto& host = candidates.hosts[i].name;
            if (fam != AddressFamilies::ipv6_only) {
                ++outstanding;
                queries.push_back(owner.cached(host, dns_type::a, [this, i](auto a) {
                    answers[i].a = std::move(a);
                    one_done();
                }));
            }
            if (fam != AddressFamilies::ipv4_only) {
                ++outstanding;
                queries.push_back(owner.cached(host, dns_type::aaaa, [this, i](auto a) {
                    answers[i].aaaa = std::move(a);
                    one_done();
                }));
            }
        }
    }
    void one_done() {
        if (--outstanding == 0)
            finish(assemble_plan(domain, candidates, answers, owner.plan_options()));
    }
    // Last thing done: the callback may destroy this job.
    void finish(PlanResult r) {
        auto c = std::move(cb);
        c(std::move(r));
    }
};

// One cached lookup turned into a typed answer.
struct SingleJob final : DnsJob::Job {
    DnsQuery query;
};

template <class T>
DnsResult<T> negative_or(const DnsResult<DnsMessage>& r, const DnsRecordSet& set) {
    if (!r) return std::unexpected(r.error());
    if (r->rcode == dns_rcode::nxdomain) return std::unexpected(DnsError::not_found);
    if (set.records.empty()) return std::unexpected(DnsError::no_data);
    return T{};
}

}  // namespace

MxResolver::MxResolver(uv_loop_t* loop, Resolver& resolver, MxResolverOptions opts,
                       std::function<Clock::time_point()> now)
    : opts_(std::move(opts)), resolver_(resolver), cache_(opts_.cache), now_(std::move(now)),
      rng_(opts_.seed ? *opts_.seed : std::random_device{}()),
      later_(std::make_unique<Later>(loop)) {}

MxResolver::~MxResolver() = default;

DnsQuery MxResolver::cached(std::string_view name, uint16_t type, MessageCallback cb) {
    if (auto hit = cache_.get(name, type, now_())) {
        auto alive = std::make_shared<bool>(true);
        later_->post([alive, cb = std::move(cb), m = std::move(*hit)]() mutable {
            if (!*alive) return;
            *alive = false;
            cb(std::move(m));
        });
        return DnsQuery(alive);
    }
    // The callback runs only while the returned query is held, and the
    // MxResolver outlives its jobs, so `this` is still here when it runs.
    return resolver_.lookup(name, type,
                            [this, key = std::string(name), type, cb = std::move(cb)](auto r) {
                                if (r) cache_.put(key, type, *r, now_());
                                cb(std::move(r));
                            });
}

DnsJob MxResolver::resolve(std::string_view domain, PlanCallback cb) {
    auto job = std::make_unique<ResolveJob>(*this, domain, std::move(cb));
    job->start();
    return DnsJob(std::move(job));
}

DnsJob MxResolver::tlsa(std::string_view host, uint16_t port, TlsaCallback cb) {
    std::string name = "_" + std::to_string(port) + "._tcp." + dns_name_key(host);
    auto job = std::make_unique<SingleJob>();
    job->query = cached(name, dns_type::tlsa, [name, cb = std::move(cb)](auto r) {
        DnsRecordSet set;
        if (r) set = records_for(*r, name, dns_type::tlsa);
        auto out = negative_or<TlsaAnswer>(r, set);
        if (out) {
            out->authenticated = r->authenticated;
            for (auto* rec : set.records)
                if (auto t = tlsa_record(rec->rdata)) out->records.push_back(std::move(*t));
        }
        cb(std::move(out));
    });
    return DnsJob(std::move(job));
}

DnsJob MxResolver::txt(std::string_view name_in, TxtCallback cb) {
    std::string name = dns_name_key(name_in);
    auto job = std::make_unique<SingleJob>();
    job->query = cached(name, dns_type::txt, [name, cb = std::move(cb)](auto r) {
        DnsRecordSet set;
        if (r) set = records_for(*r, name, dns_type::txt);
        auto out = negative_or<TxtAnswer>(r, set);
        if (out) {
            out->authenticated = r->authenticated;
            for (auto* rec : set.records)
                if (auto t = txt_text(rec->rdata)) out->records.push_back(std::move(*t));
        }
        cb(std::move(out));
    });
    return DnsJob(std::move(job));
}

}  // namespace postern
