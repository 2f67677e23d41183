// imap_load: an IMAP load generator in the manner of Dovecot's imaptest, on one libuv loop
// (no thread per client), fast enough not to be the bottleneck of the servers it measures.
//
//   imap_load [--port P] [--tls] --clients N --seconds S [--mix ...]      the command mix
//   imap_load --select-cost FOLDER [--reps N]                             SELECT cost
//   imap_load --idle N --seconds S [--ready-file F]                       idle IDLE sessions
//
// Mix: each of --clients connections logs in (user from --user-fmt with first + i % users,
// or first + i without --users), SELECTs INBOX and then runs commands picked by weight
// (--mix flags=10,envelope=20,body=20,store=15,append=5,expunge=5,noop=23,idle=2):
//   flags     FETCH 1:* (FLAGS)              envelope  UID FETCH n:n+9 (ENVELOPE)
//   body      FETCH n BODY.PEEK[]            store     STORE n +FLAGS/-FLAGS (\Seen)
//   append    APPEND INBOX {~600}            expunge   UID STORE <own appends> +FLAGS.SILENT
//   noop      NOOP                                     (\Deleted), then EXPUNGE
//   idle      IDLE, DONE after --idle-ms or the first untagged response
// n is random in 1..--msgs (default: EXISTS at SELECT); the folder is expected to hold
// UIDs 1..N as populated. Measuring starts when every client has selected and lasts
// --seconds; then each client expunges what it appended and logs out, so the folder's size
// stays stable across runs. Every tagged status must be OK (NO/BAD: error, printed), FETCHes
// must return their FETCH lines, APPEND must answer [APPENDUID]; literals are skipped by
// their size. Report: per command count, per second, p50/p99/max latency, errors, untagged
// lines, as a table and with --json FILE|- as JSON. Exit status 1 on any error.
//
// --select-cost FOLDER: one connection; one warm-up round of SELECT FOLDER + UID FETCH 1:*
// (FLAGS), then --reps timed rounds. --idle N: N connections (--ramp set up at once) log in,
// SELECT and IDLE; when all are idle (or --open-seconds passed) it prints "ready ..." and
// creates --ready-file, holds them for --seconds, then DONE + LOGOUT.

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <uv.h>
#include <vector>

#include "imap_load/client.h"
#include "imap_load/options.h"
#include "imap_load/run.h"
#include "imap_load/tls_stream.h"

using namespace imap_load;

namespace {

double cpu_seconds() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

double since(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

Clock::duration secs(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

struct Driver {
    Driver(Run& r, std::vector<std::unique_ptr<Client>>& c) : run(r), clients(c) {}
    Run& run;
    std::vector<std::unique_ptr<Client>>& clients;
    Clock::time_point t0 = Clock::now();
    Clock::time_point hold_end{};
    double cpu0 = 0;
    bool ready = false;  // idle mode: all connections are in IDLE
    bool timed_out = false;
    double open_s = 0;

    bool all_finished() const {
        for (const auto& c : clients)
            if (!c->finished()) return false;
        return true;
    }

    void start_window(Clock::time_point now, double seconds) {
        run.measuring = true;
        run.window_start = now;
        run.deadline = now + secs(seconds);
        cpu0 = cpu_seconds();
    }

    void end_window(Clock::time_point now) {
        run.stats.window_s = since(run.window_start, std::min(now, run.deadline));
        run.stats.client_cpu = (cpu_seconds() - cpu0) / std::max(run.stats.window_s, 1e-3);
    }

    // Called every 50 ms: moves the run through its phases; stops the loop at the end.
    void tick() {
        auto now = Clock::now();
        const Options& o = run.opts;
        int n = static_cast<int>(clients.size());
        switch (o.mode) {
        case Mode::mix:
            if (!run.measuring && (run.set_up + run.failed >= n || since(t0, now) > 30))
                start_window(now, o.seconds);
            if (run.measuring && !run.stopping && now >= run.deadline) {
                end_window(now);
                run.stopping = true;
            }
            if (run.stopping && all_finished()) return stop();
            if (run.stopping && now > run.deadline + std::chrono::seconds(60)) return give_up();
            break;
        case Mode::select_cost:
            if (all_finished()) {
                end_window(now);
                return stop();
            }
            if (since(t0, now) > 3600) return give_up();
            break;
        case Mode::idle_hold:
            if (!ready && (run.set_up + run.failed >= n || since(t0, now) > o.open_seconds)) {
                ready = true;
                open_s = since(t0, now);
                hold_end = now + secs(o.seconds);
                std::printf("ready idle=%d failed=%d open_s=%.1f\n", run.set_up, run.failed,
                            open_s);
                std::fflush(stdout);
                if (!o.ready_file.empty())
                    if (FILE* f = std::fopen(o.ready_file.c_str(), "w")) std::fclose(f);
            }
            if (ready && !run.releasing && now >= hold_end) {
                end_window(now);
                run.releasing = true;
                run.waiting.clear();
                hold_end = now;
                for (auto& c : clients) c->release_idle();
            }
            if (run.releasing && all_finished()) return stop();
            if (run.releasing && now > hold_end + std::chrono::seconds(60)) return give_up();
            break;
        }
    }

    void give_up() {
        ++run.stats.errors;
        std::fprintf(stderr, "imap_load: clients still busy after the time limit; stopping\n");
        timed_out = true;
        stop();
    }

    void stop() { uv_stop(run.loop); }
};

void raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options opts = parse_options(argc, argv);
    raise_fd_limit();
    uv_loop_t* loop = uv_default_loop();
    Run run(opts, loop);
    if (opts.tls && !(run.ssl = TlsStream::client_context())) return 2;

    std::vector<std::unique_ptr<Client>> clients;
    clients.reserve(static_cast<size_t>(opts.clients));
    for (int i = 0; i < opts.clients; ++i) {
        clients.push_back(std::make_unique<Client>(run, i));
        run.waiting.push_back(clients.back().get());
    }
    Driver d(run, clients);
    if (opts.mode != Mode::mix) d.start_window(d.t0, 1e9);
    run.kick();

    uv_timer_t tick{};
    uv_timer_init(loop, &tick);
    tick.data = &d;
    uv_timer_start(
        &tick, [](uv_timer_t* t) { static_cast<Driver*>(t->data)->tick(); }, 50, 50);
    uv_run(loop, UV_RUN_DEFAULT);

    const char* title = opts.mode == Mode::mix           ? "mix"
                        : opts.mode == Mode::select_cost ? "select-cost"
                                                         : "idle";
    char head[512];
    std::snprintf(head, sizeof head, "imap_load %s clients=%d%s port=%u", title, opts.clients,
                  opts.tls ? " tls" : "", static_cast<unsigned>(opts.port));
    print_table(run.stats, head, opts.mode == Mode::mix);
    std::string extra = "\"mode\":\"" + std::string(title) +
                        "\",\"clients\":" + std::to_string(opts.clients) +
                        ",\"tls\":" + (opts.tls ? "true" : "false");
    if (opts.mode == Mode::idle_hold) {
        char buf[128];
        std::snprintf(buf, sizeof buf, ",\"idle\":%d,\"failed\":%d,\"open_s\":%.2f", run.set_up,
                      run.failed, d.open_s);
        extra += buf;
    }
    if (!opts.json.empty() && !write_json(run.stats, opts.json, extra)) {
        std::perror("imap_load: --json");
        return 2;
    }
    bool bad = run.stats.errors > 0 || (opts.mode == Mode::idle_hold && run.failed > 0);
    return bad ? 1 : 0;
}
