#pragma once
// MtaSts: the MTA-STS policy (RFC 8461) of a destination domain, for DeliveryPlanner.
//
//   lookup(D) --TXT _mta-sts.D--> id --same id as the cached, unexpired policy--> it
//                                    --else: A of mta-sts.D, then an HTTPS GET on the pool
//                                      (libproto/https, pinned to that address)--> parse,
//                                      cache, persist
//
// What the callback gets: the policy to apply, or nullopt (no usable TXT record and nothing
// cached, or a failed fetch with nothing cached: deliver as without MTA-STS). RFC 8461 5.1:
// a failed fetch or a TXT lookup that fails keeps an unexpired cached policy. Lookups of a
// domain already in progress wait for it (one fetch per domain at a time).
//
// The cache is in memory and in `cache_file` (libproto/mta_sts/sts_cache_file.h), written
// atomically on the pool after each change, read at construction (spoold's start).
// Threading: the loop thread only; callbacks on a later loop turn. Destroying the returned
// DnsQuery cancels its callback; destroying MtaSts drops every callback.

#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "libproto/dns/mx_resolver.h"
#include "libproto/https/https_get.h"
#include "libproto/mta_sts/sts_cache_file.h"
#include "libproto/net/pool_job.h"

namespace postern {

struct MtaStsOptions {
    std::filesystem::path cache_file;  // empty: memory only
    std::filesystem::path ca_file;     // for the HTTPS fetch; empty: the system store
    uint16_t port = 443;               // RFC 8461 fixes 443; only tests change it
    uint32_t connect_timeout_ms = 10'000;
    uint32_t total_timeout_ms = 30'000;
    std::function<int64_t()> now;  // Unix seconds; unset: the system clock
    // Blocking, on the pool: the fetch (a seam for tests); unset: https_get.
    std::function<std::expected<std::string, std::string>(const HttpsGet&)> fetch;
};

using StsCallback = std::function<void(std::optional<StsPolicy>)>;

class MtaSts {
public:
    MtaSts(uv_loop_t* loop, MxResolver& dns, MtaStsOptions opts);
    ~MtaSts();
    MtaSts(const MtaSts&) = delete;
    MtaSts& operator=(const MtaSts&) = delete;

    // `domain` lower-case. The callback runs on a later loop turn unless the DnsQuery went first.
    [[nodiscard]] DnsQuery lookup(const std::string& domain, StsCallback cb);

    // Tests and logs.
    const std::map<std::string, StsCacheEntry>& cache() const { return cache_; }
    uint64_t fetches() const { return fetches_; }
    bool saving() const { return write_.active() || dirty_; }  // a cache write is under way

    struct Pending;  // one domain being looked up (mta_sts.cc)

private:
    void got_txt(const std::string& domain, DnsResult<TxtAnswer> r);
    void got_address(const std::string& domain, const std::string& id, std::string address);
    void fetched(const std::string& domain, const std::string& id,
                 std::expected<std::string, std::string> body);
    void finish(const std::string& domain);  // answers every waiter of `domain`
    std::optional<StsPolicy> usable_cached(const std::string& domain) const;
    void persist();
    int64_t now() const;

    uv_loop_t* loop_;
    MxResolver& dns_;
    MtaStsOptions opts_;
    std::map<std::string, StsCacheEntry> cache_;
    std::map<std::string, std::unique_ptr<Pending>> pending_;
    uint64_t fetches_ = 0;
    PoolJob write_;
    bool dirty_ = false;  // changed while write_ ran: write again
};

}  // namespace postern
