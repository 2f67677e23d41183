#pragma once
// proto_mime: the message parser behind IMAP FETCH and SEARCH. Pure (no libuv, no store).
//
//   MimeParser       (this file) feed() the raw message in chunks of any size, finish()
//                    gives the MimeMessage: the part tree with byte offsets, line counts
//                    and the parsed MIME / envelope fields (mime_part.h).
//   mime_address.h   RFC 5322 address lists -> IMAP address structures (groups as markers).
//   mime_encoded_word.h  RFC 2047 encoded words -> UTF-8 (for SEARCH).
//   mime_rfc2231.h   RFC 2231 extended parameter values -> UTF-8.
//   mime_charset.h   charset -> UTF-8 through iconv, invalid sequences replaced.
//   mime_transfer_decoder.h  streaming base64 / quoted-printable decoders (BINARY, SEARCH).
//   mime_text.h      a text part's body -> UTF-8 (transfer decoding + charset), for SEARCH.
//   mime_cache.h     a versioned binary form of MimeMessage for Mailbox::cache_put/get;
//                    decoding validates everything and fails cleanly.
// The IMAP formatters live in libproto/imap: imap_envelope.h, imap_bodystructure.h,
// imap_section.h (BODY[section] -> byte ranges / header filter).
//
// Memory is bounded whatever the input (limits in mime_part.h): a line keeps at most
// about one field's worth of bytes, fields and parts are capped, nesting deeper than
// kMimeMaxDepth and parts beyond kMimeMaxParts are not split further.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/mime/mime_header_collector.h"
#include "libproto/mime/mime_part.h"

namespace postern {

class MimeParser {
public:
    MimeParser();

    // More of the message. Line ends may be CRLF or bare LF; any byte value is data.
    void feed(std::string_view bytes);
    // Ends the message and gives its structure; the parser is spent afterwards.
    MimeMessage finish();

    // Parses a whole message at once.
    static MimeMessage parse(std::string_view message);

private:
    struct Open {
        uint32_t part = 0;
        bool in_header = true;
        bool epilogue = false;  // after the close delimiter
        std::string boundary;   // multipart only; empty when none (no splitting)
        uint64_t lines_at_body = 0;
        uint64_t bare_at_header = 0;  // bare_lf_ where the header starts
        uint64_t bare_at_body = 0;
    };

    void on_line(std::string_view kept, uint64_t len, uint32_t eol, bool dropped_nonws);
    bool boundary_line(std::string_view kept, bool dropped_nonws, uint32_t eol, uint64_t len);
    void start_part(uint32_t parent, uint64_t header_start, uint64_t bare, bool message_header);
    void end_header(uint64_t body_start, uint64_t lines, uint64_t bare);
    void apply_header(MimePart& p);
    // Closes every open part above the first `keep` at offset `end`.
    void close_to(size_t keep, uint64_t end, uint64_t lines_at_end, uint64_t bare_at_end);
    void update_fast();
    void count_fast(std::string_view bytes);

    MimeMessage msg_;
    std::vector<Open> stack_;
    mime_detail::HeaderCollector header_;
    std::string line_;  // the kept start of the current line
    uint64_t line_start_ = 0;
    uint64_t line_len_ = 0;
    size_t keep_limit_ = 0;
    bool line_dropped_nonws_ = false;
    bool line_last_cr_ = false;
    uint64_t pos_ = 0;      // bytes fed
    uint64_t lines_ = 0;    // line feeds before the current line
    uint64_t bare_lf_ = 0;  // of them, line ends without a CR
    char last_byte_ = 0;    // the byte before the next one fed
    uint32_t prev_eol_ = 0;
    bool fast_ = false;  // nothing left to find: just count line feeds
    bool finished_ = false;
};

}  // namespace postern
