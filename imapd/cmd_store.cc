// STORE and UID STORE (RFC 3501 6.4.6, RFC 7162 3.1.3): FLAGS / +FLAGS / -FLAGS, .SILENT,
// system flags and keywords (PERMANENTFLAGS has \*: new keywords are created), and
// UNCHANGEDSINCE, whose failures go into [MODIFIED set] (sequence numbers for STORE, UIDs
// for UID STORE). UNCHANGEDSINCE is a CONDSTORE-enabling command.
//
// The answer is one "* n FETCH (UID u FLAGS (...) [MODSEQ (m)])" per message whose flags
// this STORE changed: as the store has them afterwards (Mailbox::store_flags puts the
// message's current flags into this handle's snapshot, so a flag another session set
// meanwhile shows too). With .SILENT only the messages whose result differs from what the
// client asked for (another session changed them too) are reported. Messages the STORE left
// alone are not; another session's changes to them come with the next refresh. A STORE by
// sequence number never refreshes (no EXPUNGE may come); UID STORE refreshes in finish().
#include <algorithm>
#include <memory>

#include "imapd/imap_commands.h"
#include "imapd/imap_flags.h"
#include "imapd/message_set.h"
#include "imapd/selected_view.h"
#include "libmailstore/flag_change.h"

namespace postern {
namespace {

constexpr size_t lines_per_batch = 256;  // FETCH lines written between output checks

struct StoreJob {
    std::vector<uint32_t> uids;        // the set, ascending
    std::vector<MessageEntry> before;  // their entries as the client knew them
    FlagChange change;
    uint64_t unchanged_since = 0;
    bool fail_all = false;  // UNCHANGEDSINCE 0: fails for every message (RFC 7162 3.1.3)
    bool silent = false;
    bool modseq = false;  // CONDSTORE: the FETCH lines carry MODSEQ

    StoreResult<std::vector<uint32_t>> modified = std::unexpected(StoreError::temporary);
    std::vector<uint32_t> report;    // UIDs to send FETCH for, ascending
    std::vector<MessageInfo> infos;  // their MODSEQs (with `modseq`)
};

FlagOp flag_op(StoreOp op) {
    switch (op) {
    case StoreOp::replace: return FlagOp::set;
    case StoreOp::add: return FlagOp::add;
    case StoreOp::remove: return FlagOp::remove;
    }
    return FlagOp::set;
}

bool same_keywords(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    if (a.size() != b.size()) return false;
    return std::all_of(a.begin(), a.end(), [&](const std::string& k) { return has_keyword(b, k); });
}

// True when `now` is not what `change` makes of `before`: someone else changed it too.
bool changed_by_others(const Mailbox& box, const MessageEntry& before, const MessageEntry& now,
                       const FlagChange& change) {
    uint8_t flags = before.flags;
    std::vector<std::string> kws = box.keywords_of(before);
    apply_flag_change(flags, kws, change);
    return flags != now.flags || !same_keywords(kws, box.keywords_of(now));
}

// On the pool: the change, then which messages to report.
void run_store(Mailbox& box, StoreJob& j) {
    if (j.fail_all) {
        j.modified = j.uids;
        return;
    }
    j.modified = box.store_flags(j.uids, j.change, j.unchanged_since);
    if (!j.modified) return;
    for (size_t i = 0; i < j.uids.size(); ++i) {
        const MessageEntry* now = box.find(j.uids[i]);
        const MessageEntry& was = j.before[i];
        if (now == nullptr || (now->flags == was.flags && now->keywords == was.keywords)) continue;
        if (j.silent && !changed_by_others(box, was, *now, j.change)) continue;
        j.report.push_back(j.uids[i]);
    }
    if (j.modseq && !j.report.empty()) {
        if (auto r = box.info(j.report)) j.infos = std::move(*r);
    }
}

// "* FLAGS" and "* OK [PERMANENTFLAGS" again when the STORE created a keyword (RFC 3501
// 7.2.6: the client learns the folder's flags changed).
void write_new_flags(std::string& out, const std::vector<std::string>& kws) {
    auto list = [&] {
        out.append(system_flag_names);
        for (const std::string& k : kws) out.append(" ").append(k);
    };
    out.append("* FLAGS (");
    list();
    out.append(")\r\n* OK [PERMANENTFLAGS (");
    list();
    out.append(" \\*)] Flags permitted\r\n");
}

void finish_store(ImapSession& s, const StoreJob& j, bool uid) {
    const auto& modified = *j.modified;
    if (modified.empty()) return s.finish(ImapResult::ok, "STORE completed");
    std::string code = "MODIFIED ";
    if (uid) {
        write_uid_set(code, modified);
    } else {
        auto snap = std::get<Selected>(s.state()).box->messages();
        std::vector<uint32_t> seqs;
        seqs.reserve(modified.size());
        for (uint32_t u : modified)
            if (uint32_t n = sequence_of(snap, u); n != 0) seqs.push_back(n);
        write_uid_set(code, seqs);
    }
    s.finish_with_code(ImapResult::ok, code, "Conditional STORE failed");
}

// Writes the FETCH lines from `next` on, pausing while the client's output backs up.
void write_fetches(ImapSession& s, const std::shared_ptr<StoreJob>& j, bool uid, size_t next,
                   size_t info_at) {
    const Mailbox& box = *std::get<Selected>(s.state()).box;
    auto snap = box.messages();
    while (next < j->report.size()) {
        size_t end = std::min(j->report.size(), next + lines_per_batch);
        for (; next < end; ++next) {
            uint32_t u = j->report[next];
            uint32_t seq = sequence_of(snap, u);
            if (seq == 0) continue;
            while (info_at < j->infos.size() && j->infos[info_at].uid < u) ++info_at;
            const uint64_t* modseq = nullptr;
            if (info_at < j->infos.size() && j->infos[info_at].uid == u)
                modseq = &j->infos[info_at].modseq;
            write_flags_fetch(s.out(), box, seq, snap[seq - 1], modseq);
        }
        if (next < j->report.size() && s.output_full()) {
            return s.wait_for_drain(
                [&s, j, uid, next, info_at] { write_fetches(s, j, uid, next, info_at); });
        }
    }
    finish_store(s, *j, uid);
}

}  // namespace

void cmd_store(ImapSession& s, ImapCommand& c) {
    Selected& sel = std::get<Selected>(s.state());
    if (sel.read_only) return s.finish(refusal_reply(ImapRefusal::read_only));
    auto& a = std::get<ImapStore>(c.args);
    auto flags = parse_flag_names(a.flags);
    if (!flags) return s.finish(ImapResult::bad, "Invalid flag in STORE");
    auto snap = sel.box->messages();
    auto uids = resolve_message_set(a.set, c.uid, snap, sel.saved ? &*sel.saved : nullptr);
    if (!uids) return s.finish(refusal_reply(uids.error()));
    if (a.unchangedsince) s.enabled().condstore = true;  // RFC 7162 3.1: enabling command
    if (uids->empty()) return s.finish(ImapResult::ok, "STORE completed");

    auto j = std::make_shared<StoreJob>();
    j->before.reserve(uids->size());
    for (uint32_t u : *uids) j->before.push_back(*sel.box->find(u));
    j->uids = std::move(*uids);
    j->change = FlagChange{flag_op(a.op), flags->flags, std::move(flags->keywords)};
    j->unchanged_since = a.unchangedsince.value_or(0);
    j->fail_all = a.unchangedsince && *a.unchangedsince == 0;
    j->silent = a.silent;
    j->modseq = s.enabled().condstore;

    // Whether this STORE may create keywords: then the folder's list is compared after.
    bool may_add_keywords = !j->change.keywords.empty() && j->change.op != FlagOp::remove;
    auto known = std::make_shared<std::vector<std::string>>();
    if (may_add_keywords) *known = sel.box->folder_keywords();

    s.blocking(
        [box = sel.box, j] { run_store(*box, *j); },
        [&s, j, uid = c.uid, known, may_add_keywords] {
            if (!j->modified)
                return s.finish(store_error_reply(j->modified.error(), StoreContext::messages));
            if (may_add_keywords) {
                auto now = std::get<Selected>(s.state()).box->folder_keywords();
                bool grew = std::any_of(now.begin(), now.end(), [&](const std::string& k) {
                    return !has_keyword(*known, k);
                });
                if (grew) write_new_flags(s.out(), now);
            }
            write_fetches(s, j, uid, 0, 0);
        });
}

}  // namespace postern
