// EXPUNGE (RFC 3501 6.4.3) and UID EXPUNGE (UIDPLUS, RFC 4315 2.1): removes the \Deleted
// messages (of the UID set), then tells the client with EXPUNGE or, after ENABLE QRESYNC,
// VANISHED (selected_view.h). The snapshot is refreshed first, so flags set by other
// sessions count.
#include "imapd/imap_commands.h"
#include "imapd/message_set.h"
#include "imapd/selected_view.h"

namespace postern {

namespace {

void expunge_deleted(ImapSession& s, ImapCommand& c) {
    auto* selp = std::get_if<Selected>(&s.state());
    if (selp == nullptr) return s.finish(refusal_reply(ImapRefusal::no_mailbox_selected));
    Selected& sel = *selp;
    auto& a = std::get<ImapExpunge>(c.args);
    auto snap = sel.box->messages();
    std::vector<uint32_t> in_set;
    if (c.uid) {
        auto r = resolve_message_set(a.uids, true, snap, sel.saved ? &*sel.saved : nullptr);
        if (!r) return s.finish(refusal_reply(r.error()));
        in_set = std::move(*r);
    }
    std::vector<uint32_t> deleted;
    size_t j = 0;
    for (const MessageEntry& m : snap) {
        if ((m.flags & flag_deleted) == 0) continue;
        if (c.uid) {
            while (j < in_set.size() && in_set[j] < m.uid) ++j;
            if (j == in_set.size() || in_set[j] != m.uid) continue;
        }
        deleted.push_back(m.uid);
    }
    if (deleted.empty()) return s.finish(ImapResult::ok, "EXPUNGE completed");
    auto r = std::make_shared<StoreResult<void>>(std::unexpected(StoreError::temporary));
    auto uids = std::make_shared<std::vector<uint32_t>>(std::move(deleted));
    s.blocking([box = sel.box, uids, r] { *r = box->expunge(*uids); },
               [&s, r, uids] {
                   auto* now = std::get_if<Selected>(&s.state());
                   if (now == nullptr) return;
                   // What left this handle's snapshot is what the client must hear about.
                   std::vector<uint32_t> gone;
                   for (uint32_t u : *uids)
                       if (now->box->find(u) == nullptr) gone.push_back(u);
                   write_expunges(s.out(), *now->box, gone, s.enabled().qresync);
                   if (!*r) return s.finish(store_error_reply(r->error(), StoreContext::messages));
                   s.finish(ImapResult::ok, "EXPUNGE completed");
               });
}

}  // namespace

void cmd_expunge(ImapSession& s, ImapCommand& c) {
    if (std::get<Selected>(s.state()).read_only)
        return s.finish(refusal_reply(ImapRefusal::read_only));
    // \Deleted as the store has it now, not as this snapshot last saw it: refresh first
    // (its updates go out before the EXPUNGEs, which is allowed here).
    s.refresh_selected([&s, &c] { expunge_deleted(s, c); });
}

}  // namespace postern
