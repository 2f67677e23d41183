// IDLE (RFC 2177, RFC 9051 6.3.13): "+ idling", then untagged updates as the folder changes
// (a store FolderWatch posts to the loop; the session refreshes and writes them, within a
// second of the change), until DONE. No thread waits: the watch is the only resource. The
// idle timeout (imapd.idle_timeout_seconds) is the connection's.
#include "imapd/imap_commands.h"

namespace postern {
namespace {

using WatchHolder = std::shared_ptr<std::unique_ptr<FolderWatch>>;

void wait_for_done(ImapSession& s, const WatchHolder& watch) {
    s.out().append("+ idling\r\n");
    s.set_change_handler([&s] { s.refresh_selected([] {}); });
    s.await_line([&s, watch](ImapEvent& ev) {
        watch->reset();  // no more notifications
        s.set_change_handler({});
        if (std::holds_alternative<ImapIdleDone>(ev))
            return s.finish(ImapResult::ok, "IDLE terminated");
        s.finish(ImapResult::bad, "Expected DONE");
    });
}

}  // namespace

void cmd_idle(ImapSession& s, ImapCommand&) {
    s.parser().expect_done();
    auto watch = std::make_shared<std::unique_ptr<FolderWatch>>();
    auto* sel = std::get_if<Selected>(&s.state());
    if (sel == nullptr) return wait_for_done(s, watch);
    auto r = std::make_shared<StoreResult<std::unique_ptr<FolderWatch>>>(
        std::unexpected(StoreError::temporary));
    s.blocking([&store = s.backend().store(), user = sel->user, folder = sel->folder,
                notify = s.folder_change_notifier(), r] { *r = store.watch(user, folder, notify); },
               [&s, r, watch] {
                   if (*r) {
                       *watch = std::move(**r);
                   } else if (s.log() != nullptr) {
                       s.log()->warning("IDLE without a folder watch: %s", describe(r->error()));
                   }
                   wait_for_done(s, watch);
                   // Mail that came between the last refresh and the watch.
                   s.refresh_selected([] {});
               });
}

}  // namespace postern
