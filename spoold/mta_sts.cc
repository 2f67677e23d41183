#include "spoold/mta_sts.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>

#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"
#include "libproto/core/safe_files.h"

namespace postern {

struct MtaSts::Pending {
    struct Waiter {
        std::shared_ptr<bool> alive;
        StsCallback cb;
    };
    std::vector<Waiter> waiters;
    DnsJob txt;
    DnsQuery a;
    PoolJob fetch;
    std::optional<StsPolicy> result;
};

namespace {

std::string read_file(const std::filesystem::path& p) {
    std::string out;
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return out;
    char buf[65536];
    ssize_t n;
    // Bounded: the cache holds at most kStsCacheMaxEntries lines of at most ~90 KB each.
    while ((n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < (size_t(1) << 30))
        out.append(buf, size_t(n));
    ::close(fd);
    return out;
}

}  // namespace

MtaSts::MtaSts(uv_loop_t* loop, MxResolver& dns, MtaStsOptions opts)
    : loop_(loop), dns_(dns), opts_(std::move(opts)) {
    if (!opts_.fetch) opts_.fetch = https_get;
    if (opts_.cache_file.empty()) return;
    const int64_t t = now();
    for (auto& e : parse_sts_cache(read_file(opts_.cache_file)))
        if (e.expires() > t) cache_[e.domain] = std::move(e);
    if (!cache_.empty())
        log_msg(LogLevel::info, "mta-sts: %zu cached policies from %s", cache_.size(),
                opts_.cache_file.c_str());
}

MtaSts::~MtaSts() = default;  // PoolJobs and DnsJobs cancel; a running write completes

int64_t MtaSts::now() const { return opts_.now ? opts_.now() : int64_t(::time(nullptr)); }

DnsQuery MtaSts::lookup(const std::string& domain, StsCallback cb) {
    auto alive = std::make_shared<bool>(true);
    auto [it, fresh] = pending_.try_emplace(domain);
    if (fresh) it->second = std::make_unique<Pending>();
    it->second->waiters.push_back({alive, std::move(cb)});
    if (fresh)
        it->second->txt = dns_.txt("_mta-sts." + domain, [this, domain](DnsResult<TxtAnswer> r) {
            got_txt(domain, std::move(r));
        });
    return DnsQuery(alive);
}

std::optional<StsPolicy> MtaSts::usable_cached(const std::string& domain) const {
    auto it = cache_.find(domain);
    if (it == cache_.end() || it->second.expires() <= now()) return std::nullopt;
    return it->second.policy;
}

void MtaSts::got_txt(const std::string& domain, DnsResult<TxtAnswer> r) {
    auto pit = pending_.find(domain);
    if (pit == pending_.end()) return;
    Pending& p = *pit->second;
    p.result = usable_cached(domain);
    if (!r) {  // NXDOMAIN, NODATA, SERVFAIL, timeout: the cached policy, if any (RFC 8461 5.1)
        finish(domain);
        return;
    }
    auto rec = select_sts_record(r->records);
    if (!rec) {
        if (!r->records.empty())
            log_msg(LogLevel::warning, "mta-sts %s: TXT record not used: %s",
                    log_escape(domain).c_str(), rec.error().c_str());
        finish(domain);
        return;
    }
    auto cit = cache_.find(domain);
    if (p.result && cit != cache_.end() && cit->second.id == rec->id) {
        finish(domain);  // the same policy, still fresh
        return;
    }
    // A new id, or nothing fresh cached: fetch. The host's address comes from our resolver,
    // and curl is pinned to it.
    std::string host = "mta-sts." + domain;
    std::string id = rec->id;
    p.a = dns_.cached(host, dns_type::a, [this, domain, host, id](DnsResult<DnsMessage> m) {
        std::string address;
        if (m)
            for (auto* x : records_for(*m, host, dns_type::a).records)
                if (address = address_text(*x); !address.empty()) break;
        got_address(domain, id, std::move(address));
    });
}

void MtaSts::got_address(const std::string& domain, const std::string& id, std::string address) {
    auto pit = pending_.find(domain);
    if (pit == pending_.end()) return;
    if (address.empty()) {
        log_msg(LogLevel::warning, "mta-sts %s: no IPv4 address for mta-sts.%s; %s",
                log_escape(domain).c_str(), log_escape(domain).c_str(),
                pit->second->result ? "keeping the cached policy" : "no policy");
        finish(domain);
        return;
    }
    HttpsGet req;
    req.host = "mta-sts." + domain;
    req.address = std::move(address);
    req.port = opts_.port;
    req.path = "/.well-known/mta-sts.txt";
    req.ca_file = opts_.ca_file;
    req.connect_timeout_ms = opts_.connect_timeout_ms;
    req.total_timeout_ms = opts_.total_timeout_ms;
    req.max_bytes = kStsPolicyMaxBytes;
    req.content_type = "text/plain";
    ++fetches_;
    auto out = std::make_shared<std::expected<std::string, std::string>>();
    auto fetch = opts_.fetch;
    pit->second->fetch = run_on_pool(
        loop_, [out, fetch, req] { *out = fetch(req); },
        [this, domain, id, out] { fetched(domain, id, std::move(*out)); });
}

void MtaSts::fetched(const std::string& domain, const std::string& id,
                     std::expected<std::string, std::string> body) {
    auto pit = pending_.find(domain);
    if (pit == pending_.end()) return;
    Pending& p = *pit->second;
    std::expected<StsPolicy, std::string> policy =
        body ? parse_sts_policy(*body) : std::unexpected(body.error());
    if (!policy) {
        log_msg(LogLevel::warning, "mta-sts %s: policy fetch failed: %s; %s",
                log_escape(domain).c_str(), log_escape(policy.error()).c_str(),
                p.result ? "keeping the cached policy" : "no policy");
        finish(domain);
        return;
    }
    StsCacheEntry e;
    e.domain = domain;
    e.id = id;
    e.fetched = now();
    e.body = std::move(*body);
    e.policy = *policy;
    log_msg(LogLevel::info, "mta-sts %s: policy id %s: mode %s, max_age %u, %zu mx",
            log_escape(domain).c_str(), id.c_str(), sts_mode_name(policy->mode), policy->max_age,
            policy->mx.size());
    p.result = std::move(*policy);
    cache_[domain] = std::move(e);
    persist();
    finish(domain);
}

void MtaSts::finish(const std::string& domain) {
    auto pit = pending_.find(domain);
    if (pit == pending_.end()) return;
    std::unique_ptr<Pending> p = std::move(pit->second);
    pending_.erase(pit);
    for (auto& w : p->waiters)
        if (*w.alive) w.cb(p->result);
}

void MtaSts::persist() {
    if (opts_.cache_file.empty()) return;
    if (write_.active()) {
        dirty_ = true;
        return;
    }
    dirty_ = false;
    std::vector<StsCacheEntry> live;
    const int64_t t = now();
    for (const auto& [d, e] : cache_)
        if (e.expires() > t) live.push_back(e);
    auto text = std::make_shared<std::string>(format_sts_cache(live));
    auto err = std::make_shared<std::string>();
    auto path = opts_.cache_file;
    write_ = run_on_pool(
        loop_,
        [text, err, path] {
            if (auto w = write_file_atomically(path, *text, 0600); !w) *err = w.error();
        },
        [this, err] {
            if (!err->empty())
                log_msg(LogLevel::warning, "mta-sts: cannot save the cache: %s", err->c_str());
            if (dirty_) persist();
        });
}

}  // namespace postern
