#include "libmailstore/maildir_layout.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <ctime>

#include "libmailstore/address.h"
#include "libmailstore/unique_fd.h"

namespace postern {

StoreError errno_to_store_error(int err) {
    switch (err) {
    case ENOENT:
    case ENOTDIR: return StoreError::not_found;
    case EEXIST:
    case ENOTEMPTY: return StoreError::exists;
    case ENOSPC: return StoreError::no_space;
    case EDQUOT: return StoreError::over_quota;
    case EINVAL:
    case ENAMETOOLONG: return StoreError::invalid;
    case ELOOP: return StoreError::corrupt;  // O_NOFOLLOW met a symlink planted in a maildir
    default: return StoreError::temporary;
    }
}

StoreResult<UserPaths> user_paths(const fs::path& data_dir, std::string_view user,
                                  bool must_exist) {
    auto addr = parse_address(user);
    if (!addr) return std::unexpected(addr.error());
    UserPaths p;
    p.root = data_dir / addr->domain / addr->local;
    p.maildir = p.root / "Maildir";
    p.index = p.root / "index";
    if (must_exist) {
        struct stat st {};
        if (::stat(p.maildir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            return std::unexpected(StoreError::not_found);
    }
    return p;
}

StoreResult<std::string> canonical_folder(std::string_view folder) {
    if (folder.empty() || folder.size() > 512) return std::unexpected(StoreError::invalid);
    std::string out;
    size_t start = 0;
    bool first = true;
    while (true) {
        size_t slash = folder.find('/', start);
        std::string_view comp = folder.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (comp.empty() || comp.front() == '.') return std::unexpected(StoreError::invalid);
        for (unsigned char c : comp) {
            if (c < 0x20 || c == 0x7f || c == '.' || c == '\\')
                return std::unexpected(StoreError::invalid);
        }
        if (!first) out.push_back('/');
        if (first && comp.size() == 5) {
            std::string up;
            for (char c : comp) up.push_back(char(c >= 'a' && c <= 'z' ? c - 32 : c));
            out += (up == "INBOX") ? up : std::string(comp);
        } else {
            out += comp;
        }
        first = false;
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return out;
}

std::string folder_dir_name(const std::string& canonical) {
    if (canonical == "INBOX") return {};
    std::string d = ".";
    for (char c : canonical) d.push_back(c == '/' ? '.' : c);
    return d;
}

std::optional<std::string> folder_from_dir_name(std::string_view dir) {
    if (dir.size() < 2 || dir.front() != '.' || dir == "..") return std::nullopt;
    std::string name;
    for (char c : dir.substr(1)) name.push_back(c == '.' ? '/' : c);
    auto canon = canonical_folder(name);
    if (!canon || *canon == "INBOX") return std::nullopt;
    return *canon;
}

fs::path folder_path(const UserPaths& paths, const std::string& canonical) {
    auto d = folder_dir_name(canonical);
    return d.empty() ? paths.maildir : paths.maildir / d;
}

const std::vector<std::string>& default_folders() {
    static const std::vector<std::string> f{"INBOX", "Drafts", "Sent", "Trash", "Junk"};
    return f;
}

StoreResult<void> fsync_path(const fs::path& p) {
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::unexpected(errno_to_store_error(errno));
    if (::fsync(fd.get()) != 0) return std::unexpected(errno_to_store_error(errno));
    return {};
}

uint32_t read_uidvalidity(const fs::path& folder_dir, uint32_t* uidnext) {
    if (uidnext) *uidnext = 0;
    UniqueFd fd(::open((folder_dir / "postern-uidvalidity").c_str(),
                       O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) return 0;
    char buf[64] = {};
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return 0;
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(buf, buf + n, v);
    if (ec != std::errc{}) return 0;
    if (uidnext && p < buf + n && *p == ' ') std::from_chars(p + 1, buf + n, *uidnext);
    return v;
}

StoreResult<void> write_uidvalidity(const fs::path& folder_dir, uint32_t uidvalidity,
                                    uint32_t uidnext) {
    auto tmp = folder_dir / "postern-uidvalidity.tmp";
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640));
    if (!fd) return std::unexpected(errno_to_store_error(errno));
    std::string s = std::to_string(uidvalidity) + " " + std::to_string(uidnext) + "\n";
    if (::write(fd.get(), s.data(), s.size()) != ssize_t(s.size()) || ::fsync(fd.get()) != 0)
        return std::unexpected(errno_to_store_error(errno));
    if (::rename(tmp.c_str(), (folder_dir / "postern-uidvalidity").c_str()) != 0)
        return std::unexpected(errno_to_store_error(errno));
    return fsync_path(folder_dir);
}

StoreResult<void> create_maildir_folder(const fs::path& dir, uint32_t uidvalidity, bool is_inbox) {
    if (::mkdir(dir.c_str(), 0750) != 0) return std::unexpected(errno_to_store_error(errno));
    for (const char* sub : {"cur", "new", "tmp"}) {
        if (::mkdir((dir / sub).c_str(), 0750) != 0)
            return std::unexpected(errno_to_store_error(errno));
    }
    if (!is_inbox) {
        // Maildir++ marks folders with an empty "maildirfolder" file.
        UniqueFd f(::open((dir / "maildirfolder").c_str(),
                          O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640));
    }
    if (auto r = write_uidvalidity(dir, uidvalidity); !r) return r;
    if (auto r = fsync_path(dir); !r) return r;
    return fsync_path(dir.parent_path());
}

StoreResult<void> create_user_maildir(const fs::path& data_dir, std::string_view local,
                                      std::string_view domain) {
    fs::path root = data_dir / std::string(domain) / std::string(local);
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) return std::unexpected(errno_to_store_error(ec.value()));
    UserPaths p{root, root / "Maildir", root / "index"};
    auto uv = uint32_t(std::time(nullptr));
    for (const auto& f : default_folders()) {
        auto r = create_maildir_folder(folder_path(p, f), uv, f == "INBOX");
        if (!r && r.error() != StoreError::exists) return r;
    }
    if (auto r = fsync_path(root); !r) return r;
    return fsync_path(root.parent_path());
}

StoreResult<std::vector<std::string>> list_dir(const fs::path& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return std::unexpected(errno_to_store_error(errno));
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        std::string_view n(e->d_name);
        if (n == "." || n == "..") continue;
        names.emplace_back(n);
    }
    ::closedir(d);
    return names;
}

uint32_t clean_stale_tmp(const fs::path& dir, int64_t max_age_seconds) {
    auto names = list_dir(dir);
    if (!names) return 0;
    uint32_t removed = 0;
    time_t now = std::time(nullptr);
    for (const auto& n : *names) {
        struct stat st {};
        auto p = dir / n;
        if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        // ctime, not mtime: delivery sets mtime to the internal date.
        if (now - st.st_ctime >= max_age_seconds && ::unlink(p.c_str()) == 0) ++removed;
    }
    return removed;
}

}  // namespace postern
