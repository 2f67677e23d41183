// COPY / UID COPY (RFC 3501 6.4.7, UIDPLUS RFC 4315 3) and MOVE / UID MOVE (RFC 6851):
// Mailbox::copy_to / move_to keep internal date, flags and keywords, all or nothing. The
// answer carries [COPYUID destination-uidvalidity source-uids destination-uids]: in the
// tagged OK for COPY, in an untagged OK before the expunges for MOVE (RFC 6851 4.3), which
// then sends EXPUNGE (or VANISHED after QRESYNC) for the moved messages even by sequence
// number; other sessions' expunges still wait (command table: MOVE uses sequence numbers).
// A destination that does not exist is NO [TRYCREATE], the quota NO [OVERQUOTA]
// (store_error_reply, StoreContext::target). Messages another session expunged meanwhile
// are left out; when none is left, NO [EXPUNGEISSUED].
#include <memory>

#include "imapd/imap_commands.h"
#include "imapd/message_set.h"
#include "imapd/selected_view.h"

namespace postern {
namespace {

struct CopyJob {
    std::vector<uint32_t> uids;
    std::string dest;
    bool move = false;
    StoreResult<UidMap> map = std::unexpected(StoreError::temporary);
};

std::string copyuid_code(const UidMap& m) {
    std::string code = "COPYUID ";
    code.append(std::to_string(m.uidvalidity)).append(" ");
    write_uid_set(code, m.from);
    code.append(" ");
    write_uid_set(code, m.to);
    return code;
}

void copied(ImapSession& s, CopyJob& j) {
    const char* done = j.move ? "MOVE completed" : "COPY completed";
    if (!j.map) {
        // not_found is the destination's (the selected folder being gone reads the same to
        // the client: it cannot copy there either).
        return s.finish(store_error_reply(j.map.error(), StoreContext::target));
    }
    const UidMap& m = *j.map;
    if (m.from.empty()) return s.finish(store_error_reply(StoreError::expunged));
    if (!j.move) return s.finish_with_code(ImapResult::ok, copyuid_code(m), done);
    s.out().append("* OK [").append(copyuid_code(m)).append("] Moved\r\n");
    // What left this handle's snapshot is what the client must hear about.
    auto& sel = std::get<Selected>(s.state());
    std::vector<uint32_t> gone;
    gone.reserve(m.from.size());
    for (uint32_t u : m.from)
        if (sel.box->find(u) == nullptr) gone.push_back(u);
    write_expunges(s.out(), *sel.box, gone, s.enabled().qresync);
    s.finish(ImapResult::ok, done);
}

}  // namespace

void cmd_copy(ImapSession& s, ImapCommand& c) {
    Selected& sel = std::get<Selected>(s.state());
    bool move = c.id == ImapCommandId::move;
    const SequenceSet& set = move ? std::get<ImapMove>(c.args).set : std::get<ImapCopy>(c.args).set;
    const std::string& name =
        move ? std::get<ImapMove>(c.args).mailbox : std::get<ImapCopy>(c.args).mailbox;
    // MOVE expunges here: not in a read-only (EXAMINEd) mailbox. COPY only reads it.
    if (move && sel.read_only) return s.finish(refusal_reply(ImapRefusal::read_only));
    auto uids =
        resolve_message_set(set, c.uid, sel.box->messages(), sel.saved ? &*sel.saved : nullptr);
    if (!uids) return s.finish(refusal_reply(uids.error()));
    auto dest = s.store_name(name);
    if (!dest) return s.finish(ImapSession::invalid_name_reply(name));
    // RFC 4315 / 6851: nothing to copy is no error, and no COPYUID.
    if (uids->empty()) return s.finish(ImapResult::ok, move ? "MOVE completed" : "COPY completed");

    auto j = std::make_shared<CopyJob>();
    j->uids = std::move(*uids);
    j->dest = std::move(*dest);
    j->move = move;
    s.blocking(
        [box = sel.box, j] {
            j->map = j->move ? box->move_to(j->uids, j->dest) : box->copy_to(j->uids, j->dest);
        },
        [&s, j] { copied(s, *j); });
}

}  // namespace postern
