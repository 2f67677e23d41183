#include "libproto/dns/resolver.h"
#include "tests/support/fake_resolver.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <map>

#include "libproto/net/loop.h"

using postern::DnsError;
using postern::MxRecord;

namespace {

// A tiny authoritative DNS responder on 127.0.0.1 (UDP, same loop): answers
// from a table keyed by (lower-case name, type); unknown names get NXDOMAIN,
// known names without that type get an empty NOERROR; "servfail.test" gets SERVFAIL.
class TinyDns {
public:
    explicit TinyDns(uv_loop_t* loop) {
        uv_udp_init(loop, &udp_);
        udp_.data = this;
        sockaddr_in a{};
        uv_ip4_addr("127.0.0.1", 0, &a);
        uv_udp_bind(&udp_, reinterpret_cast<sockaddr*>(&a), 0);
        int len = sizeof a;
        uv_udp_getsockname(&udp_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        uv_udp_recv_start(
            &udp_,
            [](uv_handle_t*, size_t, uv_buf_t* b) {
                static char buf[2048];
                *b = uv_buf_init(buf, sizeof buf);
            },
            [](uv_udp_t* u, ssize_t n, const uv_buf_t* b, const sockaddr* from, unsigned) {
                if (n > 0 && from)
                    static_cast<TinyDns*>(u->data)->answer(std::string(b->base, size_t(n)), from);
            });
    }
    ~TinyDns() {
        uv_udp_recv_stop(&udp_);
        uv_close(reinterpret_cast<uv_handle_t*>(&udp_), nullptr);
        uv_run(udp_.loop, UV_RUN_NOWAIT);
    }
    uint16_t port() const { return port_; }
    int queries = 0;

    void add(const std::string& name, uint16_t type, std::string rdata) {
        table_[{name, type}].push_back(std::move(rdata));
    }
    static std::string name(const std::string& dotted) {
        std::string out;
        size_t start = 0;
        while (start < dotted.size()) {
            size_t dot = dotted.find('.', start);
            if (dot == std::string::npos) dot = dotted.size();
            out += char(dot - start);
            out += dotted.substr(start, dot - start);
            start = dot + 1;
        }
        return out + '\0';
    }
    static std::string u16(unsigned v) { return {char(v >> 8), char(v & 0xff)}; }
    static std::string ipv4(const char* ip) {
        unsigned char b[4];
        inet_pton(AF_INET, ip, b);
        return std::string(reinterpret_cast<char*>(b), 4);
    }
    static std::string ipv6(const char* ip) {
        unsigned char b[16];
        inet_pton(AF_INET6, ip, b);
        return std::string(reinterpret_cast<char*>(b), 16);
    }

private:
    void answer(const std::string& q, const sockaddr* from) {
        ++queries;
        if (q.size() < 17) return;
        std::string qname;
        size_t i = 12;
        while (i < q.size() && q[i]) {
            size_t len = static_cast<unsigned char>(q[i]);
            if (!qname.empty()) qname += '.';
            qname += q.substr(i + 1, len);
            i += len + 1;
        }
        for (char& c : qname) c = char(std::tolower(static_cast<unsigned char>(c)));
        size_t qend = i + 5;  // zero byte, qtype, qclass
        if (qend > q.size()) return;
        uint16_t qtype = uint16_t((static_cast<unsigned char>(q[i + 1]) << 8) |
                                  static_cast<unsigned char>(q[i + 2]));
        unsigned rcode = 0;
        const std::vector<std::string>* rrs = nullptr;
        if (qname == "servfail.test") {
            rcode = 2;
        } else if (auto it = table_.find({qname, qtype}); it != table_.end()) {
            rrs = &it->second;
        } else {
            bool known = false;
            for (auto& [k, v] : table_) known |= k.first == qname;
            if (!known) rcode = 3;
        }
        std::string r = q.substr(0, 2) + u16(0x8400 | 0x0100 | 0x0080 | rcode) + u16(1) +
                        u16(rrs ? unsigned(rrs->size()) : 0) + u16(0) + u16(0) +
                        q.substr(12, qend - 12);
        if (rrs)
            for (auto& rd : *rrs)
                r += u16(0xc00c) + u16(qtype) + u16(1) + u16(0) + u16(60) +
                     u16(unsigned(rd.size())) + rd;
        struct Send {
            uv_udp_send_t req;
            std::string data;
        };
        auto* s = new Send{{}, std::move(r)};
        s->req.data = s;
        uv_buf_t b = uv_buf_init(s->data.data(), unsigned(s->data.size()));
        uv_udp_send(&s->req, &udp_, &b, 1, from,
                    [](uv_udp_send_t* q, int) { delete static_cast<Send*>(q->data); });
    }

    uv_udp_t udp_;
    uint16_t port_ = 0;
    std::map<std::pair<std::string, uint16_t>, std::vector<std::string>> table_;
};

}  // namespace

TEST_CASE("resolver: c-ares against a local DNS responder") {
    postern::EventLoop loop;
    TinyDns dns(loop.get());
    dns.add("example.test", 1, TinyDns::ipv4("192.0.2.7"));
    dns.add("example.test", 28, TinyDns::ipv6("2001:db8::7"));
    dns.add("example.test", 15, TinyDns::u16(20) + TinyDns::name("mx2.example.test"));
    dns.add("example.test", 15, TinyDns::u16(10) + TinyDns::name("mx1.example.test"));
    dns.add("example.test", 16, std::string("\x05v=spf\x03 -a", 10));
    dns.add("7.2.0.192.in-addr.arpa", 12, TinyDns::name("host.example.test"));

    postern::ResolverOptions opts;
    opts.servers = {"127.0.0.1:" + std::to_string(dns.port())};
    opts.timeout_ms = 1000;
    opts.tries = 1;
    auto res = postern::AresResolver::create(loop.get(), opts);
    REQUIRE(res.has_value());
    auto& r = **res;

    int done = 0;
    postern::DnsResult<std::vector<std::string>> a, aaaa, ptr, txt, nx, nodata, fail;
    postern::DnsResult<std::vector<MxRecord>> mx;
    std::vector<postern::DnsQuery> qs;
    qs.push_back(r.a("example.test", [&](auto v) {
        a = v;
        ++done;
    }));
    qs.push_back(r.aaaa("EXAMPLE.test.", [&](auto v) {
        aaaa = v;
        ++done;
    }));
    qs.push_back(r.mx("example.test", [&](auto v) {
        mx = v;
        ++done;
    }));
    qs.push_back(r.txt("example.test", [&](auto v) {
        txt = v;
        ++done;
    }));
    qs.push_back(r.ptr("192.0.2.7", [&](auto v) {
        ptr = v;
        ++done;
    }));
    qs.push_back(r.a("nope.test", [&](auto v) {
        nx = v;
        ++done;
    }));
    qs.push_back(r.txt("7.2.0.192.in-addr.arpa", [&](auto v) {
        nodata = v;
        ++done;
    }));
    qs.push_back(r.a("servfail.test", [&](auto v) {
        fail = v;
        ++done;
    }));
    bool cancelled_called = false;
    {
        auto q = r.a("example.test", [&](auto) { cancelled_called = true; });
    }                    // dropped at once
    REQUIRE(done == 0);  // never inside the call
    CHECK(loop.run_until([&] { return done == 8; }, std::chrono::seconds(10)));

    CHECK(a == std::vector<std::string>{"192.0.2.7"});
    CHECK(aaaa == std::vector<std::string>{"2001:db8::7"});
    REQUIRE(mx.has_value());
    CHECK(*mx == std::vector<MxRecord>{{10, "mx1.example.test"}, {20, "mx2.example.test"}});
    CHECK(txt == std::vector<std::string>{"v=spf -a"});
    CHECK(ptr == std::vector<std::string>{"host.example.test"});
    CHECK(nx == std::unexpected(DnsError::not_found));
    CHECK(nodata == std::unexpected(DnsError::no_data));
    CHECK(fail == std::unexpected(DnsError::temporary));
    loop.run_until([] { return false; }, std::chrono::milliseconds(50));
    CHECK_FALSE(cancelled_called);
}

TEST_CASE("resolver: fake answers from tables, later, and cancellably") {
    postern::EventLoop loop;
    postern::FakeResolver f(loop.get());
    f.add_mx("Example.org", {{20, "b.example.org"}, {10, "a.example.org"}});
    f.add_a("a.example.org", {"192.0.2.1"});
    f.fail("down.example", DnsError::temporary);
    postern::DnsResult<std::vector<MxRecord>> mx;
    postern::DnsResult<std::vector<std::string>> a, nodata, down;
    bool cancelled_called = false;
    auto q1 = f.mx("example.org.", [&](auto v) { mx = v; });
    auto q2 = f.a("a.example.org", [&](auto v) { a = v; });
    auto q3 = f.txt("a.example.org", [&](auto v) { nodata = v; });
    auto q4 = f.a("down.example", [&](auto v) { down = v; });
    auto q5 = f.a("a.example.org", [&](auto) { cancelled_called = true; });
    q5.cancel();
    CHECK(q1.pending());
    loop.run_until([&] { return !q1.pending() && !q4.pending(); }, std::chrono::seconds(2));
    REQUIRE(mx.has_value());
    CHECK(*mx == std::vector<MxRecord>{{10, "a.example.org"}, {20, "b.example.org"}});
    CHECK(a == std::vector<std::string>{"192.0.2.1"});
    CHECK(nodata == std::unexpected(DnsError::no_data));
    CHECK(down == std::unexpected(DnsError::temporary));
    CHECK_FALSE(cancelled_called);
    CHECK(f.lookups() == 5);
}

TEST_CASE("resolver: reverse names") {
    CHECK(postern::reverse_name("192.0.2.1") == "1.2.0.192.in-addr.arpa");
    CHECK(postern::reverse_name("2001:db8::1") ==
          "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    CHECK(postern::reverse_name("nope").empty());
}
