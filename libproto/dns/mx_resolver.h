#pragma once
// MxResolver: where to deliver mail for a domain (RFC 5321 section 5), plus
// the TLSA and TXT lookups DANE and MTA-STS need, over any Resolver, with a
// TTL cache. The deciding is in mx_plan.h; this file runs the lookups.
//
//   domain --MX--> mx_candidates --A+AAAA per host, in parallel--> assemble_plan
//
// Every answer goes through the cache first (dns_cache.h). Callbacks run on a
// later loop turn, never inside the call, also when everything was cached.
// Destroying the returned DnsJob cancels: its callback is not called. The
// MxResolver must outlive its jobs, and the Resolver the MxResolver.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/dns/dns_cache.h"
#include "libproto/dns/mx_plan.h"
#include "libproto/dns/resolver.h"
#include "libproto/net/uv_handle.h"

namespace postern {

struct MxResolverOptions {
    MxPlanOptions plan;
    DnsCacheOptions cache;
    std::optional<uint32_t> seed;  // for the shuffle among equal MX; unset: random_device
};

using PlanResult = std::expected<DeliveryPlan, MxFailure>;
using PlanCallback = std::function<void(PlanResult)>;

// A TLSA or TXT answer with its DNSSEC status. DANE may use TLSA records only
// when `authenticated` (RFC 7672 2.2); MTA-STS does not need it.
struct TlsaAnswer {
    std::vector<TlsaRecord> records;  // malformed RDATA (under 3 bytes) left out
    bool authenticated = false;
};
struct TxtAnswer {
    std::vector<std::string> records;  // one per TXT record, its strings joined
    bool authenticated = false;
};
using TlsaCallback = std::function<void(DnsResult<TlsaAnswer>)>;  // not_found, no_data, ...
using TxtCallback = std::function<void(DnsResult<TxtAnswer>)>;

// Owning handle to a running MxResolver job; destroying it cancels.
class DnsJob {
public:
    struct Job {
        virtual ~Job() = default;
    };
    DnsJob() = default;
    explicit DnsJob(std::unique_ptr<Job> j) : job_(std::move(j)) {}
    void cancel() { job_.reset(); }
    explicit operator bool() const { return job_ != nullptr; }

private:
    std::unique_ptr<Job> job_;
};

class MxResolver {
public:
    using Clock = DnsCache::Clock;
    MxResolver(uv_loop_t* loop, Resolver& resolver, MxResolverOptions opts = {},
               std::function<Clock::time_point()> now = &Clock::now);
    ~MxResolver();
    MxResolver(const MxResolver&) = delete;
    MxResolver& operator=(const MxResolver&) = delete;

    // The delivery plan for `domain` (an ASCII or A-label name, no brackets).
    [[nodiscard]] DnsJob resolve(std::string_view domain, PlanCallback cb);
    // TLSA at _PORT._tcp.HOST (RFC 7672 3.1).
    [[nodiscard]] DnsJob tlsa(std::string_view host, uint16_t port, TlsaCallback cb);
    // TXT at `name` (e.g. "_mta-sts.example.org", RFC 8461 3.1).
    [[nodiscard]] DnsJob txt(std::string_view name, TxtCallback cb);

    // Any (name, type) through the cache: the building block of the above.
    [[nodiscard]] DnsQuery cached(std::string_view name, uint16_t type, MessageCallback cb);

    const MxPlanOptions& plan_options() const { return opts_.plan; }
    std::mt19937& rng() { return rng_; }

private:
    MxResolverOptions opts_;
    Resolver& resolver_;
    DnsCache cache_;
    std::function<Clock::time_point()> now_;
    std::mt19937 rng_;
    // Cache hits are answered on the next loop turn, like the network ones.
    struct Later;
    std::unique_ptr<Later> later_;
};

}  // namespace postern
