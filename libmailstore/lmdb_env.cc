#include "libmailstore/lmdb_env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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
        struct stat open_st {}, path_st {};
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
    mdb_filehandle_t fd = -1;
    mdb_env_get_fd(env->env_, &fd);
    env->fd_ = fd;
    int dead = 0;
    mdb_reader_check(env->env_, &dead);
    if (dead > 0)
        log_msg(LogLevel::info, "lmdb: cleared %d stale readers in %s", dead, canon.c_str());

    auto txn = Txn::begin(*env, !read_only);
    if (!txn) return std::unexpected(txn.error());
    for (const auto& name : dbs) {
        MDB_dbi dbi;
        rc = mdb_dbi_open(txn->get(), name.c_str(), read_only ? 0 : MDB_CREATE, &dbi);
        if (rc != 0) return std::unexpected(to_store_error(rc));
        env->dbis_.push_back(dbi);
    }
    if (auto c = txn->commit(); !c) return std::unexpected(c.error());
    cache()[key] = env;
    return env;
}

Env::~Env() {
    // A forked child's copy of its parent's environment must not be closed (it would
    // release the parent's locks); it is left to process exit.
    if (env_ != nullptr && pid_ == ::getpid()) mdb_env_close(env_);
}

StoreResult<void> Env::sync() {
    int rc = mdb_env_sync(env_, 1);
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return {};
}

StoreResult<void> Env::check_size() {
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
    if (auto s = env.check_size(); !s) return std::unexpected(s.error());
    MDB_txn* t = nullptr;
    int rc = mdb_txn_begin(env.get(), nullptr, write ? 0 : MDB_RDONLY, &t);
    if (rc == MDB_MAP_RESIZED) {
        // Another process grew the map: adopt its size and retry once.
        mdb_env_set_mapsize(env.get(), 0);
        rc = mdb_txn_begin(env.get(), nullptr, write ? 0 : MDB_RDONLY, &t);
    }
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return Txn(t);
}

Txn::Txn(Txn&& o) noexcept : txn_(std::exchange(o.txn_, nullptr)) {}

Txn& Txn::operator=(Txn&& o) noexcept {
    if (this != &o) {
        abort();
        txn_ = std::exchange(o.txn_, nullptr);
    }
    return *this;
}

StoreResult<void> Txn::commit() {
    if (txn_ == nullptr) return std::unexpected(StoreError::invalid);
    int rc = mdb_txn_commit(std::exchange(txn_, nullptr));
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return {};
}

void Txn::abort() {
    if (txn_ != nullptr) mdb_txn_abort(std::exchange(txn_, nullptr));
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
    int rc = mdb_put(txn_, dbi, &k, &v, flags);
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return {};
}

StoreResult<bool> Txn::del(MDB_dbi dbi, std::string_view key) {
    MDB_val k = val(key);
    int rc = mdb_del(txn_, dbi, &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return true;
}

StoreResult<void> Txn::drop(MDB_dbi dbi) {
    int rc = mdb_drop(txn_, dbi, 0);
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return {};
}

StoreResult<Cursor> Cursor::open(Txn& txn, MDB_dbi dbi) {
    MDB_cursor* c = nullptr;
    int rc = mdb_cursor_open(txn.get(), dbi, &c);
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return Cursor(c);
}

Cursor::Cursor(Cursor&& o) noexcept
    : cur_(std::exchange(o.cur_, nullptr)), k_(o.k_), v_(o.v_), valid_(o.valid_), rc_(o.rc_) {}

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
    if (rc != 0) return std::unexpected(to_store_error(rc));
    return {};
}

}  // namespace postern::lmdb
