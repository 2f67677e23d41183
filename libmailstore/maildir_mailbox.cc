// A folder snapshot over the user's index, for POP3 and IMAP sessions.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <strings.h>

#include "libmailstore/bytes.h"
#include "libmailstore/maildir_name.h"
#include "libmailstore/maildir_store.h"
#include "libproto/core/ascii.h"

namespace postern {
namespace {

bool same_keyword(const std::string& a, const std::string& b) { return iequals(a, b); }

bool has_keyword(const std::vector<std::string>& ks, const std::string& k) {
    return std::any_of(ks.begin(), ks.end(), [&](const auto& x) { return same_keyword(x, k); });
}

// Applies a change; true when something changed.
bool apply_change(MsgRecord& rec, const FlagChange& ch) {
    uint8_t flags = rec.flags;
    std::vector<std::string> kw = rec.keywords;
    uint8_t f = ch.flags & (flag_seen | flag_answered | flag_flagged | flag_deleted | flag_draft);
    switch (ch.op) {
    case FlagOp::set:
        flags = f;
        kw.clear();
        for (const auto& k : ch.keywords)
            if (!k.empty() && !has_keyword(kw, k)) kw.push_back(k);
        break;
    case FlagOp::add:
        flags |= f;
        for (const auto& k : ch.keywords)
            if (!k.empty() && !has_keyword(kw, k)) kw.push_back(k);
        break;
    case FlagOp::remove:
        flags &= uint8_t(~f);
        std::erase_if(kw, [&](const std::string& k) { return has_keyword(ch.keywords, k); });
        break;
    }
    bool changed = flags != rec.flags || kw != rec.keywords;
    rec.flags = flags;
    rec.keywords = std::move(kw);
    return changed;
}

class MaildirMailbox final : public Mailbox {
public:
    MaildirMailbox(std::string user, std::string folder, std::shared_ptr<UserIndex> idx)
        : user_(std::move(user)), folder_(std::move(folder)), idx_(std::move(idx)),
          dir_(folder_path(idx_->paths(), folder_)) {}

    const std::string& user() const override { return user_; }
    const std::string& folder() const override { return folder_; }
    uint32_t uidvalidity() const override { return meta_.uidvalidity; }
    uint32_t uidnext() const override { return meta_.uidnext; }
    uint64_t highestmodseq() const override { return meta_.highestmodseq; }
    const std::vector<MessageInfo>& messages() const override { return msgs_; }

    const MessageInfo* find(uint32_t uid) const override {
        auto it = std::lower_bound(msgs_.begin(), msgs_.end(), uid,
                                   [](const MessageInfo& m, uint32_t u) { return m.uid < u; });
        return (it != msgs_.end() && it->uid == uid) ? &*it : nullptr;
    }

    StoreResult<void> refresh() override;
    StoreResult<MessageFile> open_message(uint32_t uid) override;
    StoreResult<std::string> read_message(uint32_t uid) override;
    StoreResult<void> store_flags(std::span<const uint32_t> uids,
                                  const FlagChange& change) override;
    StoreResult<void> expunge(std::span<const uint32_t> uids) override;

private:
    StoreResult<void> load(lmdb::Txn& txn, const FolderMeta& meta);
    // Finds the current name of a file whose name changed behind our back (rare: a
    // flag change whose index commit was lost). Empty when gone.
    std::string find_by_stem(const std::string& stem);

    std::string user_;
    std::string folder_;
    std::shared_ptr<UserIndex> idx_;
    fs::path dir_;
    // A write transaction on this folder with its current metadata; not_found when the folder
    // was deleted (or deleted and re-created) since this handle opened it.
    struct FolderWrite {
        lmdb::Txn txn;
        FolderMeta meta;
    };
    StoreResult<FolderWrite> begin_folder_write();
    // After a committed change that took the folder from modseq `before` to `after`.
    void note_committed(uint64_t before, uint64_t after);

    FolderMeta meta_;
    uint64_t synced_modseq_ = 0;  // index highestmodseq our snapshot reflects
    bool loaded_ = false;
    std::vector<MessageInfo> msgs_;
};

StoreResult<void> MaildirMailbox::load(lmdb::Txn& txn, const FolderMeta& meta) {
    auto cur = lmdb::Cursor::open(txn, idx_->msgs());
    if (!cur) return std::unexpected(cur.error());
    std::vector<MessageInfo> out;
    out.reserve(msgs_.size() + 16);
    std::string prefix = msg_key(meta.id, 0).substr(0, 4);
    for (cur->seek(prefix); cur->valid() && cur->key().starts_with(prefix); cur->next()) {
        auto rec = decode_msg(cur->value());
        if (!rec) return std::unexpected(StoreError::corrupt);
        if (rec->pending) continue;
        out.push_back(MessageInfo{get_be32(cur->key(), 4), rec->size, rec->flags,
                                  std::move(rec->keywords), rec->internal_date, rec->modseq});
    }
    if (cur->error() != 0) return std::unexpected(lmdb::to_store_error(cur->error()));
    msgs_ = std::move(out);
    meta_ = meta;
    synced_modseq_ = meta.highestmodseq;
    loaded_ = true;
    return {};
}

StoreResult<void> MaildirMailbox::refresh() {
    // Fast path: a read transaction first, then new/. A delivery links its file before it
    // commits, so anything this snapshot counts in uidnext is already visible in new/.
    {
        auto txn = lmdb::Txn::begin(idx_->env(), false);
        if (!txn) return std::unexpected(txn.error());
        auto meta = idx_->get_folder(*txn, folder_);
        if (!meta) return std::unexpected(meta.error());
        bool need_write = !*meta || (*meta)->dirty;
        if (!need_write) {
            auto pcur = lmdb::Cursor::open(*txn, idx_->pending());
            if (!pcur) return std::unexpected(pcur.error());
            std::string prefix = msg_key((*meta)->id, 0).substr(0, 4);
            pcur->seek(prefix);
            need_write = pcur->valid() && pcur->key().starts_with(prefix);
        }
        if (!need_write) {
            auto names = list_dir(dir_ / "new");
            if (!names) return std::unexpected(names.error());
            need_write = !names->empty();
        }
        if (!need_write) {
            const FolderMeta& m = **meta;
            if (loaded_ && m.id == meta_.id && m.uidvalidity == meta_.uidvalidity &&
                m.uidnext == meta_.uidnext && m.highestmodseq == synced_modseq_)
                return {};
            return load(*txn, m);
        }
    }
    for (int pass = 0; pass < 3; ++pass) {
        auto txn = lmdb::Txn::begin(idx_->env(), true);
        if (!txn) return std::unexpected(txn.error());
        bool again = false;
        auto meta = idx_->absorb_new(*txn, folder_, again);
        if (!meta) return std::unexpected(meta.error());
        if (!again) {
            if (auto r = load(*txn, *meta); !r) return r;
            return txn->commit();
        }
        if (auto r = txn->commit(); !r) return r;
    }
    return std::unexpected(StoreError::temporary);
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

StoreResult<MessageFile> MaildirMailbox::open_message(uint32_t uid) {
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
    return MessageFile{std::move(fd), uint64_t(st.st_size)};
}

StoreResult<std::string> MaildirMailbox::read_message(uint32_t uid) {
    auto f = open_message(uid);
    if (!f) return std::unexpected(f.error());
    std::string out(f->size, '\0');
    size_t got = 0;
    while (got < out.size()) {
        ssize_t n = ::pread(f->fd.get(), out.data() + got, out.size() - got, off_t(got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::unexpected(StoreError::temporary);
        if (n == 0) break;
        got += size_t(n);
    }
    out.resize(got);
    return out;
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

StoreResult<void> MaildirMailbox::store_flags(std::span<const uint32_t> uids,
                                              const FlagChange& change) {
    auto w = begin_folder_write();
    if (!w) return std::unexpected(w.error());
    auto& txn = w->txn;
    FolderMeta& meta = w->meta;
    const uint64_t before = meta.highestmodseq;
    std::vector<std::pair<uint32_t, MsgRecord>> done;
    for (uint32_t uid : uids) {
        auto rec = idx_->get_msg(txn, meta.id, uid);
        if (!rec) return std::unexpected(rec.error());
        if (!*rec || (*rec)->pending) continue;
        MsgRecord r = std::move(**rec);
        std::string old_name = r.file_name();
        if (!apply_change(r, change)) continue;
        r.in_new = false;
        std::string new_name = r.file_name();
        if (old_name != new_name) {
            fs::path from = dir_ / "cur" / old_name;
            if (::rename(from.c_str(), (dir_ / "cur" / new_name).c_str()) != 0) {
                if (errno != ENOENT) return std::unexpected(errno_to_store_error(errno));
                std::string actual = find_by_stem(r.stem);
                if (actual.empty()) continue;  // expunged meanwhile
                if (::rename((dir_ / "cur" / actual).c_str(), (dir_ / "cur" / new_name).c_str()) !=
                    0)
                    continue;
            }
        }
        r.modseq = ++meta.highestmodseq;
        if (auto p = idx_->put_msg(txn, meta.id, uid, r); !p) return std::unexpected(p.error());
        done.emplace_back(uid, std::move(r));
    }
    if (done.empty()) return {};
    if (auto p = idx_->put_folder(txn, folder_, meta); !p) return std::unexpected(p.error());
    if (auto c = txn.commit(); !c) return c;
    for (auto& [uid, r] : done) {
        auto it = std::lower_bound(msgs_.begin(), msgs_.end(), uid,
                                   [](const MessageInfo& mi, uint32_t u) { return mi.uid < u; });
        if (it != msgs_.end() && it->uid == uid) {
            it->flags = r.flags;
            it->keywords = r.keywords;
            it->modseq = r.modseq;
        }
    }
    note_committed(before, meta.highestmodseq);
    return {};
}

StoreResult<void> MaildirMailbox::expunge(std::span<const uint32_t> uids) {
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
        if (!*rec || (*rec)->pending) continue;
        if (auto d = txn.del(idx_->msgs(), msg_key(meta.id, uid)); !d)
            return std::unexpected(d.error());
        freed += int64_t((*rec)->size);
        gone.emplace_back(uid, std::move(**rec));
    }
    if (gone.empty()) return {};
    ++meta.highestmodseq;
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
    std::vector<uint32_t> removed;
    removed.reserve(gone.size());
    for (const auto& g : gone) removed.push_back(g.first);
    std::sort(removed.begin(), removed.end());
    std::erase_if(msgs_, [&](const MessageInfo& mi) {
        return std::binary_search(removed.begin(), removed.end(), mi.uid);
    });
    note_committed(before, meta.highestmodseq);
    return synced;
}

}  // namespace

StoreResult<std::unique_ptr<Mailbox>> open_maildir_mailbox(std::string user, std::string folder,
                                                           std::shared_ptr<UserIndex> idx) {
    auto mb = std::make_unique<MaildirMailbox>(std::move(user), std::move(folder), std::move(idx));
    if (auto r = mb->refresh(); !r) return std::unexpected(r.error());
    return std::unique_ptr<Mailbox>(std::move(mb));
}

}  // namespace postern
