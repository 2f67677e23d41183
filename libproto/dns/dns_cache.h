#pragma once
// A small bounded cache of DNS answers (LRU), each kept for its TTL. Pure:
// the caller passes the time, so tests step a fake clock.
//
// Positive answers live for the smallest TTL on the record path (CNAMEs
// included), capped at max_ttl. Negative ones (NXDOMAIN, NODATA) for the
// RFC 2308 SOA value when the answer carries one, else negative_ttl; capped
// at negative_max. A TTL of 0 is not cached. Temporary failures are never
// cached: there is no answer to keep.

#include <chrono>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "libproto/dns_parse/dns_message.h"

namespace postern {

struct DnsCacheOptions {
    size_t capacity = 1024;  // entries; the least recently used goes first
    std::chrono::seconds max_ttl{3600};
    std::chrono::seconds negative_ttl{60};  // when the answer has no SOA
    std::chrono::seconds negative_max{300};
};

class DnsCache {
public:
    using Clock = std::chrono::steady_clock;
    explicit DnsCache(DnsCacheOptions o = {}) : opts_(o) {}

    // A copy of the live answer for (name, type), or nullopt (missing or expired).
    std::optional<DnsMessage> get(std::string_view name, uint16_t type, Clock::time_point now);
    void put(std::string_view name, uint16_t type, DnsMessage m, Clock::time_point now);
    size_t size() const { return index_.size(); }

    // How long `m`, the answer to (name, type), may be kept under these options.
    std::chrono::seconds lifetime(const DnsMessage& m, std::string_view name, uint16_t type) const;

private:
    struct Entry {
        std::string key;
        Clock::time_point expires;
        DnsMessage message;
    };
    static std::string key(std::string_view name, uint16_t type);

    DnsCacheOptions opts_;
    std::list<Entry> lru_;  // front: most recently used
    std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace postern
