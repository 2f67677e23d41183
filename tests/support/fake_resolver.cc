// FakeResolver: answers from tables, later on the loop, like a real resolver.
#include "tests/support/fake_resolver.h"

#include <algorithm>
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

}  // namespace postern
