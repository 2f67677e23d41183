// pop3d: the POP3 daemon (RFC 1939 + CAPA, STLS, SASL) on the shared daemon
// scaffold. Listens on pop3d.port (STLS) and pop3d.tls_port (implicit TLS).

#include <memory>

#include "config/config.h"
#include "libmailstore/accounts.h"
#include "libmailstore/store_factory.h"
#include "libmailstore/store.h"
#include "libproto/net/daemon.h"
#include "libproto/core/log.h"
#include "libproto/auth/login_guard.h"
#include "libproto/net/loop.h"
#include "libproto/config/instance_secret.h"
#include "pop3d/pop3_connection.h"
#include "pop3d/store_maildrop.h"

namespace postern {
namespace {

struct Pop3d {
    std::unique_ptr<StoreBackend> backend;
    std::unique_ptr<AuthBudget> auth_budget;  // failed logins across sessions ([auth])
    Pop3dConfig policy;                       // current pop3d settings (SIGHUP replaces)
    std::string hostname;
    const TlsServer* tls = nullptr;
};

Pop3d& state() {
    static Pop3d s;
    return s;
}

Pop3SessionOptions session_options(const Connection& c, bool implicit_tls) {
    const Pop3d& s = state();
    Pop3SessionOptions o;
    o.hostname = s.hostname;
    o.tls_active = implicit_tls;
    o.tls_available = s.tls && s.tls->available();
    o.plaintext_without_tls = s.policy.allow_plaintext_auth ||
                              (s.policy.allow_plaintext_on_loopback && is_loopback(c.peer().ip));
    o.max_auth_failures = s.policy.max_auth_failures;
    o.auth_budget = s.auth_budget.get();
    o.client_ip = c.peer().ip;
    return o;
}

HandlerFactory factory(bool implicit_tls) {
    return [implicit_tls](Connection& c) -> std::unique_ptr<ConnectionHandler> {
        Pop3d& s = state();
        return std::make_unique<Pop3Connection>(
            c, *s.backend, session_options(c, implicit_tls),
            [] { return state().tls ? state().tls->current() : nullptr; }, s.backend.get());
    };
}

ConnectionOptions connection_options(const Pop3dConfig& p) {
    ConnectionOptions o;
    o.lines.max_line = pop3_max_sasl_line;
    // RFC 1939 3: the autologout timer is at least 10 minutes.
    o.idle_timeout_ms = uint64_t(std::max<uint32_t>(p.idle_timeout_seconds, 600)) * 1000;
    return o;
}

std::expected<void, std::string> setup(DaemonContext<Config>& ctx) {
    Pop3d& s = state();
    const Config& cfg = ctx.config;
    s.policy = cfg.pop3d;
    s.hostname = cfg.hostname;
    s.tls = &ctx.tls;

    auto mail = open_mail_data(
        cfg.data_dir, {cfg.store.backend, cfg.store.disk_reserve_bytes, cfg.store.lmdb_map_size});
    if (!mail) return std::unexpected(mail.error());
    s.auth_budget = std::make_unique<AuthBudget>(cfg.auth, loop_clock(ctx.loop));
    auto secret = read_instance_secret(cfg);
    if (!secret) return std::unexpected(secret.error());
    s.backend = std::make_unique<StoreBackend>(std::move(mail->accounts), std::move(mail->store),
                                               cfg.hostname, std::move(*secret));
    s.backend->set_allow_concurrent(cfg.pop3d.allow_concurrent_sessions);

    ctx.listeners.set_limits({cfg.pop3d.max_connections, cfg.pop3d.max_connections_per_ip,
                              "-ERR [SYS/TEMP] Too many connections, try again later\r\n"});
    auto opts = connection_options(cfg.pop3d);
    if (auto r = ctx.listeners.listen("pop3", cfg.pop3d.port, false, factory(false), opts); !r)
        return r;
    if (ctx.tls.available()) {
        if (auto r = ctx.listeners.listen("pop3s", cfg.pop3d.tls_port, true, factory(true), opts);
            !r)
            return r;
    }
    log_msg(LogLevel::info, "pop3d ready: pop3 port %u, pop3s port %u", cfg.pop3d.port,
            cfg.pop3d.tls_port);
    return {};
}

void reload(const Config& fresh) {
    Pop3d& s = state();
    // Policy applies to new connections; ports need a restart.
    s.policy = fresh.pop3d;
    if (s.backend) s.backend->set_allow_concurrent(fresh.pop3d.allow_concurrent_sessions);
    if (s.auth_budget) s.auth_budget->set_config(fresh.auth);
    log_msg(LogLevel::info, "configuration reloaded");
}

}  // namespace
}  // namespace postern

int main(int argc, char** argv) {
    postern::DaemonSpec<postern::Config> spec;
    spec.service = "pop3d";
    spec.tls = true;
    spec.setup = postern::setup;
    spec.reload = postern::reload;
    spec.on_stop = [] {};
    return postern::run_daemon(argc, argv, spec);
}
