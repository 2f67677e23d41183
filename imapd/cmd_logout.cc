// LOGOUT (RFC 3501 6.1.3): * BYE, the tagged OK, then the connection closes.
#include "imapd/imap_commands.h"

namespace postern {

void cmd_logout(ImapSession& s, ImapCommand&) {
    s.out().append("* BYE Postern IMAP server logging out\r\n");
    s.set_state(LoggedOut{});
    s.finish(ImapResult::ok, "LOGOUT completed");
    s.close();
}

}  // namespace postern
