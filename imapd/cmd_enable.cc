// ENABLE (RFC 5161): CONDSTORE (RFC 7162), IMAP4rev2 (RFC 9051) recorded for the session;
// * ENABLED lists what was newly enabled. Anything else is ignored, as the RFC says. QRESYNC (RFC 7162,
// implies CONDSTORE) too. UTF8=ACCEPT is not announced yet and so not enabled (docs/imap.md).
#include "imapd/imap_commands.h"

namespace postern {

void cmd_enable(ImapSession& s, ImapCommand& c) {
    auto& e = std::get<ImapEnable>(c.args);
    ImapEnabled& on = s.enabled();
    std::string line = "* ENABLED";
    for (const std::string& cap : e.capabilities) {
        bool* flag = nullptr;
        if (cap == "CONDSTORE") flag = &on.condstore;
        if (cap == "IMAP4REV2") flag = &on.imap4rev2;
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
