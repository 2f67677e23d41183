// Delivery: write the bytes once per message in DATA/tmp and fsync them (a batch of messages
// in one pass), then per user, holding the index's write transaction (which serializes
// deliveries into one user across processes): reserve the UIDs, hard-link each file into
// new/ under a name carrying its UID, fsync new/ once, record the messages as pending,
// commit once. docs/store.md has the crash analysis.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "libmailstore/maildir_keywords.h"
#include "libmailstore/maildir_mailbox.h"
#include "libmailstore/maildir_name.h"
#include "libmailstore/maildir_store.h"
#include "libmailstore/unique_fd.h"

namespace postern {

struct MaildirStore::TmpFile {
    fs::path path;
    uint64_t size = 0;
    int64_t internal_date = 0;
    UniqueFd fd;  // open until the file is fsynced
    TmpFile() = default;
    TmpFile(TmpFile&& o) noexcept
        : path(std::exchange(o.path, {})), size(o.size), internal_date(o.internal_date),
          fd(std::move(o.fd)) {}
    TmpFile& operator=(TmpFile&&) = delete;
    ~TmpFile() {
        if (!path.empty()) ::unlink(path.c_str());
    }
};

// One (message, user) pair of a batch, all for the same user.
struct MaildirStore::LinkRequest {
    const std::string* folder;
    const TmpFile* tmp;
    const DeliveryOptions* opts;
    StoreResult<Delivered>* result;
};

namespace {

StoreResult<void> write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return std::unexpected(errno_to_store_error(errno));
        }
        p += w;
        n -= size_t(w);
    }
    return {};
}

StoreResult<void> copy_from_reader(int out, MessageReader& in) {
    char buf[64 * 1024];
    uint64_t offset = 0, size = in.size();
    while (offset < size) {
        auto r = in.read_at(offset, std::span(buf, std::min<uint64_t>(size - offset, sizeof buf)));
        if (!r) return std::unexpected(r.error());
        if (*r == 0) return std::unexpected(StoreError::invalid);  // shorter than it says
        if (auto w = write_all(out, buf, *r); !w) return w;
        offset += *r;
    }
    return {};
}

}  // namespace

// Writes the bytes; the file is left open and not yet fsynced (see sync_tmp_files).
StoreResult<MaildirStore::TmpFile> MaildirStore::write_tmp(const MessageSource& msg,
                                                           int64_t internal_date) {
    TmpFile tmp;
    tmp.internal_date = internal_date != 0 ? internal_date : int64_t(std::time(nullptr));
    fs::path p = tmp_dir_ / maildir_unique_part();
    constexpr int how = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
    UniqueFd fd(::open(p.c_str(), how, 0640));
    if (!fd) {
        if (errno == ENOENT) {  // DATA/tmp removed under us: recreate once
            ::mkdir(tmp_dir_.c_str(), 0750);
            fd.reset(::open(p.c_str(), how, 0640));
        }
        if (!fd) return std::unexpected(errno_to_store_error(errno));
    }
    tmp.path = p;
    StoreResult<void> w;
    if (msg.reader != nullptr) {
        w = copy_from_reader(fd.get(), *msg.reader);
        tmp.size = msg.reader->size();
    } else {
        w = write_all(fd.get(), msg.bytes.data(), msg.bytes.size());
        tmp.size = msg.bytes.size();
    }
    if (!w) return std::unexpected(w.error());
    // The internal date is the file's mtime, so a rebuild finds it again.
    timespec times[2] = {{tmp.internal_date, 0}, {tmp.internal_date, 0}};
    ::futimens(fd.get(), times);
    tmp.fd = std::move(fd);
    return tmp;
}

namespace {

// fsync every file (and close it). Writeback of all of them is started first, so every file's
// blocks are allocated in the journal's running transaction: the first fsync commits that
// transaction for all of them, the later ones find their metadata already durable and only
// wait for their own data. N fresh files then cost about one journal commit instead of N.
template <class Tmp>
void sync_tmp_files(std::vector<std::optional<Tmp>>& files,
                    const std::function<void(size_t, StoreError)>& failed) {
    for (auto& f : files)
        if (f) ::sync_file_range(f->fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
    for (size_t i = 0; i < files.size(); ++i) {
        if (!files[i]) continue;
        if (::fsync(files[i]->fd.get()) != 0) {
            failed(i, errno_to_store_error(errno));
            files[i].reset();
            continue;
        }
        files[i]->fd.reset();
    }
}

}  // namespace

void MaildirStore::link_batch(std::string_view user, UserIndex& idx, std::span<LinkRequest> reqs,
                              bool all_or_nothing) {
    // A full map is grown and what failed redone: a failed attempt has undone its links
    // (or found them delivered after all, see undo in link_batch_once).
    std::vector<LinkRequest> todo(reqs.begin(), reqs.end());
    for (int i = 0;; ++i) {
        lmdb::FullWatch watch(idx.env());
        link_batch_once(user, idx, todo, all_or_nothing);
        if (!watch.hit() || i == lmdb::max_grow_retries || !idx.env().grow(watch.map_size()))
            return;
        std::erase_if(todo, [](const LinkRequest& r) { return r.result->has_value(); });
        if (todo.empty()) return;
    }
}

void MaildirStore::link_batch_once(std::string_view user, UserIndex& idx,
                                   std::span<LinkRequest> reqs, bool all_or_nothing) {
    auto fail_all = [&](StoreError e) {
        for (auto& r : reqs) *r.result = std::unexpected(e);
    };
    auto txn = lmdb::Txn::begin(idx.env(), true);
    if (!txn) return fail_all(txn.error());

    struct Linked {
        LinkRequest* req;
        uint32_t fid;
        uint32_t uid;
        uint32_t uidvalidity;
        MsgRecord rec;
        fs::path dest;
    };
    std::map<std::string, FolderMeta> metas;     // folder -> meta, uidnext advanced as we go
    std::map<std::string, KeywordList> kwlists;  // folder -> its keyword list, when needed
    std::vector<Linked> linked;
    std::set<fs::path> dirs;
    uint64_t added = 0;
    const uint64_t quota = reqs.empty() ? 0 : quota_of(user);
    std::optional<uint64_t> used;  // for the quota check, read once
    // Folders first, before anything is linked: a folder that does not exist fails only
    // its own messages; any other error (the reindex may have written) the whole batch.
    std::set<std::string> missing;
    for (auto& r : reqs) {
        if (metas.count(*r.folder) || missing.count(*r.folder)) continue;
        auto meta = idx.ensure_folder(*txn, *r.folder);
        if (meta)
            metas.emplace(*r.folder, *meta);
        else if (meta.error() == StoreError::not_found)
            missing.insert(*r.folder);
        else
            return fail_all(meta.error());
    }
    for (auto& r : reqs) {
        auto it = metas.find(*r.folder);
        if (it == metas.end()) {
            *r.result = std::unexpected(StoreError::not_found);
            continue;
        }
        FolderMeta& meta = it->second;
        if (quota > 0) {
            if (!used) {
                auto u = idx.get_u64(*txn, "usage");
                if (!u) return fail_all(u.error());
                used = *u;
            }
            if (*used + added + r.tmp->size > quota) {
                *r.result = std::unexpected(StoreError::over_quota);
                continue;
            }
        }
        if (meta.uidnext == 0 || meta.uidnext == UINT32_MAX) {
            *r.result = std::unexpected(StoreError::corrupt);
            continue;
        }
        Linked l{&r, meta.id, meta.uidnext, 0, {}, {}};
        MsgRecord& rec = l.rec;
        rec.stem = maildir_unique_part() + ",U=" + std::to_string(l.uid) +
                   ",S=" + std::to_string(r.tmp->size);
        rec.in_new = true;
        rec.pending = true;
        rec.size = r.tmp->size;
        rec.flags = r.opts->flags & all_flags;
        // As a STORE would add them: no empty ones, no case-insensitive duplicates.
        apply_flag_change(rec, FlagChange{FlagOp::add, 0, r.opts->keywords});
        rec.internal_date = r.tmp->internal_date;
        if (!rec.keywords.empty()) {
            // Keyword letters from the folder's list, saved before a name carries them.
            fs::path fdir = folder_path(idx.paths(), *r.folder);
            auto it = kwlists.find(*r.folder);
            if (it == kwlists.end()) {
                auto list = KeywordList::load(fdir);
                if (!list) {
                    *r.result = std::unexpected(list.error());
                    continue;
                }
                it = kwlists.emplace(*r.folder, std::move(*list)).first;
            }
            rec.keyword_letters = it->second.letters_for(rec.keywords, true);
            if (auto saved = it->second.save(fdir); !saved) {
                *r.result = std::unexpected(saved.error());
                continue;
            }
        }
        fs::path dir = folder_path(idx.paths(), *r.folder) / "new";
        l.dest = dir / rec.file_name();
        if (::link(r.tmp->path.c_str(), l.dest.c_str()) != 0) {
            *r.result = std::unexpected(errno_to_store_error(errno));
            continue;
        }
        ++meta.uidnext;
        // The arrival is a change now (STATUS HIGHESTMODSEQ, changes_since), not when a
        // reader first moves the file to cur/.
        rec.modseq = ++meta.highestmodseq;
        count_message(meta, rec, +1);
        l.uidvalidity = meta.uidvalidity;
        added += r.tmp->size;
        dirs.insert(dir);
        linked.push_back(std::move(l));
    }
    // The error of the first request that was not linked (all_or_nothing).
    auto first_error = [&] {
        for (auto& r : reqs) {
            bool was_linked = std::any_of(linked.begin(), linked.end(),
                                          [&](const Linked& l) { return l.req == &r; });
            if (!was_linked && !r.result->has_value()) return r.result->error();
        }
        return StoreError::temporary;
    };
    if (all_or_nothing && linked.empty()) return fail_all(first_error());
    if (linked.empty()) return;

    // Any failure from here on undoes every link of the batch, so the caller retries
    // without duplicates.
    auto undo = [&](StoreError e) {
        // A failed commit gave up the writer lock: take it again before unlinking, or a
        // reader could take a link in meanwhile as a delivery whose commit was lost (and
        // the caller's retry would deliver it twice). One it took is delivered after all.
        std::optional<StoreResult<lmdb::Txn>> relock;
        lmdb::Txn* held = txn->get() != nullptr ? &*txn : nullptr;
        if (held == nullptr) {
            relock.emplace(lmdb::Txn::begin(idx.env(), true));
            if (*relock) held = &**relock;
        }
        for (auto& l : linked) {
            if (::unlink(l.dest.c_str()) != 0 && errno == ENOENT && held != nullptr &&
                held != &*txn) {
                auto rec = idx.get_msg(*held, l.fid, l.uid);
                if (rec && *rec && (*rec)->stem == l.rec.stem) {
                    *l.req->result = Delivered{l.uidvalidity, l.uid};
                    continue;
                }
            }
            *l.req->result = std::unexpected(e);
        }
        for (const auto& d : dirs) (void)fsync_path(d);
    };
    if (all_or_nothing && linked.size() != reqs.size()) {
        // One failed: take the others' links back (the transaction is still ours and is
        // not committed) and give every request that error.
        StoreError e = first_error();
        undo(e);
        fail_all(e);
        return;
    }
    for (const auto& d : dirs)
        if (auto r = fsync_path(d); !r) return undo(r.error());
    for (auto& l : linked) {
        if (auto r = idx.put_msg(*txn, l.fid, l.uid, l.rec); !r) return undo(r.error());
        if (auto r = txn->put(idx.pending(), msg_key(l.fid, l.uid), ""); !r) return undo(r.error());
        if (auto r =
                idx.log_change(*txn, l.fid, l.rec.modseq, ChangeKind::added, std::span(&l.uid, 1));
            !r)
            return undo(r.error());
    }
    for (const auto& [name, meta] : metas)
        if (auto r = idx.put_folder(*txn, name, meta); !r) return undo(r.error());
    if (auto r = idx.add_usage(*txn, int64_t(added)); !r) return undo(r.error());
    if (auto r = txn->commit(); !r) return undo(r.error());
    for (auto& l : linked) *l.req->result = Delivered{l.uidvalidity, l.uid};
}

std::vector<std::vector<StoreResult<Delivered>>> MaildirStore::deliver_batch(
    std::span<const DeliveryBatchItem> items) {
    std::vector<std::vector<StoreResult<Delivered>>> out(items.size());
    std::vector<std::optional<TmpFile>> tmps(items.size());
    std::vector<std::string> folders(items.size());
    auto fail_item = [&](size_t i, StoreError e) {
        out[i].assign(items[i].users.size(), std::unexpected(e));
    };
    // 1. Every file written, then all fsynced together.
    for (size_t i = 0; i < items.size(); ++i) {
        out[i].assign(items[i].users.size(), std::unexpected(StoreError::temporary));
        if (items[i].users.empty()) continue;
        auto folder = canonical_folder(items[i].opts.folder);
        if (!folder) {
            fail_item(i, folder.error());
            continue;
        }
        folders[i] = std::move(*folder);
        auto tmp = write_tmp(items[i].msg, items[i].opts.internal_date);
        if (!tmp) {
            fail_item(i, tmp.error());
            continue;
        }
        tmps[i].emplace(std::move(*tmp));
    }
    sync_tmp_files(tmps, fail_item);

    // 2. Per user, one transaction for all of its messages (users in a stable order).
    std::map<std::string, std::vector<LinkRequest>> by_user;
    for (size_t i = 0; i < items.size(); ++i) {
        if (!tmps[i]) continue;
        for (size_t j = 0; j < items[i].users.size(); ++j)
            by_user[items[i].users[j]].push_back(
                {&folders[i], &*tmps[i], &items[i].opts, &out[i][j]});
    }
    for (auto& [user, reqs] : by_user) {
        auto idx = index_for(user);
        if (!idx) {
            for (auto& r : reqs) *r.result = std::unexpected(idx.error());
            continue;
        }
        link_batch(user, **idx, reqs);
    }
    return out;  // 3. the tmp files are unlinked as `tmps` goes
}

StoreResult<Delivered> MaildirStore::deliver(std::string_view user, const MessageSource& msg,
                                             const DeliveryOptions& opts) {
    auto folder = canonical_folder(opts.folder);
    if (!folder) return std::unexpected(folder.error());
    auto idx = index_for(user);
    if (!idx) return std::unexpected(idx.error());
    std::vector<std::optional<TmpFile>> tmp(1);
    auto t = write_tmp(msg, opts.internal_date);
    if (!t) return std::unexpected(t.error());
    tmp[0].emplace(std::move(*t));
    StoreResult<Delivered> result = std::unexpected(StoreError::temporary);
    sync_tmp_files(tmp, [&](size_t, StoreError e) { result = std::unexpected(e); });
    if (!tmp[0]) return result;
    LinkRequest req{&*folder, &*tmp[0], &opts, &result};
    link_batch(user, **idx, std::span(&req, 1));
    return result;
}

std::vector<StoreResult<Delivered>> MaildirStore::deliver_many(std::span<const std::string> users,
                                                               const MessageSource& msg,
                                                               const DeliveryOptions& opts) {
    DeliveryBatchItem item{{users.begin(), users.end()}, msg, opts};
    auto out = deliver_batch(std::span(&item, 1));
    return std::move(out[0]);
}

// A staged message is a TmpFile in DATA/tmp written as the bytes come; deliver_staged links
// it into the folder as deliver() links its own (no second copy). The file goes with it.
struct MaildirStore::Staged final : StagedMessage {
    Staged(const MaildirStore* o, TmpFile t) : owner(o), tmp(std::move(t)) {}
    const MaildirStore* owner;
    TmpFile tmp;
    bool finished = false;

    StoreResult<void> write(std::string_view bytes) override {
        if (finished || !tmp.fd) return std::unexpected(StoreError::invalid);
        if (auto w = write_all(tmp.fd.get(), bytes.data(), bytes.size()); !w) return w;
        tmp.size += bytes.size();
        return {};
    }
    StoreResult<void> finish() override {
        if (finished) return std::unexpected(StoreError::invalid);
        finished = true;
        // Writeback starts now, so deliver_staged's fsync mostly waits for the journal; the
        // descriptor is closed (a MULTIAPPEND of many messages holds no descriptor each).
        ::sync_file_range(tmp.fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
        tmp.fd.reset();
        return {};
    }
    uint64_t size() const override { return tmp.size; }
};

StoreResult<std::unique_ptr<StagedMessage>> MaildirStore::stage_message(std::string_view user) {
    (void)user;  // one DATA/tmp for everyone: it is on the maildirs' file system
    auto tmp = write_tmp(MessageSource::from_bytes({}), 0);
    if (!tmp) return std::unexpected(tmp.error());
    return std::make_unique<Staged>(this, std::move(*tmp));
}

StoreResult<std::vector<Delivered>> MaildirStore::deliver_staged(
    std::string_view user, std::string_view folder, std::span<const StagedItem> items) {
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    std::vector<Staged*> staged;
    for (const auto& it : items) {
        auto* s = dynamic_cast<Staged*>(it.msg);
        if (s == nullptr || s->owner != this || !s->finished || s->tmp.path.empty())
            return std::unexpected(StoreError::invalid);
        staged.push_back(s);
    }
    if (items.empty()) return std::vector<Delivered>{};
    auto idx = index_for(user);
    if (!idx) return std::unexpected(idx.error());
    // The internal date is the file's mtime (a rebuild finds it again); then each file is
    // made durable (finish() started its writeback).
    std::vector<DeliveryOptions> opts(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        TmpFile& t = staged[i]->tmp;
        UniqueFd fd(::open(t.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (!fd) return std::unexpected(errno_to_store_error(errno));
        t.internal_date =
            items[i].internal_date != 0 ? items[i].internal_date : int64_t(std::time(nullptr));
        timespec times[2] = {{t.internal_date, 0}, {t.internal_date, 0}};
        ::futimens(fd.get(), times);
        opts[i].flags = items[i].flags;
        opts[i].keywords = items[i].keywords;
        opts[i].internal_date = t.internal_date;
        // One file at a time, so a long MULTIAPPEND never holds many descriptors.
        if (::fsync(fd.get()) != 0) return std::unexpected(errno_to_store_error(errno));
    }
    std::vector<StoreResult<Delivered>> results(items.size(),
                                                std::unexpected(StoreError::temporary));
    std::vector<LinkRequest> reqs;
    reqs.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i)
        reqs.push_back({&*name, &staged[i]->tmp, &opts[i], &results[i]});
    link_batch(user, **idx, reqs, true);
    std::vector<Delivered> out;
    out.reserve(items.size());
    for (auto& r : results) {
        if (!r) return std::unexpected(r.error());
        out.push_back(*r);
    }
    return out;
}

StoreResult<uint64_t> MaildirStore::quota_room(std::string_view user) {
    auto used = usage(user);
    if (!used) return std::unexpected(used.error());
    uint64_t quota = quota_of(user);
    if (quota == 0) return UINT64_MAX;
    return quota > *used ? quota - *used : 0;
}

}  // namespace postern
