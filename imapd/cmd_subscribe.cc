// SUBSCRIBE and UNSUBSCRIBE (RFC 3501 6.3.6-7): subscriptions are names; a mailbox that does
// not exist may be subscribed (the store keeps them).
#include "imapd/imap_commands.h"

namespace postern {

void cmd_subscribe(ImapSession& s, ImapCommand& c) {
    bool on = c.id == ImapCommandId::subscribe;
    const std::string& name =
        on ? std::get<ImapSubscribe>(c.args).mailbox : std::get<ImapUnsubscribe>(c.args).mailbox;
    auto folder = s.store_name(name);
    if (!folder) return s.finish(ImapSession::invalid_name_reply(name));
    auto r = std::make_shared<StoreResult<void>>(std::unexpected(StoreError::temporary));
    s.blocking([&store = s.backend().store(), user = *s.user(), f = *folder, on,
                r] { *r = store.set_subscribed(user, f, on); },
               [&s, r, on] {
                   if (!*r) return s.finish(store_error_reply(r->error()));
                   s.finish(ImapResult::ok, on ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
               });
}

}  // namespace postern
