#pragma once
// One message's store data for FETCH: its reader (opened at most once per FETCH) and its
// MIME structure (message_structure.h: the cache slot, or parsed from the octets with the
// slot added to the round's CacheSlotBatch, which FetchJob writes at the end of the round).
// So a FETCH of many envelopes reads each message file at most once, and never when the
// cache has it. Pool only.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "imapd/message_structure.h"
#include "libmailstore/store.h"
#include "libproto/mime/mime_part.h"

namespace postern {

// A store error that means "this message is no longer there".
inline bool message_gone(StoreError e) {
    return e == StoreError::expunged || e == StoreError::not_found;
}

class FetchMessage {
public:
    FetchMessage(Mailbox& box, uint32_t uid, std::vector<char>& chunk, CacheSlotBatch& pending)
        : box_(box), uid_(uid), chunk_(chunk), pending_(pending) {}

    StoreResult<MessageReader*> reader();
    StoreResult<const MimeMessage*> mime();
    // Calls on_chunk(std::string_view) for the octets [offset, offset + size) in chunks;
    // a message shorter than that ends early (the caller checks what it got).
    template <class F>
    StoreResult<uint64_t> read_range(uint64_t offset, uint64_t size, F&& on_chunk) {
        auto r = reader();
        if (!r) return std::unexpected(r.error());
        uint64_t got = 0;
        while (got < size) {
            size_t want = size_t(std::min<uint64_t>(chunk_.size(), size - got));
            auto n = (*r)->read_at(offset + got, std::span<char>(chunk_.data(), want));
            if (!n) return std::unexpected(n.error());
            if (*n == 0) break;
            got += *n;
            on_chunk(std::string_view(chunk_.data(), *n));
        }
        return got;
    }

private:
    Mailbox& box_;
    uint32_t uid_;
    std::vector<char>& chunk_;
    CacheSlotBatch& pending_;
    std::unique_ptr<MessageReader> reader_;
    std::optional<MimeMessage> mime_;
};

}  // namespace postern
