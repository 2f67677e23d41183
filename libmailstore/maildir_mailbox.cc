// A folder snapshot over the user's index, for POP3 and IMAP sessions (maildir_mailbox.h).
#include "libmailstore/maildir_mailbox.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <strings.h>

#include "libmailstore/bytes.h"
#include "libmailstore/fd_reader.h"
#include "libmailstore/maildir_keywords.h"
#include "libmailstore/maildir_name.h"

namespace postern {

MaildirMailbox::MaildirMailbox(std::string user, std::string folder, std::shared_ptr<UserIndex> idx,
                               std::function<uint64_t(std::string_view)> quota_of)
    : user_(std::move(user)), folder_(std::move(folder)), idx_(std::move(idx)),
      quota_of_(std::move(quota_of)), dir_(folder_path(idx_->paths(), folder_)) {}

StoreResult<SnapshotTable> MaildirMailbox::load(lmdb::Txn& txn, const FolderMeta& meta) {
    auto cur = lmdb::Cursor::open(txn, idx_->msgs());
    if (!cur) return std::unexpected(cur.error());
    SnapshotTable out;
    out.reserve(meta.messages);
    std::string prefix = folder_prefix(meta.id);
    for (cur->seek(prefix); cur->valid() && cur->key().starts_with(prefix); cur->next()) {
        auto rec = decode_msg(cur->value());
        if (!rec) return std::unexpected(StoreError::corrupt);
        if (auto p = out.push_back(get_be32(cur->key(), 4), rec->flags, rec->keywords); !p)
            return std::unexpected(p.error());
    }
    if (cur->error() != 0) return std::unexpected(lmdb::to_store_error(cur->error()));
    out.shrink_to_fit();
    return out;
}

StoreResult<MailboxDelta> MaildirMailbox::refresh() {
    // Fast path: a read transaction first, then new/. A delivery links its file before it
    // commits, so anything this snapshot counts in uidnext is already visible in new/.
    std::optional<lmdb::Txn> read;
    FolderMeta meta;
    {
        auto txn = lmdb::Txn::begin(idx_->env(), false);
        if (!txn) return std::unexpected(txn.error());
        auto m = idx_->get_folder(*txn, folder_);
        if (!m) return std::unexpected(m.error());
        bool need_write = !*m || (*m)->dirty;
        if (!need_write) {
            auto pcur = lmdb::Cursor::open(*txn, idx_->pending());
            if (!pcur) return std::unexpected(pcur.error());
            std::string prefix = folder_prefix((*m)->id);
            pcur->seek(prefix);
            need_write = pcur->valid() && pcur->key().starts_with(prefix);
        }
        if (!need_write) {
            auto names = list_dir(dir_ / "new");
            if (!names) return std::unexpected(names.error());
            need_write = !names->empty();
        }
        if (!need_write) {
            meta = **m;
            read.emplace(std::move(*txn));
        }
    }
    if (!read) {
        for (int pass = 0;; ++pass) {
            if (pass == 3) return std::unexpected(StoreError::temporary);
            bool again = false;
            // Absorb and commit before the snapshot changes: absorb_new is re-runnable (a
            // file it moved is found again), so a pass that found the map full (in a put or
            // in the commit) is redone after it grew, and a failed pass leaves the snapshot
            // as it was.
            auto absorbed = lmdb::with_write_txn(
                idx_->env(), [&](lmdb::Txn& t) { return idx_->absorb_new(t, folder_, again); });
            if (!absorbed) return std::unexpected(absorbed.error());
            if (again) continue;
            // The snapshot is then read from what is committed (another writer's later
            // commit included: the folder's meta comes from the same read transaction).
            auto txn = lmdb::Txn::begin(idx_->env(), false);
            if (!txn) return std::unexpected(txn.error());
            auto m = idx_->get_folder(*txn, folder_);
            if (!m) return std::unexpected(m.error());
            if (!*m || (*m)->dirty) continue;  // deleted or being rebuilt meanwhile
            meta = **m;
            read.emplace(std::move(*txn));
            break;
        }
    }
    lmdb::Txn& txn = *read;

    MailboxDelta delta;
    bool same_folder = loaded_ && meta.id == meta_.id && meta.uidvalidity == meta_.uidvalidity;
    if (same_folder && meta.highestmodseq == synced_modseq_ && meta.uidnext == meta_.uidnext) {
        meta_ = meta;
    } else if (same_folder && synced_modseq_ >= meta.log_floor) {
        // O(changes): walk the log from what this snapshot reflects.
        std::vector<uint32_t> touched, gone;
        auto r =
            idx_->read_changes(txn, meta.id, synced_modseq_, [&](uint64_t, const ChangeEntry& e) {
                auto& to = e.kind == ChangeKind::expunged ? gone : touched;
                to.insert(to.end(), e.uids.begin(), e.uids.end());
                return true;
            });
        if (!r) return std::unexpected(r.error());
        std::sort(gone.begin(), gone.end());
        gone.erase(std::unique(gone.begin(), gone.end()), gone.end());
        std::sort(touched.begin(), touched.end());
        touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
        snap_.erase(gone, delta);
        for (uint32_t uid : touched) {
            if (std::binary_search(gone.begin(), gone.end(), uid)) continue;
            auto rec = idx_->get_msg(txn, meta.id, uid);
            if (!rec) return std::unexpected(rec.error());
            if (!*rec) continue;
            if (auto u = snap_.upsert(uid, (*rec)->flags, (*rec)->keywords, delta); !u)
                return std::unexpected(u.error());
        }
        meta_ = meta;
        synced_modseq_ = meta.highestmodseq;
    } else {
        // First load, another folder of that name, or a log that does not reach back: the
        // whole folder, compared with what we had.
        auto fresh = load(txn, meta);
        if (!fresh) return std::unexpected(fresh.error());
        if (loaded_)
            delta = snap_.replace_with(std::move(*fresh), same_folder);
        else
            snap_ = std::move(*fresh);
        meta_ = meta;
        synced_modseq_ = meta.highestmodseq;
        loaded_ = true;
    }
    return delta;
}

StoreResult<FolderChanges> MaildirMailbox::changes_since(uint64_t modseq) {
    auto txn = lmdb::Txn::begin(idx_->env(), false);
    if (!txn) return std::unexpected(txn.error());
    auto m = idx_->get_folder(*txn, folder_);
    if (!m) return std::unexpected(m.error());
    if (!*m || (*m)->id != meta_.id) return std::unexpected(StoreError::not_found);
    FolderChanges out;
    out.highestmodseq = (*m)->highestmodseq;
    if (modseq < (*m)->log_floor) {
        // The log starts later: every message counts as changed (a reindex keeps the old
        // modseq of a file whose flags another tool changed), tombstones unknown.
        out.vanished_complete = false;
        auto cur = lmdb::Cursor::open(*txn, idx_->msgs());
        if (!cur) return std::unexpected(cur.error());
        std::string prefix = folder_prefix((*m)->id);
        for (cur->seek(prefix); cur->valid() && cur->key().starts_with(prefix); cur->next()) {
            auto rec = decode_msg(cur->value());
            if (!rec) return std::unexpected(StoreError::corrupt);
            out.changed.push_back(get_be32(cur->key(), 4));
        }
        return out;
    }
    std::vector<uint32_t> touched;
    auto r = idx_->read_changes(*txn, (*m)->id, modseq, [&](uint64_t, const ChangeEntry& e) {
        auto& to = e.kind == ChangeKind::expunged ? out.vanished : touched;
        to.insert(to.end(), e.uids.begin(), e.uids.end());
        return true;
    });
    if (!r) return std::unexpected(r.error());
    std::sort(out.vanished.begin(), out.vanished.end());
    out.vanished.erase(std::unique(out.vanished.begin(), out.vanished.end()), out.vanished.end());
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (uint32_t uid : touched) {
        if (std::binary_search(out.vanished.begin(), out.vanished.end(), uid)) continue;
        out.changed.push_back(uid);
    }
    return out;
}

StoreResult<std::vector<MessageInfo>> MaildirMailbox::info(std::span<const uint32_t> uids) {
    auto txn = lmdb::Txn::begin(idx_->env(), false);
    if (!txn) return std::unexpected(txn.error());
    std::vector<MessageInfo> out;
    out.reserve(uids.size());
    for (uint32_t uid : uids) {
        if (find(uid) == nullptr) continue;
        auto rec = idx_->get_msg(*txn, meta_.id, uid);
        if (!rec) return std::unexpected(rec.error());
        if (!*rec) continue;
        MsgRecord& r = **rec;
        out.push_back(
            MessageInfo{uid, r.size, r.flags, std::move(r.keywords), r.internal_date, r.modseq});
    }
    return out;
}

std::string MaildirMailbox::find_by_stem(const std::string& stem) {
    auto names = list_dir(dir_ / "cur");
    if (!names) return {};
    for (const auto& n : *names) {
        auto p = parse_maildir_name(n);
        if (p && p->stem == stem) return n;
    }
    return {};
}

StoreResult<std::unique_ptr<MessageReader>> MaildirMailbox::open_message(uint32_t uid) {
    if (find(uid) == nullptr) return std::unexpected(StoreError::not_found);
    auto txn = lmdb::Txn::begin(idx_->env(), false);
    if (!txn) return std::unexpected(txn.error());
    auto rec = idx_->get_msg(*txn, meta_.id, uid);
    if (!rec) return std::unexpected(rec.error());
    if (!*rec) return std::unexpected(StoreError::expunged);
    txn->abort();
    fs::path p = dir_ / ((*rec)->in_new ? "new" : "cur") / (*rec)->file_name();
    // Never through a symlink planted in the maildir, and never blocking on a FIFO: only a
    // regular file is a message (O_NONBLOCK does nothing to a regular file's reads).
    constexpr int how = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
    UniqueFd fd(::open(p.c_str(), how));
    if (!fd && errno == ENOENT) {
        std::string name = find_by_stem((*rec)->stem);
        if (name.empty()) return std::unexpected(StoreError::expunged);
        fd.reset(::open((dir_ / "cur" / name).c_str(), how));
        if (!fd && errno == ENOENT) return std::unexpected(StoreError::expunged);
    }
    if (!fd) return std::unexpected(errno_to_store_error(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return std::unexpected(StoreError::temporary);
    if (!S_ISREG(st.st_mode)) return std::unexpected(StoreError::corrupt);
    return std::make_unique<FdReader>(std::move(fd), 0, uint64_t(st.st_size));
}

StoreResult<MaildirMailbox::FolderWrite> MaildirMailbox::begin_folder_write() {
    auto txn = lmdb::Txn::begin(idx_->env(), true);
    if (!txn) return std::unexpected(txn.error());
    auto m = idx_->get_folder(*txn, folder_);
    if (!m) return std::unexpected(m.error());
    if (!*m || (*m)->id != meta_.id) return std::unexpected(StoreError::not_found);
    return FolderWrite{std::move(*txn), **m};
}

void MaildirMailbox::note_committed(uint64_t before, uint64_t after) {
    // Only claim to be in sync if nobody else changed the folder since our snapshot.
    if (before == synced_modseq_) synced_modseq_ = after;
    meta_.highestmodseq = after;
}

StoreResult<std::vector<uint32_t>> MaildirMailbox::store_flags(std::span<const uint32_t> uids,
                                                               const FlagChange& change,
                                                               uint64_t unchanged_since) {
    // Re-runnable: a file renamed by a failed attempt is found again by its stem.
    return lmdb::retry_when_full(idx_->env(),
                                 [&] { return store_flags_once(uids, change, unchanged_since); });
}

StoreResult<std::vector<uint32_t>> MaildirMailbox::store_flags_once(std::span<const uint32_t> uids,
                                                                    const FlagChange& change,
                                                                    uint64_t unchanged_since) {
    auto w = begin_folder_write();
    if (!w) return std::unexpected(w.error());
    auto& txn = w->txn;
    FolderMeta& meta = w->meta;
    const uint64_t before = meta.highestmodseq;
    std::vector<uint32_t> modified;
    std::vector<std::pair<uint32_t, MsgRecord>> done;
    std::optional<KeywordList> kwlist;  // the folder's, read when a keyword changes
    for (uint32_t uid : uids) {
        auto rec = idx_->get_msg(txn, meta.id, uid);
        if (!rec) return std::unexpected(rec.error());
        if (!*rec) continue;
        if (unchanged_since != 0 && (*rec)->modseq > unchanged_since) {
            modified.push_back(uid);
            continue;
        }
        MsgRecord r = std::move(**rec);
        const MsgRecord old = r;
        std::string old_name = r.file_name();
        if (!apply_flag_change(r, change)) continue;
        if (r.keywords != old.keywords) {
            // A keyword with a letter in the folder's list is in the file name too (the
            // list saved before a name carries a new letter).
            if (!kwlist) {
                auto l = KeywordList::load(dir_);
                if (!l) return std::unexpected(l.error());
                kwlist = std::move(*l);
            }
            r.keyword_letters = kwlist->letters_for(r.keywords, true);
            if (auto s = kwlist->save(dir_); !s) return std::unexpected(s.error());
        }
        r.in_new = false;
        std::string new_name = r.file_name();
        if (old_name != new_name) {
            fs::path from = dir_ / (old.in_new ? "new" : "cur") / old_name;
            if (::rename(from.c_str(), (dir_ / "cur" / new_name).c_str()) != 0) {
                if (errno != ENOENT) return std::unexpected(errno_to_store_error(errno));
                std::string actual = find_by_stem(r.stem);
                if (actual.empty()) continue;  // expunged meanwhile
                if (::rename((dir_ / "cur" / actual).c_str(), (dir_ / "cur" / new_name).c_str()) !=
                    0)
                    continue;
            }
        }
        if (auto f = idx_->forget_change(txn, meta.id, old.modseq, uid); !f)
            return std::unexpected(f.error());
        r.modseq = ++meta.highestmodseq;
        if (auto l =
                idx_->log_change(txn, meta.id, r.modseq, ChangeKind::flags, std::span(&uid, 1));
            !l)
            return std::unexpected(l.error());
        count_message(meta, old, -1);
        count_message(meta, r, +1);
        if (auto p = idx_->put_msg(txn, meta.id, uid, r); !p) return std::unexpected(p.error());
        done.emplace_back(uid, std::move(r));
    }
    if (done.empty()) return modified;
    if (auto p = idx_->put_folder(txn, folder_, meta); !p) return std::unexpected(p.error());
    if (auto c = txn.commit(); !c) return std::unexpected(c.error());
    for (auto& [uid, r] : done)
        if (auto u = snap_.update(uid, r.flags, r.keywords); !u) return std::unexpected(u.error());
    note_committed(before, meta.highestmodseq);
    return modified;
}

StoreResult<void> MaildirMailbox::expunge(std::span<const uint32_t> uids) {
    // Nothing is unlinked before the commit, so a failed attempt changed nothing.
    return lmdb::retry_when_full(idx_->env(), [&] { return expunge_once(uids); });
}

StoreResult<void> MaildirMailbox::expunge_once(std::span<const uint32_t> uids) {
    auto w = begin_folder_write();
    if (!w) return std::unexpected(w.error());
    auto& txn = w->txn;
    FolderMeta& meta = w->meta;
    const uint64_t before = meta.highestmodseq;
    std::vector<std::pair<uint32_t, MsgRecord>> gone;
    int64_t freed = 0;
    for (uint32_t uid : uids) {
        auto rec = idx_->get_msg(txn, meta.id, uid);
        if (!rec) return std::unexpected(rec.error());
        if (!*rec) continue;
        if (auto d = txn.del(idx_->msgs(), msg_key(meta.id, uid)); !d)
            return std::unexpected(d.error());
        (void)txn.del(idx_->cache(), msg_key(meta.id, uid));
        if (auto f = idx_->forget_change(txn, meta.id, (*rec)->modseq, uid); !f)
            return std::unexpected(f.error());
        freed += int64_t((*rec)->size);
        count_message(meta, **rec, -1);
        gone.emplace_back(uid, std::move(**rec));
    }
    if (gone.empty()) return {};
    std::vector<uint32_t> removed;
    removed.reserve(gone.size());
    for (const auto& g : gone) removed.push_back(g.first);
    std::sort(removed.begin(), removed.end());
    ++meta.highestmodseq;
    if (auto l = idx_->log_change(txn, meta.id, meta.highestmodseq, ChangeKind::expunged, removed);
        !l)
        return std::unexpected(l.error());
    if (auto p = idx_->put_folder(txn, folder_, meta); !p) return std::unexpected(p.error());
    if (auto a = idx_->add_usage(txn, -freed); !a) return a;
    if (auto c = txn.commit(); !c) return c;
    // Index first (and forced to disk), files second: a crash in between can only leave a
    // file the index no longer knows, which a rebuild would bring back, never a record
    // pointing at nothing.
    // The unlinks are synced too (the directories): an expunge the caller confirms (POP3
    // QUIT's +OK, IMAP's tagged OK) must not come back after a crash and a rebuild.
    (void)idx_->env().sync();
    bool in_new = false, in_cur = false;
    for (auto& [uid, r] : gone) {
        fs::path p = dir_ / (r.in_new ? "new" : "cur") / r.file_name();
        (r.in_new ? in_new : in_cur) = true;
        if (::unlink(p.c_str()) != 0 && errno == ENOENT) {
            std::string actual = find_by_stem(r.stem);
            if (!actual.empty()) ::unlink((dir_ / "cur" / actual).c_str());
            in_cur = true;
        }
    }
    StoreResult<void> synced;
    if (in_new) synced = fsync_path(dir_ / "new");
    if (in_cur && synced) synced = fsync_path(dir_ / "cur");
    // Remember the UID floor outside the index (see read_uidvalidity).
    (void)write_uidvalidity(dir_, meta.uidvalidity, meta.uidnext);
    snap_.erase(removed);
    note_committed(before, meta.highestmodseq);
    return synced;
}

StoreResult<std::unique_ptr<Mailbox>> open_maildir_mailbox(
    std::string user, std::string folder, std::shared_ptr<UserIndex> idx,
    std::function<uint64_t(std::string_view)> quota_of) {
    auto mb = std::make_unique<MaildirMailbox>(std::move(user), std::move(folder), std::move(idx),
                                               std::move(quota_of));
    if (auto r = mb->refresh(); !r) return std::unexpected(r.error());
    return std::unique_ptr<Mailbox>(std::move(mb));
}

}  // namespace postern
