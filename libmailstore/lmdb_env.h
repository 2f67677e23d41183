#pragma once
// RAII wrappers for LMDB: a process-wide cache of environments (LMDB forbids opening the
// same environment twice in one process), transactions that abort unless committed, and
// cursors. LMDB return codes become StoreError (MDB_MAP_FULL -> no_space).
//
// The map grows: the size given to Env::open is only the first one. A write that hits
// MDB_MAP_FULL is noted on the Env; with_write_txn / retry_when_full then double the map
// (Env::grow, up to map_limit()) and redo the whole transaction. A write path that cannot be
// redone still fails with no_space once, and the next write transaction of this process
// grows the map before it begins. Resizing a map needs every transaction of this process on
// that environment to be over (an LMDB rule), so each Txn holds the Env's gate shared for its
// life and a resize takes it exclusively; another process's growth (MDB_MAP_RESIZED) is
// adopted the same way.
//
// LMDB maps data.mdb and trusts it: a truncated file crashes the process with SIGBUS on the
// first read past the end, and a zero-length file is silently initialised as a new, empty
// environment. So every open first checks the file with pread (check_data_file, in
// lmdb_check.h), and every transaction first compares the file size (fstat) with what the
// newest meta page records. A file truncated between that check and a read still raises
// SIGBUS (a mapping cannot be made safe); docs/security.md says so.

#include <lmdb.h>
#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/lmdb_check.h"
#include "libmailstore/store_error.h"

namespace postern::lmdb {

StoreError to_store_error(int rc);

// What Env::open may do when DIR/data.mdb is not there.
enum class OpenMode {
    existing,  // nothing: a missing file is not_found, an empty or damaged one corrupt
    create,    // make a new environment when DIR is missing or empty (never over a lost one:
               // DIR holding lock.mdb without data.mdb, or a zero-length data.mdb, is corrupt)
    cache,     // for rebuildable caches: a missing or zero-length data.mdb is made anew
};

class Env {
public:
    // Opens an environment with the named databases `dbs` (created on first open unless
    // flags has MDB_RDONLY; then a missing one is not_found). The file is checked first
    // (check_data_file): damaged is corrupt, whatever the mode. The same directory opened
    // again in the same process returns the same Env. Runs mdb_reader_check to clear
    // stale readers. Problems are logged at error level with the reason.
    static StoreResult<std::shared_ptr<Env>> open(const std::filesystem::path& dir,
                                                  uint64_t map_size,
                                                  const std::vector<std::string>& dbs,
                                                  unsigned flags, OpenMode mode);
    ~Env();
    Env(const Env&) = delete;
    Env& operator=(const Env&) = delete;

    MDB_env* get() const { return env_; }
    MDB_dbi dbi(size_t i) const { return dbis_.at(i); }
    const std::filesystem::path& dir() const { return dir_; }
    size_t db_count() const { return dbis_.size(); }
    // Forces data and meta pages to disk (for environments opened with MDB_NOMETASYNC).
    StoreResult<void> sync();
    // corrupt when data.mdb is now shorter than the newest meta page needs (it was truncated
    // under us): one fstat, no access to the map beyond the meta pages. Txn::begin calls it.
    StoreResult<void> check_size();
    // Reads every entry of every named database: "" when all of it is readable, else one
    // line saying what failed (for `mailctl check`).
    std::string verify();

    // The map's size now, and the most it may grow to (default_map_limit).
    uint64_t map_size() const { return map_size_.load(); }
    uint64_t map_limit() const { return map_limit_.load(); }
    void set_map_limit(uint64_t bytes) { map_limit_.store(bytes); }
    static constexpr uint64_t default_map_limit = 64ull << 30;
    // Doubles the map (capped at map_limit()) unless it has already grown past `seen` (the
    // size a failed write saw). Waits for this process's other transactions on it to end
    // (about 10 s at most). no_space at the limit; temporary when the calling thread still
    // holds a transaction here or the others do not finish. Logged at info level.
    StoreResult<void> grow(uint64_t seen);
    // MDB_MAP_FULL results so far (a put, delete or commit that needed more map).
    uint64_t map_full_count() const { return full_count_.load(); }

private:
    friend class Txn;
    friend class Cursor;
    friend class FullWatch;
    Env() = default;
    // The gate (see the header comment). enter() waits while a resize is under way, except
    // for a thread that already holds a transaction here (it would wait on itself).
    void enter();
    void leave();
    // Unless the map is already larger than `seen`: takes the gate exclusively and calls
    // mdb_env_set_mapsize(size) (0 adopts the size another process gave the file). true when
    // this call resized it.
    StoreResult<bool> resize_exclusive(uint64_t seen, uint64_t size);
    StoreResult<void> check_size_entered();
    void note_full();  // a write got MDB_MAP_FULL: remembered, and grown before the next one

    MDB_env* env_ = nullptr;
    std::vector<MDB_dbi> dbis_;
    std::filesystem::path dir_;
    pid_t pid_ = 0;
    int fd_ = -1;  // data.mdb, owned by LMDB
    uint64_t psize_ = 0;
    std::atomic<uint64_t> walked_txnid_{0};   // snapshot a page walk found whole (check_size)
    std::atomic<bool> size_reported_{false};  // log a truncation once, not per transaction

    std::mutex gate_mu_;
    std::condition_variable gate_cv_;
    int active_ = 0;         // live Txns of this process on this env
    bool resizing_ = false;  // a resize waits for (or holds) the gate alone
    std::atomic<uint64_t> map_size_{0};
    std::atomic<uint64_t> map_limit_{default_map_limit};
    std::atomic<uint64_t> full_count_{0};
    std::atomic<bool> grow_pending_{false};  // a write failed full; grow before the next one
    std::atomic<uint64_t> full_seen_{0};     // the map size that write saw
};

class Txn {
public:
    // corrupt (without touching the map) when the file was truncated; see Env::check_size.
    // A write transaction first grows the map if an earlier write found it full.
    static StoreResult<Txn> begin(Env& env, bool write);
    Txn(Txn&& o) noexcept;
    Txn& operator=(Txn&& o) noexcept;
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    ~Txn() { abort(); }

    MDB_txn* get() const { return txn_; }
    StoreResult<void> commit();
    void abort();

    // nullopt when absent. The view is valid until the transaction ends or writes.
    StoreResult<std::optional<std::string_view>> get(MDB_dbi dbi, std::string_view key);
    StoreResult<void> put(MDB_dbi dbi, std::string_view key, std::string_view value,
                          unsigned flags = 0);
    // false when the key was absent.
    StoreResult<bool> del(MDB_dbi dbi, std::string_view key);
    StoreResult<void> drop(MDB_dbi dbi);  // empties the database

private:
    friend class Cursor;
    Txn(Env* env, MDB_txn* t) : env_(env), txn_(t) {}
    void end();           // after txn_ is committed or aborted: leaves the gate
    int checked(int rc);  // notes MDB_MAP_FULL on the Env
    Env* env_ = nullptr;  // its gate is held while txn_ lives
    MDB_txn* txn_ = nullptr;
};

// Iterates keys >= a start key: for (c.seek(k); c.valid(); c.next()) ...
// In a write transaction a Cursor must be destroyed before the transaction commits or
// aborts (LMDB frees write cursors with their transaction); keep it in an inner scope.
class Cursor {
public:
    static StoreResult<Cursor> open(Txn& txn, MDB_dbi dbi);
    Cursor(Cursor&& o) noexcept;
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    ~Cursor();

    void seek(std::string_view key);  // first key >= key
    void first();
    void next();
    bool valid() const { return valid_; }
    int error() const { return rc_; }  // non-zero when iteration stopped on an error
    std::string_view key() const;
    std::string_view value() const;
    StoreResult<void> del();  // deletes the current item; next() then moves on

private:
    Cursor(Env* env, MDB_cursor* c) : env_(env), cur_(c) {}
    void step(MDB_cursor_op op, std::string_view key = {});
    Env* env_ = nullptr;
    MDB_cursor* cur_ = nullptr;
    MDB_val k_{}, v_{};
    bool valid_ = false;
    int rc_ = 0;
};

// Tells whether a write on this thread found env's map full since it was made.
class FullWatch {
public:
    explicit FullWatch(Env& env);
    bool hit() const;
    uint64_t map_size() const { return size_; }  // the map's size when it was made

private:
    const Env* env_;
    uint64_t count_;
    uint64_t size_;
};

// Redoing a write after the map grew: at most this many times (64 KiB to 64 GiB is 20
// doublings).
inline constexpr int max_grow_retries = 24;

// Runs attempt() (which returns a StoreResult) and, when it failed because env's map was full,
// grows the map and runs it again. attempt must be re-runnable: a failed attempt has aborted
// its transaction and undone what it did outside the index, or left it so that a second
// attempt finds it again (a rename is looked up by its stem, say).
template <class F>
auto retry_when_full(Env& env, F&& attempt) -> decltype(attempt()) {
    for (int i = 0;; ++i) {
        FullWatch watch(env);
        auto r = attempt();
        if (r || !watch.hit() || i == max_grow_retries || !env.grow(watch.map_size())) return r;
    }
}

// One write transaction: fn(txn), then a commit unless fn failed or committed itself; redone
// from the start after growing the map when it failed because the map was full. fn returns a
// StoreResult and must be re-runnable (see retry_when_full).
template <class F>
auto with_write_txn(Env& env, F&& fn) -> decltype(fn(std::declval<Txn&>())) {
    using R = decltype(fn(std::declval<Txn&>()));
    return retry_when_full(env, [&]() -> R {
        auto txn = Txn::begin(env, true);
        if (!txn) return std::unexpected(txn.error());
        R r = fn(*txn);
        if (r && txn->get() != nullptr) {
            if (auto c = txn->commit(); !c) return std::unexpected(c.error());
        }
        return r;
    });
}

}  // namespace postern::lmdb
