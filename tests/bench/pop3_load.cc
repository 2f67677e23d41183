// pop3_load: a POP3 load generator that is not the bottleneck. One thread, one epoll set,
// --conc non-blocking connections, each running fixed sessions back to back:
//
//   retr   greeting, USER, PASS, STAT, RETR 1..n (every message, one at a time), QUIT
//   login  greeting, USER, PASS, QUIT
//
// Connection i logs in as the user made from --user-fmt with (first + i % users), so at
// conc <= users every maildrop has at most one session (Postern answers a second one
// with [IN-USE] by default). Sessions start until --secs have passed; the ones under way
// then finish, and rates are taken over the time until the last one ended. Any -ERR, a
// connection that breaks, or a RETR whose octets disagree with STAT is an error: it is
// printed (the first few) and the exit status is 1. No DELE: runs are repeatable.
//
// --once: every user of the range gets exactly one session instead (sessions take the users
// in order, --conc at a time, so no two sessions share a maildrop), and the rate is over
// the time until the last session ended (the pass must end within --secs + 60 s). On fresh
// mailboxes this is the first-read pass: every RETR is the message's first.
//
// Output, one line:  mode=retr conc=10 secs=10.02 sessions=… errors=0 sessions_per_s=…
//   logins_per_s=… msgs_per_s=… MB_per_s=… p50_ms=… p99_ms=… client_cpu=…%
// Loopback benchmarking only: the client closes with RST (SO_LINGER 0) after QUIT's +OK so
// tens of thousands of short sessions do not exhaust ephemeral ports in TIME_WAIT.

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::string host = "127.0.0.1";
    uint16_t port = 110;
    std::string mode = "retr";
    std::string user_fmt = "u%d@bench.test";
    std::string password = "pass";
    int first = 1;
    int users = 100;
    int conc = 10;
    double secs = 10;
    bool once = false;
    int max_errors_shown = 5;
};

enum class Step { connecting, greeting, user, pass, stat, retr_status, retr_body, quit };

struct Conn {
    int fd = -1;
    int index = 0;
    Step step = Step::connecting;
    std::string user;
    std::string in;
    size_t scan = 0;        // where the terminator search resumes in `in`
    size_t body_start = 0;  // first octet after the RETR status line
    uint32_t count = 0;     // messages from STAT
    uint64_t stat_octets = 0;
    uint32_t next = 0;        // next message number to RETR
    uint64_t got_octets = 0;  // unstuffed octets received in this session
    Clock::time_point started;
};

struct Stats {
    uint64_t sessions = 0, logins = 0, msgs = 0, bytes = 0, errors = 0;
    std::vector<double> latency_ms;
};

Options opts;
Stats stats;
int ep = -1;
bool stopping = false;
Clock::time_point last_end;
std::vector<Conn*> restart;  // closed connections whose next session starts after this batch
int next_user = 0;           // --once: index of the next user to start a session for

void fail(Conn& c, const std::string& what);

void send_line(Conn& c, std::string_view text) {
    std::string line(text);
    line += "\r\n";
    // Commands are tiny: a loopback socket always has room for them.
    ssize_t n;
    do {
        n = ::send(c.fd, line.data(), line.size(), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(line.size()))
        fail(c, "send failed: " + std::string(strerror(errno)));
}

void close_conn(Conn& c, bool reset) {
    if (c.fd < 0) return;
    if (reset) {
        linger l{1, 0};
        ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
}

void fail(Conn& c, const std::string& what) {
    ++stats.errors;
    if (stats.errors <= static_cast<uint64_t>(opts.max_errors_shown))
        std::fprintf(stderr, "pop3_load: error (%s, step %d): %s\n", c.user.c_str(),
                     static_cast<int>(c.step), what.c_str());
    close_conn(c, true);
    if (!stopping) restart.push_back(&c);
}

// The user of connection c's next session; false in --once mode when every user had one.
bool pick_user(Conn& c) {
    int i = c.index;
    if (opts.once) {
        if (next_user >= opts.users) return false;
        i = next_user++;
    }
    char name[256];
    std::snprintf(name, sizeof name, opts.user_fmt.c_str(), opts.first + i % opts.users);
    c.user = name;
    return true;
}

void start_session(Conn& c) {
    if (!pick_user(c)) return;
    c.in.clear();
    c.scan = 0;
    c.count = 0;
    c.next = 0;
    c.got_octets = 0;
    c.stat_octets = 0;
    c.step = Step::connecting;
    c.started = Clock::now();
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        std::perror("socket");
        std::exit(2);
    }
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(opts.port);
    ::inet_pton(AF_INET, opts.host.c_str(), &sa.sin_addr);
    int r = ::connect(c.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    if (r < 0 && errno != EINPROGRESS) {
        int e = errno;
        ::close(c.fd);
        c.fd = -1;
        ++stats.errors;
        std::fprintf(stderr, "pop3_load: connect: %s\n", strerror(e));
        std::exit(2);
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = &c;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
}

void session_done(Conn& c) {
    close_conn(c, true);
    auto now = Clock::now();
    ++stats.sessions;
    stats.latency_ms.push_back(std::chrono::duration<double, std::milli>(now - c.started).count());
    last_end = now;
    if (!stopping) restart.push_back(&c);
}

// Takes one CRLF line off the front of c.in; false when none is complete yet.
bool take_line(Conn& c, std::string& line) {
    size_t p = c.in.find("\r\n");
    if (p == std::string::npos) return false;
    line.assign(c.in, 0, p);
    c.in.erase(0, p + 2);
    return true;
}

void send_retr(Conn& c) {
    c.step = Step::retr_status;
    send_line(c, "RETR " + std::to_string(c.next));
}

// Consumes what has arrived; returns false when the connection was closed meanwhile.
bool advance(Conn& c) {
    std::string line;
    for (;;) {
        if (c.fd < 0) return false;
        if (c.step == Step::retr_body) {
            // The multi-line body ends with CRLF "." CRLF; the status line's CRLF is kept
            // in front of the body so an empty message ("+OK\r\n.\r\n") is found too.
            size_t from =
                std::max(c.scan, c.body_start) - (std::max(c.scan, c.body_start) >= 2 ? 2 : 0);
            size_t p = c.in.find("\r\n.\r\n", from);
            if (p == std::string::npos) {
                c.scan = c.in.size() >= 4 ? c.in.size() - 3 : 0;
                return true;
            }
            // Unstuffed size: body octets minus one per stuffed leading dot.
            uint64_t octets = p + 2 - c.body_start;
            for (size_t q = c.in.find("\r\n..", c.body_start - 2); q != std::string::npos && q < p;
                 q = c.in.find("\r\n..", q + 2))
                --octets;
            c.got_octets += octets;
            stats.bytes += p + 5 - c.body_start;
            ++stats.msgs;
            c.in.erase(0, p + 5);
            c.scan = 0;
            if (c.next < c.count) {
                ++c.next;
                send_retr(c);
            } else {
                if (c.got_octets != c.stat_octets) {
                    fail(c, "RETR octets " + std::to_string(c.got_octets) + " != STAT octets " +
                                std::to_string(c.stat_octets));
                    return false;
                }
                c.step = Step::quit;
                send_line(c, "QUIT");
            }
            continue;
        }
        if (!take_line(c, line)) return true;
        if (!line.starts_with("+OK")) {
            fail(c, "got \"" + line.substr(0, 200) + "\"");
            return false;
        }
        switch (c.step) {
        case Step::connecting:
        case Step::greeting:
            c.step = Step::user;
            send_line(c, "USER " + c.user);
            break;
        case Step::user:
            c.step = Step::pass;
            send_line(c, "PASS " + opts.password);
            break;
        case Step::pass:
            ++stats.logins;
            if (opts.mode == "login") {
                c.step = Step::quit;
                send_line(c, "QUIT");
            } else {
                c.step = Step::stat;
                send_line(c, "STAT");
            }
            break;
        case Step::stat: {
            unsigned long n = 0;
            unsigned long long oct = 0;
            if (std::sscanf(line.c_str(), "+OK %lu %llu", &n, &oct) != 2) {
                fail(c, "bad STAT reply \"" + line + "\"");
                return false;
            }
            c.count = static_cast<uint32_t>(n);
            c.stat_octets = oct;
            if (c.count == 0) {
                fail(c, "empty maildrop: populate it first");
                return false;
            }
            c.next = 1;
            send_retr(c);
            break;
        }
        case Step::retr_status:
            c.step = Step::retr_body;
            // Keep the status line's CRLF in front of the body for the terminator search.
            c.in.insert(0, "\r\n");
            c.body_start = 2;
            c.scan = 0;
            break;
        case Step::quit: session_done(c); return false;
        case Step::retr_body: break;
        }
    }
}

void on_event(Conn& c, uint32_t events) {
    if (c.fd < 0) return;  // closed earlier in this batch
    if (c.step == Step::connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            fail(c, std::string("connect: ") + strerror(err));
            return;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = &c;
        ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        c.step = Step::greeting;
        if (!(events & EPOLLIN)) return;
    }
    char buf[256 * 1024];
    for (;;) {
        ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n > 0) {
            c.in.append(buf, static_cast<size_t>(n));
            if (static_cast<size_t>(n) < sizeof buf) break;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        fail(c, n == 0 ? "server closed the connection" : std::string("recv: ") + strerror(errno));
        return;
    }
    advance(c);
}

void usage() {
    std::fprintf(
        stderr,
        "usage: pop3_load [--host H] [--port P] [--mode retr|login] [--conc N] [--secs S]\n"
        "                 [--user-fmt 'u%%d@bench.test'] [--first N] [--users N] [--password P]\n"
        "                 [--once]\n");
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--host")
            opts.host = val();
        else if (a == "--port")
            opts.port = static_cast<uint16_t>(std::stoi(val()));
        else if (a == "--mode")
            opts.mode = val();
        else if (a == "--conc")
            opts.conc = std::stoi(val());
        else if (a == "--secs")
            opts.secs = std::stod(val());
        else if (a == "--user-fmt")
            opts.user_fmt = val();
        else if (a == "--first")
            opts.first = std::stoi(val());
        else if (a == "--users")
            opts.users = std::stoi(val());
        else if (a == "--password")
            opts.password = val();
        else if (a == "--once")
            opts.once = true;
        else
            usage();
    }
    if ((opts.mode != "retr" && opts.mode != "login") || opts.conc < 1 || opts.users < 1 ||
        opts.user_fmt.find("%d") == std::string::npos)
        usage();

    ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<Conn> conns(static_cast<size_t>(opts.conc));
    rusage ru0{};
    ::getrusage(RUSAGE_SELF, &ru0);
    auto t0 = Clock::now();
    auto deadline =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opts.secs));
    last_end = t0;
    for (int i = 0; i < opts.conc; ++i) {
        Conn& c = conns[static_cast<size_t>(i)];
        c.index = i;
        start_session(c);
    }
    std::vector<epoll_event> evs(1024);
    for (;;) {
        auto now = Clock::now();
        if (!stopping && (opts.once ? next_user >= opts.users : now >= deadline)) stopping = true;
        if (stopping &&
            std::none_of(conns.begin(), conns.end(), [](const Conn& c) { return c.fd >= 0; }))
            break;
        // Bounded in both modes (--once: the whole pass must end within --secs + 60 s).
        if (now >= deadline + std::chrono::seconds(60)) {
            std::fprintf(stderr, "pop3_load: sessions still running 60 s after --secs\n");
            ++stats.errors;
            break;
        }
        int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
        if (n < 0 && errno != EINTR) {
            std::perror("epoll_wait");
            return 2;
        }
        for (int k = 0; k < n; ++k)
            on_event(*static_cast<Conn*>(evs[static_cast<size_t>(k)].data.ptr),
                     evs[static_cast<size_t>(k)].events);
        // Started only now, so a stale event of this batch never reaches a new connection.
        for (Conn* c : restart)
            if (!stopping) start_session(*c);
        restart.clear();
    }
    rusage ru1{};
    ::getrusage(RUSAGE_SELF, &ru1);
    double el =
        std::chrono::duration<double>((opts.once ? last_end : std::max(last_end, deadline)) - t0)
            .count();
    auto tv = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    double cpu = (tv(ru1.ru_utime) - tv(ru0.ru_utime) + tv(ru1.ru_stime) - tv(ru0.ru_stime)) / el;
    auto& lat = stats.latency_ms;
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) {
        return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, size_t(p * double(lat.size())))];
    };
    std::printf(
        "mode=%s conc=%d secs=%.2f sessions=%llu errors=%llu sessions_per_s=%.1f "
        "logins_per_s=%.1f msgs_per_s=%.0f MB_per_s=%.1f p50_ms=%.2f p99_ms=%.2f "
        "client_cpu=%.0f%%\n",
        opts.mode.c_str(), opts.conc, el, static_cast<unsigned long long>(stats.sessions),
        static_cast<unsigned long long>(stats.errors), double(stats.sessions) / el,
        double(stats.logins) / el, double(stats.msgs) / el, double(stats.bytes) / el / 1e6,
        pct(0.5), pct(0.99), cpu * 100);
    return stats.errors ? 1 : 0;
}
