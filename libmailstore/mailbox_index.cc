#include "libmailstore/mailbox_index.h"

#include <ctime>

#include "libmailstore/bytes.h"
#include "libmailstore/maildir_name.h"

namespace postern {
namespace {

constexpr uint8_t folder_version = 2;  // 1: without counters and log floor
constexpr uint8_t msg_version = 2;     // 1: without keyword letters

}  // namespace

std::string MsgRecord::file_name() const {
    if (in_new && flags == 0 && keyword_letters == 0 && other_info.empty()) return stem;
    return maildir_file_name(stem, flags, other_info, keyword_letters);
}

std::string encode_folder(const FolderMeta& m) {
    ByteWriter w;
    w.u8(folder_version);
    w.u32(m.id);
    w.u32(m.uidvalidity);
    w.u32(m.uidnext);
    w.u64(m.highestmodseq);
    w.u8(m.dirty ? 1 : 0);
    w.u32(m.messages);
    w.u32(m.unseen);
    w.u64(m.size);
    w.u64(m.log_floor);
    return w.take();
}

std::optional<FolderMeta> decode_folder(std::string_view v) {
    ByteReader r(v);
    uint8_t version = r.u8();
    if (version != folder_version && version != 1) return std::nullopt;
    FolderMeta m;
    m.id = r.u32();
    m.uidvalidity = r.u32();
    m.uidnext = r.u32();
    m.highestmodseq = r.u64();
    m.dirty = r.u8() != 0;
    if (version == 1) {
        m.dirty = true;  // an older index: reindex to get the counters and a log
    } else {
        m.messages = r.u32();
        m.unseen = r.u32();
        m.size = r.u64();
        m.log_floor = r.u64();
    }
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
    w.u32(rec.keyword_letters);
    return w.take();
}

std::optional<MsgRecord> decode_msg(std::string_view v) {
    ByteReader r(v);
    const uint8_t version = r.u8();
    if (version != msg_version && version != 1) return std::nullopt;
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
    if (version == 1) {
        // Keyword letters were foreign info then: same file name, letters apart now.
        std::string other;
        for (char c : rec.other_info) {
            if (c >= 'a' && c <= 'z')
                rec.keyword_letters |= 1u << (c - 'a');
            else
                other.push_back(c);
        }
        rec.other_info = std::move(other);
    } else {
        rec.keyword_letters = r.u32();
    }
    if (!r.ok()) return std::nullopt;
    return rec;
}

std::string msg_key(uint32_t folder_id, uint32_t uid) {
    std::string k;
    put_be32(k, folder_id);
    put_be32(k, uid);
    return k;
}

std::string folder_prefix(uint32_t folder_id) {
    std::string k;
    put_be32(k, folder_id);
    return k;
}

void count_message(FolderMeta& m, const MsgRecord& r, int sign) {
    auto add = [sign](auto& field, auto n) {
        using T = std::remove_reference_t<decltype(field)>;
        field = sign > 0 ? T(field + n) : (field >= T(n) ? T(field - n) : T(0));
    };
    add(m.messages, 1u);
    if ((r.flags & flag_seen) == 0) add(m.unseen, 1u);
    add(m.size, r.size);
}

StoreResult<std::shared_ptr<UserIndex>> UserIndex::open(const UserPaths& paths, uint64_t map_size) {
    auto env = lmdb::Env::open(paths.index, map_size,
                               {"meta", "folders", "msgs", "pending", "changes", "cache"},
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
