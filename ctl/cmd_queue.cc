// queue list|flush|delete: the mail waiting for spoold.

#include <cstdio>
#include <ctime>

#include "ctl/accounts_cli.h"
#include "ctl/ctl.h"
#include "libmailstore/queue/queue.h"

namespace postern::ctl {
namespace {

std::string queue_id;

std::string time_text(int64_t t) {
    if (t <= 0) return "now";
    time_t tt = static_cast<time_t>(t);
    struct tm tm {};
    ::localtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

const char* status_text(RcptStatus s) {
    switch (s) {
    case RcptStatus::pending: return "pending";
    case RcptStatus::delivered: return "delivered";
    case RcptStatus::failed: return "failed";
    }
    return "?";
}

std::expected<Queue, int> open_queue(const Config& c) {
    auto q = Queue::open(c.queue_dir);
    if (!q)
        return std::unexpected(fail(exit_failed, "cannot open the queue in " +
                                                     c.queue_dir.string() + ": " +
                                                     queue_error_text(q.error())));
    return std::move(*q);
}

// One block per message: "ID SIZE bytes from <SENDER> arrived T, N attempts, next T"
// then one indented line per recipient.
int queue_list(const Config& c) {
    auto q = open_queue(c);
    if (!q) return q.error();
    auto list = q->list();
    if (!list)
        return fail(exit_failed,
                    std::string("listing the queue: ") + queue_error_text(list.error()));
    for (const auto& e : *list) {
        std::printf("%s %llu bytes from <%s> arrived %s, %u attempts, next %s\n", e.id.c_str(),
                    static_cast<unsigned long long>(e.size), e.reverse_path.c_str(),
                    time_text(e.arrival).c_str(), e.attempts, time_text(e.next_attempt).c_str());
        for (const auto& r : e.recipients)
            std::printf("    <%s> %s%s%s\n", r.address.c_str(), status_text(r.status),
                        r.last_error.empty() ? "" : ": ", r.last_error.c_str());
    }
    if (list->empty()) std::printf("queue is empty\n");
    return exit_ok;
}

int queue_flush(const Config& c) {
    auto q = open_queue(c);
    if (!q) return q.error();
    auto n = q->flush();
    if (!n)
        return fail(exit_failed, std::string("flushing the queue: ") + queue_error_text(n.error()));
    bool woke = queue_wake(c.run_dir);
    std::printf("%zu messages due now%s\n", *n, woke ? "" : " (spoold is not running)");
    return exit_ok;
}

int queue_delete(const Config& c) {
    if (!Queue::valid_id(queue_id)) return fail(exit_usage, "invalid queue id: " + queue_id);
    auto q = open_queue(c);
    if (!q) return q.error();
    if (auto r = q->remove(queue_id); !r) {
        if (r.error() == QueueError::not_found)
            return fail(exit_failed, "no such queue entry: " + queue_id);
        return fail(exit_failed, "deleting " + queue_id + ": " + queue_error_text(r.error()));
    }
    std::printf("deleted %s\n", queue_id.c_str());
    return exit_ok;
}

}  // namespace

void add_queue_commands(CLI::App& app, const WithConfig& with_config) {
    auto* queue = app.add_subcommand("queue", "inspect and manage the mail queue");
    queue->require_subcommand(1);
    with_config(queue->add_subcommand("list", "list queued messages and their recipients"),
                queue_list);
    with_config(queue->add_subcommand("flush", "retry every deferred message now"), queue_flush);
    auto* del = queue->add_subcommand("delete", "delete a queued message (no bounce is sent)");
    del->add_option("ID", queue_id)->required();
    with_config(del, queue_delete);
}

}  // namespace postern::ctl
