#pragma once
// Keeps the header fields of one part that IMAP needs while its header lines go by, capped
// (kMimeMaxFieldBytes a field, kMimeMaxPartHeaderKept a part), and parses them at the end.
// Internal to MimeParser.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "libproto/mime/mime_part.h"

namespace postern::mime_detail {

class HeaderCollector {
public:
    // Starts a new header; envelope fields are kept only for a message's header.
    void reset(bool want_envelope);
    // One header line without its line break.
    void line(std::string_view text);
    // Parses what was kept into f (and env when envelope fields were wanted).
    void finish(MimeFields& f, std::optional<MimeEnvelopeFields>& env);

private:
    enum Field : uint8_t {
        kContentType,
        kEncoding,
        kId,
        kDescription,
        kDisposition,
        kLanguage,
        kLocation,
        kMd5,
        kDate,
        kSubject,
        kFrom,
        kSender,
        kReplyTo,
        kTo,
        kCc,
        kBcc,
        kInReplyTo,
        kMessageId,
        kFieldCount,
        kNone = kFieldCount
    };
    static Field field_of(std::string_view name);
    void append(std::string_view text);

    std::array<std::optional<std::string>, kFieldCount> values_;
    Field current_ = kNone;
    size_t kept_ = 0;
    bool want_envelope_ = false;
};

}  // namespace postern::mime_detail
