// COMPRESS (RFC 4978): DEFLATE of both directions from right after the tagged OK, which
// itself goes out uncompressed; the transport inflates whatever the client sent after the
// command. Allowed once logged in (command-auth in the RFC's syntax; the command table
// gates the state and runs it alone, so no other command is in progress).
#include "imapd/imap_commands.h"

namespace postern {

void cmd_compress(ImapSession& s, ImapCommand& c) {
    const auto& a = std::get<ImapCompress>(c.args);
    // The OK must be the last uncompressed byte: no refresh (and its updates) before it.
    s.skip_refresh();
    if (s.compression_active())
        return s.finish(ImapResult::no, "DEFLATE is already active", ImapCode::compressionactive);
    if (a.mechanism != "DEFLATE") return s.finish(ImapResult::bad, "Unknown compression mechanism");
    s.finish(ImapResult::ok, "DEFLATE active");
    s.start_compression();
}

}  // namespace postern
