#include "imapd/message_structure.h"

#include "libproto/mime/mime_cache.h"
#include "libproto/mime/mime_parser.h"

namespace postern {

void CacheSlotBatch::flush(Mailbox& box) {
    if (slots_.empty()) return;
    (void)box.cache_put_many(kMimeCacheVersion, slots_);  // best effort
    slots_.clear();
}

StoreResult<MimeMessage> load_message_structure(Mailbox& box, uint32_t uid,
                                                std::unique_ptr<MessageReader>& reader,
                                                std::span<char> buf, CacheSlotBatch& pending,
                                                uint64_t* bytes_read) {
    // The cache is best effort: an error or a slot that does not decode is a miss, but a
    // message found gone is gone.
    if (auto c = box.cache_get(uid, kMimeCacheVersion); c && *c) {
        if (auto m = mime_cache_decode(**c)) return std::move(*m);
    } else if (!c && (c.error() == StoreError::expunged || c.error() == StoreError::not_found)) {
        return std::unexpected(c.error());
    }
    if (!reader) {
        auto r = box.open_message(uid);
        if (!r) return std::unexpected(r.error());
        reader = std::move(*r);
    }
    MimeParser parser;
    for (uint64_t at = 0, size = reader->size(); at < size;) {
        auto n = reader->read_at(at, buf);
        if (!n) return std::unexpected(n.error());
        if (*n == 0) break;
        parser.feed(std::string_view(buf.data(), *n));
        at += *n;
        if (bytes_read != nullptr) *bytes_read += *n;
    }
    MimeMessage m = parser.finish();
    pending.add(uid, mime_cache_encode(m));
    return m;
}

}  // namespace postern
