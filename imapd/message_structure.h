#pragma once
// A message's MIME structure for FETCH, SEARCH, SORT and THREAD: from the Mailbox's cache
// slot (kMimeCacheVersion) when it decodes, else parsed from the octets. A parsed structure
// is not written at once: its slot goes into a CacheSlotBatch that the caller writes with
// one Mailbox::cache_put_many at the end of its round (on Maildir one LMDB commit and one
// sync per round instead of one per message). Pool only.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "libmailstore/store.h"
#include "libproto/mime/mime_part.h"

namespace postern {

// The cache slots parsed in one round, written together by flush().
class CacheSlotBatch {
public:
    void add(uint32_t uid, std::string data) { slots_.push_back({uid, std::move(data)}); }
    bool empty() const { return slots_.empty(); }
    size_t size() const { return slots_.size(); }
    // One cache_put_many; best effort (the cache is only a cache). Then empty.
    void flush(Mailbox& box);

private:
    std::vector<CacheSlot> slots_;
};

// The structure of `uid`: cached, or parsed by streaming `reader` (opened here when null)
// through `buf`, its slot then added to `pending`. `bytes_read` (when given) grows by the
// octets read. Errors: the store's (expunged / not_found when the message is gone).
StoreResult<MimeMessage> load_message_structure(Mailbox& box, uint32_t uid,
                                                std::unique_ptr<MessageReader>& reader,
                                                std::span<char> buf, CacheSlotBatch& pending,
                                                uint64_t* bytes_read = nullptr);

}  // namespace postern
