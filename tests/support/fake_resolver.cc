// FakeResolver: answers from tables, later on the loop, like a real resolver.
#include "tests/support/fake_resolver.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>

#include "libproto/net/uv_handle.h"

namespace postern {

namespace {

std::string key(std::string_view name) {
    std::string k(name);
    if (!k.empty() && k.back() == '.') k.pop_back();
    for (char& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return k;
}

}  // namespace

struct FakeResolver::Deferred {
    Timer timer;
    std::vector<std::function<void()>> queue;
    explicit Deferred(uv_loop_t* loop) : timer(loop) {}
};

FakeResolver::FakeResolver(uv_loop_t* loop) : deferred_(std::make_unique<Deferred>(loop)) {}

FakeResolver::~FakeResolver() = default;

void FakeResolver::add_a(const std::string& n, std::vector<std::string> v) {
    a_[key(n)] = std::move(v);
}
void FakeResolver::add_aaaa(const std::string& n, std::vector<std::string> v) {
    aaaa_[key(n)] = std::move(v);
}
void FakeResolver::add_ptr(const std::string& ip, std::vector<std::string> v) {
    ptr_[ip] = std::move(v);
}
void FakeResolver::add_txt(const std::string& n, std::vector<std::string> v) {
    txt_[key(n)] = std::move(v);
}
void FakeResolver::add_mx(const std::string& n, std::vector<MxRecord> v) {
    mx_[key(n)] = std::move(v);
}
void FakeResolver::fail(const std::string& n, DnsError e) { fail_[key(n)] = e; }

DnsQuery FakeResolver::later(std::function<void()> fn, std::shared_ptr<bool> alive) {
    auto& d = *deferred_;
    d.queue.push_back([fn = std::move(fn), alive] {
        if (*alive) {
            *alive = false;
            fn();
        }
    });
    if (!d.timer.active()) {
        Deferred* dp = &d;
        d.timer.start(0, [dp] {
            auto q = std::move(dp->queue);
            dp->queue.clear();
            for (auto& f : q) f();
        });
    }
    return DnsQuery(std::move(alive));
}

DnsQuery FakeResolver::strings(const Table& t, std::string_view name,
                               std::function<void(DnsResult<std::vector<std::string>>)> cb) {
    ++lookups_;
    DnsResult<std::vector<std::string>> r = std::unexpected(DnsError::not_found);
    std::string k = &t == &ptr_ ? std::string(name) : key(name);
    if (auto f = fail_.find(k); f != fail_.end())
        r = std::unexpected(f->second);
    else if (auto it = t.find(k); it != t.end())
        r = it->second;
    else if (a_.count(k) || aaaa_.count(k) || mx_.count(k) || txt_.count(k))
        r = std::unexpected(DnsError::no_data);
    return later([cb = std::move(cb), r = std::move(r)] { cb(r); }, std::make_shared<bool>(true));
}

DnsQuery FakeResolver::a(std::string_view n, AddressCallback cb) {
    return strings(a_, n, std::move(cb));
}
DnsQuery FakeResolver::aaaa(std::string_view n, AddressCallback cb) {
    return strings(aaaa_, n, std::move(cb));
}
DnsQuery FakeResolver::ptr(std::string_view ip, NamesCallback cb) {
    return strings(ptr_, ip, std::move(cb));
}
DnsQuery FakeResolver::txt(std::string_view n, TextCallback cb) {
    return strings(txt_, n, std::move(cb));
}

DnsQuery FakeResolver::mx(std::string_view name, MxCallback cb) {
    ++lookups_;
    std::string k = key(name);
    DnsResult<std::vector<MxRecord>> r = std::unexpected(DnsError::not_found);
    if (auto f = fail_.find(k); f != fail_.end()) {
        r = std::unexpected(f->second);
    } else if (auto it = mx_.find(k); it != mx_.end()) {
        auto v = it->second;
        sort_mx(v);
        r = std::move(v);
    } else if (a_.count(k) || aaaa_.count(k) || txt_.count(k)) {
        r = std::unexpected(DnsError::no_data);
    }
    return later([cb = std::move(cb), r = std::move(r)] { cb(r); }, std::make_shared<bool>(true));
}

void FakeResolver::add_record(DnsRecord r) {
    r.name = key(r.name);
    records_.push_back(std::move(r));
}

void FakeResolver::authenticate(const std::string& name) { authenticated_.push_back(key(name)); }

DnsQuery FakeResolver::lookup(std::string_view name, uint16_t type, MessageCallback cb) {
    ++lookups_;
    std::string k = key(name);
    DnsMessage m;
    m.qname = k;
    m.qtype = type;
    m.authenticated =
        std::find(authenticated_.begin(), authenticated_.end(), k) != authenticated_.end();
    auto add = [&](uint16_t preference, std::string target, std::string rdata) {
        DnsRecord r;
        r.name = k;
        r.type = type;
        r.ttl = 300;
        r.preference = preference;
        r.target = std::move(target);
        r.rdata = std::move(rdata);
        m.answers.push_back(std::move(r));
    };
    auto addresses = [&](const Table& t, int family) {
        if (auto it = t.find(k); it != t.end())
            for (auto& ip : it->second) {
                unsigned char b[16];
                if (inet_pton(family, ip.c_str(), b) == 1)
                    add(0, {}, std::string(reinterpret_cast<char*>(b), family == AF_INET ? 4 : 16));
            }
    };
    DnsResult<DnsMessage> r = m;
    bool known = a_.count(k) || aaaa_.count(k) || mx_.count(k) || txt_.count(k);
    for (auto& rec : records_) known |= rec.name == k;
    if (auto f = fail_.find(k); f != fail_.end()) {
        if (f->second == DnsError::not_found)
            m.rcode = dns_rcode::nxdomain;
        else if (f->second != DnsError::no_data)
            r = std::unexpected(f->second);
    } else if (!known) {
        m.rcode = dns_rcode::nxdomain;
    } else if (type == dns_type::a) {
        addresses(a_, AF_INET);
    } else if (type == dns_type::aaaa) {
        addresses(aaaa_, AF_INET6);
    } else if (type == dns_type::mx) {
        if (auto it = mx_.find(k); it != mx_.end())
            for (auto& x : it->second) add(x.preference, key(x.host), {});
    } else if (type == dns_type::txt) {
        if (auto it = txt_.find(k); it != txt_.end())
            for (auto& t : it->second) {
                std::string rd;
                for (size_t i = 0; i < t.size() || i == 0; i += 255) {
                    auto part = t.substr(i, 255);
                    rd += char(part.size());
                    rd += part;
                }
                add(0, {}, rd);
            }
    }
    for (auto& rec : records_)
        if (rec.name == k && (rec.type == type || rec.type == dns_type::cname))
            m.answers.push_back(rec);
    if (r) r = std::move(m);
    return later([cb = std::move(cb), r = std::move(r)] { cb(r); }, std::make_shared<bool>(true));
}

}  // namespace postern
