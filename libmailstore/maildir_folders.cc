// Folder operations: list, create, delete, rename (Maildir++ ".A.B" directories).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "libmailstore/bytes.h"
#include "libmailstore/maildir_folder_attrs.h"
#include "libmailstore/maildir_store.h"
#include "libproto/core/log.h"

namespace postern {
namespace {

bool is_dir(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

StoreResult<std::vector<std::string>> folders_on_disk(const UserPaths& paths) {
    auto names = list_dir(paths.maildir);
    if (!names) return std::unexpected(names.error());
    std::vector<std::string> out;
    for (const auto& n : *names) {
        auto f = folder_from_dir_name(n);
        if (f && is_dir(paths.maildir / n / "cur")) out.push_back(*f);
    }
    std::sort(out.begin(), out.end());
    out.insert(out.begin(), "INBOX");
    return out;
}

StoreResult<void> MaildirStore::create_folder(std::string_view user, std::string_view folder,
                                              uint8_t special_use) {
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    if ((special_use & ~all_special_uses) != 0) return std::unexpected(StoreError::invalid);
    if (*name == "INBOX") return std::unexpected(StoreError::exists);
    auto idx = index_for(user);
    if (!idx) return std::unexpected(idx.error());
    fs::path dir = folder_path((*idx)->paths(), *name);
    if (is_dir(dir)) return std::unexpected(StoreError::exists);
    auto txn = lmdb::Txn::begin((*idx)->env(), true);
    if (!txn) return std::unexpected(txn.error());
    auto uv = (*idx)->next_uidvalidity(*txn);
    if (!uv) return std::unexpected(uv.error());
    // A stale index entry of an earlier folder of that name must not survive.
    auto old = (*idx)->get_folder(*txn, *name);
    if (!old) return std::unexpected(old.error());
    if (*old) {
        if (auto d = (*idx)->drop_folder_records(*txn, (*old)->id); !d)
            return std::unexpected(d.error());
        if (auto d = txn->del((*idx)->folders(), *name); !d) return std::unexpected(d.error());
    }
    if (auto r = create_maildir_folder(dir, *uv, false); !r) return r;
    if (auto c = txn->commit(); !c) return c;
    // Also when 0: clears what an earlier folder of that name may have left (see delete).
    return set_special_use(user, *name, special_use);
}

StoreResult<void> MaildirStore::delete_folder(std::string_view user, std::string_view folder) {
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    if (*name == "INBOX") return std::unexpected(StoreError::invalid);
    auto idx = index_for(user);
    if (!idx) return std::unexpected(idx.error());
    const UserPaths& paths = (*idx)->paths();
    std::string dname = folder_dir_name(*name);
    if (!is_dir(paths.maildir / dname)) return std::unexpected(StoreError::not_found);
    auto all = folders_on_disk(paths);
    if (!all) return std::unexpected(all.error());
    for (const auto& f : *all) {
        if (f.starts_with(*name + "/")) return std::unexpected(StoreError::not_empty);
    }
    auto txn = lmdb::Txn::begin((*idx)->env(), true);
    if (!txn) return std::unexpected(txn.error());
    // Out of sight first (one rename), then forget it, then remove the files.
    fs::path trash =
        paths.maildir / (".." + dname.substr(1) + ".deleted-" + std::to_string(std::time(nullptr)));
    if (::rename((paths.maildir / dname).c_str(), trash.c_str()) != 0)
        return std::unexpected(errno_to_store_error(errno));
    auto meta = (*idx)->get_folder(*txn, *name);
    if (!meta) return std::unexpected(meta.error());
    if (*meta) {
        auto freed = (*idx)->drop_folder_records(*txn, (*meta)->id);
        if (!freed) return std::unexpected(freed.error());
        if (auto a = (*idx)->add_usage(*txn, -*freed); !a) return a;
        if (auto d = txn->del((*idx)->folders(), *name); !d) return std::unexpected(d.error());
    }
    if (auto c = txn->commit(); !c) return c;
    std::error_code ec;
    fs::remove_all(trash, ec);
    (void)fsync_path(paths.maildir);
    // The folder is gone whatever happens here; a stale entry is cleared by the next
    // create_folder of that name. Subscriptions stay (names, RFC 3501 6.3.6).
    if (auto r = write_special_use(paths.maildir, *name, 0); !r)
        log_msg(LogLevel::error, "store: %s: special-use of deleted folder %s not removed: %s",
                paths.maildir.c_str(), name->c_str(), describe(r.error()));
    return {};
}

StoreResult<void> MaildirStore::rename_folder(std::string_view user, std::string_view from,
                                              std::string_view to) {
    auto src = canonical_folder(from);
    if (!src) return std::unexpected(src.error());
    auto dst = canonical_folder(to);
    if (!dst) return std::unexpected(dst.error());
    if (*src == "INBOX" || *dst == "INBOX" || *src == *dst || dst->starts_with(*src + "/"))
        return std::unexpected(StoreError::invalid);
    auto idx = index_for(user);
    if (!idx) return std::unexpected(idx.error());
    const UserPaths& paths = (*idx)->paths();
    if (!is_dir(paths.maildir / folder_dir_name(*src)))
        return std::unexpected(StoreError::not_found);
    if (is_dir(paths.maildir / folder_dir_name(*dst))) return std::unexpected(StoreError::exists);
    auto all = folders_on_disk(paths);
    if (!all) return std::unexpected(all.error());
    std::erase_if(*all, [&](const auto& f) { return f != *src && !f.starts_with(*src + "/"); });
    // Every new name is checked before anything moves: a clash ("B/x" there for "A/x")
    // must not leave half the tree renamed.
    for (const auto& f : *all)
        if (is_dir(paths.maildir / folder_dir_name(*dst + f.substr(src->size()))))
            return std::unexpected(StoreError::exists);

    auto txn = lmdb::Txn::begin((*idx)->env(), true);
    if (!txn) return std::unexpected(txn.error());
    for (const auto& f : *all) {
        std::string nf = *dst + f.substr(src->size());
        if (::rename((paths.maildir / folder_dir_name(f)).c_str(),
                     (paths.maildir / folder_dir_name(nf)).c_str()) != 0)
            return std::unexpected(errno_to_store_error(errno));
        auto meta = (*idx)->get_folder(*txn, f);
        if (!meta) return std::unexpected(meta.error());
        if (*meta) {
            if (auto d = txn->del((*idx)->folders(), f); !d) return std::unexpected(d.error());
            if (auto p = (*idx)->put_folder(*txn, nf, **meta); !p) return p;
        }
    }
    if (auto c = txn->commit(); !c) return c;
    // Special-use goes with the folders; subscriptions are names and stay (RFC 3501 6.3.6).
    if (auto r = rename_special_use(paths.maildir, *src, *dst); !r)
        log_msg(LogLevel::error, "store: %s: special-use of %s not carried to %s: %s",
                paths.maildir.c_str(), src->c_str(), dst->c_str(), describe(r.error()));
    return fsync_path(paths.maildir);
}

}  // namespace postern
