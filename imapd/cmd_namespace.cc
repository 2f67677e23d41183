// NAMESPACE (RFC 2342): one personal namespace, no prefix, "/" as the delimiter; no other
// users' or shared namespaces.
#include "imapd/imap_commands.h"

namespace postern {

void cmd_namespace(ImapSession& s, ImapCommand&) {
    s.out().append("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
    s.finish(ImapResult::ok, "NAMESPACE completed");
}

}  // namespace postern
