// SELECT and EXAMINE (RFC 3501 6.3.1-2, RFC 9051 6.3.2-3, CONDSTORE RFC 7162 3.1.8): opens a
// snapshot of the folder off the loop, then FLAGS, PERMANENTFLAGS, EXISTS, (rev1) RECENT
// and UNSEEN, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, (rev2) LIST and [READ-WRITE] /
// [READ-ONLY]. A previously selected mailbox is closed first without expunging ([CLOSED]);
// a failed SELECT leaves none selected. The QRESYNC parameter is not supported yet.
#include "imapd/imap_commands.h"
#include "imapd/imap_flags.h"
#include "libproto/imap/imap_string.h"

namespace postern {
namespace {

struct OpenJob {
    StoreResult<std::unique_ptr<Mailbox>> box = std::unexpected(StoreError::temporary);
    std::vector<std::string> keywords;
};

void write_keywords(std::string& out, const std::vector<std::string>& kws) {
    for (const std::string& k : kws) out.append(" ").append(k);
}

void opened(ImapSession& s, const std::string& user, const std::string& folder, bool read_only,
            OpenJob& job) {
    if (!job.box) return s.finish(store_error_reply(job.box.error()));
    Selected sel{user, folder, std::shared_ptr<Mailbox>(std::move(*job.box)), read_only, {}};
    const Mailbox& box = *sel.box;
    auto snap = box.messages();
    std::string& out = s.out();
    out.append("* FLAGS (").append(system_flag_names);
    write_keywords(out, job.keywords);
    out.append(")\r\n* OK [PERMANENTFLAGS (");
    if (!read_only) {
        out.append(system_flag_names);
        write_keywords(out, job.keywords);
        out.append(" \\*");
    }
    out.append(")] Flags permitted\r\n");
    out.append("* ").append(std::to_string(snap.size())).append(" EXISTS\r\n");
    bool rev2 = s.enabled().imap4rev2;
    if (!rev2) {
        // No message is \Recent here (RFC 9051 dropped it; docs/imap.md).
        out.append("* 0 RECENT\r\n");
        for (size_t i = 0; i < snap.size(); ++i) {
            if ((snap[i].flags & flag_seen) == 0) {
                out.append("* OK [UNSEEN ").append(std::to_string(i + 1));
                out.append("] First unseen\r\n");
                break;
            }
        }
    }
    out.append("* OK [UIDVALIDITY ").append(std::to_string(box.uidvalidity()));
    out.append("] UIDs valid\r\n* OK [UIDNEXT ").append(std::to_string(box.uidnext()));
    out.append("] Predicted next UID\r\n* OK [HIGHESTMODSEQ ");
    out.append(std::to_string(box.highestmodseq())).append("] Highest\r\n");
    if (rev2) {
        out.append("* LIST () \"/\" ");
        imap_write_string(out, s.client_name(folder), s.enabled().utf8_accept);
        out.append("\r\n");
    }
    s.set_state(std::move(sel));
    s.skip_refresh();
    s.finish(ImapResult::ok, read_only ? "EXAMINE completed" : "SELECT completed",
             read_only ? ImapCode::readonly : ImapCode::readwrite);
}

}  // namespace

void cmd_select(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapSelect>(c.args);
    bool read_only = c.id == ImapCommandId::examine || a.examine;
    std::string user = *s.user();
    // Whatever happens next, the old mailbox is closed (RFC 3501 6.3.1), without expunge.
    if (std::holds_alternative<Selected>(s.state())) {
        s.out().append("* OK [CLOSED] Previous mailbox closed\r\n");
        s.set_state(Authenticated{user});
    }
    if (a.qresync) return s.finish(ImapResult::bad, "QRESYNC is not supported yet");
    auto folder = s.store_name(a.mailbox);
    if (!folder) return s.finish(ImapResult::no, "Invalid mailbox name", ImapCode::cannot);
    if (a.condstore) s.enabled().condstore = true;
    auto job = std::make_shared<OpenJob>();
    s.blocking(
        [&store = s.backend().store(), user, folder = *folder, job] {
            job->box = store.open_mailbox(user, folder);
            if (job->box) job->keywords = (*job->box)->folder_keywords();
        },
        [&s, user, folder = *folder, read_only, job] { opened(s, user, folder, read_only, *job); });
}

}  // namespace postern
