// SELECT and EXAMINE (RFC 3501 6.3.1-2, RFC 9051 6.3.2-3, CONDSTORE RFC 7162 3.1.8): opens a
// snapshot of the folder off the loop, then FLAGS, PERMANENTFLAGS, EXISTS, (rev1) RECENT
// and UNSEEN, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, (rev2) LIST and [READ-WRITE] /
// [READ-ONLY]. A previously selected mailbox is closed first without expunging ([CLOSED]);
// a failed SELECT leaves none selected. With QRESYNC (RFC 7162 3.2.5) and a matching
// UIDVALIDITY, VANISHED (EARLIER) and FETCH lines of what changed since the client's modseq
// follow (Mailbox::changes_since; when the log no longer reaches back, the client's
// known-UIDs (default 1:*) that are gone instead). seq-match-data is accepted and not used.
#include <algorithm>

#include "imapd/imap_commands.h"
#include "imapd/imap_flags.h"
#include "imapd/message_set.h"
#include "imapd/selected_view.h"
#include "libproto/imap/imap_string.h"

namespace postern {
namespace {

struct OpenJob {
    StoreResult<std::unique_ptr<Mailbox>> box = std::unexpected(StoreError::temporary);
    std::vector<std::string> keywords;
    // QRESYNC: set when the UIDVALIDITY matched.
    bool resync = false;
    std::vector<uint32_t> vanished;
    std::vector<MessageInfo> changed;
    StoreError resync_error = StoreError::temporary;
    bool resync_failed = false;
};

// Pool: what the client missed since q.modseq (RFC 7162 3.2.5.1).
void resync(Mailbox& box, const QresyncParams& q, OpenJob& job) {
    if (box.uidvalidity() != q.uidvalidity) return;  // the client must start over
    auto ch = box.changes_since(q.modseq);
    if (!ch) {
        job.resync_failed = true;
        job.resync_error = ch.error();
        return;
    }
    job.resync = true;
    uint32_t max_uid = box.uidnext() > 0 ? box.uidnext() - 1 : 0;
    auto known = [&](uint32_t uid) {
        return !q.known_uids || q.known_uids->contains(uid, max_uid);
    };
    if (ch->vanished_complete) {
        for (uint32_t u : ch->vanished)
            if (known(u)) job.vanished.push_back(u);
    } else {
        // Every known UID not in the folder now; without known-uids the client is taken to
        // know all of 1:max (RFC 7162 3.2.5.1).
        std::vector<SeqRange> ranges{SeqRange{1, max_uid}};
        if (q.known_uids) ranges = q.known_uids->normalized(max_uid);
        auto snap = box.messages();
        size_t i = 0;
        for (const SeqRange& r : ranges) {
            for (uint64_t u = r.first; u <= r.last && u <= max_uid; ++u) {
                while (i < snap.size() && snap[i].uid < u) ++i;
                if (i == snap.size() || snap[i].uid != u) job.vanished.push_back(uint32_t(u));
            }
        }
    }
    if (!ch->changed.empty()) {
        auto infos = box.info(ch->changed);
        if (!infos) {
            job.resync_failed = true;
            job.resync_error = infos.error();
            return;
        }
        job.changed = std::move(*infos);
    }
}

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
    if (job.resync_failed) return s.finish(store_error_reply(job.resync_error));
    if (job.resync) {
        if (!job.vanished.empty()) {
            out.append("* VANISHED (EARLIER) ");
            write_uid_set(out, job.vanished);
            out.append("\r\n");
        }
        for (const MessageInfo& m : job.changed) {
            auto it = std::lower_bound(snap.begin(), snap.end(), m.uid,
                                       [](const MessageEntry& e, uint32_t u) { return e.uid < u; });
            if (it == snap.end() || it->uid != m.uid) continue;
            write_flags_fetch(out, box, uint32_t(it - snap.begin()) + 1, *it, &m.modseq);
        }
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
    if (a.qresync && !s.enabled().qresync)
        return s.finish(ImapResult::bad, "QRESYNC needs ENABLE QRESYNC");
    auto folder = s.store_name(a.mailbox);
    if (!folder) return s.finish(ImapSession::invalid_name_reply(a.mailbox));
    if (a.condstore) s.enabled().condstore = true;
    auto job = std::make_shared<OpenJob>();
    s.blocking(
        [&store = s.backend().store(), user, folder = *folder, job, q = a.qresync] {
            job->box = store.open_mailbox(user, folder);
            if (!job->box) return;
            job->keywords = (*job->box)->folder_keywords();
            if (q) resync(**job->box, *q, *job);
        },
        [&s, user, folder = *folder, read_only, job] { opened(s, user, folder, read_only, *job); });
}

}  // namespace postern
