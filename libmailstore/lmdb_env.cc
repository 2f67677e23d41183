#include "libmailstore/lmdb_env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <system_error>
#include <utility>

#include "libmailstore/unique_fd.h"

#include "libproto/core/log.h"

namespace postern::lmdb {
namespace {

std::mutex cache_mutex;
// Keyed by (pid, canonical dir): a forked child must not reuse its parent's MDB_env.
std::map<std::pair<pid_t, std::string>, std::weak_ptr<Env>>& cache() {
    static auto* m = new std::map<std::pair<pid_t, std::string>, std::weak_ptr<Env>>;
    return *m;
}

MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

// The environments whose gate this thread holds (one entry per live Txn), so a thread never
// waits for a resize that waits for it.
thread_local std::vector<const Env*> t_held;
// MDB_MAP_FULL results on this thread, per environment (FullWatch).
thread_local std::vector<std::pair<const Env*, uint64_t>> t_full;

bool held_here(const Env* e) { return std::find(t_held.begin(), t_held.end(), e) != t_held.end(); }

uint64_t full_here(const Env* e) {
    for (const auto& [env, n] : t_full)
        if (env == e) return n;
    return 0;
}

// How long a resize waits for this process's other transactions to end.
constexpr auto resize_wait = std::chrono::seconds(10);

uint64_t current_map_size(MDB_env* env) {
    MDB_envinfo info{};
    mdb_env_info(env, &info);
    return uint64_t(info.me_mapsize);
}

}  // namespace

StoreError to_store_error(int rc) {
    switch (rc) {
    case MDB_NOTFOUND: return StoreError::not_found;
    case MDB_KEYEXIST: return StoreError::exists;
    case MDB_MAP_FULL:
    case ENOSPC:
    case EDQUOT: return StoreError::no_space;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH: return StoreError::corrupt;
    case MDB_BAD_VALSIZE:
    case EINVAL: return StoreError::invalid;
    case ENOENT: return StoreError::not_found;
    default: return StoreError::temporary;
    }
}

StoreResult<std::shared_ptr<Env>> Env::open(const std::filesystem::path& dir, uint64_t map_size,
                                            const std::vector<std::string>& dbs, unsigned flags,
                                            OpenMode mode) {
    const bool read_only = (flags & MDB_RDONLY) != 0;
    std::error_code ec;
    bool fresh = false;  // no environment was ever made here
    if (!std::filesystem::exists(dir, ec)) {
        if (mode == OpenMode::existing || read_only) return std::unexpected(StoreError::not_found);
        std::filesystem::create_directories(dir, ec);
        if (ec) return std::unexpected(StoreError::temporary);
        fresh = true;
    } else if (!std::filesystem::is_directory(dir, ec)) {
        log_msg(LogLevel::error, "lmdb: %s is not a directory", dir.c_str());
        return std::unexpected(StoreError::corrupt);
    } else {
        fresh = std::filesystem::is_empty(dir, ec) && !ec;
    }
    auto canon = std::filesystem::canonical(dir, ec);
    if (ec) return std::unexpected(StoreError::temporary);
    auto key = std::make_pair(::getpid(), canon.string());

    std::lock_guard lock(cache_mutex);
    if (auto it = cache().find(key); it != cache().end()) {
        // Only while it still maps the file at that path: a directory moved away (a retired
        // user, still open in an old session) and another made in its place is another one.
        auto env = it->second.lock();
        int fd = -1;
        struct stat open_st {};
        struct stat path_st {};
        if (env && mdb_env_get_fd(env->get(), &fd) == 0 && ::fstat(fd, &open_st) == 0 &&
            ::stat((canon / "data.mdb").c_str(), &path_st) == 0 &&
            open_st.st_dev == path_st.st_dev && open_st.st_ino == path_st.st_ino) {
            if (auto s = env->check_size(); !s) return std::unexpected(s.error());
            return env;
        }
    }

    // Look at the file before LMDB maps it (see the header).
    FileCheck fc = check_data_file(canon);
    switch (fc.state) {
    case FileCheck::ok: break;
    case FileCheck::missing:
        // The directory is there, so an environment was made here once: the file is lost.
        if (read_only || mode == OpenMode::existing || (mode == OpenMode::create && !fresh)) {
            log_msg(LogLevel::error,
                    "lmdb: %s (the directory was used before: not making a new one)",
                    fc.why.c_str());
            return std::unexpected(StoreError::corrupt);
        }
        break;
    case FileCheck::empty:
        if (mode == OpenMode::cache && !read_only) {
            log_msg(LogLevel::warning, "lmdb: %s: making it anew", fc.why.c_str());
            break;
        }
        log_msg(LogLevel::error, "lmdb: %s", fc.why.c_str());
        return std::unexpected(StoreError::corrupt);
    case FileCheck::damaged:
        log_msg(LogLevel::error, "lmdb: %s", fc.why.c_str());
        return std::unexpected(StoreError::corrupt);
    case FileCheck::unreadable:
        log_msg(LogLevel::error, "lmdb: %s", fc.why.c_str());
        return std::unexpected(StoreError::temporary);
    }

    std::shared_ptr<Env> env(new Env);
    env->dir_ = canon;
    env->pid_ = key.first;
    int rc = mdb_env_create(&env->env_);
    if (rc != 0) return std::unexpected(to_store_error(rc));
    mdb_env_set_mapsize(env->env_, map_size);
    mdb_env_set_maxdbs(env->env_, MDB_dbi(dbs.size() + 1));
    mdb_env_set_maxreaders(env->env_, 256);
    rc = mdb_env_open(env->env_, canon.c_str(), flags | MDB_NOTLS, 0660);
    if (rc != 0) {
        log_msg(LogLevel::error, "lmdb: cannot open %s: %s", canon.c_str(), mdb_strerror(rc));
        return std::unexpected(to_store_error(rc));
    }
    MDB_stat mst{};
    mdb_env_stat(env->env_, &mst);
    env->psize_ = mst.ms_psize;
    env->map_size_ = current_map_size(env->env_);
    mdb_filehandle_t fd = -1;
    mdb_env_get_fd(env->env_, &fd);
    env->fd_ = fd;
    int dead = 0;
    mdb_reader_check(env->env_, &dead);
    if (dead > 0)
        log_msg(LogLevel::info, "lmdb: cleared %d stale readers in %s", dead, canon.c_str());

    // Creating the databases may not fit a very small first map: grown like any write.
    auto opened = retry_when_full(*env, [&]() -> StoreResult<void> {
        env->dbis_.clear();
        auto txn = Txn::begin(*env, !read_only);
        if (!txn) return std::unexpected(txn.error());
        for (const auto& name : dbs) {
            MDB_dbi dbi;
            int r = mdb_dbi_open(txn->get(), name.c_str(), read_only ? 0 : MDB_CREATE, &dbi);
            if (r == MDB_MAP_FULL) env->note_full();
            if (r != 0) return std::unexpected(to_store_error(r));
            env->dbis_.push_back(dbi);
        }
        return txn->commit();
    });
    if (!opened) return std::unexpected(opened.error());
    cache()[key] = env;
    return env;
}

Env::~Env() {
    // A forked child's copy of its parent's environment must not be closed (it would
    // release the parent's locks); it is left to process exit.
    if (env_ != nullptr && pid_ == ::getpid()) mdb_env_close(env_);
}

StoreResult<void> Env::sync() {
    enter();
    int rc = mdb_env_sync(env_, 1);
    leave();
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return {};
}

void Env::enter() {
    std::unique_lock lk(gate_mu_);
    if (!held_here(this)) gate_cv_.wait(lk, [&] { return !resizing_; });
    ++active_;
    t_held.push_back(this);
}

void Env::leave() {
    if (auto it = std::find(t_held.rbegin(), t_held.rend(), this); it != t_held.rend())
        t_held.erase(std::next(it).base());
    std::lock_guard lk(gate_mu_);
    if (--active_ == 0) gate_cv_.notify_all();
}

void Env::note_full() {
    full_seen_ = map_size_.load();
    grow_pending_ = true;
    ++full_count_;
    for (auto& [env, n] : t_full) {
        if (env == this) {
            ++n;
            return;
        }
    }
    t_full.emplace_back(this, 1);
}

StoreResult<bool> Env::resize_exclusive(uint64_t seen, uint64_t size) {
    if (held_here(this)) return std::unexpected(StoreError::temporary);  // would wait on itself
    std::unique_lock lk(gate_mu_);
    // Another resize first; then it may already be done.
    if (!gate_cv_.wait_for(lk, resize_wait, [&] { return !resizing_; }))
        return std::unexpected(StoreError::temporary);
    if (map_size_.load() > seen) return false;
    resizing_ = true;
    bool idle = gate_cv_.wait_for(lk, resize_wait, [&] { return active_ == 0; });
    int rc = idle ? mdb_env_set_mapsize(env_, size) : 0;
    if (idle && rc == 0) map_size_ = current_map_size(env_);
    resizing_ = false;
    gate_cv_.notify_all();
    if (!idle) {
        log_msg(LogLevel::warning, "lmdb: %s: cannot resize the map: transactions still open",
                dir_.c_str());
        return std::unexpected(StoreError::temporary);
    }
    if (rc != 0) {
        log_msg(LogLevel::error, "lmdb: %s: cannot resize the map: %s", dir_.c_str(),
                mdb_strerror(rc));
        return std::unexpected(to_store_error(rc));
    }
    return true;
}

StoreResult<void> Env::grow(uint64_t seen) {
    const uint64_t now = map_size_.load();
    if (now > seen) {
        grow_pending_ = false;
        return {};
    }
    const uint64_t limit = map_limit_.load();
    if (now >= limit) return std::unexpected(StoreError::no_space);
    const uint64_t next = std::min(std::max(now * 2, uint64_t(psize_ * 4)), limit);
    auto r = resize_exclusive(seen, next);
    if (!r) return std::unexpected(r.error());
    grow_pending_ = false;
    if (*r)
        log_msg(LogLevel::info, "lmdb: %s: map full, grown from %llu to %llu KiB", dir_.c_str(),
                static_cast<unsigned long long>(now >> 10),
                static_cast<unsigned long long>(map_size_.load() >> 10));
    return {};
}

StoreResult<void> Env::check_size() {
    enter();
    auto r = check_size_entered();
    leave();
    return r;
}

StoreResult<void> Env::check_size_entered() {
    if (fd_ < 0 || psize_ == 0) return {};
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return std::unexpected(StoreError::temporary);
    const uint64_t size = uint64_t(st.st_size);
    std::string why;
    if (size < 2 * psize_) {
        why = "truncated (" + std::to_string(size) + " bytes, less than its meta pages)";
    } else {
        MDB_envinfo info{};
        mdb_env_info(env_, &info);  // reads the meta pages, which are inside the file
        if ((uint64_t(info.me_last_pgno) + 1) * psize_ <= size) return {};
        // Shorter than the high-water mark: walk the pages in use (once per snapshot).
        if (walked_txnid_.load() == info.me_last_txnid) return {};
        uint64_t txnid = 0;
        why = check_data_fd(fd_, &txnid);
        if (why.empty()) {
            walked_txnid_.store(txnid);
            return {};
        }
    }
    if (!size_reported_.exchange(true))
        log_msg(LogLevel::error, "lmdb: %s/data.mdb: changed while open: %s", dir_.c_str(),
                why.c_str());
    return std::unexpected(StoreError::corrupt);
}

std::string Env::verify() {
    auto txn = Txn::begin(*this, false);
    if (!txn) return std::string("cannot read: ") + describe(txn.error());
    for (MDB_dbi dbi : dbis_) {
        auto cur = Cursor::open(*txn, dbi);
        if (!cur) return std::string("cannot read: ") + describe(cur.error());
        for (cur->first(); cur->valid(); cur->next()) {
        }
        if (cur->error() != 0) return std::string("unreadable: ") + mdb_strerror(cur->error());
    }
    return "";
}

StoreResult<Txn> Txn::begin(Env& env, bool write) {
    // An earlier write found the map full and could not grow it then: do it now, before
    // this transaction holds the gate (a failure leaves this write to find out itself).
    if (write && env.grow_pending_.load()) (void)env.grow(env.full_seen_.load());
    for (int attempt = 0;; ++attempt) {
        const uint64_t seen = env.map_size();
        env.enter();
        if (auto s = env.check_size_entered(); !s) {
            env.leave();
            return std::unexpected(s.error());
        }
        MDB_txn* t = nullptr;
        int rc = mdb_txn_begin(env.get(), nullptr, write ? 0 : MDB_RDONLY, &t);
        if (rc == 0) return Txn(&env, t);
        env.leave();
        if (rc != MDB_MAP_RESIZED || attempt == 2) return std::unexpected(to_store_error(rc));
        // Another process grew the map past ours: adopt its size (with no transaction of
        // this process open) and try again.
        if (auto r = env.resize_exclusive(seen, 0); !r) return std::unexpected(r.error());
    }
}

Txn::Txn(Txn&& o) noexcept
    : env_(std::exchange(o.env_, nullptr)), txn_(std::exchange(o.txn_, nullptr)) {}

Txn& Txn::operator=(Txn&& o) noexcept {
    if (this != &o) {
        abort();
        env_ = std::exchange(o.env_, nullptr);
        txn_ = std::exchange(o.txn_, nullptr);
    }
    return *this;
}

void Txn::end() {
    txn_ = nullptr;
    if (Env* e = std::exchange(env_, nullptr)) e->leave();
}

int Txn::checked(int rc) {
    if (rc == MDB_MAP_FULL && env_ != nullptr) env_->note_full();
    return rc;
}

StoreResult<void> Txn::commit() {
    if (txn_ == nullptr) return std::unexpected(StoreError::invalid);
    int rc = checked(mdb_txn_commit(txn_));
    end();
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return {};
}

void Txn::abort() {
    if (txn_ == nullptr) return;
    mdb_txn_abort(txn_);
    end();
}

StoreResult<std::optional<std::string_view>> Txn::get(MDB_dbi dbi, std::string_view key) {
    MDB_val k = val(key), v{};
    int rc = mdb_get(txn_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<std::string_view>{};
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return std::optional<std::string_view>{
        std::string_view(static_cast<char*>(v.mv_data), v.mv_size)};
}

StoreResult<void> Txn::put(MDB_dbi dbi, std::string_view key, std::string_view value,
                           unsigned flags) {
    MDB_val k = val(key), v = val(value);
    int rc = checked(mdb_put(txn_, dbi, &k, &v, flags));
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return {};
}

StoreResult<bool> Txn::del(MDB_dbi dbi, std::string_view key) {
    MDB_val k = val(key);
    int rc = checked(mdb_del(txn_, dbi, &k, nullptr));
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return true;
}

StoreResult<void> Txn::drop(MDB_dbi dbi) {
    int rc = checked(mdb_drop(txn_, dbi, 0));
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return {};
}

StoreResult<Cursor> Cursor::open(Txn& txn, MDB_dbi dbi) {
    MDB_cursor* c = nullptr;
    int rc = mdb_cursor_open(txn.get(), dbi, &c);
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return Cursor(txn.env_, c);
}

Cursor::Cursor(Cursor&& o) noexcept
    : env_(o.env_), cur_(std::exchange(o.cur_, nullptr)), k_(o.k_), v_(o.v_), valid_(o.valid_),
      rc_(o.rc_) {}

Cursor::~Cursor() {
    if (cur_ != nullptr) mdb_cursor_close(cur_);
}

void Cursor::step(MDB_cursor_op op, std::string_view key) {
    if (op == MDB_SET_RANGE) k_ = val(key);
    int rc = mdb_cursor_get(cur_, &k_, &v_, op);
    valid_ = rc == 0;
    rc_ = (rc == 0 || rc == MDB_NOTFOUND) ? 0 : rc;
}

void Cursor::seek(std::string_view key) {
    if (key.empty()) return first();  // LMDB rejects an empty key
    step(MDB_SET_RANGE, key);
}
void Cursor::first() { step(MDB_FIRST); }
void Cursor::next() {
    if (valid_) step(MDB_NEXT);
}

std::string_view Cursor::key() const {
    return std::string_view(static_cast<char*>(k_.mv_data), k_.mv_size);
}
std::string_view Cursor::value() const {
    return std::string_view(static_cast<char*>(v_.mv_data), v_.mv_size);
}

StoreResult<void> Cursor::del() {
    int rc = mdb_cursor_del(cur_, 0);
    if (rc == MDB_MAP_FULL && env_ != nullptr) env_->note_full();
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return {};
}

FullWatch::FullWatch(Env& env) : env_(&env), count_(full_here(&env)), size_(env.map_size()) {}

bool FullWatch::hit() const { return full_here(env_) != count_; }

}  // namespace postern::lmdb
