// spoold: delivery from the queue, local and remote. See docs/queue.md and docs/delivery.md.

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "config/config.h"
#include "libmailstore/accounts.h"
#include "libmailstore/store_factory.h"
#include "libmailstore/queue/queue.h"
#include "libmailstore/store.h"
#include "libproto/net/daemon.h"
#include "libproto/https/https_get.h"
#include "libproto/net/tls.h"
#include "libproto/core/log.h"
#include "spoold/dkim_keyring.h"
#include "spoold/next_hop.h"
#include "spoold/queue_watch.h"
#include "spoold/scheduler.h"
#include "spoold/smtp_transport.h"
#include "spoold/wake_socket.h"

using namespace postern;

namespace {

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The planner outlives the scheduler, whose SMTP transport asks it for hops.
std::unique_ptr<DeliveryPlanner> g_planner;
DkimSigning g_dkim;  // the keys outgoing mail is signed with (docs/dkim.md)
std::unique_ptr<Scheduler> g_scheduler;
std::unique_ptr<WakeSocket> g_wake;
std::unique_ptr<QueueWatch> g_watch;

std::expected<void, std::string> setup(DaemonContext<Config>& ctx) {
    const Config& cfg = ctx.config;
    uint32_t workers = std::max<uint32_t>(1, cfg.spoold.workers);
    // The thread pool is created on first use; size it to the workers (plus headroom for
    // libuv's own fs work) unless the environment says otherwise.
    std::string pool = std::to_string(std::min<uint32_t>(workers + 2, 128));
    setenv("UV_THREADPOOL_SIZE", pool.c_str(), 0);

    auto queue = Queue::open(cfg.queue_dir);
    if (!queue)
        return std::unexpected("queue " + cfg.queue_dir.string() + ": " +
                               queue_error_text(queue.error()));
    auto accounts = Accounts::open(cfg.data_dir, cfg.store.lmdb_map_size);
    if (!accounts) return std::unexpected(std::string("accounts: ") + describe(accounts.error()));
    if (auto bad = backend_problem(cfg.store.backend); !bad.empty()) return std::unexpected(bad);
    StoreOptions so;
    so.disk_reserve_bytes = cfg.store.disk_reserve_bytes;
    so.quota_of = quota_lookup(*accounts);
    std::vector<std::unique_ptr<MailStore>> stores;
    for (uint32_t i = 0; i < workers; ++i) {
        auto s = open_store(cfg.store.backend, cfg.data_dir, so);
        if (!s) return std::unexpected(std::string("store: ") + describe(s.error()));
        stores.push_back(std::move(*s));
    }
    // Remote delivery: [delivery] (routes, smarthost, MX through one c-ares resolver). The
    // smarthost password is read here, before privileges are dropped.
    auto planner_opts = delivery_planner_options(cfg.delivery, cfg.hostname);
    if (!planner_opts) return std::unexpected(planner_opts.error());
    // MTA-STS: policies cached in QUEUE/mta-sts.cache (kept across restarts), fetched with
    // libcurl on the pool (curl_global_init now, before any thread).
    planner_opts->sts.cache_file = cfg.queue_dir / "mta-sts.cache";
    planner_opts->sts.ca_file = cfg.delivery.tls_ca_file;
    if (cfg.delivery.mta_sts) https_global_init();
    auto planner = DeliveryPlanner::create(ctx.loop, std::move(*planner_opts));
    if (!planner) return std::unexpected(planner.error());
    g_planner = std::move(*planner);
    SmtpTransportOptions smtp;
    smtp.helo_name = cfg.hostname;
    smtp.connect_timeout_ms = uint64_t(cfg.delivery.connect_timeout_seconds) * 1000;
    smtp.timeouts.greeting = uint64_t(cfg.delivery.helo_timeout_seconds) * 1000;
    smtp.timeouts.ehlo = smtp.timeouts.greeting;
    smtp.timeouts.data_term = uint64_t(cfg.delivery.data_done_timeout_seconds) * 1000;
    smtp.max_per_host = cfg.delivery.host_concurrency_limit;
    smtp.tls_ca_file = cfg.delivery.tls_ca_file;
    if (!smtp.tls_ca_file.empty()) {  // read now: a bad bundle stops spoold at start
        if (auto ca = make_client_tls(true, smtp.tls_ca_file); !ca)
            return std::unexpected("delivery.tls_ca_file: " + ca.error());
    }
    g_dkim.load(cfg.data_dir);  // DKIM-Signature for the From: domain, before the message
    smtp.prefix = [](const Envelope&, MessageReader& msg) { return g_dkim.prefix(msg); };
    auto transport = std::make_unique<SmtpTransport>(ctx.loop, *queue, *g_planner, smtp);
    DestinationLimits limits;
    limits.per_destination = cfg.delivery.destination_concurrency_limit;
    limits.total = cfg.delivery.remote_concurrency_limit;

    DeliveryParams params;
    params.hostname = cfg.hostname;
    params.retry_schedule = cfg.spoold.retry_schedule_seconds;
    params.max_lifetime = cfg.spoold.max_queue_lifetime_seconds;
    params.delay_warning = cfg.spoold.delay_warning_hours * 3600;
    g_scheduler =
        std::make_unique<Scheduler>(ctx.loop, Deliverer(*queue, *accounts, params),
                                    std::move(stores), unix_now, std::move(transport), limits);

    std::error_code ec;
    std::filesystem::create_directories(cfg.run_dir, ec);
    auto wake = WakeSocket::open(ctx.loop, queue_wake_socket(cfg.run_dir), [](std::string_view m) {
        if (!g_scheduler || m.empty()) return;
        if (m[0] == 'w')
            g_scheduler->wake(m.substr(1));
        else if (m[0] == 'f' && m.size() == 1)
            g_scheduler->flush_all();
        else if (m[0] == 'f')
            g_scheduler->reread(m.substr(1));  // mailctl changed one entry
    });
    if (!wake) return std::unexpected(wake.error());
    g_wake = std::move(*wake);
    g_watch =
        std::make_unique<QueueWatch>(ctx.loop, cfg.queue_dir / "active", [](std::string_view name) {
            if (g_scheduler) g_scheduler->wake(name);
        });
    g_scheduler->start();
    log_msg(LogLevel::info, "spoold started: %u workers, queue %s", workers, cfg.queue_dir.c_str());
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    DaemonSpec<Config> spec;
    spec.service = "spoold";
    spec.tls = false;
    spec.setup = setup;
    spec.reload = [](const Config& fresh) { g_dkim.load(fresh.data_dir); };
    spec.on_stop = [] {
        g_wake.reset();
        g_watch.reset();
        if (g_scheduler) g_scheduler->stop();
    };
    int rc = run_daemon(argc, argv, spec);
    g_wake.reset();
    g_watch.reset();
    g_scheduler.reset();
    g_planner.reset();
    return rc;
}
