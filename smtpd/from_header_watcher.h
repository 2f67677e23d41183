#pragma once
// The From: addresses of a message as its header goes by (smtpd/header_field_watcher.h keeps
// the field values, bounded by from_header_max_bytes), for the sender check at the end of
// DATA; the message is never buffered.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "smtpd/header_field_watcher.h"

namespace postern {

// All From: values of a message together; past this the field counts as unreadable.
inline constexpr size_t from_header_max_bytes = 8192;

struct FromHeaderAddresses {
    // A From: field that could not be read: over the size limit, or an address without
    // local part or domain, or a field with no address at all. Never sent as owned.
    bool unreadable = false;
    std::vector<std::string> addresses;  // "local@domain" of every From: mailbox, in order
};

class FromHeaderWatcher {
public:
    void feed(std::string_view bytes) { field_.feed(bytes); }
    // The header is over: bytes fed from now on are not looked at.
    bool header_done() const { return field_.header_done(); }
    // The end of the message (a header without a body ends here too); then the result.
    FromHeaderAddresses finish();

private:
    HeaderFieldWatcher field_{"From", from_header_max_bytes};
};

}  // namespace postern
