// A folder's change log in the user's index: one entry per modseq that still says something.
// An entry's key is be32(folder id) be64(modseq); its value a kind byte and the UIDs
// (be32 each). Every message's current modseq has an entry (its arrival or its last flag
// change); an older entry of a message that changed again is dropped, so the log holds about
// one entry per message plus the tombstones of expunges. "What changed since m" is then a
// cursor walk from m, whatever the size of the folder.
#include <cstring>

#include "libmailstore/bytes.h"
#include "libmailstore/mailbox_index.h"

namespace postern {
namespace {

std::string change_key(uint32_t fid, uint64_t modseq) {
    std::string k = folder_prefix(fid);
    put_be32(k, uint32_t(modseq >> 32));
    put_be32(k, uint32_t(modseq));
    return k;
}

uint64_t key_modseq(std::string_view k) {
    return (uint64_t(get_be32(k, 4)) << 32) | get_be32(k, 8);
}

std::optional<ChangeEntry> decode_change(std::string_view v) {
    if (v.empty() || (v.size() - 1) % 4 != 0) return std::nullopt;
    auto kind = ChangeKind(uint8_t(v[0]));
    if (kind != ChangeKind::added && kind != ChangeKind::flags && kind != ChangeKind::expunged)
        return std::nullopt;
    ChangeEntry e{kind, {}};
    e.uids.reserve((v.size() - 1) / 4);
    for (size_t at = 1; at < v.size(); at += 4) e.uids.push_back(get_be32(v, at));
    return e;
}

}  // namespace

StoreResult<void> UserIndex::log_change(lmdb::Txn& txn, uint32_t fid, uint64_t modseq,
                                        ChangeKind kind, std::span<const uint32_t> uids) {
    std::string v(1, char(kind));
    v.reserve(1 + 4 * uids.size());
    for (uint32_t u : uids) put_be32(v, u);
    return txn.put(changes(), change_key(fid, modseq), v);
}

StoreResult<void> UserIndex::forget_change(lmdb::Txn& txn, uint32_t fid, uint64_t modseq,
                                           uint32_t uid) {
    std::string key = change_key(fid, modseq);
    auto v = txn.get(changes(), key);
    if (!v) return std::unexpected(v.error());
    if (!*v) return {};
    auto e = decode_change(**v);
    if (!e) return std::unexpected(StoreError::corrupt);
    if (e->kind == ChangeKind::expunged || e->uids.size() != 1 || e->uids[0] != uid) return {};
    if (auto d = txn.del(changes(), key); !d) return std::unexpected(d.error());
    return {};
}

StoreResult<void> UserIndex::read_changes(
    lmdb::Txn& txn, uint32_t fid, uint64_t since,
    const std::function<bool(uint64_t, const ChangeEntry&)>& f) {
    auto cur = lmdb::Cursor::open(txn, changes());
    if (!cur) return std::unexpected(cur.error());
    std::string prefix = folder_prefix(fid);
    if (since == UINT64_MAX) return {};
    for (cur->seek(change_key(fid, since + 1)); cur->valid() && cur->key().starts_with(prefix);
         cur->next()) {
        auto e = decode_change(cur->value());
        if (!e || cur->key().size() != 12) return std::unexpected(StoreError::corrupt);
        if (!f(key_modseq(cur->key()), *e)) break;
    }
    if (cur->error() != 0) return std::unexpected(lmdb::to_store_error(cur->error()));
    return {};
}

StoreResult<void> UserIndex::drop_log_and_cache(lmdb::Txn& txn, uint32_t fid) {
    std::string prefix = folder_prefix(fid);
    for (MDB_dbi dbi : {changes(), cache()}) {
        auto cur = lmdb::Cursor::open(txn, dbi);
        if (!cur) return std::unexpected(cur.error());
        for (cur->seek(prefix); cur->valid() && cur->key().starts_with(prefix);) {
            if (auto d = cur->del(); !d) return std::unexpected(d.error());
            cur->next();
        }
    }
    return {};
}

StoreResult<int64_t> UserIndex::drop_folder_records(lmdb::Txn& txn, uint32_t fid) {
    std::string prefix = folder_prefix(fid);
    int64_t size = 0;
    for (MDB_dbi dbi : {msgs(), pending(), changes(), cache()}) {
        auto cur = lmdb::Cursor::open(txn, dbi);
        if (!cur) return std::unexpected(cur.error());
        for (cur->seek(prefix); cur->valid() && cur->key().starts_with(prefix);) {
            if (dbi == msgs()) {
                if (auto rec = decode_msg(cur->value())) size += int64_t(rec->size);
            }
            if (auto d = cur->del(); !d) return std::unexpected(d.error());
            cur->next();
        }
    }
    return size;
}

}  // namespace postern
