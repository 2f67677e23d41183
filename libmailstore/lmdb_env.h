#pragma once
// RAII wrappers for LMDB: a process-wide cache of environments (LMDB forbids opening the
// same environment twice in one process), transactions that abort unless committed, and
// cursors. LMDB return codes become StoreError (MDB_MAP_FULL -> no_space).
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
#include <filesystem>
#include <memory>
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

private:
    Env() = default;
    MDB_env* env_ = nullptr;
    std::vector<MDB_dbi> dbis_;
    std::filesystem::path dir_;
    pid_t pid_ = 0;
    int fd_ = -1;  // data.mdb, owned by LMDB
    uint64_t psize_ = 0;
    std::atomic<uint64_t> walked_txnid_{0};   // snapshot a page walk found whole (check_size)
    std::atomic<bool> size_reported_{false};  // log a truncation once, not per transaction
};

class Txn {
public:
    // corrupt (without touching the map) when the file was truncated; see Env::check_size.
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
    explicit Txn(MDB_txn* t) : txn_(t) {}
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
    explicit Cursor(MDB_cursor* c) : cur_(c) {}
    void step(MDB_cursor_op op, std::string_view key = {});
    MDB_cursor* cur_ = nullptr;
    MDB_val k_{}, v_{};
    bool valid_ = false;
    int rc_ = 0;
};

}  // namespace postern::lmdb
