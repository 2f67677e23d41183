// AresResolver: c-ares driven by the uv loop. c-ares tells us which sockets to
// watch (sock_state_cb); a uv_poll_t per socket and one uv_timer for
// ares_timeout() feed ares_process_fd().
#include <algorithm>
#include <arpa/inet.h>
#include <ares.h>
#include <arpa/nameser.h>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "libproto/dns/resolver.h"
#include "libproto/net/uv_handle.h"

namespace postern {

namespace {

// Raw answer -> typed result; called only while the query is still wanted.
using AnswerFn = std::function<void(int status, const unsigned char* buf, int len)>;

struct Request {
    AresResolver::Impl* impl;
    std::shared_ptr<bool> alive;
    AnswerFn answer;
};

DnsError map_status(int status) {
    switch (status) {
    case ARES_ENOTFOUND: return DnsError::not_found;
    case ARES_ENODATA: return DnsError::no_data;
    case ARES_EBADNAME:
    case ARES_EBADQUERY:
    case ARES_EBADFAMILY: return DnsError::bad_name;
    default: return DnsError::temporary;
    }
}

}  // namespace

struct AresResolver::Impl {
    uv_loop_t* loop;
    ares_channel channel = nullptr;
    uv_timer_t* timer = nullptr;
    std::unordered_map<int, uv_poll_t*> polls;
    bool in_query = false;  // inside ares_query: defer callbacks
    std::vector<std::function<void()>> deferred;
    std::unique_ptr<Timer> defer_timer;

    void process(ares_socket_t r, ares_socket_t w) {
        ares_process_fd(channel, r, w);
        rearm();
    }
    void rearm() {
        timeval tv{};
        if (ares_timeout(channel, nullptr, &tv)) {
            uint64_t ms = uint64_t(tv.tv_sec) * 1000 + uint64_t(tv.tv_usec) / 1000;
            uv_timer_start(
                timer,
                [](uv_timer_t* t) {
                    static_cast<Impl*>(t->data)->process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
                },
                ms, 0);
        } else {
            uv_timer_stop(timer);
        }
    }
    static void sock_state(void* data, ares_socket_t fd, int readable, int writable) {
        auto* self = static_cast<Impl*>(data);
        auto it = self->polls.find(fd);
        if (!readable && !writable) {
            if (it != self->polls.end()) {
                uv_poll_stop(it->second);
                close_and_delete(it->second);
                self->polls.erase(it);
            }
            return;
        }
        uv_poll_t* p;
        if (it == self->polls.end()) {
            p = new uv_poll_t;
            uv_poll_init_socket(self->loop, p, fd);
            p->data = self;
            self->polls[fd] = p;
        } else {
            p = it->second;
        }
        int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
        uv_poll_start(p, events, [](uv_poll_t* h, int status, int ev) {
            auto* s = static_cast<Impl*>(h->data);
            int fd2 = -1;
            uv_fileno(reinterpret_cast<uv_handle_t*>(h), &fd2);
            bool err = status < 0;
            s->process((err || (ev & UV_READABLE)) ? fd2 : ARES_SOCKET_BAD,
                       (err || (ev & UV_WRITABLE)) ? fd2 : ARES_SOCKET_BAD);
        });
    }
    static void on_answer(void* arg, int status, int, unsigned char* buf, int len) {
        auto* req = static_cast<Request*>(arg);
        std::unique_ptr<Request> owner(req);
        if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED || !*req->alive) return;
        if (req->impl->in_query) {  // failed synchronously: answer on the next loop turn
            std::string copy =
                buf ? std::string(reinterpret_cast<const char*>(buf), size_t(len)) : std::string();
            auto alive = req->alive;
            auto answer = std::move(req->answer);
            Impl* impl = req->impl;
            impl->deferred.push_back([alive, answer, status, copy] {
                if (*alive)
                    answer(status, reinterpret_cast<const unsigned char*>(copy.data()),
                           int(copy.size()));
            });
            if (!impl->defer_timer->active())
                impl->defer_timer->start(0, [impl] {
                    auto q = std::move(impl->deferred);
                    impl->deferred.clear();
                    for (auto& f : q) f();
                });
            return;
        }
        req->answer(status, buf, len);
    }

    DnsQuery query(std::string_view name, int type, AnswerFn answer) {
        return start(std::move(answer), [&](Request* req) {
            std::string n(name);
            ares_query(channel, n.c_str(), ns_c_in, type, &Impl::on_answer, req);
        });
    }
    // ares_send of a query we build, so its header can carry the AD bit.
    DnsQuery send_with_ad(std::string_view name, int type, AnswerFn answer) {
        return start(std::move(answer), [&](Request* req) {
            std::string n(name);
            unsigned char* buf = nullptr;
            int len = 0;
            if (int r = ares_create_query(n.c_str(), ns_c_in, type, 0, 1, &buf, &len, 0);
                r != ARES_SUCCESS) {
                on_answer(req, r, 0, nullptr, 0);
                return;
            }
            buf[3] |= 0x20;  // AD: "tell me whether you validated" (RFC 6840 5.7)
            ares_send(channel, buf, len, &Impl::on_answer, req);
            ares_free_string(buf);
        });
    }
    template <class Issue>
    DnsQuery start(AnswerFn answer, Issue&& issue) {
        auto alive = std::make_shared<bool>(true);
        auto* req =
            new Request{this, alive,
                        [alive, answer = std::move(answer)](int st, const unsigned char* b, int l) {
                            if (!*alive) return;
                            *alive = false;
                            answer(st, b, l);
                        }};
        in_query = true;
        issue(req);
        in_query = false;
        rearm();
        return DnsQuery(alive);
    }
};

std::expected<std::unique_ptr<AresResolver>, std::string> AresResolver::create(
    uv_loop_t* loop, const ResolverOptions& o) {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    auto impl = std::make_unique<Impl>();
    impl->loop = loop;
    ares_options opts{};
    opts.sock_state_cb = &Impl::sock_state;
    opts.sock_state_cb_data = impl.get();
    opts.timeout = int(o.timeout_ms);
    opts.tries = int(o.tries);
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    if (int r = ares_init_options(&impl->channel, &opts, mask); r != ARES_SUCCESS)
        return std::unexpected(std::string("c-ares: ") + ares_strerror(r));
    if (!o.servers.empty()) {
        std::string csv;
        for (auto& s : o.servers) csv += (csv.empty() ? "" : ",") + s;
        if (int r = ares_set_servers_ports_csv(impl->channel, csv.c_str()); r != ARES_SUCCESS) {
            ares_destroy(impl->channel);
            return std::unexpected("bad DNS server list \"" + csv + "\": " + ares_strerror(r));
        }
    }
    impl->timer = new uv_timer_t;
    uv_timer_init(loop, impl->timer);
    impl->timer->data = impl.get();
    impl->defer_timer = std::make_unique<Timer>(loop);
    return std::unique_ptr<AresResolver>(new AresResolver(std::move(impl)));
}

AresResolver::AresResolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AresResolver::~AresResolver() {
    ares_destroy(impl_->channel);  // pending requests end with ARES_EDESTRUCTION
    for (auto& [fd, p] : impl_->polls) {
        uv_poll_stop(p);
        close_and_delete(p);
    }
    uv_timer_stop(impl_->timer);
    close_and_delete(impl_->timer);
}

DnsQuery AresResolver::a(std::string_view name, AddressCallback cb) {
    return impl_->query(name, ns_t_a, [cb = std::move(cb)](int st, const unsigned char* b, int l) {
        if (st != ARES_SUCCESS) return cb(std::unexpected(map_status(st)));
        ares_addrttl addrs[64];
        int n = 64;
        if (int r = ares_parse_a_reply(b, l, nullptr, addrs, &n); r != ARES_SUCCESS)
            return cb(std::unexpected(map_status(r)));
        std::vector<std::string> out;
        for (int i = 0; i < n; ++i) {
            char s[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &addrs[i].ipaddr, s, sizeof s);
            out.emplace_back(s);
        }
        if (out.empty()) return cb(std::unexpected(DnsError::no_data));
        cb(std::move(out));
    });
}

DnsQuery AresResolver::aaaa(std::string_view name, AddressCallback cb) {
    return impl_->query(
        name, ns_t_aaaa, [cb = std::move(cb)](int st, const unsigned char* b, int l) {
            if (st != ARES_SUCCESS) return cb(std::unexpected(map_status(st)));
            ares_addr6ttl addrs[64];
            int n = 64;
            if (int r = ares_parse_aaaa_reply(b, l, nullptr, addrs, &n); r != ARES_SUCCESS)
                return cb(std::unexpected(map_status(r)));
            std::vector<std::string> out;
            for (int i = 0; i < n; ++i) {
                char s[INET6_ADDRSTRLEN];
                inet_ntop(AF_INET6, &addrs[i].ip6addr, s, sizeof s);
                out.emplace_back(s);
            }
            if (out.empty()) return cb(std::unexpected(DnsError::no_data));
            cb(std::move(out));
        });
}

DnsQuery AresResolver::mx(std::string_view name, MxCallback cb) {
    return impl_->query(name, ns_t_mx, [cb = std::move(cb)](int st, const unsigned char* b, int l) {
        if (st != ARES_SUCCESS) return cb(std::unexpected(map_status(st)));
        ares_mx_reply* mx = nullptr;
        if (int r = ares_parse_mx_reply(b, l, &mx); r != ARES_SUCCESS)
            return cb(std::unexpected(map_status(r)));
        std::vector<MxRecord> out;
        for (auto* m = mx; m; m = m->next) {
            std::string host = m->host;
            if (!host.empty() && host.back() == '.') host.pop_back();
            out.push_back({m->priority, std::move(host)});
        }
        ares_free_data(mx);
        sort_mx(out);
        if (out.empty()) return cb(std::unexpected(DnsError::no_data));
        cb(std::move(out));
    });
}

DnsQuery AresResolver::ptr(std::string_view ip, NamesCallback cb) {
    std::string rev = reverse_name(ip);
    std::string lit(ip);
    unsigned char addr[16] = {};
    int family = inet_pton(AF_INET, lit.c_str(), addr) == 1 ? AF_INET : AF_INET6;
    if (rev.empty())
        family = 0;
    else if (family == AF_INET6)
        inet_pton(AF_INET6, lit.c_str(), addr);
    if (rev.empty()) rev = "invalid..";  // c-ares answers EBADNAME on the next turn
    return impl_->query(
        rev, ns_t_ptr,
        [cb = std::move(cb), family, a = std::string(reinterpret_cast<char*>(addr), 16)](
            int st, const unsigned char* b, int l) {
            if (family == 0) return cb(std::unexpected(DnsError::bad_name));
            if (st != ARES_SUCCESS) return cb(std::unexpected(map_status(st)));
            hostent* h = nullptr;
            int r = ares_parse_ptr_reply(b, l, a.data(), family == AF_INET ? 4 : 16, family, &h);
            if (r != ARES_SUCCESS) return cb(std::unexpected(map_status(r)));
            std::vector<std::string> out;
            if (h->h_name) out.emplace_back(h->h_name);
            for (char** al = h->h_aliases; al && *al; ++al)
                if (std::find(out.begin(), out.end(), *al) == out.end()) out.emplace_back(*al);
            ares_free_hostent(h);
            cb(std::move(out));
        });
}

DnsQuery AresResolver::txt(std::string_view name, TextCallback cb) {
    return impl_->query(name, ns_t_txt,
                        [cb = std::move(cb)](int st, const unsigned char* b, int l) {
                            if (st != ARES_SUCCESS) return cb(std::unexpected(map_status(st)));
                            ares_txt_ext* txt = nullptr;
                            if (int r = ares_parse_txt_reply_ext(b, l, &txt); r != ARES_SUCCESS)
                                return cb(std::unexpected(map_status(r)));
                            std::vector<std::string> out;
                            for (auto* t = txt; t; t = t->next) {
                                if (t->record_start || out.empty()) out.emplace_back();
                                out.back().append(reinterpret_cast<const char*>(t->txt), t->length);
                            }
                            ares_free_data(txt);
                            if (out.empty()) return cb(std::unexpected(DnsError::no_data));
                            cb(std::move(out));
                        });
}

DnsQuery AresResolver::lookup(std::string_view name, uint16_t type, MessageCallback cb) {
    return impl_->send_with_ad(
        name, type, [cb = std::move(cb)](int st, const unsigned char* b, int l) {
            if (st == ARES_EBADNAME || st == ARES_EBADQUERY)
                return cb(std::unexpected(DnsError::bad_name));
            if (st != ARES_SUCCESS || !b) return cb(std::unexpected(DnsError::temporary));
            auto m =
                parse_dns_message(std::string_view(reinterpret_cast<const char*>(b), size_t(l)));
            // c-ares already retried SERVFAIL/REFUSED; what else is not an answer is temporary.
            if (!m || (m->rcode != dns_rcode::noerror && m->rcode != dns_rcode::nxdomain))
                return cb(std::unexpected(DnsError::temporary));
            cb(std::move(*m));
        });
}

}  // namespace postern
