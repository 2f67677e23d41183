#pragma once
// What a FETCH needs (RFC 3501 6.4.5, RFC 9051 6.4.5, RFC 3516, RFC 7162 3.1): the items
// in response order (UID first for UID FETCH, MODSEQ added for CHANGEDSINCE), which store
// data they cost (none: the snapshot answers FLAGS and UID; info: INTERNALDATE, RFC822.SIZE,
// MODSEQ; mime: the cached structure for ENVELOPE, BODYSTRUCTURE and sections; body: the
// message octets), and whether reading sets \Seen. Pure: fetch_job.h does the work.

#include <cstdint>
#include <string>
#include <vector>

#include "libproto/imap/imap_command.h"

namespace postern {

enum FetchNeeds : uint8_t {
    fetch_needs_info = 1,  // Mailbox::info: size, internal date, modseq
    fetch_needs_mime = 2,  // MimeMessage: from the cache, or parsed from the message once
    fetch_needs_body = 4,  // the message's octets
};

struct FetchPlan {
    std::vector<FetchAttr> attrs;  // in response order
    uint8_t needs = 0;             // FetchNeeds
    bool sets_seen = false;        // a body item without PEEK, and the mailbox is writable
    bool has_flags = false;        // FLAGS asked: no second FLAGS when \Seen gets set
    bool seen_modseq = false;      // CONDSTORE: FLAGS sent for a new \Seen carries MODSEQ
    bool utf8 = false;             // ENABLE UTF8=ACCEPT: 8-bit strings may be quoted
};

// `uid`: UID FETCH. `condstore`: CONDSTORE is (now) enabled for the session.
FetchPlan make_fetch_plan(const ImapFetch& f, bool uid, bool read_only, bool condstore, bool utf8);

// The item as the response names it: "BODY[1.HEADER.FIELDS (From)]<10>", "BINARY[2]",
// "RFC822.TEXT" (PEEK never appears; a partial shows its start only).
void write_fetch_item_name(std::string& out, const FetchAttr& a);

// "BODY[...]" items (with the RFC822 forms) read sections; these are the BodySection they
// name (RFC822 = BODY[], RFC822.HEADER = BODY[HEADER], RFC822.TEXT = BODY[TEXT]).
bool is_section_item(FetchItem item);
BodySection section_of(const FetchAttr& a);

}  // namespace postern
