#include "libmailstore/mailbox_index.h"

#include <ctime>

#include "libmailstore/bytes.h"
#include "libmailstore/maildir_name.h"

namespace postern {
namespace {

constexpr uint8_t folder_version = 1;
constexpr uint8_t msg_version = 1;

}  // namespace

std::string MsgRecord::file_name() const {
    if (in_new && flags == 0 && other_info.empty()) return stem;
    return maildir_file_name(stem, flags, other_info);
}

std::string encode_folder(const FolderMeta& m) {
    ByteWriter w;
    w.u8(folder_version);
    w.u32(m.id);
    w.u32(m.uidvalidity);
    w.u32(m.uidnext);
    w.u64(m.highestmodseq);
    w.u8(m.dirty ? 1 : 0);
    return w.take();
}

std::optional<FolderMeta> decode_folder(std::string_view v) {
    ByteReader r(v);
    if (r.u8() != folder_version) return std::nullopt;
    FolderMeta m;
    m.id = r.u32();
    m.uidvalidity = r.u32();
    m.uidnext = r.u32();
    m.highestmodseq = r.u64();
    m.dirty = r.u8() != 0;
    if (!r.ok()) return std::nullopt;
    return m;
}

std::string encode_msg(const MsgRecord& rec) {
    ByteWriter w;
    w.u8(msg_version);
    w.str(rec.stem);
    w.u8(uint8_t((rec.in_new ? 1 : 0) | (rec.pending ? 2 : 0)));
    w.u64(rec.size);
    w.u8(rec.flags);
    w.str(rec.other_info);
    w.i64(rec.internal_date);
    w.u64(rec.modseq);
    w.u32(uint32_t(rec.keywords.size()));
    for (const auto& k : rec.keywords) w.str(k);
    return w.take();
}

std::optional<MsgRecord> decode_msg(std::string_view v) {
    ByteReader r(v);
    if (r.u8() != msg_version) return std::nullopt;
    MsgRecord rec;
    rec.stem = r.str();
    uint8_t bits = r.u8();
    rec.in_new = bits & 1;
    rec.pending = bits & 2;
    rec.size = r.u64();
    rec.flags = r.u8();
    rec.other_info = r.str();
    rec.internal_date = r.i64();
    rec.modseq = r.u64();
    uint32_t n = r.u32();
    for (uint32_t i = 0; i < n && r.ok(); ++i) rec.keywords.push_back(r.str());
    if (!r.ok()) return std::nullopt;
    return rec;
}

std::string msg_key(uint32_t folder_id, uint32_t uid) {
    std::string k;
    put_be32(k, folder_id);
    put_be32(k, uid);
    return k;
}

StoreResult<std::shared_ptr<UserIndex>> UserIndex::open(const UserPaths& paths, uint64_t map_size) {
    auto env = lmdb::Env::open(paths.index, map_size, {"meta", "folders", "msgs", "pending"},
                               MDB_NOMETASYNC, lmdb::OpenMode::cache);
    if (!env) return std::unexpected(env.error());
    auto idx = std::make_shared<UserIndex>();
    idx->paths_ = paths;
    idx->env_ = std::move(*env);
    return idx;
}

StoreResult<std::optional<FolderMeta>> UserIndex::get_folder(lmdb::Txn& txn,
                                                             const std::string& name) {
    auto v = txn.get(folders(), name);
    if (!v) return std::unexpected(v.error());
    if (!*v) return std::optional<FolderMeta>{};
    auto m = decode_folder(**v);
    if (!m) return std::unexpected(StoreError::corrupt);
    return m;
}

StoreResult<void> UserIndex::put_folder(lmdb::Txn& txn, const std::string& name,
                                        const FolderMeta& m) {
    return txn.put(folders(), name, encode_folder(m));
}

StoreResult<std::optional<MsgRecord>> UserIndex::get_msg(lmdb::Txn& txn, uint32_t fid,
                                                         uint32_t uid) {
    auto v = txn.get(msgs(), msg_key(fid, uid));
    if (!v) return std::unexpected(v.error());
    if (!*v) return std::optional<MsgRecord>{};
    auto rec = decode_msg(**v);
    if (!rec) return std::unexpected(StoreError::corrupt);
    return rec;
}

StoreResult<void> UserIndex::put_msg(lmdb::Txn& txn, uint32_t fid, uint32_t uid,
                                     const MsgRecord& r) {
    return txn.put(msgs(), msg_key(fid, uid), encode_msg(r));
}

StoreResult<uint64_t> UserIndex::get_u64(lmdb::Txn& txn, std::string_view key) {
    auto v = txn.get(meta(), key);
    if (!v) return std::unexpected(v.error());
    if (!*v) return uint64_t{0};
    ByteReader r(**v);
    uint64_t x = r.u64();
    if (!r.ok()) return std::unexpected(StoreError::corrupt);
    return x;
}

StoreResult<void> UserIndex::put_u64(lmdb::Txn& txn, std::string_view key, uint64_t v) {
    ByteWriter w;
    w.u64(v);
    return txn.put(meta(), key, w.data());
}

StoreResult<void> UserIndex::add_usage(lmdb::Txn& txn, int64_t delta) {
    auto u = get_u64(txn, "usage");
    if (!u) return std::unexpected(u.error());
    int64_t now = int64_t(*u) + delta;
    return put_u64(txn, "usage", uint64_t(now < 0 ? 0 : now));
}

StoreResult<uint32_t> UserIndex::next_uidvalidity(lmdb::Txn& txn) {
    auto last = get_u64(txn, "last_uidvalidity");
    if (!last) return std::unexpected(last.error());
    uint64_t v = std::max<uint64_t>(uint64_t(std::time(nullptr)), *last + 1);
    if (auto r = put_u64(txn, "last_uidvalidity", v); !r) return std::unexpected(r.error());
    return uint32_t(v);
}

StoreResult<FolderMeta> UserIndex::ensure_folder(lmdb::Txn& txn, const std::string& name) {
    auto m = get_folder(txn, name);
    if (!m) return std::unexpected(m.error());
    if (*m && !(*m)->dirty) return **m;
    RebuildStats stats;
    return reindex_folder(txn, name, stats);
}

}  // namespace postern
