// ID (RFC 2971): the client's fields are ignored (nothing is logged from them); ours say
// only the name, not a version.
#include "imapd/imap_commands.h"

namespace postern {

void cmd_id(ImapSession& s, ImapCommand&) {
    s.out().append("* ID (\"name\" \"Postern\")\r\n");
    s.finish(ImapResult::ok, "ID completed");
}

}  // namespace postern
