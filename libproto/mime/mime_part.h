#pragma once
// The parsed structure of one message: a tree of parts in pre-order with byte offsets into
// the raw message and the header fields IMAP FETCH and SEARCH need. Made by MimeParser
// (mime_parser.h), stored by mime_cache.h, formatted by libproto/imap.
//
// Offsets are absolute positions in the raw message. A part's header runs from
// header_start for header_size bytes and includes the empty line that ends it (when there
// is one); its body follows at body_start = header_start + header_size. Per RFC 2046 the
// line break before a boundary line belongs to the boundary, not to the part before it.

#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

namespace postern {

// Limits that keep a parse bounded whatever the input.
inline constexpr size_t kMimeMaxFieldBytes = 64 * 1024;       // one kept field value
inline constexpr size_t kMimeMaxPartHeaderKept = 256 * 1024;  // all kept fields of a part
inline constexpr size_t kMimeMaxParams = 64;                  // parameters of one field
inline constexpr uint32_t kMimeMaxDepth = 32;                 // deeper parts are opaque leaves
inline constexpr uint32_t kMimeMaxParts = 10000;              // further parts are not split
inline constexpr size_t kMimeMaxBoundary = 200;               // RFC 2046 says 70

struct MimeParam {
    std::string name;   // as written, continuations merged ("title*" for an extended value)
    std::string value;  // as written (an extended value keeps "charset'lang'%xx")
    bool operator==(const MimeParam&) const = default;
};

// The raw (unfolded, trimmed) envelope header fields of a message; nullopt when absent.
struct MimeEnvelopeFields {
    std::optional<std::string> date, subject, from, sender, reply_to, to, cc, bcc, in_reply_to,
        message_id;
    bool operator==(const MimeEnvelopeFields&) const = default;
};

// The MIME header fields of one part, parsed. Strings are as written in the header
// (unfolded, comments removed where the grammar allows them).
struct MimeFields {
    std::string type = "text";  // empty type/subtype never occur: defaults apply
    std::string subtype = "plain";
    std::vector<MimeParam> params;  // Content-Type parameters
    bool has_content_type = false;  // false: the defaults above (or message/rfc822 in a digest)
    std::optional<std::string> encoding;  // Content-Transfer-Encoding token
    std::optional<std::string> id, description, md5, location;
    std::optional<std::string> disposition;  // the disposition type
    std::vector<MimeParam> disposition_params;
    std::vector<std::string> language;  // Content-Language tags
    bool operator==(const MimeFields&) const = default;
};

struct MimePart {
    uint64_t header_start = 0, header_size = 0;
    uint64_t body_start = 0, body_size = 0;
    uint64_t body_lines = 0;  // line feeds in the body
    // Line ends that are a bare LF: the sizes as IMAP sends the part with CRLF line ends
    // (as Dovecot reports them) are header_size + header_bare_lf, body_size + body_bare_lf.
    uint64_t header_bare_lf = 0, body_bare_lf = 0;
    uint32_t parent = 0;             // index in MimeMessage::parts; the root is its own parent
    uint32_t depth = 0;              // the root is 0
    std::vector<uint32_t> children;  // multipart parts, or the one message of message/rfc822
    MimeFields fields;
    // Set on the root and on the message inside a message/rfc822 part.
    std::optional<MimeEnvelopeFields> envelope;
    // The body was not split (nesting or part limit): a leaf whatever its type says.
    bool opaque = false;

    bool is_multipart() const;  // type "multipart" (case-insensitive)
    bool is_message() const;    // message/rfc822 or message/global
    uint64_t end() const { return body_start + body_size; }
    bool operator==(const MimePart&) const = default;
};

struct MimeMessage {
    std::vector<MimePart> parts;  // pre-order; parts[0] is the whole message
    uint64_t size = 0;            // bytes of the raw message
    bool operator==(const MimeMessage&) const = default;

    const MimePart& root() const { return parts[0]; }
    // Charset parameter of a part ("us-ascii" when a text part has none), for decoding.
    static std::string charset_of(const MimePart& p);
    // A parameter's value by name (case-insensitive), nullptr when absent.
    static const std::string* param(const std::vector<MimeParam>& ps, std::string_view name);
};

}  // namespace postern
