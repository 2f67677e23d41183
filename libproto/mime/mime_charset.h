#pragma once
// Text in a MIME charset -> UTF-8, through glibc's iconv. Invalid or incomplete input
// sequences become U+FFFD; the output is always valid UTF-8.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace postern {

// Streaming: bytes in the charset in any chunks, UTF-8 out.
class MimeCharsetDecoder {
public:
    MimeCharsetDecoder();
    ~MimeCharsetDecoder();
    MimeCharsetDecoder(const MimeCharsetDecoder&) = delete;
    MimeCharsetDecoder& operator=(const MimeCharsetDecoder&) = delete;

    // False for a charset iconv does not know (or a name that is not a charset name);
    // the decoder then passes bytes through as UTF-8, replacing invalid sequences.
    bool open(std::string_view charset);
    void feed(std::string_view in, std::string& out);
    void finish(std::string& out);

    struct Iconv;  // one iconv descriptor, pooled per thread (mime_charset.cc)

private:
    static std::unique_ptr<Iconv> take_iconv(std::string_view charset);
    void give_back();

    std::unique_ptr<Iconv> iconv_;  // null: UTF-8 (or unknown) pass-through
    std::string carry_;             // an incomplete sequence at the end of the last chunk
};

// Whole-text forms. mime_charset_to_utf8 gives nullopt for an unknown charset.
std::optional<std::string> mime_charset_to_utf8(std::string_view charset, std::string_view text);
// Valid UTF-8: invalid sequences (overlong, surrogates, truncated) replaced by U+FFFD.
std::string mime_utf8_sanitize(std::string_view text);

namespace mime_detail {
// The length of the valid UTF-8 sequence at s[0], 0 when invalid, and -1 when s ends in
// the middle of what may still become valid.
int utf8_sequence_length(std::string_view s);
}  // namespace mime_detail

}  // namespace postern
