// STARTTLS (RFC 3501 6.2.1, RFC 9051 6.2.1): OK, then the handshake; input pipelined after
// the command is dropped (the transport and the parser both discard it). The client asks
// for CAPABILITY again afterwards.
#include "imapd/imap_commands.h"

namespace postern {

void cmd_starttls(ImapSession& s, ImapCommand&) {
    if (s.tls_active()) return s.finish(ImapResult::bad, "TLS is already active");
    if (!s.tls_available()) return s.finish(ImapResult::bad, "STARTTLS is not available");
    s.finish(ImapResult::ok, "Begin TLS negotiation now");
    s.start_tls();
}

}  // namespace postern
