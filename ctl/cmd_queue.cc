// queue list|show|flush|delete|hold|release: the mail waiting for spoold. Safe while spoold
// runs: every change is a record appended to the entry's state log under its lock (or the
// entry's removal), followed by a wake-up ("f" / "f<id>") so spoold re-reads its schedule.

#include <cstdio>

#include "ctl/accounts_cli.h"
#include "ctl/ctl.h"
#include "ctl/queue_output.h"
#include "libmailstore/queue/queue.h"
#include "libproto/core/log_escape.h"

namespace postern::ctl {
namespace {

std::string queue_id;
bool as_json = false;
constexpr size_t kMaxHeaderBytes = 256 * 1024;  // queue show reads at most this much

std::expected<Queue, int> open_queue(const Config& c) {
    auto q = Queue::open(c.queue_dir);
    if (!q)
        return std::unexpected(fail(exit_failed, "cannot open the queue in " +
                                                     c.queue_dir.string() + ": " +
                                                     queue_error_text(q.error())));
    return std::move(*q);
}

// The one-line error for an operation on queue_id.
int entry_error(const char* what, QueueError e) {
    if (e == QueueError::not_found) return fail(exit_failed, "no such queue entry: " + queue_id);
    return fail(exit_failed, std::string(what) + " " + queue_id + ": " + queue_error_text(e));
}

// Checks queue_id before anything is opened.
bool bad_id(int& rc) {
    if (Queue::valid_id(queue_id)) return false;
    rc = fail(exit_failed, "invalid queue id: " + queue_id);
    return true;
}

const char* spoold_note(bool woke) { return woke ? "" : " (spoold is not running)"; }

int queue_list(const Config& c) {
    auto q = open_queue(c);
    if (!q) return q.error();
    auto list = q->list();
    if (!list)
        return fail(exit_failed,
                    std::string("listing the queue: ") + queue_error_text(list.error()));
    for (const auto& e : *list)
        std::fputs((as_json ? entry_json(e) : entry_text(e)).c_str(), stdout);
    if (list->empty() && !as_json) std::printf("queue is empty\n");
    return exit_ok;
}

int queue_show(const Config& c) {
    if (int rc; bad_id(rc)) return rc;
    auto q = open_queue(c);
    if (!q) return q.error();
    auto env = q->read(queue_id);
    if (!env) return entry_error("reading", env.error());
    std::string bytes;
    if (auto r = q->read_message(queue_id, 0, kMaxHeaderBytes, bytes); !r)
        return entry_error("reading", r.error());
    std::string headers = header_part(bytes);
    if (as_json) {
        std::fputs(entry_json(*env, &headers).c_str(), stdout);
        return exit_ok;
    }
    std::fputs(entry_text(*env).c_str(), stdout);
    std::printf(
        "envid: %s\nclient: %s (helo %s)%s%s\nsmtputf8: %s\n\n", log_escape(env->envid).c_str(),
        env->client_ip.empty() ? "local" : log_escape(env->client_ip).c_str(),
        log_escape(env->client_helo).c_str(), env->auth_user.empty() ? "" : ", authenticated as ",
        log_escape(env->auth_user).c_str(), env->smtputf8 ? "yes" : "no");
    std::fputs(headers.c_str(), stdout);
    return exit_ok;
}

int queue_flush(const Config& c) {
    if (queue_id.empty()) {
        auto q = open_queue(c);
        if (!q) return q.error();
        auto n = q->flush();
        if (!n)
            return fail(exit_failed,
                        std::string("flushing the queue: ") + queue_error_text(n.error()));
        std::printf("%zu messages due now%s\n", *n, spoold_note(queue_wake_rescan(c.run_dir)));
        return exit_ok;
    }
    if (int rc; bad_id(rc)) return rc;
    auto q = open_queue(c);
    if (!q) return q.error();
    auto due = q->flush(queue_id);
    if (!due) return entry_error("flushing", due.error());
    if (!*due) {
        std::printf("%s is held: release it first\n", queue_id.c_str());
        return exit_ok;
    }
    std::printf("%s due now%s\n", queue_id.c_str(),
                spoold_note(queue_wake_entry(c.run_dir, queue_id)));
    return exit_ok;
}

int queue_delete(const Config& c) {
    if (int rc; bad_id(rc)) return rc;
    auto q = open_queue(c);
    if (!q) return q.error();
    if (auto r = q->remove(queue_id); !r) return entry_error("deleting", r.error());
    queue_wake_entry(c.run_dir, queue_id);
    std::printf("deleted %s\n", queue_id.c_str());
    return exit_ok;
}

int queue_hold(const Config& c) {
    if (int rc; bad_id(rc)) return rc;
    auto q = open_queue(c);
    if (!q) return q.error();
    if (auto r = q->hold(queue_id); !r) return entry_error("holding", r.error());
    queue_wake_entry(c.run_dir, queue_id);
    std::printf("held %s\n", queue_id.c_str());
    return exit_ok;
}

int queue_release(const Config& c) {
    if (int rc; bad_id(rc)) return rc;
    auto q = open_queue(c);
    if (!q) return q.error();
    if (auto r = q->release(queue_id); !r) return entry_error("releasing", r.error());
    queue_wake_entry(c.run_dir, queue_id);
    std::printf("released %s\n", queue_id.c_str());
    return exit_ok;
}

}  // namespace

void add_queue_commands(CLI::App& app, const WithConfig& with_config) {
    auto* queue = app.add_subcommand("queue", "inspect and manage the mail queue");
    queue->require_subcommand(1);
    auto* list = queue->add_subcommand(
        "list", "list queued messages with their recipients, targets, attempts and errors");
    list->add_flag("--json", as_json, "one JSON object per message and line (docs/queue.md)");
    with_config(list, queue_list);
    auto* show = queue->add_subcommand("show", "one message: envelope, targets and header");
    show->add_option("ID", queue_id)->required();
    show->add_flag("--json", as_json, "as one JSON object (docs/queue.md)");
    with_config(show, queue_show);
    auto* flush = queue->add_subcommand("flush", "retry now: every deferred message, or ID");
    flush->add_option("ID", queue_id);
    with_config(flush, queue_flush);
    auto* del = queue->add_subcommand("delete", "delete a queued message (no bounce is sent)");
    del->add_option("ID", queue_id)->required();
    with_config(del, queue_delete);
    auto* hold = queue->add_subcommand("hold", "keep a message from delivery and expiry");
    hold->add_option("ID", queue_id)->required();
    with_config(hold, queue_hold);
    auto* release = queue->add_subcommand("release", "let a held message go on");
    release->add_option("ID", queue_id)->required();
    with_config(release, queue_release);
}

}  // namespace postern::ctl
