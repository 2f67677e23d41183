// smtpd: the receiving SMTP daemon on the shared scaffold. Listeners:
// smtpd.mx_port (MX: local recipients, relay only for trusted clients),
// smtpd.submission_port (STARTTLS + AUTH before MAIL, RFC 6409) and
// smtpd.smtps_port (implicit TLS submission, RFC 8314).

#include <cstdlib>
#include <memory>

#include "config/config.h"
#include "libmailstore/accounts.h"
#include "libmailstore/store_factory.h"
#include "libmailstore/queue/queue.h"
#include "libmailstore/store.h"
#include "libproto/net/daemon.h"
#include "libproto/core/log.h"
#include "libproto/auth/login_guard.h"
#include "libproto/net/loop.h"
#include "libproto/config/instance_secret.h"
#include "smtpd/smtp_connection.h"
#include "smtpd/smtp_policy.h"

namespace postern {
namespace {

struct Smtpd {
    std::unique_ptr<SmtpPolicy> policy;
    std::unique_ptr<AuthBudget> auth_budget;  // failed logins across sessions ([auth])
    SmtpdConfig settings;                     // current smtpd settings (SIGHUP replaces)
    std::string hostname;
    const TlsServer* tls = nullptr;
};

Smtpd& state() {
    static Smtpd s;
    return s;
}

SmtpSessionConfig session_config(SmtpListenerKind kind) {
    const Smtpd& s = state();
    SmtpSessionConfig c;
    c.hostname = s.hostname;
    c.kind = kind;
    c.max_message_size = s.settings.max_message_size;
    c.max_recipients = s.settings.max_recipients;
    c.max_bad_commands = s.settings.max_bad_commands;
    c.max_auth_failures = s.settings.max_auth_failures;
    c.auth_budget = s.auth_budget.get();
    c.tls_available = s.tls && s.tls->available();
    c.auth_enabled = listener_offers_auth(kind, s.settings.auth_on_mx);
    c.allow_plaintext_auth = s.settings.allow_plaintext_auth;
    c.cram_md5 = false;  // needs plaintext secrets, which the store does not keep
    c.vrfy = s.settings.vrfy;
    c.min_data_rate = s.settings.min_data_rate;
    c.data_grace_seconds = s.settings.timeout_seconds;
    return c;
}

HandlerFactory factory(SmtpListenerKind kind) {
    return [kind](Connection& c) -> std::unique_ptr<ConnectionHandler> {
        Smtpd& s = state();
        return std::make_unique<SmtpConnection>(c, *s.policy, session_config(kind), [] {
            return state().tls ? state().tls->current() : nullptr;
        });
    };
}

ConnectionOptions connection_options(const SmtpdConfig& p) {
    ConnectionOptions o;
    o.lines.max_line = smtp_max_auth_line;
    o.idle_timeout_ms = uint64_t(p.timeout_seconds) * 1000;
    return o;
}

std::expected<SmtpPolicyConfig, std::string> policy_config(const Config& cfg) {
    auto nets = CidrList::parse(cfg.smtpd.relay_networks);
    if (!nets) return std::unexpected(nets.error());
    auto secret = read_instance_secret(cfg);
    if (!secret) return std::unexpected(secret.error());
    return SmtpPolicyConfig{cfg.hostname,
                            std::move(*nets),
                            cfg.run_dir,
                            false,
                            std::move(*secret),
                            cfg.smtpd.max_message_size,
                            cfg.smtpd.allow_sender_mismatch};
}

std::expected<void, std::string> setup(DaemonContext<Config>& ctx) {
    Smtpd& s = state();
    const Config& cfg = ctx.config;
    s.settings = cfg.smtpd;
    s.hostname = cfg.hostname;
    s.tls = &ctx.tls;

    auto pc = policy_config(cfg);
    if (!pc) return std::unexpected(pc.error());
    auto mail = open_mail_data(
        cfg.data_dir, {cfg.store.backend, cfg.store.disk_reserve_bytes, cfg.store.lmdb_map_size});
    if (!mail) return std::unexpected(mail.error());
    auto queue = Queue::open(cfg.queue_dir);
    if (!queue)
        return std::unexpected("cannot open the queue in " + cfg.queue_dir.string() + ": " +
                               queue_error_text(queue.error()));
    s.auth_budget = std::make_unique<AuthBudget>(cfg.auth, loop_clock(ctx.loop));
    s.policy =
        std::make_unique<SmtpPolicy>(ctx.loop, std::move(mail->accounts), std::move(mail->store),
                                     std::move(*queue), std::move(*pc));

    ctx.listeners.set_limits(
        {cfg.smtpd.max_connections, cfg.smtpd.max_connections_per_ip,
         "421 4.7.0 " + cfg.hostname + " Too many connections, try again later\r\n"});
    auto opts = connection_options(cfg.smtpd);
    if (auto r = ctx.listeners.listen("smtp", cfg.smtpd.mx_port, false,
                                      factory(SmtpListenerKind::mx), opts);
        !r)
        return r;
    if (auto r = ctx.listeners.listen("submission", cfg.smtpd.submission_port, false,
                                      factory(SmtpListenerKind::submission), opts);
        !r)
        return r;
    if (ctx.tls.available()) {
        if (auto r = ctx.listeners.listen("smtps", cfg.smtpd.smtps_port, true,
                                          factory(SmtpListenerKind::smtps), opts);
            !r)
            return r;
    }
    log_msg(LogLevel::info, "smtpd ready: smtp port %u, submission port %u, smtps port %u",
            cfg.smtpd.mx_port, cfg.smtpd.submission_port, cfg.smtpd.smtps_port);
    return {};
}

void reload(const Config& fresh) {
    Smtpd& s = state();
    auto pc = policy_config(fresh);
    if (!pc) {
        log_msg(LogLevel::error, "reload: %s; keeping the old smtpd settings", pc.error().c_str());
        return;
    }
    // Policy applies to new connections; ports need a restart.
    s.settings = fresh.smtpd;
    if (s.policy) s.policy->set_config(std::move(*pc));
    if (s.auth_budget) s.auth_budget->set_config(fresh.auth);
    log_msg(LogLevel::info, "configuration reloaded");
}

}  // namespace
}  // namespace postern

int main(int argc, char** argv) {
    // Queue commits run on libuv's thread pool; with libuv's default of 4 threads at most 4
    // sessions commit at once. More concurrent committers let one journal commit (and one
    // shared fsync of queue/active) serve more messages. The environment may override it.
    setenv("UV_THREADPOOL_SIZE", "32", 0);
    postern::DaemonSpec<postern::Config> spec;
    spec.service = "smtpd";
    spec.tls = true;
    spec.setup = postern::setup;
    spec.reload = postern::reload;
    spec.on_stop = [] {};
    return postern::run_daemon(argc, argv, spec);
}
