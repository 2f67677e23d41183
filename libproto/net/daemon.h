#pragma once
// The scaffold every daemon runs on (see the team brief, "Daemon command line
// and lifecycle"):
//
//   <daemon> -c CONFIG [--ready-fd N] [--foreground]
//
//   1. load CONFIG (error: its one line on stderr, exit 2); log_setup; log its warnings;
//      umask 027. Started as root: find config.run_user, or refuse to serve as root
//      unless server.allow_root (run_user_for in privileges.h)
//   2. write RUN/<service>.pid and hold an flock on it ("already running (pid N)");
//      taken before binding so a second instance gets that message. Never through a
//      symlink, only a plain file of ours; the lock is on a read-only descriptor
//   3. load the TLS context if spec.tls (before dropping privileges)
//   4. as root: take the run user's groups, gid and euid (root stays saved), then
//      spec.setup(ctx): the daemon adds its listeners (bound on every config.listen
//      address, as root again for the bind) and opens what it needs, as the run user, so
//      whatever it creates belongs to that user
//   5. drop to the run user for good (real, effective and saved ids)
//   6. "READY\n" to the ready fd, then close it. Any failure in 1-5 (except a
//      config error) writes "ERROR <reason>\n" there and to stderr: exit 1
//   7. SIGTERM/SIGINT: close listeners, on_shutdown to every session and
//      spec.on_stop; the loop ends when sessions are gone, or after
//      config.shutdown_grace_seconds the rest are aborted; exit 0
//      SIGHUP: re-read CONFIG and the TLS files, then spec.reload(new config)
//   SIGPIPE is ignored.

#include <concepts>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "libproto/config/instance_config.h"
#include "libproto/net/connection.h"
#include "libproto/net/listener.h"
#include "libproto/net/tls.h"

namespace postern {

class PrivilegeDrop;

// What setup() uses to add listeners. Every listener of a daemon shares one
// ConnectionTracker (limits are per service).
class Registrar {
public:
    Registrar(uv_loop_t* loop, const InstanceConfig& config, const TlsServer* tls);
    ~Registrar();

    // Binds `port` on every config.listen address. `name` is for logs
    // ("imap", "imaps"). Error: one line naming the address.
    std::expected<void, std::string> listen(const std::string& name, uint16_t port,
                                            bool implicit_tls, const HandlerFactory& factory,
                                            const ConnectionOptions& options = {});
    // Caps and the refusal line for this service.
    void set_limits(ConnectionLimits limits) { tracker_.set_limits(std::move(limits)); }
    // listen() binds with root's effective uid back while `p` has it stashed (run_daemon).
    void set_privileges(const PrivilegeDrop* p) { privileges_ = p; }

    ConnectionTracker& connections() { return tracker_; }
    const std::vector<std::unique_ptr<Listener>>& listeners() const { return listeners_; }
    void stop_all();  // stop accepting

private:
    uv_loop_t* loop_;
    const InstanceConfig& config_;
    const TlsServer* tls_;
    const PrivilegeDrop* privileges_ = nullptr;
    ConnectionTracker tracker_;
    std::vector<std::unique_ptr<Listener>> listeners_;
};

// The config a daemon runs with: the shared part the scaffold reads (InstanceConfig), and a
// loader for the whole. The daemons use config/config.h's Config; the scaffold never sees
// more than its InstanceConfig base.
template <typename C>
concept DaemonConfig =
    std::derived_from<C, InstanceConfig> && requires(const std::filesystem::path& f) {
        { C::load(f) } -> std::same_as<std::expected<C, std::string>>;
    };

// What the scaffold hands setup(), besides the config.
struct DaemonResources {
    uv_loop_t* loop;
    Registrar& listeners;
    const TlsServer& tls;  // tls.available() is false unless spec.tls
    // Objects the daemon wants destroyed before the loop is torn down (its
    // state: anything holding uv handles, stores). Released in reverse order.
    std::vector<std::shared_ptr<void>> owned{};
};

template <DaemonConfig C>
struct DaemonContext {
    const C& config;  // as loaded at start-up; stays valid for the process lifetime
    uv_loop_t* loop;
    Registrar& listeners;
    const TlsServer& tls;                       // tls.available() is false unless spec.tls
    std::vector<std::shared_ptr<void>>& owned;  // see DaemonResources::owned
};

template <DaemonConfig C>
struct DaemonSpec {
    std::string service;  // "smtpd": log ident and RUN/smtpd.pid
    bool tls = true;      // load config.tls_cert / tls_key at start-up (error: exit 1)
    // Adds listeners, opens stores. Error text -> "ERROR <text>", exit 1.
    std::function<std::expected<void, std::string>(DaemonContext<C>&)> setup;
    // SIGHUP after the config was re-read successfully (the TLS context is
    // already swapped). The start-up config object is not modified.
    std::function<void(const C& fresh)> reload;
    // SIGTERM/SIGINT, after listeners stopped: stop timers/clients so the loop can end.
    std::function<void()> on_stop;
};

// The scaffold itself, on the shared part of the config (run_daemon below adapts a spec).
struct DaemonHooks {
    std::string service;
    bool tls = true;
    // Loads the whole config (kept alive by the pointer; the scaffold reads its base).
    std::function<std::expected<std::shared_ptr<const InstanceConfig>, std::string>(
        const std::filesystem::path&)>
        load;
    std::function<std::expected<void, std::string>(const InstanceConfig&, DaemonResources&)> setup;
    std::function<void(const InstanceConfig& fresh)> reload;
    std::function<void()> on_stop;
};
int run_daemon_hooks(int argc, char** argv, const DaemonHooks& hooks);

// The whole life of a daemon. Returns the process exit code (0, 1 or 2).
template <DaemonConfig C>
int run_daemon(int argc, char** argv, const DaemonSpec<C>& spec) {
    DaemonHooks h;
    h.service = spec.service;
    h.tls = spec.tls;
    h.load = [](const std::filesystem::path& file)
        -> std::expected<std::shared_ptr<const InstanceConfig>, std::string> {
        auto c = C::load(file);
        if (!c) return std::unexpected(std::move(c.error()));
        return std::make_shared<const C>(std::move(*c));
    };
    // The config objects were made by h.load, so they are C.
    if (spec.setup)
        h.setup = [&spec](const InstanceConfig& config, DaemonResources& r) {
            DaemonContext<C> ctx{static_cast<const C&>(config), r.loop, r.listeners, r.tls,
                                 r.owned};
            return spec.setup(ctx);
        };
    if (spec.reload)
        h.reload = [&spec](const InstanceConfig& fresh) {
            spec.reload(static_cast<const C&>(fresh));
        };
    h.on_stop = spec.on_stop;
    return run_daemon_hooks(argc, argv, h);
}

// --- pieces, exposed for tests and mailctl ---

// Opens (creating) `path`, takes an exclusive flock and writes our pid. Refuses a symlink
// and anything but a plain file owned by our euid. Returns the fd to hold open (read-only:
// the pid was written through another descriptor, already closed), or
// "already running (pid N)" / an error line.
std::expected<int, std::string> acquire_pid_file(const std::string& path);

// (Who to become and how: libproto/net/privileges.h.)

}  // namespace postern
