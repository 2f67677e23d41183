#include "libmailstore/maildir_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "libmailstore/address.h"
#include "libmailstore/bytes.h"
#include "libmailstore/unique_fd.h"
#include "libproto/core/log.h"

namespace postern {

namespace {

// True while idx still maps the user's index file: the user may have been removed since (by
// this process or by mailctl in another), the directory kept aside and perhaps made again
// for a new owner, or the index remade by a rebuild.
bool maps_current_index(UserIndex& idx) {
    int fd = -1;
    struct stat open_st {};
    struct stat path_st {};
    return mdb_env_get_fd(idx.env().get(), &fd) == 0 && ::fstat(fd, &open_st) == 0 &&
           ::stat((idx.paths().index / "data.mdb").c_str(), &path_st) == 0 &&
           open_st.st_dev == path_st.st_dev && open_st.st_ino == path_st.st_ino;
}

}  // namespace

MaildirStore::MaildirStore(fs::path data_dir, StoreOptions opts)
    : data_(std::move(data_dir)), tmp_dir_(data_ / "tmp"), opts_(std::move(opts)) {}

StoreResult<std::unique_ptr<MailStore>> open_maildir_store(const fs::path& data_dir,
                                                           const StoreOptions& opts) {
    struct stat st {};
    if (::stat(data_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return std::unexpected(StoreError::not_found);
    fs::path tmp = data_dir / "tmp";
    if (::mkdir(tmp.c_str(), 0750) != 0 && errno != EEXIST)
        return std::unexpected(errno_to_store_error(errno));
    if (uint32_t n = clean_stale_tmp(tmp); n > 0)
        log_msg(LogLevel::info, "store: removed %u stale files from %s", n, tmp.c_str());
    return std::unique_ptr<MailStore>(new MaildirStore(data_dir, opts));
}

StoreResult<std::shared_ptr<UserIndex>> MaildirStore::index_for(std::string_view user) {
    auto canon = normalize_address(user);
    if (!canon) return std::unexpected(canon.error());
    std::lock_guard lock(mu_);
    if (auto it = indexes_.find(*canon); it != indexes_.end()) {
        if (maps_current_index(*it->second)) return it->second;
        indexes_.erase(it);
    }
    auto paths = user_paths(data_, *canon);
    if (!paths) return std::unexpected(paths.error());
    auto idx = UserIndex::open(*paths, opts_.index_map_size);
    if (!idx) return std::unexpected(idx.error());
    if (indexes_.size() >= 256) indexes_.clear();  // bounded: a busy spoold sees many users
    indexes_[*canon] = *idx;
    return *idx;
}

bool MaildirStore::has_room(uint64_t bytes) {
    struct statvfs vfs {};
    if (::statvfs(data_.c_str(), &vfs) != 0) return false;
    uint64_t avail = uint64_t(vfs.f_bavail) * uint64_t(vfs.f_frsize);
    return avail >= opts_.disk_reserve_bytes && avail - opts_.disk_reserve_bytes >= bytes;
}

StoreResult<uint64_t> MaildirStore::usage(std::string_view user) {
    auto idx = index_for(user);
    if (!idx) return std::unexpected(idx.error());
    auto folders = folders_on_disk((*idx)->paths());
    if (!folders) return std::unexpected(folders.error());
    // Re-runnable (a reindex reads the folder again): redone when the map was full.
    return lmdb::with_write_txn((*idx)->env(), [&](lmdb::Txn& txn) -> StoreResult<uint64_t> {
        for (const auto& f : *folders) {
            auto m = (*idx)->ensure_folder(txn, f);
            if (!m && m.error() != StoreError::not_found) return std::unexpected(m.error());
        }
        return (*idx)->get_u64(txn, "usage");
    });
}

StoreResult<std::unique_ptr<Mailbox>> MaildirStore::open_mailbox(std::string_view user,
                                                                 std::string_view folder) {
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    auto canon = normalize_address(user);
    if (!canon) return std::unexpected(canon.error());
    auto idx = index_for(*canon);
    if (!idx) return std::unexpected(idx.error());
    return open_maildir_mailbox(*canon, *name, *idx, opts_.quota_of);
}

StoreResult<MaildropLock> MaildirStore::try_lock_maildrop(std::string_view user) {
    auto paths = user_paths(data_, user);
    if (!paths) return std::unexpected(paths.error());
    UniqueFd fd(::open((paths->root / "maildrop.lock").c_str(),
                       O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640));
    if (!fd) return std::unexpected(errno_to_store_error(errno));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) return std::unexpected(StoreError::in_use);
        return std::unexpected(StoreError::temporary);
    }
    struct FlockHandle final : StoreLock {
        explicit FlockHandle(UniqueFd f) : fd(std::move(f)) {}
        UniqueFd fd;
    };
    return MaildropLock(std::make_unique<FlockHandle>(std::move(fd)));
}

StoreResult<RebuildStats> MaildirStore::rebuild_index(std::string_view user) {
    auto idx = index_for(user);
    if (!idx) return std::unexpected(idx.error());
    UserIndex& ix = **idx;
    RebuildStats stats;

    // 1. Mark every known folder dirty and make that durable: if we crash half-way, the next
    //    user of a folder reindexes it instead of trusting a half-updated uidnext.
    std::vector<std::string> known;
    {
        auto txn = lmdb::Txn::begin(ix.env(), true);
        if (!txn) return std::unexpected(txn.error());
        std::vector<std::pair<std::string, FolderMeta>> metas;
        {
            // A write transaction's cursors must be gone before it commits (LMDB frees them).
            auto cur = lmdb::Cursor::open(*txn, ix.folders());
            if (!cur) return std::unexpected(cur.error());
            for (cur->first(); cur->valid(); cur->next()) {
                if (auto m = decode_folder(cur->value()))
                    metas.emplace_back(std::string(cur->key()), *m);
            }
        }
        for (auto& [name, m] : metas) {
            m.dirty = true;
            if (auto p = ix.put_folder(*txn, name, m); !p) return std::unexpected(p.error());
            known.push_back(name);
        }
        if (auto c = txn->commit(); !c) return std::unexpected(c.error());
        if (auto s = ix.env().sync(); !s) return std::unexpected(s.error());
    }
    // 2. Reindex each folder on disk, one transaction each.
    auto folders = folders_on_disk(ix.paths());
    if (!folders) return std::unexpected(folders.error());
    for (const auto& f : *folders) {
        // A reindex is re-runnable (it reads the folder again), so a full map is grown.
        RebuildStats folder_stats;
        auto m = lmdb::with_write_txn(ix.env(), [&](lmdb::Txn& txn) {
            folder_stats = {};
            return ix.reindex_folder(txn, f, folder_stats);
        });
        if (!m) return std::unexpected(m.error());
        stats.folders += folder_stats.folders;
        stats.messages += folder_stats.messages;
        stats.new_uids += folder_stats.new_uids;
        stats.tmp_removed += folder_stats.tmp_removed;
    }
    // 3. Forget folders that are gone from disk, recount usage.
    auto txn = lmdb::Txn::begin(ix.env(), true);
    if (!txn) return std::unexpected(txn.error());
    for (const auto& name : known) {
        if (std::find(folders->begin(), folders->end(), name) != folders->end()) continue;
        auto m = ix.get_folder(*txn, name);
        if (!m) return std::unexpected(m.error());
        if (!*m) continue;
        if (auto d = ix.drop_folder_records(*txn, (*m)->id); !d) return std::unexpected(d.error());
        if (auto d = txn->del(ix.folders(), name); !d) return std::unexpected(d.error());
    }
    uint64_t usage = 0;
    {
        auto cur = lmdb::Cursor::open(*txn, ix.msgs());
        if (!cur) return std::unexpected(cur.error());
        for (cur->first(); cur->valid(); cur->next()) {
            if (auto rec = decode_msg(cur->value())) usage += rec->size;
        }
    }
    if (auto p = ix.put_u64(*txn, "usage", usage); !p) return std::unexpected(p.error());
    if (auto c = txn->commit(); !c) return std::unexpected(c.error());
    if (auto s = ix.env().sync(); !s) return std::unexpected(s.error());
    return stats;
}

StoreResult<RebuildStats> MaildirStore::rebuild_all() {
    RebuildStats total;
    std::optional<StoreError> first_error;
    auto domains = list_dir(data_);
    if (!domains) return std::unexpected(domains.error());
    for (const auto& d : *domains) {
        if (!normalize_domain(d) || *normalize_domain(d) != d) continue;  // accounts, tmp, ...
        auto locals = list_dir(data_ / d);
        if (!locals) continue;
        for (const auto& l : *locals) {
            auto lp = normalize_local_part(l);
            if (!lp || *lp != l) continue;  // .deleted-* and foreign entries
            struct stat st {};
            if (::stat((data_ / d / l / "Maildir").c_str(), &st) != 0) continue;
            auto r = rebuild_index(l + "@" + d);
            if (!r) {
                log_msg(LogLevel::error, "store: rebuilding %s@%s failed: %s", l.c_str(), d.c_str(),
                        describe(r.error()));
                if (!first_error) first_error = r.error();
                continue;
            }
            total.folders += r->folders;
            total.messages += r->messages;
            total.new_uids += r->new_uids;
            total.tmp_removed += r->tmp_removed;
        }
    }
    total.tmp_removed += clean_stale_tmp(tmp_dir_);
    if (first_error) return std::unexpected(*first_error);
    return total;
}

}  // namespace postern
