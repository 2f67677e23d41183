// A user's storage: made with the default folders, discarded while empty, retired under a
// unique name and brought back (maildir_user.h), and the MaildirStore calls over them.
#include "libmailstore/maildir_user.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "libmailstore/maildir_folder_attrs.h"
#include "libmailstore/maildir_layout.h"
#include "libmailstore/maildir_store.h"
#include "libproto/core/log.h"

namespace postern {
namespace {

constexpr int retire_attempts = 16;

// RFC 6154 attributes of the default folders (maildir_layout's default_folders()).
const std::map<std::string, uint8_t>& default_special_use() {
    static const std::map<std::string, uint8_t> m{
        {"Drafts", use_drafts}, {"Sent", use_sent}, {"Trash", use_trash}, {"Junk", use_junk}};
    return m;
}

std::string random_hex() {
    uint32_t r = 0;
    if (::getrandom(&r, sizeof r, 0) != sizeof r) r = uint32_t(::getpid()) ^ uint32_t(::clock());
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", r);
    return buf;
}

// rename() that never replaces `to` (rename(2) silently replaces an empty directory).
int rename_noreplace(const fs::path& from, const fs::path& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    // A file system without RENAME_NOREPLACE: check, then rename (the random name makes
    // the race academic).
    struct stat st {};
    if (::lstat(to.c_str(), &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return ::rename(from.c_str(), to.c_str());
}

fs::path user_root(const fs::path& data_dir, const Address& a) {
    return data_dir / a.domain / a.local;
}

}  // namespace

StoreResult<void> make_user_storage(const fs::path& data_dir, const Address& a) {
    // A directory already there belongs to nobody now (a crash, a hand-made copy, an old
    // account's mail): a new owner must not inherit it. An empty one may be reused.
    const fs::path root = user_root(data_dir, a);
    std::error_code ec;
    auto st = fs::symlink_status(root, ec);
    if (st.type() != fs::file_type::not_found &&
        (st.type() != fs::file_type::directory || !fs::is_empty(root, ec) || ec))
        return std::unexpected(StoreError::exists);
    auto r = create_user_maildir(data_dir, a.local, a.domain);
    if (r) r = write_special_uses(root / "Maildir", default_special_use());
    if (!r) fs::remove_all(root, ec);
    return r;
}

StoreResult<void> discard_user_storage(const fs::path& data_dir, const Address& a) {
    const fs::path root = user_root(data_dir, a);
    std::error_code ec;
    auto st = fs::symlink_status(root, ec);
    if (st.type() == fs::file_type::not_found) return std::unexpected(StoreError::not_found);
    if (st.type() != fs::file_type::directory) return std::unexpected(StoreError::not_empty);
    // Only a maildir without messages goes: a file in any cur/new/tmp is somebody's mail.
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        auto parent = it->path().parent_path().filename();
        if ((parent == "cur" || parent == "new" || parent == "tmp") && !it->is_directory(ec))
            return std::unexpected(StoreError::not_empty);
    }
    if (ec) return std::unexpected(errno_to_store_error(ec.value()));
    fs::remove_all(root, ec);
    if (ec) return std::unexpected(errno_to_store_error(ec.value()));
    (void)fsync_path(root.parent_path());
    return {};
}

StoreResult<fs::path> retire_user_storage(const fs::path& data_dir, const Address& a) {
    const fs::path from = user_root(data_dir, a);
    struct stat st {};
    if (::lstat(from.c_str(), &st) != 0) {
        if (errno == ENOENT) return fs::path();
        return std::unexpected(errno_to_store_error(errno));
    }
    for (int i = 0; i < retire_attempts; ++i) {
        fs::path to =
            data_dir / a.domain /
            (".deleted-" + a.local + "-" + std::to_string(std::time(nullptr)) + "-" + random_hex());
        if (rename_noreplace(from, to) == 0) {
            (void)fsync_path(data_dir / a.domain);
            log_msg(LogLevel::info, "store: mail of %s kept in %s", a.str().c_str(), to.c_str());
            return to;
        }
        if (errno == EEXIST) continue;
        int err = errno;
        log_msg(LogLevel::info, "store: cannot move %s aside: %s", from.c_str(),
                std::strerror(err));
        return std::unexpected(errno_to_store_error(err));
    }
    return std::unexpected(StoreError::exists);
}

StoreResult<void> restore_user_storage(const fs::path& data_dir, const Address& a,
                                       const fs::path& retired) {
    // Only one of this user's retired directories may come back (kept is text from outside).
    const std::string prefix = ".deleted-" + a.local + "-";
    if (retired.parent_path() != data_dir / a.domain ||
        !retired.filename().string().starts_with(prefix))
        return std::unexpected(StoreError::invalid);
    const fs::path back = user_root(data_dir, a);
    if (rename_noreplace(retired, back) != 0) {
        int err = errno;
        if (err == ENOENT) return std::unexpected(StoreError::not_found);
        if (err == EEXIST || err == ENOTEMPTY) return std::unexpected(StoreError::exists);
        log_msg(LogLevel::error, "store: cannot move %s back to %s: %s", retired.c_str(),
                back.c_str(), std::strerror(err));
        return std::unexpected(errno_to_store_error(err));
    }
    (void)fsync_path(data_dir / a.domain);
    log_msg(LogLevel::info, "store: mail of %s moved back from %s", a.str().c_str(),
            retired.c_str());
    return {};
}

StoreResult<void> MaildirStore::create_user(std::string_view user) {
    auto a = parse_address(user);
    if (!a) return std::unexpected(a.error());
    forget_index(a->str());  // one kept open for an earlier owner must not serve this one
    return make_user_storage(data_, *a);
}

StoreResult<void> MaildirStore::discard_user(std::string_view user) {
    auto a = parse_address(user);
    if (!a) return std::unexpected(a.error());
    auto r = discard_user_storage(data_, *a);
    if (r) forget_index(a->str());
    return r;
}

StoreResult<std::string> MaildirStore::remove_user(std::string_view user) {
    auto a = parse_address(user);
    if (!a) return std::unexpected(a.error());
    auto to = retire_user_storage(data_, *a);
    if (!to) return std::unexpected(to.error());
    forget_index(a->str());
    if (to->empty()) return std::unexpected(StoreError::not_found);
    return to->string();
}

StoreResult<void> MaildirStore::restore_user(std::string_view user, std::string_view kept) {
    auto a = parse_address(user);
    if (!a) return std::unexpected(a.error());
    forget_index(a->str());
    return restore_user_storage(data_, *a, fs::path(kept));
}

void MaildirStore::forget_index(const std::string& user) {
    std::lock_guard lock(mu_);
    indexes_.erase(user);
}

}  // namespace postern
