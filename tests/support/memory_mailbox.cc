// A MemoryStore folder handle (memory_core.h): its own snapshot, changed only by refresh()
// and by its own flag changes and expunges, as the Maildir one.
#include <cstring>

#include "libmailstore/maildir_layout.h"  // canonical_folder: the folder-name rules of store.h
#include "libmailstore/snapshot.h"
#include "tests/support/memory_core.h"

namespace postern::memstore {
namespace {

class MemoryReader final : public MessageReader {
public:
    MemoryReader(std::shared_ptr<MemoryCore> core, std::shared_ptr<const std::string> bytes)
        : core_(std::move(core)), bytes_(std::move(bytes)) {}
    uint64_t size() const override { return bytes_->size(); }
    StoreResult<size_t> read_at(uint64_t offset, std::span<char> buf) override {
        if (auto e = core_->enter("read")) return std::unexpected(*e);
        if (offset >= bytes_->size()) return 0;
        size_t n = size_t(std::min<uint64_t>(bytes_->size() - offset, buf.size()));
        std::memcpy(buf.data(), bytes_->data() + offset, n);
        return n;
    }

private:
    std::shared_ptr<MemoryCore> core_;
    std::shared_ptr<const std::string> bytes_;
};

class MemoryMailbox final : public Mailbox {
public:
    MemoryMailbox(std::shared_ptr<MemoryCore> core, std::string user, std::string folder)
        : core_(std::move(core)), user_(std::move(user)), folder_(std::move(folder)) {}

    const std::string& user() const override { return user_; }
    const std::string& folder() const override { return folder_; }
    uint32_t uidvalidity() const override { return uidvalidity_; }
    uint32_t uidnext() const override { return uidnext_; }
    uint64_t highestmodseq() const override { return highestmodseq_; }
    std::span<const MessageEntry> messages() const override { return snap_.entries(); }
    const MessageEntry* find(uint32_t uid) const override { return snap_.find(uid); }
    const std::vector<std::string>& keywords_of(const MessageEntry& m) const override {
        return snap_.keywords_of(m);
    }
    std::vector<std::string> folder_keywords() const override { return snap_.all_keywords(); }

    using Mailbox::info;
    StoreResult<std::vector<MessageInfo>> info(std::span<const uint32_t> uids) override {
        if (auto e = core_->enter("info")) return std::unexpected(*e);
        std::lock_guard lock(core_->mu);
        std::vector<MessageInfo> out;
        Folder* f = live();
        if (f == nullptr) return out;  // gone: every message expunged meanwhile
        for (uint32_t uid : uids) {
            if (find(uid) == nullptr) continue;
            auto it = f->msgs.find(uid);
            if (it == f->msgs.end()) continue;
            const Msg& m = it->second;
            out.push_back(
                MessageInfo{uid, m.bytes->size(), m.flags, m.keywords, m.internal_date, m.modseq});
        }
        return out;
    }

    StoreResult<MailboxDelta> refresh() override {
        if (auto e = core_->enter("refresh")) return std::unexpected(*e);
        std::lock_guard lock(core_->mu);
        return load();
    }

    // The whole folder, compared with the old snapshot (under the lock).
    StoreResult<MailboxDelta> load() {
        auto fr = core_->folder(user_, folder_);
        if (!fr) return std::unexpected(fr.error());
        const Folder& f = **fr;
        SnapshotTable fresh;
        fresh.reserve(f.msgs.size());
        for (const auto& [uid, m] : f.msgs)
            if (auto p = fresh.push_back(uid, m.flags, m.keywords); !p)
                return std::unexpected(p.error());
        MailboxDelta d;
        if (loaded_)  // f.id differs: another folder of that name now
            d = snap_.replace_with(std::move(fresh), f.id == id_);
        else
            snap_ = std::move(fresh);
        loaded_ = true;
        id_ = f.id;
        uidvalidity_ = f.uidvalidity;
        uidnext_ = f.uidnext;
        highestmodseq_ = f.highestmodseq;
        return d;
    }

    StoreResult<FolderChanges> changes_since(uint64_t modseq) override {
        if (auto e = core_->enter("changes_since")) return std::unexpected(*e);
        std::lock_guard lock(core_->mu);
        Folder* f = live();
        if (f == nullptr) return std::unexpected(StoreError::not_found);
        FolderChanges out;
        out.highestmodseq = f->highestmodseq;
        if (modseq < f->log_floor) {
            out.vanished_complete = false;
            for (const auto& [uid, m] : f->msgs)
                if (m.modseq > modseq) out.changed.push_back(uid);
            return out;
        }
        std::set<uint32_t> touched, gone;
        for (auto it = f->log.upper_bound(modseq); it != f->log.end(); ++it) {
            auto& to = it->second.kind == Kind::expunged ? gone : touched;
            to.insert(it->second.uids.begin(), it->second.uids.end());
        }
        out.vanished.assign(gone.begin(), gone.end());
        for (uint32_t uid : touched)
            if (!gone.count(uid)) out.changed.push_back(uid);
        return out;
    }

    StoreResult<std::unique_ptr<MessageReader>> open_message(uint32_t uid) override {
        if (auto e = core_->enter("open_message")) return std::unexpected(*e);
        if (find(uid) == nullptr) return std::unexpected(StoreError::not_found);
        std::lock_guard lock(core_->mu);
        Msg* m = live_msg(uid);
        if (m == nullptr) return std::unexpected(StoreError::expunged);
        return std::make_unique<MemoryReader>(core_, m->bytes);
    }

    StoreResult<std::vector<uint32_t>> store_flags(std::span<const uint32_t> uids,
                                                   const FlagChange& change,
                                                   uint64_t unchanged_since) override {
        if (auto e = core_->enter("store_flags")) return std::unexpected(*e);
        return locked(*core_, [&](Fired& fired) -> StoreResult<std::vector<uint32_t>> {
            Folder* f = live();
            if (f == nullptr) return std::unexpected(StoreError::not_found);
            std::vector<uint32_t> modified;
            bool any = false;
            for (uint32_t uid : uids) {
                auto it = f->msgs.find(uid);
                if (it == f->msgs.end()) continue;
                Msg& m = it->second;
                if (unchanged_since != 0 && m.modseq > unchanged_since) {
                    modified.push_back(uid);
                    continue;
                }
                if (!apply_flag_change(m.flags, m.keywords, change)) continue;
                f->forget(m.modseq, uid);
                m.modseq = ++f->highestmodseq;
                f->log[m.modseq] = LogEntry{Kind::flags, {uid}};
                any = true;
                if (auto u = snap_.update(uid, m.flags, m.keywords); !u)
                    return std::unexpected(u.error());
            }
            if (any) {
                highestmodseq_ = f->highestmodseq;
                core_->touched(user_, folder_, fired);
            }
            return modified;
        });
    }

    StoreResult<void> expunge(std::span<const uint32_t> uids) override {
        if (auto e = core_->enter("expunge")) return std::unexpected(*e);
        return locked(*core_, [&](Fired& fired) -> StoreResult<void> {
            Folder* f = live();
            if (f == nullptr) return std::unexpected(StoreError::not_found);
            auto gone = core_->remove(*f, uids);
            if (gone.empty()) return {};
            snap_.erase(gone);
            highestmodseq_ = f->highestmodseq;
            core_->touched(user_, folder_, fired);
            return {};
        });
    }

    StoreResult<UidMap> copy_to(std::span<const uint32_t> uids, std::string_view folder) override {
        if (auto e = core_->enter("copy_to")) return std::unexpected(*e);
        return transfer(uids, folder, false);
    }
    StoreResult<UidMap> move_to(std::span<const uint32_t> uids, std::string_view folder) override {
        if (auto e = core_->enter("move_to")) return std::unexpected(*e);
        return transfer(uids, folder, true);
    }

    StoreResult<std::optional<std::string>> cache_get(uint32_t uid, uint32_t version) override {
        if (auto e = core_->enter("cache_get")) return std::unexpected(*e);
        if (find(uid) == nullptr) return std::unexpected(StoreError::not_found);
        std::lock_guard lock(core_->mu);
        Msg* m = live_msg(uid);
        if (m == nullptr || !m->cache || m->cache->first != version)
            return std::optional<std::string>{};
        return std::optional<std::string>(m->cache->second);
    }
    StoreResult<void> cache_put(uint32_t uid, uint32_t version, std::string_view data) override {
        if (auto e = core_->enter("cache_put")) return std::unexpected(*e);
        if (find(uid) == nullptr) return std::unexpected(StoreError::not_found);
        std::lock_guard lock(core_->mu);
        Msg* m = live_msg(uid);
        if (m == nullptr) return std::unexpected(StoreError::expunged);
        m->cache.emplace(version, std::string(data));
        return {};
    }
    // Counted on its own ("cache_put_many"; each slot still counts as a "cache_put"), so a
    // test can check that many slots went to the store as one write.
    StoreResult<void> cache_put_many(uint32_t version, std::span<const CacheSlot> slots) override {
        if (auto e = core_->enter("cache_put_many")) return std::unexpected(*e);
        return Mailbox::cache_put_many(version, slots);
    }

private:
    // This handle's folder, unless it was deleted (or deleted and re-created) since.
    Folder* live() {
        auto f = core_->folder(user_, folder_);
        return f && (*f)->id == id_ ? *f : nullptr;
    }
    Msg* live_msg(uint32_t uid) {
        Folder* f = live();
        if (f == nullptr) return nullptr;
        auto it = f->msgs.find(uid);
        return it == f->msgs.end() ? nullptr : &it->second;
    }

    // COPY, or MOVE (copy and expunge here, at once): all or nothing.
    StoreResult<UidMap> transfer(std::span<const uint32_t> uids, std::string_view folder,
                                 bool move) {
        auto dest = canonical_folder(folder);
        if (!dest) return std::unexpected(dest.error());
        if (move && *dest == folder_) return std::unexpected(StoreError::invalid);
        const uint64_t quota = core_->quota_of(user_);
        std::vector<uint32_t> sorted(uids.begin(), uids.end());
        std::sort(sorted.begin(), sorted.end());
        sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
        return locked(*core_, [&](Fired& fired) -> StoreResult<UidMap> {
            Folder* src = live();
            if (src == nullptr) return std::unexpected(StoreError::not_found);
            auto dr = core_->folder(user_, *dest);
            if (!dr) return std::unexpected(dr.error());
            Folder& dst = **dr;
            std::vector<uint32_t> from;
            uint64_t added = 0;
            for (uint32_t uid : sorted) {
                auto it = src->msgs.find(uid);
                if (it == src->msgs.end()) continue;
                from.push_back(uid);
                added += it->second.bytes->size();
            }
            UidMap map{dst.uidvalidity, {}, {}};
            if (from.empty()) return map;
            if (quota > 0 && core_->usage_of(*core_->user_ref(user_)) + added > quota)
                return std::unexpected(StoreError::over_quota);
            if (core_->free() < added) return std::unexpected(StoreError::no_space);
            if (uint64_t(dst.uidnext) + from.size() >= UINT32_MAX)
                return std::unexpected(StoreError::corrupt);
            for (uint32_t uid : from) {
                Msg m = src->msgs.at(uid);
                m.cache.reset();
                m.modseq = ++dst.highestmodseq;
                uint32_t to = dst.uidnext++;
                dst.log[m.modseq] = LogEntry{Kind::added, {to}};
                core_->stored += m.bytes->size();
                dst.msgs.emplace(to, std::move(m));
                map.from.push_back(uid);
                map.to.push_back(to);
            }
            core_->touched(user_, *dest, fired);
            if (move) {
                snap_.erase(core_->remove(*src, from));
                highestmodseq_ = src->highestmodseq;
                core_->touched(user_, folder_, fired);
            }
            return map;
        });
    }

    std::shared_ptr<MemoryCore> core_;
    std::string user_;
    std::string folder_;
    bool loaded_ = false;
    uint32_t id_ = 0;
    uint32_t uidvalidity_ = 0;
    uint32_t uidnext_ = 0;
    uint64_t highestmodseq_ = 0;
    SnapshotTable snap_;
};

}  // namespace

StoreResult<std::unique_ptr<Mailbox>> open_mailbox(std::shared_ptr<MemoryCore> core,
                                                   std::string user, std::string folder) {
    auto mb = std::make_unique<MemoryMailbox>(core, std::move(user), std::move(folder));
    std::lock_guard lock(core->mu);
    if (auto r = mb->load(); !r) return std::unexpected(r.error());
    return std::unique_ptr<Mailbox>(std::move(mb));
}

}  // namespace postern::memstore
