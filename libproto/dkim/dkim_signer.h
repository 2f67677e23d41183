#pragma once
// The DKIM-Signature field (RFC 6376 section 3.5) for relaxed/relaxed signing: which fields
// to sign, the canonical data the signature covers (section 3.7), and the folded field.

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/dkim/dkim_header_fields.h"
#include "libproto/dkim/dkim_key.h"

namespace postern {

struct DkimSignParams {
    std::string domain;     // d=, lower-case
    std::string selector;   // s=
    int64_t timestamp = 0;  // t=, unix seconds
};

// The h= list for a message: one entry per instance, in header order, of the fields worth
// signing (From, Subject, Date, To, Cc, Reply-To, Message-ID, MIME and List-* fields, ...,
// RFC 6376 section 5.4.1), then "from" once more so that a second From: added on the way
// breaks the signature (oversigning). Lower-case.
std::vector<std::string> dkim_signed_names(const std::vector<HeaderField>& fields);

// The data the signature covers: the relaxed form of each field `names` selects (section
// 5.4.2), then the relaxed DKIM-Signature field (`signature_value`: its value with b=
// empty) without its final CRLF.
std::string dkim_signed_data(const std::vector<HeaderField>& fields,
                             const std::vector<std::string>& names,
                             std::string_view signature_value);

// The whole "DKIM-Signature: v=1; a=...; c=relaxed/relaxed; d=; s=; t=; h=; bh=; b=\r\n",
// folded at about 78 columns. `body_hash` is bh= (base64). Error: one line (signing failed).
std::expected<std::string, std::string> dkim_signature_field(const DkimKey& key,
                                                             const DkimSignParams& params,
                                                             const std::vector<HeaderField>& fields,
                                                             std::string_view body_hash);

// The domain of the first address of the (first) From: field, lower-case; nullopt when
// there is no From: or its address has no domain.
std::optional<std::string> dkim_from_domain(const std::vector<HeaderField>& fields);

}  // namespace postern
