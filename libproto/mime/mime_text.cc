#include "libproto/mime/mime_text.h"

namespace postern {

MimeTextDecoder::MimeTextDecoder(const MimePart& part)
    : MimeTextDecoder(part.fields.encoding.value_or(""), MimeMessage::charset_of(part)) {}

MimeTextDecoder::MimeTextDecoder(std::string_view transfer_encoding, std::string_view charset)
    : transfer_(mime_make_decoder(mime_encoding_of(transfer_encoding))) {
    charset_.open(charset);  // unknown: sanitized pass-through
}

void MimeTextDecoder::feed(std::string_view body_bytes, std::string& utf8_out) {
    scratch_.clear();
    transfer_->feed(body_bytes, scratch_);
    charset_.feed(scratch_, utf8_out);
}

void MimeTextDecoder::finish(std::string& utf8_out) {
    scratch_.clear();
    transfer_->finish(scratch_);
    charset_.feed(scratch_, utf8_out);
    charset_.finish(utf8_out);
}

std::string mime_decode_text(const MimePart& part, std::string_view body_bytes) {
    MimeTextDecoder d(part);
    std::string out;
    d.feed(body_bytes, out);
    d.finish(out);
    return out;
}

}  // namespace postern
