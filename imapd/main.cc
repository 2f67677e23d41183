// imapd: the IMAP daemon (RFC 3501 / 9051, docs/imap.md) on the shared daemon scaffold.
// Listens on imapd.port (STARTTLS) and imapd.tls_port (implicit TLS). Every store call of a
// session runs on the thread pool (DaemonBackend::run_blocking).

#include <algorithm>
#include <memory>

#include "config/config.h"
#include "imapd/daemon_backend.h"
#include "imapd/imap_connection.h"
#include "libmailstore/accounts.h"
#include "libmailstore/store_factory.h"
#include "libproto/auth/auth_budget.h"
#include "libproto/config/instance_secret.h"
#include "libproto/core/log.h"
#include "libproto/net/daemon.h"
#include "libproto/net/loop.h"

namespace postern {
namespace {

struct Imapd {
    std::shared_ptr<DaemonBackend> backend;
    std::shared_ptr<AuthBudget> auth_budget;  // failed logins across sessions ([auth])
    ImapdConfig policy;                       // current imapd settings (SIGHUP replaces)
    std::string hostname;
    const TlsServer* tls = nullptr;
};

Imapd& state() {
    static Imapd s;
    return s;
}

ImapSessionOptions session_options() {
    const Imapd& s = state();
    ImapSessionOptions o;
    o.hostname = s.hostname;
    o.plaintext_auth = s.policy.allow_plaintext_auth;
    o.auth_budget = s.auth_budget.get();
    return o;
}

HandlerFactory factory() {
    return [](Connection& c) -> std::unique_ptr<ConnectionHandler> {
        Imapd& s = state();
        std::function<SslCtxPtr()> tls_ctx;
        if (s.tls != nullptr && s.tls->available())
            tls_ctx = [] { return state().tls ? state().tls->current() : nullptr; };
        return std::make_unique<ImapConnection>(c, *s.backend, session_options(),
                                                std::move(tls_ctx));
    };
}

ConnectionOptions connection_options(const ImapdConfig& ic) {
    ConnectionOptions o;
    // RFC 9051 5.4: the autologout timer is at least 30 minutes (IDLE included).
    o.idle_timeout_ms = uint64_t(ic.idle_timeout_seconds) * 1000;
    o.lines.max_line = 64 * 1024;  // only before raw mode takes over
    return o;
}

std::expected<void, std::string> setup(DaemonContext<Config>& ctx) {
    Imapd& s = state();
    const Config& cfg = ctx.config;
    const ImapdConfig& ic = cfg.imapd;
    s.policy = ic;
    s.hostname = cfg.hostname;
    s.tls = &ctx.tls;

    auto mail = open_mail_data(
        cfg.data_dir, {cfg.store.backend, cfg.store.disk_reserve_bytes, cfg.store.lmdb_map_size});
    if (!mail) return std::unexpected(mail.error());
    auto secret = read_instance_secret(cfg);
    if (!secret) return std::unexpected(secret.error());
    s.auth_budget = std::make_shared<AuthBudget>(cfg.auth, loop_clock(ctx.loop));
    s.backend =
        std::make_shared<DaemonBackend>(ctx.loop, std::move(mail->accounts), std::move(mail->store),
                                        cfg.hostname, std::move(*secret));
    // Destroyed before the loop (the backend holds a uv handle).
    ctx.owned.push_back(s.backend);

    ctx.listeners.set_limits({ic.max_connections, ic.max_connections_per_ip,
                              "* BYE Too many connections, try again later\r\n"});
    auto opts = connection_options(ic);
    if (auto r = ctx.listeners.listen("imap", ic.port, false, factory(), opts); !r) return r;
    if (ctx.tls.available()) {
        if (auto r = ctx.listeners.listen("imaps", ic.tls_port, true, factory(), opts); !r)
            return r;
    }
    log_msg(LogLevel::info, "imapd ready: imap port %u, imaps port %u", ic.port, ic.tls_port);
    return {};
}

void reload(const Config& fresh) {
    Imapd& s = state();
    // Policy applies to new connections; ports need a restart.
    s.policy = fresh.imapd;
    if (s.auth_budget) s.auth_budget->set_config(fresh.auth);
    log_msg(LogLevel::info, "configuration reloaded");
}

}  // namespace
}  // namespace postern

int main(int argc, char** argv) {
    postern::DaemonSpec<postern::Config> spec;
    spec.service = "imapd";
    spec.tls = true;
    spec.setup = postern::setup;
    spec.reload = postern::reload;
    spec.on_stop = [] {};
    return postern::run_daemon(argc, argv, spec);
}
