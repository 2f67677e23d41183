#include "imapd/fetch_message.h"

#include "libproto/mime/mime_cache.h"
#include "libproto/mime/mime_parser.h"

namespace postern {

StoreResult<MessageReader*> FetchMessage::reader() {
    if (!reader_) {
        auto r = box_.open_message(uid_);
        if (!r) return std::unexpected(r.error());
        reader_ = std::move(*r);
    }
    return reader_.get();
}

StoreResult<const MimeMessage*> FetchMessage::mime() {
    if (mime_) return &*mime_;
    // The cache is best effort: an error or a slot that does not decode is a miss.
    if (auto c = box_.cache_get(uid_, kMimeCacheVersion); c && *c) {
        if (auto m = mime_cache_decode(**c)) {
            mime_ = std::move(*m);
            return &*mime_;
        }
    } else if (!c && message_gone(c.error())) {
        return std::unexpected(c.error());
    }
    auto r = reader();
    if (!r) return std::unexpected(r.error());
    MimeParser parser;
    auto got = read_range(0, (*r)->size(), [&](std::string_view b) { parser.feed(b); });
    if (!got) return std::unexpected(got.error());
    mime_ = parser.finish();
    (void)box_.cache_put(uid_, kMimeCacheVersion, mime_cache_encode(*mime_));
    return &*mime_;
}

}  // namespace postern
