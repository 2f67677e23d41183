#include "libproto/net/daemon.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

#include "libproto/core/log.h"
#include "libproto/net/loop.h"
#include "libproto/net/privileges.h"
#include "libproto/core/safe_files.h"
#include "libproto/net/signals.h"
#include "libproto/net/uv_handle.h"

namespace postern {

// --- Registrar ---

Registrar::Registrar(uv_loop_t* loop, const InstanceConfig& config, const TlsServer* tls)
    : loop_(loop), config_(config), tls_(tls) {}

Registrar::~Registrar() { stop_all(); }

std::expected<void, std::string> Registrar::listen(const std::string& name, uint16_t port,
                                                   bool implicit_tls, const HandlerFactory& factory,
                                                   const ConnectionOptions& options) {
    for (const auto& addr : config_.listen) {
        ListenerSpec spec{addr, port, implicit_tls, name, options, factory};
        std::optional<PrivilegeDrop::RootScope> root;  // low ports need root for the bind
        if (privileges_) root.emplace(privileges_);
        auto l = Listener::open(loop_, std::move(spec), tracker_, tls_);
        root.reset();
        if (!l) return std::unexpected(l.error());
        log_msg(LogLevel::info, "%s: listening on %s%s%s:%u%s", name.c_str(),
                addr.find(':') != std::string::npos ? "[" : "", addr.c_str(),
                addr.find(':') != std::string::npos ? "]" : "", (*l)->port(),
                implicit_tls ? " (TLS)" : "");
        listeners_.push_back(std::move(*l));
    }
    return {};
}

void Registrar::stop_all() {
    for (auto& l : listeners_) l->stop();
}

// --- run_daemon ---

namespace {

struct Args {
    std::string config;
    int ready_fd = -1;
};

std::expected<Args, std::string> parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::expected<std::string, std::string> {
            if (i + 1 >= argc) return std::unexpected(std::string(arg) + " needs a value");
            return std::string(argv[++i]);
        };
        if (arg == "-c" || arg == "--config") {
            auto v = value();
            if (!v) return std::unexpected(v.error());
            a.config = *v;
        } else if (arg == "--ready-fd") {
            auto v = value();
            if (!v) return std::unexpected(v.error());
            char* end = nullptr;
            long fd = std::strtol(v->c_str(), &end, 10);
            if (v->empty() || *end || fd < 0 || fd > 65535 || fcntl(int(fd), F_GETFD) < 0)
                return std::unexpected("--ready-fd: not an open file descriptor: " + *v);
            a.ready_fd = static_cast<int>(fd);
        } else if (arg == "--foreground") {
            // always in the foreground; accepted for symmetry with mailctl
        } else {
            return std::unexpected("unknown argument: " + std::string(arg));
        }
    }
    return a;
}

void ready_line(int& fd, const std::string& line) {
    if (fd < 0) return;
    std::string s = line + "\n";
    ssize_t r;
    do r = ::write(fd, s.data(), s.size());
    while (r < 0 && errno == EINTR);
    ::close(fd);
    fd = -1;
}

int fail_startup(int& ready_fd, const std::string& service, const std::string& why) {
    std::fprintf(stderr, "%s: %s\n", service.c_str(), why.c_str());
    ready_line(ready_fd, "ERROR " + why);
    return 1;
}

// Graceful stop: listeners closed, sessions told, loop left to drain.
struct Stopper {
    uv_loop_t* loop;
    const InstanceConfig& config;
    const DaemonHooks& spec;
    Registrar& reg;
    std::vector<SignalWatcher*> watchers;
    std::unique_ptr<Timer> grace;
    bool stopping = false;

    void stop(int sig) {
        if (stopping) {  // a second signal: do not wait any longer
            reg.connections().abort_all();
            return;
        }
        stopping = true;
        log_msg(LogLevel::info, "signal %d: stopping, %zu sessions, grace %us", sig,
                reg.connections().count(), config.shutdown_grace_seconds);
        reg.stop_all();
        reg.connections().notify_shutdown();
        if (spec.on_stop) spec.on_stop();
        for (auto* w : watchers) w->unref();  // the loop ends when the sessions are gone
        grace = std::make_unique<Timer>(loop);
        grace->start(uint64_t(config.shutdown_grace_seconds) * 1000, [this] {
            log_msg(LogLevel::info, "grace period over: closing %zu sessions",
                    reg.connections().count());
            reg.connections().abort_all();
            // Whatever else the daemon left running gets one more second.
            grace->start(1000, [this] { uv_stop(loop); });
        });
        grace->unref();
    }
};

void reload(const std::filesystem::path& file, const DaemonHooks& spec, TlsServer& tls) {
    auto fresh = spec.load(file);
    if (!fresh) {
        log_msg(LogLevel::error, "reload: %s (keeping the running configuration)",
                fresh.error().c_str());
        return;
    }
    if (spec.tls) {
        if (auto r = tls.load((*fresh)->tls_cert, (*fresh)->tls_key); !r)
            log_msg(LogLevel::error, "reload: %s (keeping the current certificate)",
                    r.error().c_str());
    }
    log_msg(LogLevel::info, "reloaded %s", file.c_str());
    if (spec.reload) spec.reload(**fresh);
}

}  // namespace

int run_daemon_hooks(int argc, char** argv, const DaemonHooks& spec) {
    auto args = parse_args(argc, argv);
    if (!args) {
        std::fprintf(stderr, "%s: %s\nusage: %s -c CONFIG [--ready-fd N] [--foreground]\n",
                     spec.service.c_str(), args.error().c_str(), spec.service.c_str());
        return 2;
    }
    int ready_fd = args->ready_fd;
    if (ready_fd >= 0) fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
    auto config_path = default_config_path(args->config);
    auto loaded = spec.load(config_path);
    if (!loaded) {
        std::fprintf(stderr, "%s\n", loaded.error().c_str());
        ready_line(ready_fd, "ERROR " + loaded.error());
        return 2;
    }
    const std::shared_ptr<const InstanceConfig> whole = std::move(*loaded);
    const InstanceConfig& config = *whole;
    log_setup(spec.service, config.log.target, config.log.level);
    for (const auto& w : config.warnings) log_msg(LogLevel::warning, "%s", w.c_str());
    ignore_sigpipe();
    ::umask(027);  // whatever the caller's: nothing we create is for everyone

    auto run_as = run_user_for(config);
    if (!run_as) return fail_startup(ready_fd, spec.service, run_as.error());
    PrivilegeDrop privileges(*run_as);

    // The lock comes first so a second instance says "already running"
    // rather than "address already in use". A run directory made here is the run user's
    // (spoold binds its wake socket there after the switch).
    if (auto made = make_dir(config.run_dir, 0750, *run_as ? (*run_as)->uid : uid_t(-1),
                             *run_as ? (*run_as)->gid : gid_t(-1));
        !made)
        return fail_startup(ready_fd, spec.service, made.error());
    std::string pid_path = (config.run_dir / (spec.service + ".pid")).string();
    auto pid_fd = acquire_pid_file(pid_path);
    if (!pid_fd) return fail_startup(ready_fd, spec.service, pid_fd.error());
    auto fail = [&](const std::string& why) {
        ::unlink(pid_path.c_str());  // ours: we hold the lock
        ::close(*pid_fd);
        return fail_startup(ready_fd, spec.service, why);
    };

    EventLoop loop;  // declared before everything that holds a handle: destroyed last
    TlsServer tls;
    if (spec.tls) {
        if (auto r = tls.load(config.tls_cert, config.tls_key); !r) return fail(r.error());
    }
    Registrar reg(loop.get(), config, &tls);
    reg.set_privileges(&privileges);
    DaemonResources ctx{loop.get(), reg, tls};
    if (auto r = privileges.enter(); !r) return fail(r.error());
    if (spec.setup) {
        if (auto r = spec.setup(config, ctx); !r) return fail(r.error());
    }
    if (auto r = privileges.finish(); !r) return fail(r.error());
    reg.set_privileges(nullptr);

    Stopper stopper{loop.get(), config, spec, reg, {}, nullptr};
    SignalWatcher term(loop.get(), SIGTERM, [&](int s) { stopper.stop(s); });
    SignalWatcher intr(loop.get(), SIGINT, [&](int s) { stopper.stop(s); });
    SignalWatcher hup(loop.get(), SIGHUP, [&](int) { reload(config.file, spec, tls); });
    stopper.watchers = {&term, &intr, &hup};

    log_msg(LogLevel::info, "%s ready (pid %d)", spec.service.c_str(), int(getpid()));
    ready_line(ready_fd, "READY");
    loop.run();

    // Tear down in order: sessions, the daemon's state, then the loop.
    reg.stop_all();
    reg.connections().abort_all();
    for (int i = 0; i < 3; ++i) uv_run(loop.get(), UV_RUN_NOWAIT);  // sessions freed
    while (!ctx.owned.empty()) ctx.owned.pop_back();
    stopper.grace.reset();
    for (int i = 0; i < 3; ++i) uv_run(loop.get(), UV_RUN_NOWAIT);
    ::unlink(pid_path.c_str());
    ::close(*pid_fd);
    log_msg(LogLevel::info, "%s stopped", spec.service.c_str());
    return 0;
}

}  // namespace postern
