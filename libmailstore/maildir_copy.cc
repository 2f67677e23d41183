// COPY and MOVE between folders of one user: each file is hard-linked into the destination's
// cur/ under a name with its new UID and the same flags (the link keeps the mtime, which is
// the internal date), cur/ is fsynced, and one index transaction records the copies (and for
// MOVE drops the originals). Only then are a MOVE's source files unlinked. A crash before
// the commit leaves links the index does not know (invisible until a rebuild), never a
// half-recorded copy. Where the kernel refuses the link (fs.protected_hardlinks and a file
// the daemon user does not own, another file system, too many links) the bytes are copied
// instead, fsynced before the index records them (maildir_link.h).
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "libmailstore/maildir_mailbox.h"
#include "libmailstore/maildir_keywords.h"
#include "libmailstore/maildir_link.h"
#include "libmailstore/maildir_name.h"

namespace postern {
namespace {

struct Copied {
    uint32_t from_uid;
    MsgRecord from;
    uint32_t to_uid;
    MsgRecord to;
    fs::path link;
};

}  // namespace

StoreResult<UidMap> MaildirMailbox::copy_to(std::span<const uint32_t> uids,
                                            std::string_view folder) {
    // A failed attempt has unlinked its copies, so it can be redone after the map grew.
    return lmdb::retry_when_full(idx_->env(), [&] { return copy_once(uids, folder); });
}

StoreResult<UidMap> MaildirMailbox::copy_once(std::span<const uint32_t> uids,
                                              std::string_view folder) {
    auto dest = canonical_folder(folder);
    if (!dest) return std::unexpected(dest.error());
    std::vector<uint32_t> sorted(uids.begin(), uids.end());
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    const uint64_t quota = quota_of_ ? quota_of_(user_) : 0;

    auto w = begin_folder_write();
    if (!w) return std::unexpected(w.error());
    auto& txn = w->txn;
    const bool same = *dest == folder_;
    auto dm = same ? StoreResult<FolderMeta>(w->meta) : idx_->ensure_folder(txn, *dest);
    if (!dm) return std::unexpected(dm.error());
    FolderMeta& dmeta = same ? w->meta : *dm;
    fs::path ddir = folder_path(idx_->paths(), *dest);

    std::vector<Copied> done;
    auto undo = [&](StoreError e) {
        for (const auto& c : done) ::unlink(c.link.c_str());
        return std::unexpected(e);
    };
    uint64_t added = 0;
    std::optional<KeywordList> dlist;  // the destination's keyword list, when needed
    for (uint32_t uid : sorted) {
        auto rec = idx_->get_msg(txn, w->meta.id, uid);
        if (!rec) return undo(rec.error());
        if (!*rec) continue;
        if (dmeta.uidnext == 0 || dmeta.uidnext == UINT32_MAX) return undo(StoreError::corrupt);
        Copied c{uid, std::move(**rec), dmeta.uidnext, {}, {}};
        c.to.stem = maildir_unique_part() + ",U=" + std::to_string(c.to_uid) +
                    ",S=" + std::to_string(c.from.size);
        c.to.size = c.from.size;
        c.to.flags = c.from.flags;
        c.to.other_info = c.from.other_info;
        c.to.keywords = c.from.keywords;
        c.to.internal_date = c.from.internal_date;
        if (!c.to.keywords.empty()) {
            // Letters as the destination's list has them (saved before any link uses them).
            if (!dlist) {
                auto l = KeywordList::load(ddir);
                if (!l) return undo(l.error());
                dlist = std::move(*l);
            }
            c.to.keyword_letters = dlist->letters_for(c.to.keywords, true);
            if (auto saved = dlist->save(ddir); !saved) return undo(saved.error());
        }
        c.link = ddir / "cur" / c.to.file_name();
        fs::path src = dir_ / (c.from.in_new ? "new" : "cur") / c.from.file_name();
        const fs::path dtmp = ddir / "tmp";
        if (int err = maildir_link_or_copy(src, c.link, dtmp); err != 0) {
            std::string actual = err == ENOENT ? find_by_stem(c.from.stem) : std::string();
            if (actual.empty()) {
                if (err == ENOENT) continue;  // expunged meanwhile
                return undo(errno_to_store_error(err));
            }
            err = maildir_link_or_copy(dir_ / "cur" / actual, c.link, dtmp);
            if (err == ENOENT) continue;
            if (err != 0) return undo(errno_to_store_error(err));
        }
        ++dmeta.uidnext;
        added += c.to.size;
        done.push_back(std::move(c));
    }
    UidMap map{dmeta.uidvalidity, {}, {}};
    if (done.empty()) return map;
    if (quota > 0) {
        auto used = idx_->get_u64(txn, "usage");
        if (!used) return undo(used.error());
        if (*used + added > quota) return undo(StoreError::over_quota);
    }
    if (auto r = fsync_path(ddir / "cur"); !r) return undo(r.error());
    for (auto& c : done) {
        c.to.modseq = ++dmeta.highestmodseq;
        count_message(dmeta, c.to, +1);
        if (auto r = idx_->put_msg(txn, dmeta.id, c.to_uid, c.to); !r) return undo(r.error());
        if (auto r = idx_->log_change(txn, dmeta.id, c.to.modseq, ChangeKind::added,
                                      std::span(&c.to_uid, 1));
            !r)
            return undo(r.error());
        map.from.push_back(c.from_uid);
        map.to.push_back(c.to_uid);
    }
    if (!same) {
        if (auto r = idx_->put_folder(txn, *dest, dmeta); !r) return undo(r.error());
    } else {
        if (auto r = idx_->put_folder(txn, folder_, dmeta); !r) return undo(r.error());
    }
    if (auto r = idx_->add_usage(txn, int64_t(added)); !r) return undo(r.error());
    if (auto r = txn.commit(); !r) return undo(r.error());
    // Copies into this very folder join the snapshot at the next refresh(), like anyone's.
    return map;
}

StoreResult<UidMap> MaildirMailbox::move_to(std::span<const uint32_t> uids,
                                            std::string_view folder) {
    auto dest = canonical_folder(folder);
    if (!dest) return std::unexpected(dest.error());
    if (*dest == folder_) return std::unexpected(StoreError::invalid);
    // Copy, then expunge the originals. Each step is durable and all-or-nothing; between
    // them another session may briefly see the message in both folders (never in neither).
    auto map = copy_to(uids, *dest);
    if (!map) return map;
    if (map->from.empty()) return map;
    if (auto r = expunge(map->from); !r) return std::unexpected(r.error());
    return map;
}

}  // namespace postern
