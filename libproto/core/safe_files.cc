#include "libproto/core/safe_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace postern {
namespace fs = std::filesystem;

std::expected<bool, std::string> make_dir(const fs::path& dir, mode_t mode, uid_t uid, gid_t gid) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return false;
    std::vector<fs::path> missing;  // deepest first
    for (fs::path p = dir; !p.empty() && !fs::exists(fs::symlink_status(p, ec));
         p = p.parent_path()) {
        missing.push_back(p);
        if (p == p.parent_path()) break;
    }
    if (missing.empty()) return std::unexpected(dir.string() + ": exists and is not a directory");
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        const bool last = *it == missing.front();
        const mode_t m = last ? mode : 0755;
        if (::mkdir(it->c_str(), m) != 0 && errno != EEXIST)
            return std::unexpected(it->string() + ": cannot create: " + std::strerror(errno));
        // Exact modes and the owner through a descriptor of what we made, never a symlink.
        int fd = ::open(it->c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return std::unexpected(it->string() + ": cannot open: " + std::strerror(errno));
        bool ok = ::fchmod(fd, m) == 0 &&
                  (!last || uid == static_cast<uid_t>(-1) || ::fchown(fd, uid, gid) == 0);
        int err = errno;
        ::close(fd);
        if (!ok)
            return std::unexpected(it->string() +
                                   ": cannot set owner or mode: " + std::strerror(err));
    }
    return true;
}

std::expected<int, std::string> open_plain_file(const fs::path& path, int flags, mode_t mode,
                                                std::initializer_list<uid_t> owners) {
    const int base = (flags & ~(O_CREAT | O_EXCL)) | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    bool created = false;
    int fd = -1;
    if (flags & O_CREAT) {
        fd = ::open(path.c_str(), base | O_CREAT | O_EXCL, mode);
        created = fd >= 0;
    }
    if (fd < 0 && (!(flags & O_CREAT) || (errno == EEXIST && !(flags & O_EXCL))))
        fd = ::open(path.c_str(), base);
    if (fd < 0) {
        if (errno == ELOOP)
            return std::unexpected(path.string() + ": is a symbolic link (not following it)");
        return std::unexpected(path.string() + ": cannot open: " + std::strerror(errno));
    }
    struct stat st {};
    std::string why;
    if (::fstat(fd, &st) != 0)
        why = std::string("cannot stat: ") + std::strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a plain file";
    else if (st.st_nlink != 1)
        why = "has " + std::to_string(st.st_nlink) + " hard links";
    else if (std::find(owners.begin(), owners.end(), st.st_uid) == owners.end())
        why = "owned by uid " + std::to_string(st.st_uid) + ", not by us";
    if (!why.empty()) {
        ::close(fd);
        return std::unexpected(path.string() + ": " + why + " (refusing to use it)");
    }
    // A file we created gets exactly `mode`; O_NONBLOCK was only for the open.
    if (created) ::fchmod(fd, mode);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

std::expected<void, std::string> write_file_atomically(const fs::path& path, std::string_view text,
                                                       mode_t mode) {
    fs::path tmp = path;
    tmp += ".tmp";
    ::unlink(tmp.c_str());  // left by a crash
    auto fd = open_plain_file(tmp, O_WRONLY | O_CREAT | O_EXCL, mode, {::geteuid()});
    if (!fd) return std::unexpected(fd.error());
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(*fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += size_t(n);
    }
    bool ok = done == text.size() && ::fsync(*fd) == 0;
    int e = errno;
    ::close(*fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        if (ok) e = errno;
        ::unlink(tmp.c_str());
        return std::unexpected(path.string() + ": cannot write: " + std::strerror(e));
    }
    int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return {};
}

}  // namespace postern
