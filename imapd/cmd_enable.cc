// ENABLE (RFC 5161): CONDSTORE (RFC 7162), IMAP4rev2 (RFC 9051) recorded for the session;
// * ENABLED lists what was newly enabled. Anything else is ignored, as the RFC says. QRESYNC (RFC 7162,
// implies CONDSTORE) too. UTF8=ACCEPT (RFC 6855): UTF-8 mailbox names and quoted strings;
// IMAP4rev2 includes it (RFC 9051 5.1: names are UTF-8), without listing it in * ENABLED.
#include "imapd/imap_commands.h"

namespace postern {

void cmd_enable(ImapSession& s, ImapCommand& c) {
    auto& e = std::get<ImapEnable>(c.args);
    ImapEnabled& on = s.enabled();
    std::string line = "* ENABLED";
    for (const std::string& cap : e.capabilities) {
        bool* flag = nullptr;
        if (cap == "CONDSTORE") flag = &on.condstore;
        if (cap == "IMAP4REV2") {
            flag = &on.imap4rev2;
            on.utf8_accept = true;
        }
        if (cap == "UTF8=ACCEPT") flag = &on.utf8_accept;
        if (cap == "QRESYNC") {
            flag = &on.qresync;
            on.condstore = true;  // RFC 7162 3.2.3: QRESYNC implies CONDSTORE
        }
        if (flag == nullptr || *flag) continue;
        *flag = true;
        line.append(" ").append(cap == "IMAP4REV2" ? "IMAP4rev2" : cap);
    }
    s.out().append(line).append("\r\n");
    s.finish(ImapResult::ok, "ENABLE completed");
}

}  // namespace postern
