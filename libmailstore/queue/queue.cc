// The file-per-message queue. An entry is one file: the message bytes, the envelope text,
// then a fixed-size footer naming both lengths. It is written in incoming/, fdatasync'ed,
// renamed into active/, and active/ is fsync'ed; that last fsync is shared by every commit
// that renamed before it started (group commit). See docs/queue.md.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <random>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>

#include "libmailstore/queue/queue.h"

namespace postern {

namespace {

constexpr size_t kFlushAt = 256 * 1024;  // writer buffer size before a write()
constexpr char kMagic[] = "POSTERN-QUEUE-1 ";
constexpr size_t kMagicLen = sizeof(kMagic) - 1;
constexpr size_t kFooterLen = kMagicLen + 16 + 1 + 8 + 1;  // magic, size, ' ', envlen, '\n'
constexpr size_t kIdLen = 18;

QueueError from_errno(int e) {
    if (e == ENOSPC || e == EDQUOT) return QueueError::no_space;
    if (e == ENOENT) return QueueError::not_found;
    return QueueError::io;
}

bool write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

bool pread_all(int fd, char* p, size_t n, uint64_t off) {
    while (n > 0) {
        ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
        off += static_cast<uint64_t>(r);
    }
    return true;
}

int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            if (fd_ >= 0) ::close(fd_);
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    int get() const { return fd_; }

private:
    int fd_;
};

// The largest envelope trailer we read: far above any real one (100,000
// recipients of a few hundred bytes), and a bound on what a crafted footer can
// make us allocate.
constexpr uint32_t kMaxEnvelopeLen = 64u << 20;

// Parses the footer of a file of `fsize` bytes; on success sets msg_size and
// env_len. The lengths must add up to the file exactly (without wrapping), so
// a crafted footer can never make a reader allocate or read beyond the file.
bool parse_footer(const char* f, uint64_t fsize, uint64_t& msg_size, uint32_t& env_len) {
    if (fsize < kFooterLen) return false;
    if (std::memcmp(f, kMagic, kMagicLen) != 0) return false;
    if (f[kMagicLen + 16] != ' ' || f[kFooterLen - 1] != '\n') return false;
    std::string a(f + kMagicLen, 16), b(f + kMagicLen + 17, 8);
    char* end = nullptr;
    msg_size = std::strtoull(a.c_str(), &end, 16);
    if (*end) return false;
    unsigned long e = std::strtoul(b.c_str(), &end, 16);
    if (*end || e > kMaxEnvelopeLen) return false;
    env_len = static_cast<uint32_t>(e);
    const uint64_t body = fsize - kFooterLen;
    return env_len <= body && msg_size == body - env_len;
}

}  // namespace

namespace detail {

struct QueueCore {
    std::filesystem::path dir;
    int incoming_fd = -1, active_fd = -1, state_fd = -1;
    std::mutex m;
    std::condition_variable cv;
    uint64_t requested = 0, synced = 0;
    bool syncing = false;
    std::atomic<uint32_t> counter{0};

    ~QueueCore() {
        for (int fd : {incoming_fd, active_fd, state_fd})
            if (fd >= 0) ::close(fd);
    }

    // fsync(active/) covering every rename made before the call (group commit): one
    // thread syncs, the others that arrived meanwhile wait for it or for the next round.
    int sync_active() {
        std::unique_lock lk(m);
        uint64_t ticket = ++requested;
        while (synced < ticket) {
            if (syncing) {
                cv.wait(lk);
                continue;
            }
            syncing = true;
            uint64_t target = requested;
            lk.unlock();
            int rc = ::fsync(active_fd) == 0 ? 0 : errno;
            lk.lock();
            syncing = false;
            if (rc == 0) synced = std::max(synced, target);
            cv.notify_all();
            if (rc != 0) return rc;
        }
        return 0;
    }

    std::string new_id() {
        static const uint32_t salt = std::random_device{}();
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
        uint32_t n = (salt + counter.fetch_add(1, std::memory_order_relaxed) * 40503u) & 0xfffff;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%013llX%05X",
                      static_cast<unsigned long long>(us) & 0xfffffffffffffull, n);
        return buf;
    }
};

}  // namespace detail

// ---- QueueWriter ------------------------------------------------------------------------

QueueWriter::QueueWriter(std::shared_ptr<detail::QueueCore> core, std::string id, int fd)
    : core_(std::move(core)), id_(std::move(id)), fd_(fd) {}

QueueWriter::QueueWriter(QueueWriter&& o) noexcept
    : core_(std::move(o.core_)), id_(std::move(o.id_)), fd_(o.fd_), size_(o.size_),
      buf_(std::move(o.buf_)), failed_(o.failed_) {
    o.fd_ = -1;
}

QueueWriter& QueueWriter::operator=(QueueWriter&& o) noexcept {
    if (this != &o) {
        abort();
        core_ = std::move(o.core_);
        id_ = std::move(o.id_);
        fd_ = o.fd_;
        size_ = o.size_;
        buf_ = std::move(o.buf_);
        failed_ = o.failed_;
        o.fd_ = -1;
    }
    return *this;
}

QueueWriter::~QueueWriter() { abort(); }

void QueueWriter::abort() {
    if (fd_ < 0) return;
    ::close(fd_);
    fd_ = -1;
    ::unlinkat(core_->incoming_fd, id_.c_str(), 0);
    buf_.clear();
}

std::expected<void, QueueError> QueueWriter::flush_buffer() {
    if (buf_.empty()) return {};
    if (!write_all(fd_, buf_.data(), buf_.size())) {
        failed_ = true;
        return std::unexpected(from_errno(errno));
    }
    buf_.clear();
    return {};
}

std::expected<void, QueueError> QueueWriter::append(std::string_view bytes) {
    if (fd_ < 0 || failed_) return std::unexpected(QueueError::io);
    buf_.append(bytes);
    size_ += bytes.size();
    if (buf_.size() >= kFlushAt) return flush_buffer();
    return {};
}

std::expected<void, QueueError> QueueWriter::write(std::string_view bytes) {
    if (fd_ < 0 || failed_) return std::unexpected(QueueError::io);
    if (auto r = flush_buffer(); !r) return r;
    if (!write_all(fd_, bytes.data(), bytes.size())) {
        failed_ = true;
        return std::unexpected(from_errno(errno));
    }
    size_ += bytes.size();
    return {};
}

std::expected<std::string, QueueError> QueueWriter::commit(Envelope env) {
    if (fd_ < 0 || failed_) {
        abort();
        return std::unexpected(QueueError::io);
    }
    env.id = id_;
    if (env.arrival == 0) env.arrival = now_seconds();
    std::string text = encode_envelope(env);
    char footer[kFooterLen + 1];
    std::snprintf(footer, sizeof footer, "%s%016llX %08X\n", kMagic,
                  static_cast<unsigned long long>(size_), static_cast<unsigned>(text.size()));
    buf_ += text;
    buf_.append(footer, kFooterLen);
    auto fail = [this](int e) -> std::expected<std::string, QueueError> {
        abort();
        return std::unexpected(from_errno(e));
    };
    if (!flush_buffer()) return fail(errno);
    if (::fdatasync(fd_) != 0) return fail(errno);
    if (::renameat(core_->incoming_fd, id_.c_str(), core_->active_fd, id_.c_str()) != 0)
        return fail(errno);
    ::close(fd_);
    fd_ = -1;
    if (int rc = core_->sync_active(); rc != 0) {
        // The rename may or may not survive a crash; the caller must not reply 250.
        ::unlinkat(core_->active_fd, id_.c_str(), 0);
        return std::unexpected(from_errno(rc));
    }
    return id_;
}

// ---- Queue --------------------------------------------------------------------------------

std::expected<Queue, QueueError> Queue::open(const std::filesystem::path& dir) {
    auto core = std::make_shared<detail::QueueCore>();
    core->dir = dir;
    std::error_code ec;
    for (const char* sub : {"incoming", "active", "state"}) {
        std::filesystem::create_directories(dir / sub, ec);
        if (ec) return std::unexpected(from_errno(ec.value()));
    }
    core->incoming_fd = ::open((dir / "incoming").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    core->active_fd = ::open((dir / "active").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    core->state_fd = ::open((dir / "state").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (core->incoming_fd < 0 || core->active_fd < 0 || core->state_fd < 0)
        return std::unexpected(from_errno(errno));
    return Queue(std::move(core));
}

const std::filesystem::path& Queue::dir() const { return core_->dir; }

bool Queue::valid_id(std::string_view id) {
    if (id.size() != kIdLen) return false;
    return std::all_of(id.begin(), id.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); });
}

std::expected<QueueWriter, QueueError> Queue::create() {
    for (int tries = 0; tries < 16; ++tries) {
        std::string id = core_->new_id();
        int fd =
            ::openat(core_->incoming_fd, id.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            // Held while the entry is written: clean_incoming() leaves a locked file alone.
            ::flock(fd, LOCK_EX | LOCK_NB);
            return QueueWriter(core_, std::move(id), fd);
        }
        if (errno != EEXIST) return std::unexpected(from_errno(errno));
    }
    return std::unexpected(QueueError::io);
}

namespace {

std::vector<std::string> list_dir(int dirfd) {
    std::vector<std::string> out;
    int fd = ::dup(dirfd);
    if (fd < 0) return out;
    DIR* d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return out;
    }
    ::rewinddir(d);
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        out.emplace_back(e->d_name);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

// The whole state log of `id` (empty when there is none).
std::string read_log(int state_fd, const std::string& id) {
    std::string log;
    Fd sfd(::openat(state_fd, id.c_str(), O_RDONLY | O_CLOEXEC));
    if (sfd.get() < 0) return log;
    char buf[8192];
    ssize_t r;
    while ((r = ::read(sfd.get(), buf, sizeof buf)) > 0) log.append(buf, static_cast<size_t>(r));
    return log;
}

// An entry of active/, open, with its footer checked against the file (parse_footer).
struct Entry {
    Fd fd;
    uint64_t msg_size = 0;
    uint32_t env_len = 0;
};

std::expected<void, QueueError> open_entry(int active_fd, const std::string& id, Entry& e) {
    e.fd = Fd(::openat(active_fd, id.c_str(), O_RDONLY | O_CLOEXEC));
    if (e.fd.get() < 0) return std::unexpected(from_errno(errno));
    struct stat st {};
    if (::fstat(e.fd.get(), &st) != 0) return std::unexpected(QueueError::io);
    const uint64_t fsize = static_cast<uint64_t>(st.st_size);
    if (fsize < kFooterLen) return std::unexpected(QueueError::invalid);
    char footer[kFooterLen];
    if (!pread_all(e.fd.get(), footer, kFooterLen, fsize - kFooterLen))
        return std::unexpected(QueueError::io);
    if (!parse_footer(footer, fsize, e.msg_size, e.env_len))
        return std::unexpected(QueueError::invalid);
    return {};
}

}  // namespace

std::expected<std::vector<std::string>, QueueError> Queue::ids() const {
    std::vector<std::string> out;
    for (auto& n : list_dir(core_->active_fd))
        if (valid_id(n)) out.push_back(std::move(n));
    return out;
}

std::expected<std::vector<Envelope>, QueueError> Queue::list() const {
    auto ids_or = ids();
    if (!ids_or) return std::unexpected(ids_or.error());
    std::vector<Envelope> out;
    for (const auto& id : *ids_or) {
        auto env = read(id);
        if (env) out.push_back(std::move(*env));
    }
    return out;
}

std::expected<Envelope, QueueError> Queue::read(std::string_view id_sv) const {
    if (!valid_id(id_sv)) return std::unexpected(QueueError::not_found);
    std::string id(id_sv);
    Entry e;
    if (auto r = open_entry(core_->active_fd, id, e); !r) return std::unexpected(r.error());
    const uint64_t msg_size = e.msg_size;
    std::string text(e.env_len, '\0');
    if (!pread_all(e.fd.get(), text.data(), e.env_len, msg_size))
        return std::unexpected(QueueError::io);
    auto env = decode_envelope(text);
    if (!env) return env;
    env->id = id;
    env->size = msg_size;
    for (const auto& rec : decode_state_log(read_log(core_->state_fd, id)))
        apply_state_record(*env, rec);
    derive_status(*env);
    return env;
}

std::expected<size_t, QueueError> Queue::read_message(std::string_view id_sv, uint64_t offset,
                                                      size_t len, std::string& out) const {
    if (!valid_id(id_sv)) return std::unexpected(QueueError::not_found);
    Entry e;
    if (auto r = open_entry(core_->active_fd, std::string(id_sv), e); !r)
        return std::unexpected(r.error());
    const uint64_t msg_size = e.msg_size;
    const Fd& fd = e.fd;
    if (offset >= msg_size) return 0;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, msg_size - offset));
    size_t old = out.size();
    out.resize(old + n);
    if (!pread_all(fd.get(), out.data() + old, n, offset)) {
        out.resize(old);
        return std::unexpected(QueueError::io);
    }
    return n;
}

std::expected<void, QueueError> Queue::remove(std::string_view id_sv) {
    if (!valid_id(id_sv)) return std::unexpected(QueueError::not_found);
    std::string id(id_sv);
    if (::unlinkat(core_->active_fd, id.c_str(), 0) != 0) return std::unexpected(from_errno(errno));
    ::unlinkat(core_->state_fd, id.c_str(), 0);
    return {};
}

std::expected<void, QueueError> Queue::append_state(std::string_view id_sv,
                                                    const std::vector<StateRecord>& recs,
                                                    bool sync) {
    if (!valid_id(id_sv)) return std::unexpected(QueueError::not_found);
    std::string id(id_sv);
    std::string text;
    for (const auto& r : recs) text += encode_state_record(r);
    Fd fd(::openat(core_->state_fd, id.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (fd.get() < 0) return std::unexpected(from_errno(errno));
    // One writer at a time: spoold's workers and mailctl (hold, flush) append to the same log,
    // and the torn-tail check below must see the tail the write goes after.
    while (::flock(fd.get(), LOCK_EX) != 0)
        if (errno != EINTR) return std::unexpected(QueueError::io);
    // Deleted meanwhile (mailctl queue delete): leave no orphan log behind.
    struct stat st {};
    if (::fstatat(core_->active_fd, id.c_str(), &st, 0) != 0) {
        int e = errno;
        ::unlinkat(core_->state_fd, id.c_str(), 0);
        return std::unexpected(from_errno(e));
    }
    // After a torn tail (a crash mid-append) start a fresh line.
    char last = '\n';
    if (::fstat(fd.get(), &st) == 0 && st.st_size > 0 &&
        ::pread(fd.get(), &last, 1, st.st_size - 1) == 1 && last != '\n')
        text.insert(text.begin(), '\n');
    if (!write_all(fd.get(), text.data(), text.size())) return std::unexpected(from_errno(errno));
    if (sync && ::fdatasync(fd.get()) != 0) return std::unexpected(from_errno(errno));
    return {};
}

std::expected<size_t, QueueError> Queue::flush() {
    auto ids_or = ids();
    if (!ids_or) return std::unexpected(ids_or.error());
    size_t n = 0;
    for (const auto& id : *ids_or) {
        auto env = read(id);
        if (!env || env->held || env->next_attempt == 0) continue;
        if (append_state(id, {{.kind = StateRecord::Kind::flush}}, false)) ++n;
    }
    return n;
}

std::expected<bool, QueueError> Queue::flush(std::string_view id) {
    auto env = read(id);
    if (!env) return std::unexpected(env.error());
    if (env->held) return false;
    if (auto r = append_state(id, {{.kind = StateRecord::Kind::flush}}, false); !r)
        return std::unexpected(r.error());
    return true;
}

std::expected<void, QueueError> Queue::hold(std::string_view id) {
    if (auto env = read(id); !env) return std::unexpected(env.error());
    return append_state(id, {{.kind = StateRecord::Kind::hold}}, true);
}

std::expected<void, QueueError> Queue::release(std::string_view id) {
    if (auto env = read(id); !env) return std::unexpected(env.error());
    return append_state(id, {{.kind = StateRecord::Kind::release}}, true);
}

size_t Queue::clean_incoming() {
    size_t n = 0;
    for (const auto& name : list_dir(core_->incoming_fd)) {
        // A writer of a live smtpd holds its file locked (created ahead, or being received).
        int fd = ::openat(core_->incoming_fd, name.c_str(),
                          O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
            ::close(fd);
            continue;
        }
        if (::unlinkat(core_->incoming_fd, name.c_str(), 0) == 0) ++n;
        if (fd >= 0) ::close(fd);
    }
    for (const auto& name : list_dir(core_->state_fd)) {
        struct stat st {};
        if (::fstatat(core_->active_fd, name.c_str(), &st, 0) != 0 && errno == ENOENT &&
            ::unlinkat(core_->state_fd, name.c_str(), 0) == 0)
            ++n;
    }
    return n;
}

// ---- wake-up ------------------------------------------------------------------------------

std::filesystem::path queue_wake_socket(const std::filesystem::path& run_dir) {
    return run_dir / "spoold.sock";
}

namespace {

bool send_wake(const std::filesystem::path& run_dir, std::string_view msg) {
    std::string path = queue_wake_socket(run_dir).string();
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) return false;
    std::memcpy(sa.sun_path, path.data(), path.size());
    Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return false;
    return ::sendto(fd.get(), msg.data(), msg.size(), MSG_NOSIGNAL,
                    reinterpret_cast<sockaddr*>(&sa), sizeof sa) == ssize_t(msg.size());
}

}  // namespace

bool queue_wake(const std::filesystem::path& run_dir, std::string_view id) {
    std::string msg = "w";
    msg.append(id);
    return send_wake(run_dir, msg);
}

bool queue_wake_rescan(const std::filesystem::path& run_dir) { return send_wake(run_dir, "f"); }

bool queue_wake_entry(const std::filesystem::path& run_dir, std::string_view id) {
    std::string msg = "f";
    msg.append(id);
    return send_wake(run_dir, msg);
}

}  // namespace postern
