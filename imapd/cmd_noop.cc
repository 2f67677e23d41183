// NOOP (RFC 3501 6.1.2) and CHECK (6.4.1, a NOOP here: every store change is durable when
// it returns). The selected mailbox's updates go out with the tagged OK (finish refreshes).
#include "imapd/imap_commands.h"

namespace postern {

void cmd_noop(ImapSession& s, ImapCommand& c) {
    s.finish(ImapResult::ok, c.id == ImapCommandId::check ? "CHECK completed" : "NOOP completed");
}

}  // namespace postern
