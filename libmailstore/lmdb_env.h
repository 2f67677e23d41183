#pragma once
// RAII wrappers for LMDB: a process-wide cache of environments (LMDB forbids opening the
// same environment twice in one process), transactions that abort unless committed, and
// cursors. LMDB return codes become StoreError (MDB_MAP_FULL -> no_space).

#include <lmdb.h>
#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/store_error.h"

namespace postern::lmdb {

StoreError to_store_error(int rc);

class Env {
public:
    // Opens (creating the directory if create is set) an environment with the named
    // databases `dbs` (all created on first open). The same directory opened again in
    // the same process returns the same Env. Runs mdb_reader_check to clear stale readers.
    static StoreResult<std::shared_ptr<Env>> open(const std::filesystem::path& dir,
                                                  uint64_t map_size,
                                                  const std::vector<std::string>& dbs,
                                                  unsigned flags, bool create);
    ~Env();
    Env(const Env&) = delete;
    Env& operator=(const Env&) = delete;

    MDB_env* get() const { return env_; }
    MDB_dbi dbi(size_t i) const { return dbis_.at(i); }
    const std::filesystem::path& dir() const { return dir_; }
    // Forces data and meta pages to disk (for environments opened with MDB_NOMETASYNC).
    StoreResult<void> sync();

private:
    Env() = default;
    MDB_env* env_ = nullptr;
    std::vector<MDB_dbi> dbis_;
    std::filesystem::path dir_;
    pid_t pid_ = 0;
};

class Txn {
public:
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
