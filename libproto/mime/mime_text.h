#pragma once
// A text part's body -> UTF-8 for SEARCH BODY / TEXT: the transfer encoding undone, then
// the charset converted (mime_charset.h; unknown charsets pass through sanitized).
// Streaming, so a large body is never held whole.

#include <memory>
#include <string>
#include <string_view>

#include "libproto/mime/mime_charset.h"
#include "libproto/mime/mime_part.h"
#include "libproto/mime/mime_transfer_decoder.h"

namespace postern {

class MimeTextDecoder {
public:
    // The part's Content-Transfer-Encoding and charset say how to decode.
    explicit MimeTextDecoder(const MimePart& part);
    MimeTextDecoder(std::string_view transfer_encoding, std::string_view charset);

    void feed(std::string_view body_bytes, std::string& utf8_out);
    void finish(std::string& utf8_out);

private:
    std::unique_ptr<MimeTransferDecoder> transfer_;
    MimeCharsetDecoder charset_;
    std::string scratch_;
};

// Whole-body form.
std::string mime_decode_text(const MimePart& part, std::string_view body_bytes);

}  // namespace postern
