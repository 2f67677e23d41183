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

StoreResult<void> MaildirMailbox::cache_put(uint32_t uid, uint32_t version, std::string_view data) {
    if (find(uid) == nullptr) return std::unexpected(StoreError::not_found);
    auto txn = lmdb::Txn::begin(idx_->env(), true);
    if (!txn) return std::unexpected(txn.error());
    // Only for a message that is still there: never a slot without its record.
    auto rec = idx_->get_msg(*txn, meta_.id, uid);
    if (!rec) return std::unexpected(rec.error());
    if (!*rec) return std::unexpected(StoreError::expunged);
    std::string v;
    v.reserve(4 + data.size());
    put_be32(v, version);
    v.append(data);
    if (auto p = txn->put(idx_->cache(), msg_key(meta_.id, uid), v); !p) return p;
    return txn->commit();
}

}  // namespace postern
