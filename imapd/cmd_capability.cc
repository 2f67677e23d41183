// CAPABILITY (RFC 3501 6.1.1) and the capability list the greeting and the login OK carry.
// Only what works is announced; the rest follows with its commands (docs/imap.md).
#include "imapd/imap_commands.h"

namespace postern {
namespace {

// Before and after login alike.
constexpr std::string_view base_caps = "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE";
// After login.
constexpr std::string_view session_caps =
    " NAMESPACE UNSELECT CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE"
    " CONDSTORE QRESYNC STATUS=SIZE QUOTA QUOTA=RES-STORAGE UIDPLUS MOVE ESEARCH SEARCHRES WITHIN"
    " SORT SORT=DISPLAY"
    " THREAD=ORDEREDSUBJECT THREAD=REFERENCES UTF8=ACCEPT BINARY MULTIAPPEND"
    " COMPRESS=DEFLATE";

}  // namespace

std::string ImapSession::capabilities() const {
    std::string caps(base_caps);
    if (user() != nullptr) {
        caps.append(session_caps);
        // RFC 7889: the server-wide limit; STATUS APPENDLIMIT gives the same per folder.
        caps.append(" APPENDLIMIT=").append(std::to_string(opts_.append_limit));
        return caps;
    }
    if (!tls_active() && tls_available()) caps.append(" STARTTLS");
    if (!plaintext_auth_allowed()) caps.append(" LOGINDISABLED");
    SaslPolicy policy{.allow_plaintext = opts_.plaintext_auth};
    for (std::string_view m : sasl_mechanisms(tls_active(), policy))
        caps.append(" AUTH=").append(m);
    return caps;
}

void cmd_capability(ImapSession& s, ImapCommand&) {
    s.out().append("* CAPABILITY ").append(s.capabilities()).append("\r\n");
    s.finish(ImapResult::ok, "CAPABILITY completed");
}

}  // namespace postern
