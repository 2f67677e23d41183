#pragma once
// The base subject of RFC 5256 section 2.1, for SORT SUBJECT and THREAD: encoded words
// decoded to UTF-8, white space runs made one space, then "Re:", "Fw:", "Fwd:", "[list]"
// blobs, trailing "(fwd)" and "[Fwd: ...]" wrappers removed until nothing changes. Pure.

#include <string>
#include <string_view>

namespace postern {

struct BaseSubject {
    std::string text;               // the base subject (not case-folded)
    bool reply_or_forward = false;  // something of the above was removed (THREAD=REFERENCES)
};

// `raw`: the Subject field as written (unfolded), encoded words and all.
BaseSubject imap_base_subject(std::string_view raw);

}  // namespace postern
