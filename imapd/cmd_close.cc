// CLOSE (RFC 3501 6.4.2: \Deleted messages are expunged silently, unless read-only) and
// UNSELECT (RFC 3691: nothing is expunged). Both end in the Authenticated state.
#include "imapd/imap_commands.h"

namespace postern {

void cmd_close(ImapSession& s, ImapCommand& c) {
    auto& sel = std::get<Selected>(s.state());
    std::string user = sel.user;
    const char* text = c.id == ImapCommandId::close ? "CLOSE completed" : "UNSELECT completed";
    if (c.id == ImapCommandId::unselect || sel.read_only) {
        s.set_state(Authenticated{user});
        return s.finish(ImapResult::ok, text);
    }
    auto r = std::make_shared<StoreResult<void>>();
    // \Deleted as the store has it now (refreshed in the same job), expunged without a word.
    s.blocking(
        [box = sel.box, r] {
            if (auto d = box->refresh(); !d) {
                *r = std::unexpected(d.error());
                return;
            }
            std::vector<uint32_t> deleted;
            for (const MessageEntry& m : box->messages())
                if ((m.flags & flag_deleted) != 0) deleted.push_back(m.uid);
            if (!deleted.empty()) *r = box->expunge(deleted);
        },
        [&s, r, user, text] {
            s.set_state(Authenticated{user});  // closed even when the expunge failed
            if (!*r) return s.finish(store_error_reply(r->error(), StoreContext::messages));
            s.finish(ImapResult::ok, text);
        });
}

}  // namespace postern
