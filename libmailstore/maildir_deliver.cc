// Delivery: write + fsync the bytes once in DATA/tmp, then per mailbox, holding the
// index's write transaction (which serializes deliveries into one user across processes):
// reserve the UID, hard-link the file into new/ under a name carrying the UID, fsync new/,
// record the message as pending, commit. docs/store.md has the crash analysis.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "libmailstore/maildir_name.h"
#include "libmailstore/maildir_store.h"

namespace postern {

struct MaildirStore::TmpFile {
    fs::path path;
    uint64_t size = 0;
    int64_t internal_date = 0;
    TmpFile() = default;
    TmpFile(TmpFile&& o) noexcept
        : path(std::exchange(o.path, {})), size(o.size), internal_date(o.internal_date) {}
    TmpFile& operator=(TmpFile&&) = delete;
    ~TmpFile() {
        if (!path.empty()) ::unlink(path.c_str());
    }
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

StoreResult<void> copy_from_fd(int out, int in, uint64_t offset, uint64_t size) {
    char buf[64 * 1024];
    while (size > 0) {
        ssize_t r = ::pread(in, buf, std::min<uint64_t>(size, sizeof buf), off_t(offset));
        if (r < 0) {
            if (errno == EINTR) continue;
            return std::unexpected(StoreError::temporary);
        }
        if (r == 0) return std::unexpected(StoreError::invalid);  // source shorter than size
        if (auto w = write_all(out, buf, size_t(r)); !w) return w;
        offset += uint64_t(r);
        size -= uint64_t(r);
    }
    return {};
}

}  // namespace

StoreResult<MaildirStore::TmpFile> MaildirStore::write_tmp(const MessageSource& msg,
                                                           int64_t internal_date) {
    TmpFile tmp;
    tmp.internal_date = internal_date != 0 ? internal_date : int64_t(std::time(nullptr));
    fs::path p = tmp_dir_ / maildir_unique_part();
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
    if (!fd) {
        if (errno == ENOENT) {  // DATA/tmp removed under us: recreate once
            ::mkdir(tmp_dir_.c_str(), 0750);
            fd.reset(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
        }
        if (!fd) return std::unexpected(errno_to_store_error(errno));
    }
    tmp.path = p;
    StoreResult<void> w;
    if (msg.fd >= 0) {
        w = copy_from_fd(fd.get(), msg.fd, msg.offset, msg.size);
        tmp.size = msg.size;
    } else {
        w = write_all(fd.get(), msg.bytes.data(), msg.bytes.size());
        tmp.size = msg.bytes.size();
    }
    if (!w) return std::unexpected(w.error());
    // The internal date is the file's mtime, so a rebuild finds it again.
    timespec times[2] = {{tmp.internal_date, 0}, {tmp.internal_date, 0}};
    ::futimens(fd.get(), times);
    if (::fsync(fd.get()) != 0) return std::unexpected(errno_to_store_error(errno));
    return tmp;
}

StoreResult<uint32_t> MaildirStore::link_into(UserIndex& idx, const std::string& folder,
                                              const TmpFile& tmp, const DeliveryOptions& opts,
                                              bool check_quota) {
    auto txn = lmdb::Txn::begin(idx.env(), true);
    if (!txn) return std::unexpected(txn.error());
    auto meta = idx.ensure_folder(*txn, folder);
    if (!meta) return std::unexpected(meta.error());
    if (check_quota && opts.quota_bytes > 0) {
        auto used = idx.get_u64(*txn, "usage");
        if (!used) return std::unexpected(used.error());
        if (*used + tmp.size > opts.quota_bytes) return std::unexpected(StoreError::over_quota);
    }
    uint32_t uid = meta->uidnext++;
    if (uid == 0 || meta->uidnext == 0) return std::unexpected(StoreError::corrupt);

    MsgRecord rec;
    rec.stem = maildir_unique_part() + ",U=" + std::to_string(uid) + ",S=" +
               std::to_string(tmp.size);
    rec.in_new = true;
    rec.pending = true;
    rec.size = tmp.size;
    rec.flags = opts.flags & (flag_seen | flag_answered | flag_flagged | flag_deleted | flag_draft);
    rec.keywords = opts.keywords;
    rec.internal_date = tmp.internal_date;

    fs::path dir = folder_path(idx.paths(), folder) / "new";
    fs::path dest = dir / rec.file_name();
    if (::link(tmp.path.c_str(), dest.c_str()) != 0)
        return std::unexpected(errno_to_store_error(errno));
    auto undo = [&](StoreError e) -> StoreResult<uint32_t> {
        ::unlink(dest.c_str());
        (void)fsync_path(dir);
        return std::unexpected(e);
    };
    if (auto r = fsync_path(dir); !r) return undo(r.error());
    if (auto r = idx.put_msg(*txn, meta->id, uid, rec); !r) return undo(r.error());
    if (auto r = txn->put(idx.pending(), msg_key(meta->id, uid), ""); !r) return undo(r.error());
    if (auto r = idx.put_folder(*txn, folder, *meta); !r) return undo(r.error());
    if (auto r = idx.add_usage(*txn, int64_t(tmp.size)); !r) return undo(r.error());
    if (auto r = txn->commit(); !r) return undo(r.error());
    return uid;
}

StoreResult<uint32_t> MaildirStore::deliver(std::string_view user, const MessageSource& msg,
                                            const DeliveryOptions& opts) {
    auto folder = canonical_folder(opts.folder);
    if (!folder) return std::unexpected(folder.error());
    auto idx = index_for(user);
    if (!idx) return std::unexpected(idx.error());
    auto tmp = write_tmp(msg, opts.internal_date);
    if (!tmp) return std::unexpected(tmp.error());
    return link_into(**idx, *folder, *tmp, opts, true);
}

std::vector<StoreResult<uint32_t>> MaildirStore::deliver_many(std::span<const std::string> users,
                                                              const MessageSource& msg,
                                                              const DeliveryOptions& opts) {
    std::vector<StoreResult<uint32_t>> out;
    out.reserve(users.size());
    auto folder = canonical_folder(opts.folder);
    if (!folder) {
        out.assign(users.size(), std::unexpected(folder.error()));
        return out;
    }
    auto tmp = write_tmp(msg, opts.internal_date);
    if (!tmp) {
        out.assign(users.size(), std::unexpected(tmp.error()));
        return out;
    }
    for (const auto& u : users) {
        auto idx = index_for(u);
        if (!idx) {
            out.push_back(std::unexpected(idx.error()));
            continue;
        }
        out.push_back(link_into(**idx, *folder, *tmp, opts, false));
    }
    return out;
}

}  // namespace postern
