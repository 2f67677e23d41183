// DnsCache: a list in use order plus an index into it.
#include "libproto/dns/dns_cache.h"

#include <algorithm>

namespace postern {

std::string DnsCache::key(std::string_view name, uint16_t type) {
    return dns_name_key(name) + '/' + std::to_string(type);
}

std::chrono::seconds DnsCache::lifetime(const DnsMessage& m, std::string_view name,
                                        uint16_t type) const {
    auto set = records_for(m, name, type);
    if (m.rcode == dns_rcode::nxdomain || set.records.empty()) {
        auto s = m.negative_ttl ? std::chrono::seconds(*m.negative_ttl) : opts_.negative_ttl;
        return std::min(s, opts_.negative_max);
    }
    return std::min(std::chrono::seconds(set.ttl), opts_.max_ttl);
}

std::optional<DnsMessage> DnsCache::get(std::string_view name, uint16_t type,
                                        Clock::time_point now) {
    auto it = index_.find(key(name, type));
    if (it == index_.end()) return std::nullopt;
    if (it->second->expires <= now) {
        lru_.erase(it->second);
        index_.erase(it);
        return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->message;
}

void DnsCache::put(std::string_view name, uint16_t type, DnsMessage m, Clock::time_point now) {
    if (opts_.capacity == 0) return;
    auto life = lifetime(m, name, type);
    if (life.count() <= 0) return;
    std::string k = key(name, type);
    if (auto it = index_.find(k); it != index_.end()) {
        lru_.erase(it->second);
        index_.erase(it);
    }
    while (index_.size() >= opts_.capacity) {
        index_.erase(lru_.back().key);
        lru_.pop_back();
    }
    lru_.push_front(Entry{k, now + life, std::move(m)});
    index_[std::move(k)] = lru_.begin();
}

}  // namespace postern
