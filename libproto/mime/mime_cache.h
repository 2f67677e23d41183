#pragma once
// A compact binary form of MimeMessage for the store's per-message cache slot
// (Mailbox::cache_put / cache_get with version kMimeCacheVersion), so FETCH ENVELOPE /
// BODYSTRUCTURE / BODY[section] and SEARCH on headers never parse a message file twice.
//
// Layout (all integers LEB128 varints): "PM" kMimeCacheVersion size part_count, then each
// part in pre-order: flags, parent, header_start, header_size, body_size, body_lines, the bare-LF
// counts of header and body, the
// MIME fields (strings as length + bytes, optional ones flagged) and, when flagged, the
// ten envelope fields. body_start and the children lists are implied.
//
// Decoding treats the bytes as untrusted: every length, count, offset, the tree shape
// (parents before children, nesting, ranges inside the parent's body, in order) and every
// limit of mime_part.h is checked; anything wrong is an error, never a crash.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "libproto/mime/mime_part.h"

namespace postern {

inline constexpr uint32_t kMimeCacheVersion = 1;

enum class MimeCacheError : uint8_t {
    bad_magic,    // not written by mime_cache_encode
    bad_version,  // another layout version
    truncated,    // ends inside a value
    invalid,      // a value out of range or a tree the parser could not have made
};

std::string mime_cache_encode(const MimeMessage& msg);
std::expected<MimeMessage, MimeCacheError> mime_cache_decode(std::string_view bytes);

}  // namespace postern
