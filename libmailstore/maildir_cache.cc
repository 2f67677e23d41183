// The per-message cache slot (Mailbox::cache_get/put) in the index's "cache" database:
// be32 version, then the bytes. It goes with the message's record (expunge, folder delete
// and reindex drop it); being a cache, a failed write is not the caller's problem.
#include "libmailstore/bytes.h"
#include "libmailstore/maildir_mailbox.h"

namespace postern {

StoreResult<std::optional<std::string>> MaildirMailbox::cache_get(uint32_t uid, uint32_t version) {
    if (find(uid) == nullptr) return std::unexpected(StoreError::not_found);
    auto txn = lmdb::Txn::begin(idx_->env(), false);
    if (!txn) return std::unexpected(txn.error());
    auto v = txn->get(idx_->cache(), msg_key(meta_.id, uid));
    if (!v) return std::unexpected(v.error());
    if (!*v || (*v)->size() < 4 || get_be32(**v, 0) != version) return std::optional<std::string>{};
    return std::optional<std::string>(std::string((*v)->substr(4)));
}

// One slot in an open write transaction; only for a message that is still there: never a
// slot without its record.
StoreResult<void> MaildirMailbox::put_slot(lmdb::Txn& txn, uint32_t uid, uint32_t version,
                                           std::string_view data, std::string& scratch) {
    auto rec = idx_->get_msg(txn, meta_.id, uid);
    if (!rec) return std::unexpected(rec.error());
    if (!*rec) return std::unexpected(StoreError::expunged);
    scratch.clear();
    scratch.reserve(4 + data.size());
    put_be32(scratch, version);
    scratch.append(data);
    return txn.put(idx_->cache(), msg_key(meta_.id, uid), scratch);
}

StoreResult<void> MaildirMailbox::cache_put(uint32_t uid, uint32_t version, std::string_view data) {
    if (find(uid) == nullptr) return std::unexpected(StoreError::not_found);
    auto txn = lmdb::Txn::begin(idx_->env(), true);
    if (!txn) return std::unexpected(txn.error());
    std::string v;
    if (auto p = put_slot(*txn, uid, version, data, v); !p) return p;
    return txn->commit();
}

StoreResult<void> MaildirMailbox::cache_put_many(uint32_t version,
                                                 std::span<const CacheSlot> slots) {
    if (slots.empty()) return {};
    auto txn = lmdb::Txn::begin(idx_->env(), true);
    if (!txn) return std::unexpected(txn.error());
    std::string v;
    for (const CacheSlot& c : slots) {
        if (find(c.uid) == nullptr) continue;
        auto p = put_slot(*txn, c.uid, version, c.data, v);
        if (!p && p.error() != StoreError::expunged) return p;
    }
    return txn->commit();
}

}  // namespace postern
