#pragma once
// A Resolver for tests: answers from tables, on a later loop turn like c-ares.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libproto/dns/resolver.h"

namespace postern {

// Answers from tables. Unknown names: not_found. Records are matched on the
// lower-cased name without a trailing dot; PTR is keyed on the IP literal.
class FakeResolver final : public Resolver {
public:
    explicit FakeResolver(uv_loop_t* loop);
    ~FakeResolver() override;

    void add_a(const std::string& name, std::vector<std::string> ips);
    void add_aaaa(const std::string& name, std::vector<std::string> ips);
    void add_mx(const std::string& name, std::vector<MxRecord> mx);  // any order
    void add_ptr(const std::string& ip, std::vector<std::string> names);
    void add_txt(const std::string& name, std::vector<std::string> txt);
    // Any other record (TLSA, CNAME, ...) for lookup(); its name is the owner.
    void add_record(DnsRecord r);
    // lookup() answers for `name` carry the AD bit.
    void authenticate(const std::string& name);
    // Makes every lookup of `name` (any type) fail with `e`.
    void fail(const std::string& name, DnsError e);
    size_t lookups() const { return lookups_; }

    DnsQuery a(std::string_view name, AddressCallback cb) override;
    DnsQuery aaaa(std::string_view name, AddressCallback cb) override;
    DnsQuery mx(std::string_view name, MxCallback cb) override;
    DnsQuery ptr(std::string_view ip, NamesCallback cb) override;
    DnsQuery txt(std::string_view name, TextCallback cb) override;
    // A message built from the tables (TTL 300): NXDOMAIN for unknown names,
    // not_found/no_data from fail() as NXDOMAIN/NODATA messages.
    DnsQuery lookup(std::string_view name, uint16_t type, MessageCallback cb) override;

private:
    using Table = std::map<std::string, std::vector<std::string>>;
    DnsQuery strings(const Table& t, std::string_view name,
                     std::function<void(DnsResult<std::vector<std::string>>)> cb);
    DnsQuery later(std::function<void()> fn, std::shared_ptr<bool> alive);

    struct Deferred;  // callbacks queued for the next loop turn
    std::unique_ptr<Deferred> deferred_;
    Table a_, aaaa_, ptr_, txt_;
    std::map<std::string, std::vector<MxRecord>> mx_;
    std::map<std::string, DnsError> fail_;
    std::vector<DnsRecord> records_;
    std::vector<std::string> authenticated_;
    size_t lookups_ = 0;
};

}  // namespace postern
