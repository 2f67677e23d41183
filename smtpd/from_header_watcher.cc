#include "smtpd/from_header_watcher.h"

#include "libproto/mime/mime_address.h"

namespace postern {

FromHeaderAddresses FromHeaderWatcher::finish() {
    FromHeaderAddresses out;
    const auto& values = field_.finish();
    out.unreadable = field_.overflowed();
    for (const auto& v : values) {
        size_t found = 0;
        for (const auto& a : mime_parse_address_list(v)) {
            if (a.is_group_start() || a.is_group_end()) continue;
            ++found;
            if (!a.mailbox || !a.host || a.mailbox->empty() || a.host->empty() ||
                *a.mailbox == kMimeMissingMailbox || *a.host == kMimeMissingDomain) {
                out.unreadable = true;
                continue;
            }
            out.addresses.push_back(*a.mailbox + "@" + *a.host);
        }
        if (found == 0) out.unreadable = true;
    }
    return out;
}

}  // namespace postern
