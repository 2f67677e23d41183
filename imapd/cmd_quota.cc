// GETQUOTAROOT, GETQUOTA and SETQUOTA (RFC 9208) over the per-user quota of the accounts.
// Every user has one quota root, "" (all folders count together, as the store counts them),
// with one resource, STORAGE, in KiB: usage rounded up, the limit rounded down (so a client
// never sees room the store would refuse). There is no message-count limit, so no MESSAGE
// resource (a resource needs a limit). A user without a quota has no quota root:
// GETQUOTAROOT lists none, GETQUOTA "" is NO [NONEXISTENT]. SETQUOTA is NO: quotas are set
// by the administrator with mailctl (QUOTASET is not announced).
#include "imapd/imap_commands.h"
#include "libproto/imap/imap_string.h"

namespace postern {
namespace {

struct QuotaJob {
    StoreResult<void> folder;  // GETQUOTAROOT: the mailbox exists
    StoreResult<uint64_t> limit = std::unexpected(StoreError::temporary);
    StoreResult<uint64_t> used = std::unexpected(StoreError::temporary);
};

void read_quota(ImapBackend& backend, const std::string& user, QuotaJob& job) {
    job.limit = backend.quota_limit(user);
    if (job.limit && *job.limit != 0) job.used = backend.store().usage(user);
}

// "* QUOTA "" (STORAGE used limit)\r\n"
void write_quota(std::string& out, uint64_t used, uint64_t limit) {
    out.append("* QUOTA \"\" (STORAGE ").append(std::to_string((used + 1023) / 1024));
    out.append(" ").append(std::to_string(limit / 1024)).append(")\r\n");
}

}  // namespace

void cmd_getquotaroot(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapGetquotaroot>(c.args);
    auto folder = s.store_name(a.mailbox);
    if (!folder) return s.finish(ImapSession::invalid_name_reply(a.mailbox));
    auto job = std::make_shared<QuotaJob>();
    s.blocking(
        [&backend = s.backend(), user = *s.user(), f = *folder, job] {
            auto st = backend.store().status(user, f);
            if (!st) {
                job->folder = std::unexpected(st.error());
                return;
            }
            read_quota(backend, user, *job);
        },
        [&s, job, name = a.mailbox] {
            if (!job->folder) return s.finish(store_error_reply(job->folder.error()));
            if (!job->limit) return s.finish(store_error_reply(job->limit.error()));
            bool has_root = *job->limit != 0;
            if (has_root && !job->used) return s.finish(store_error_reply(job->used.error()));
            std::string& out = s.out();
            out.append("* QUOTAROOT ");
            imap_write_string(out, name, s.enabled().utf8_accept);
            if (has_root) {
                out.append(" \"\"\r\n");
                write_quota(out, *job->used, *job->limit);
            } else {
                out.append("\r\n");
            }
            s.finish(ImapResult::ok, "GETQUOTAROOT completed");
        });
}

void cmd_getquota(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapGetquota>(c.args);
    if (!a.root.empty())
        return s.finish(ImapResult::no, "No such quota root", ImapCode::nonexistent);
    auto job = std::make_shared<QuotaJob>();
    s.blocking([&backend = s.backend(), user = *s.user(), job] { read_quota(backend, user, *job); },
               [&s, job] {
                   if (!job->limit) return s.finish(store_error_reply(job->limit.error()));
                   if (*job->limit == 0)
                       return s.finish(ImapResult::no, "No such quota root", ImapCode::nonexistent);
                   if (!job->used) return s.finish(store_error_reply(job->used.error()));
                   write_quota(s.out(), *job->used, *job->limit);
                   s.finish(ImapResult::ok, "GETQUOTA completed");
               });
}

void cmd_setquota(ImapSession& s, ImapCommand&) {
    s.finish(ImapResult::no, "Quotas are set by the administrator", ImapCode::noperm);
}

}  // namespace postern
