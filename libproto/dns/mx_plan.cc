// mx_candidates and assemble_plan: RFC 5321 5.1, RFC 7505 and the limits.
#include "libproto/dns/mx_plan.h"

#include <algorithm>
#include <arpa/inet.h>
#include <unordered_set>

namespace postern {

namespace {

std::string lookup_failure(std::string_view what, std::string_view name, DnsError e) {
    return "DNS lookup of " + std::string(what) + " for " + std::string(name) +
           " failed: " + dns_error_text(e);
}

bool is_local(const MxPlanOptions& o, const std::string& host) {
    for (auto& n : o.local_names)
        if (dns_name_key(n) == host) return true;
    return false;
}

// Addresses of one family from one answer; `answered` tells whether the
// answer was a real one (records or a clean negative) rather than a failure.
struct FamilyAddresses {
    std::vector<std::string> list;
    bool temporary = false;
    bool answered = false;
    bool authenticated = true;
};

FamilyAddresses family(const DnsResult<DnsMessage>& r, const std::string& host, uint16_t type) {
    FamilyAddresses out;
    if (!r) {
        out.temporary = r.error() == DnsError::temporary;
        return out;
    }
    out.answered = true;
    out.authenticated = r->authenticated;
    for (auto* rec : records_for(*r, host, type).records) {
        auto text = address_text(*rec);
        if (!text.empty() && std::find(out.list.begin(), out.list.end(), text) == out.list.end())
            out.list.push_back(std::move(text));
    }
    return out;
}

}  // namespace

bool is_ip_literal(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    std::string s(host);
    unsigned char b[16];
    return inet_pton(AF_INET, s.c_str(), b) == 1 || inet_pton(AF_INET6, s.c_str(), b) == 1;
}

std::expected<MxCandidates, MxFailure> mx_candidates(std::string_view domain_in,
                                                     const DnsResult<DnsMessage>& mx_answer,
                                                     const MxPlanOptions& opts, std::mt19937& rng) {
    std::string domain = dns_name_key(domain_in);
    if (!mx_answer) {
        if (mx_answer.error() == DnsError::temporary)
            return std::unexpected(
                MxFailure{false, lookup_failure("MX", domain, DnsError::temporary)});
        if (mx_answer.error() == DnsError::bad_name)
            return std::unexpected(MxFailure{true, domain + " is not a valid domain name"});
        return std::unexpected(MxFailure{true, lookup_failure("MX", domain, mx_answer.error())});
    }
    const DnsMessage& m = *mx_answer;
    if (m.rcode == dns_rcode::nxdomain)
        return std::unexpected(MxFailure{true, "domain " + domain + " does not exist (NXDOMAIN)"});
    MxCandidates out;
    out.authenticated = m.authenticated;
    auto set = records_for(m, domain, dns_type::mx);
    if (set.records.empty()) {  // NODATA: the implicit MX
        out.implicit = true;
        out.hosts.push_back({domain, 0});
    } else if (set.records.size() == 1 && set.records[0]->target.empty()) {
        return std::unexpected(
            MxFailure{true, "domain " + domain + " accepts no mail (null MX, RFC 7505)"});
    } else {
        std::vector<MxHost> hosts;
        for (auto* r : set.records) {
            if (r->target.empty()) {
                out.skipped.push_back(". (null MX beside other MX records): ignored");
            } else if (is_ip_literal(r->target)) {  // RFC 5321 5.1: MX names are host names
                out.skipped.push_back(r->target + ": an MX must name a host, not an address");
            } else {
                hosts.push_back({r->target, r->preference});
            }
        }
        if (hosts.empty())
            return std::unexpected(
                MxFailure{true, "the MX records of " + domain + " name no usable host"});
        std::sort(hosts.begin(), hosts.end(), [](const MxHost& a, const MxHost& b) {
            return a.preference < b.preference || (a.preference == b.preference && a.name < b.name);
        });
        // A host listed twice keeps its best preference.
        std::unordered_set<std::string> seen;
        std::erase_if(hosts, [&](const MxHost& h) { return !seen.insert(h.name).second; });
        // Random order among equal preferences (RFC 5321 5.1). Sorted by name
        // first, so the same seed always gives the same order.
        for (auto first = hosts.begin(); first != hosts.end();) {
            auto last = std::find_if(first, hosts.end(), [&](const MxHost& h) {
                return h.preference != first->preference;
            });
            std::shuffle(first, last, rng);
            first = last;
        }
        out.hosts = std::move(hosts);
    }
    // Mail loops: an MX that is us ends the list at its preference.
    for (size_t i = 0; i < out.hosts.size(); ++i) {
        if (!is_local(opts, out.hosts[i].name)) continue;
        uint16_t cut = out.hosts[i].preference;
        std::erase_if(out.hosts, [&](const MxHost& h) { return h.preference >= cut; });
        if (out.hosts.empty())
            return std::unexpected(MxFailure{true, "mail for " + domain + " loops back to myself"});
        break;
    }
    if (out.hosts.size() > opts.max_hosts) {
        out.skipped.push_back(std::to_string(out.hosts.size() - opts.max_hosts) +
                              " MX host(s) over the limit of " + std::to_string(opts.max_hosts));
        out.hosts.resize(opts.max_hosts);
    }
    if (out.hosts.empty())  // max_hosts == 0
        return std::unexpected(MxFailure{true, "no MX host of " + domain + " may be tried"});
    return out;
}

std::expected<DeliveryPlan, MxFailure> assemble_plan(std::string_view domain_in,
                                                     const MxCandidates& c,
                                                     const std::vector<HostAnswers>& answers,
                                                     const MxPlanOptions& opts) {
    DeliveryPlan plan;
    plan.domain = dns_name_key(domain_in);
    plan.implicit_mx = c.implicit;
    plan.mx_authenticated = c.authenticated && !c.implicit;
    plan.skipped = c.skipped;
    bool temporary = false;
    std::string first_temporary;
    std::unordered_set<std::string> used;
    for (size_t i = 0; i < c.hosts.size() && i < answers.size(); ++i) {
        const auto& h = c.hosts[i];
        bool want4 = opts.families != AddressFamilies::ipv6_only;
        bool want6 = opts.families != AddressFamilies::ipv4_only;
        FamilyAddresses v4, v6;
        if (want4) v4 = family(answers[i].a, h.name, dns_type::a);
        if (want6) v6 = family(answers[i].aaaa, h.name, dns_type::aaaa);
        const auto& first = opts.prefer_ipv6 ? v6 : v4;
        const auto& second = opts.prefer_ipv6 ? v4 : v6;
        DeliveryHost dh{h.name, h.preference, {}, false};
        for (size_t k = 0; k < std::max(first.list.size(), second.list.size()); ++k) {
            for (auto* l : {&first.list, &second.list})
                if (k < l->size() && dh.addresses.size() < opts.max_addresses_per_host &&
                    used.insert((*l)[k]).second)
                    dh.addresses.push_back((*l)[k]);
        }
        if (dh.addresses.empty()) {
            bool temp = v4.temporary || v6.temporary;
            if (temp && !temporary) first_temporary = h.name;
            temporary |= temp;
            plan.skipped.push_back(
                h.name + (temp ? ": address lookup failed temporarily" : ": no usable address"));
            continue;
        }
        bool any = (want4 && v4.answered) || (want6 && v6.answered);
        dh.authenticated = any && (!want4 || !v4.answered || v4.authenticated) &&
                           (!want6 || !v6.answered || v6.authenticated) && !v4.temporary &&
                           !v6.temporary;
        plan.hosts.push_back(std::move(dh));
    }
    if (!plan.hosts.empty()) return plan;
    if (temporary)
        return std::unexpected(
            MxFailure{false, lookup_failure("the address", first_temporary, DnsError::temporary)});
    if (c.implicit)
        return std::unexpected(
            MxFailure{true, "domain " + plan.domain + " has no MX, A or AAAA records"});
    return std::unexpected(MxFailure{true, "no MX host of " + plan.domain + " has an address"});
}

}  // namespace postern
