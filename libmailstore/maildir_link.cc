#include "libmailstore/maildir_link.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "libmailstore/maildir_name.h"
#include "libmailstore/unique_fd.h"

namespace postern {
namespace {

std::atomic<MaildirLinkFn> link_fn{nullptr};

int do_link(const char* from, const char* to) {
    MaildirLinkFn fn = link_fn.load(std::memory_order_relaxed);
    return fn != nullptr ? fn(from, to) : ::link(from, to);
}

bool link_refused(int err) { return err == EPERM || err == EXDEV || err == EMLINK; }

// Writes all of `fd_in` to `fd_out`; 0 or an errno.
int copy_bytes(int fd_in, int fd_out) {
    char buf[64 * 1024];
    for (;;) {
        ssize_t n = ::read(fd_in, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return 0;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = ::write(fd_out, buf + off, size_t(n - off));
            if (w < 0) {
                if (errno == EINTR) continue;
                return errno;
            }
            off += w;
        }
    }
}

int copy_file(const std::filesystem::path& src, const std::filesystem::path& dest,
              const std::filesystem::path& tmp_dir) {
    UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!in) return errno;
    struct stat st {};
    if (::fstat(in.get(), &st) != 0) return errno;
    const std::filesystem::path tmp = tmp_dir / maildir_unique_part();
    constexpr int how = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
    UniqueFd out(::open(tmp.c_str(), how, 0640));
    if (!out && errno == ENOENT) {  // tmp/ removed under us: recreate once
        ::mkdir(tmp_dir.c_str(), 0750);
        out.reset(::open(tmp.c_str(), how, 0640));
    }
    if (!out) return errno;
    int err = copy_bytes(in.get(), out.get());
    // The internal date is the file's mtime, as with a link.
    timespec times[2] = {st.st_atim, st.st_mtim};
    if (err == 0 && ::futimens(out.get(), times) != 0) err = errno;
    if (err == 0 && ::fsync(out.get()) != 0) err = errno;
    if (err == 0 && ::rename(tmp.c_str(), dest.c_str()) != 0) err = errno;
    if (err != 0) ::unlink(tmp.c_str());
    return err;
}

}  // namespace

int maildir_link_or_copy(const std::filesystem::path& src, const std::filesystem::path& dest,
                         const std::filesystem::path& tmp_dir) {
    if (do_link(src.c_str(), dest.c_str()) == 0) return 0;
    int err = errno;
    if (!link_refused(err)) return err;
    return copy_file(src, dest, tmp_dir);
}

void set_maildir_link_fn_for_test(MaildirLinkFn fn) { link_fn.store(fn); }

}  // namespace postern
