#pragma once
// DNS lookups behind an interface: AresResolver (c-ares on the uv loop) in the
// daemons, FakeResolver (tests/support/fake_resolver.h) in tests. Callbacks
// always run later from the loop, never inside the call that started the lookup.
//
// Each lookup returns a DnsQuery handle; destroying it (or cancel()) makes
// sure the callback is not called, so a session that owns its queries can be
// destroyed with lookups in flight.

#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "libproto/dns_parse/dns_message.h"

namespace postern {

// The closed set of lookup outcomes besides success.
enum class DnsError : uint8_t {
    not_found,  // NXDOMAIN: the name does not exist (permanent)
    no_data,    // the name exists but has no record of this type (permanent)
    temporary,  // SERVFAIL, timeout, refused, no server reachable: try later
    bad_name,   // not a valid query (malformed name or address)
};
const char* dns_error_text(DnsError e);

struct MxRecord {
    uint16_t preference = 0;
    std::string host;  // no trailing dot
    bool operator==(const MxRecord&) const = default;
};

template <class T>
using DnsResult = std::expected<T, DnsError>;

using AddressCallback = std::function<void(DnsResult<std::vector<std::string>>)>;  // textual IPs
using MxCallback = std::function<void(DnsResult<std::vector<MxRecord>>)>;  // sorted by preference
using NamesCallback = std::function<void(DnsResult<std::vector<std::string>>)>;  // PTR names
using TextCallback = std::function<void(
    DnsResult<std::vector<std::string>>)>;  // one string per TXT record, its parts joined
// The whole parsed answer. NXDOMAIN and NODATA arrive as messages (rcode 3, or
// no matching record) so the caller sees their SOA; the error side is only
// `temporary` (timeout, SERVFAIL, REFUSED, an unparsable answer) or `bad_name`.
using MessageCallback = std::function<void(DnsResult<DnsMessage>)>;

// Owning handle to a pending lookup: destroying it cancels the callback.
class DnsQuery {
public:
    DnsQuery() = default;
    explicit DnsQuery(std::shared_ptr<bool> alive) : alive_(std::move(alive)) {}
    DnsQuery(DnsQuery&&) = default;
    DnsQuery& operator=(DnsQuery&& o) noexcept {
        cancel();
        alive_ = std::move(o.alive_);
        return *this;
    }
    ~DnsQuery() { cancel(); }
    void cancel() {
        if (alive_) *alive_ = false;
        alive_.reset();
    }
    bool pending() const { return alive_ && *alive_; }

private:
    std::shared_ptr<bool> alive_;  // shared with the in-flight request
};

class Resolver {
public:
    virtual ~Resolver() = default;
    [[nodiscard]] virtual DnsQuery a(std::string_view name, AddressCallback cb) = 0;
    [[nodiscard]] virtual DnsQuery aaaa(std::string_view name, AddressCallback cb) = 0;
    [[nodiscard]] virtual DnsQuery mx(std::string_view name, MxCallback cb) = 0;
    // `ip` is an address literal; the reverse name is built here.
    [[nodiscard]] virtual DnsQuery ptr(std::string_view ip, NamesCallback cb) = 0;
    [[nodiscard]] virtual DnsQuery txt(std::string_view name, TextCallback cb) = 0;
    // Any type (dns_type::*), with TTLs, the AD bit and CNAME chains: what the
    // MX resolver, DANE (TLSA) and MTA-STS (TXT) need. The query asks for the
    // AD bit (RFC 6840 5.7), so a validating resolver reports DNSSEC status.
    [[nodiscard]] virtual DnsQuery lookup(std::string_view name, uint16_t type,
                                          MessageCallback cb) = 0;
};

struct ResolverOptions {
    // "IP" or "IP:PORT" ("[::1]:53" for IPv6 with a port); empty: /etc/resolv.conf.
    std::vector<std::string> servers;
    uint32_t timeout_ms = 5000;  // per try
    uint32_t tries = 2;
};

class AresResolver final : public Resolver {
public:
    // Error text when c-ares cannot be initialised or a server is malformed.
    static std::expected<std::unique_ptr<AresResolver>, std::string> create(
        uv_loop_t* loop, const ResolverOptions& opts = {});
    ~AresResolver() override;  // pending lookups end without calling back

    DnsQuery a(std::string_view name, AddressCallback cb) override;
    DnsQuery aaaa(std::string_view name, AddressCallback cb) override;
    DnsQuery mx(std::string_view name, MxCallback cb) override;
    DnsQuery ptr(std::string_view ip, NamesCallback cb) override;
    DnsQuery txt(std::string_view name, TextCallback cb) override;
    DnsQuery lookup(std::string_view name, uint16_t type, MessageCallback cb) override;

    struct Impl;

private:
    explicit AresResolver(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Sorts MX records by preference (stable: equal preferences keep their order;
// RFC 5321 wants them randomised, spoold may shuffle equal ones).
void sort_mx(std::vector<MxRecord>& mx);

// The reverse-lookup name for an IP literal ("4.3.2.1.in-addr.arpa"), or empty.
std::string reverse_name(std::string_view ip);

}  // namespace postern
