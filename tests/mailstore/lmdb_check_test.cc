// Issue 7 (hardening): a truncated or empty LMDB file is refused before it is mapped (no
// SIGBUS, no silently new database), and a healthy file that is shorter than LMDB's
// high-water mark (pages allocated and freed in one transaction are never written) is not.
#include <lmdb.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <random>

#include "libmailstore/lmdb_env.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

// Fills DIR with a database whose last transactions insert and delete many keys, the
// pattern that leaves the file shorter than (last_pgno + 1) * psize. Returns how many
// commits left it so (the case check_data_file must walk the pages for).
int fill(const fs::path& dir, int txns, unsigned max_keys = 2000) {
    // MDB_NOSYNC: the page cache is all these checks look at, and fsyncs are slow.
    auto env = lmdb::Env::open(dir, 64ull << 20, {"d"}, MDB_NOSYNC, lmdb::OpenMode::create);
    REQUIRE(env);
    std::mt19937 rng(2);
    int short_commits = 0;
    for (int t = 0; t < txns; ++t) {
        auto txn = lmdb::Txn::begin(**env, true);
        REQUIRE(txn);
        int n = int(rng() % max_keys);
        for (int i = 0; i < n; ++i)
            REQUIRE(txn->put((*env)->dbi(0), std::to_string(t) + "-" + std::to_string(i),
                             std::string(rng() % 200, 'x')));
        bool del_all = rng() % 3 == 0;
        for (int i = 0; i < n; ++i)
            if (del_all || i % 2)
                REQUIRE(txn->del((*env)->dbi(0), std::to_string(t) + "-" + std::to_string(i)));
        REQUIRE(txn->commit());

        struct stat st {};
        REQUIRE(::stat((dir / "data.mdb").c_str(), &st) == 0);
        MDB_envinfo info{};
        mdb_env_info((*env)->get(), &info);
        MDB_stat ms{};
        mdb_env_stat((*env)->get(), &ms);
        if (uint64_t(st.st_size) < (info.me_last_pgno + 1) * ms.ms_psize) ++short_commits;
        auto c = lmdb::check_data_file(dir);
        INFO("after commit " << t << ": " << c.why);
        REQUIRE(c.state == lmdb::FileCheck::ok);
        REQUIRE(lmdb::Txn::begin(**env, false));  // Env::check_size agrees
    }
    return short_commits;
}

// Opens DIR with plain LMDB in a child and reads every entry: true when it survived.
bool child_reads_everything(const fs::path& dir) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        MDB_env* env = nullptr;
        mdb_env_create(&env);
        mdb_env_set_maxdbs(env, 4);
        mdb_env_set_mapsize(env, 64ull << 20);
        if (mdb_env_open(env, dir.c_str(), MDB_RDONLY | MDB_NOLOCK, 0600) != 0) ::_exit(3);
        MDB_txn* txn = nullptr;
        MDB_dbi dbi;
        MDB_cursor* cur = nullptr;
        MDB_val k, v;
        if (mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) != 0) ::_exit(3);
        if (mdb_dbi_open(txn, "d", 0, &dbi) != 0) ::_exit(3);
        mdb_cursor_open(txn, dbi, &cur);
        volatile size_t sum = 0;
        while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) sum = sum + v.mv_size;
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return !WIFSIGNALED(status);
}

void copy_truncated(const fs::path& from, const fs::path& to_dir, uint64_t size) {
    fs::create_directories(to_dir);
    fs::copy_file(from / "data.mdb", to_dir / "data.mdb", fs::copy_options::overwrite_existing);
    fs::remove(to_dir / "lock.mdb");
    REQUIRE(::truncate((to_dir / "data.mdb").c_str(), off_t(size)) == 0);
}

}  // namespace

TEST_CASE("check_data_file: a healthy file shorter than the high-water mark is whole",
          "[lmdb][hardening]") {
    test::TempDir dir;
    int short_commits = fill(dir.path() / "env", 120);
    INFO("commits that left the file shorter than (last_pgno + 1) * psize: " << short_commits);
    CHECK(short_commits > 0);  // else this test does not exercise the page walk
}

TEST_CASE("check_data_file: truncation at any point is caught or harmless", "[lmdb][hardening]") {
    test::TempDir dir;
    const fs::path env = dir.path() / "env", copy = dir.path() / "copy";
    fill(env, 30, 300);
    {
        // Empty it: the file keeps its length, most of its pages become free, so cutting
        // those off harms nothing and must not be called damage.
        auto e = lmdb::Env::open(env, 64ull << 20, {"d"}, MDB_NOSYNC, lmdb::OpenMode::existing);
        REQUIRE(e);
        for (int i = 0; i < 2; ++i) {  // twice: the second commit may reuse low pages
            auto txn = lmdb::Txn::begin(**e, true);
            REQUIRE(txn);
            REQUIRE(txn->drop((*e)->dbi(0)));
            REQUIRE(txn->put((*e)->dbi(0), "k" + std::to_string(i), "v"));
            REQUIRE(txn->commit());
        }
    }
    const uint64_t size = fs::file_size(env / "data.mdb");
    const uint64_t psize = 4096;
    REQUIRE(size % psize == 0);
    int refused = 0, harmless = 0;
    for (uint64_t pages = 0; pages * psize < size; ++pages) {
        copy_truncated(env, copy, pages * psize);
        auto c = lmdb::check_data_file(copy);
        INFO("truncated to " << pages << " pages: " << c.why);
        if (pages == 0) {
            CHECK(c.state == lmdb::FileCheck::empty);
        } else if (c.state == lmdb::FileCheck::ok) {
            CHECK(child_reads_everything(copy));  // only unused pages were cut
            ++harmless;
        } else {
            CHECK(c.state == lmdb::FileCheck::damaged);
            ++refused;
        }
        // Never crashes our own open, whatever it decided.
        auto e = lmdb::Env::open(copy, 64ull << 20, {"d"}, 0, lmdb::OpenMode::existing);
        CHECK(e.has_value() == (c.state == lmdb::FileCheck::ok));
        if (!e) CHECK(e.error() == StoreError::corrupt);
    }
    INFO(refused << " truncations refused, " << harmless << " harmless");
    CHECK(refused > 0);
    CHECK(harmless > 0);
    copy_truncated(env, copy, size / 2 + 100);  // not a whole number of pages
    CHECK(lmdb::check_data_file(copy).state == lmdb::FileCheck::damaged);
}

TEST_CASE("check_data_file: missing, empty, not LMDB", "[lmdb][hardening]") {
    test::TempDir dir;
    CHECK(lmdb::check_data_file(dir.path()).state == lmdb::FileCheck::missing);
    std::ofstream(dir.path() / "data.mdb").flush();
    CHECK(lmdb::check_data_file(dir.path()).state == lmdb::FileCheck::empty);
    std::ofstream(dir.path() / "data.mdb") << std::string(8192, 'x');
    auto c = lmdb::check_data_file(dir.path());
    CHECK(c.state == lmdb::FileCheck::damaged);
    CHECK(c.why.find("not an LMDB database") != std::string::npos);
}

TEST_CASE("Env::open modes: an empty file is never silently a new database", "[lmdb][hardening]") {
    test::TempDir dir;
    const fs::path env = dir.path() / "env";
    CHECK(lmdb::Env::open(env, 1 << 20, {"d"}, 0, lmdb::OpenMode::existing).error() ==
          StoreError::not_found);
    CHECK_FALSE(fs::exists(env));
    {
        auto e = lmdb::Env::open(env, 1 << 20, {"d"}, 0, lmdb::OpenMode::create);
        REQUIRE(e);
    }
    REQUIRE(::truncate((env / "data.mdb").c_str(), 0) == 0);
    CHECK(lmdb::Env::open(env, 1 << 20, {"d"}, 0, lmdb::OpenMode::existing).error() ==
          StoreError::corrupt);
    CHECK(lmdb::Env::open(env, 1 << 20, {"d"}, 0, lmdb::OpenMode::create).error() ==
          StoreError::corrupt);
    CHECK(fs::file_size(env / "data.mdb") == 0);  // left for the admin to restore
    fs::remove(env / "data.mdb");  // lock.mdb remains: it was used, so it is lost, not new
    CHECK(lmdb::Env::open(env, 1 << 20, {"d"}, 0, lmdb::OpenMode::create).error() ==
          StoreError::corrupt);
    CHECK(lmdb::Env::open(env, 1 << 20, {"d"}, MDB_RDONLY, lmdb::OpenMode::existing).error() ==
          StoreError::corrupt);
    // A cache may be made anew.
    REQUIRE(::truncate((env / "lock.mdb").c_str(), 0) == 0);
    std::ofstream(env / "data.mdb").flush();
    CHECK(lmdb::Env::open(env, 1 << 20, {"d"}, 0, lmdb::OpenMode::cache));
}

TEST_CASE("a file truncated while open fails the next transaction, without SIGBUS",
          "[lmdb][hardening]") {
    test::TempDir dir;
    const fs::path envdir = dir.path() / "env";
    fill(envdir, 30);
    const uint64_t size = fs::file_size(envdir / "data.mdb");
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // In a child: if the check failed, the SIGBUS would kill the test runner.
        auto env = lmdb::Env::open(envdir, 64ull << 20, {"d"}, 0, lmdb::OpenMode::existing);
        if (!env) ::_exit(10);
        if (!lmdb::Txn::begin(**env, false)) ::_exit(11);
        // Three pages: the meta pages and one more, far less than the data in use.
        if (size < 8 * 4096 || ::truncate((envdir / "data.mdb").c_str(), 3 * 4096) != 0)
            ::_exit(12);
        auto r = lmdb::Txn::begin(**env, false);
        auto w = lmdb::Txn::begin(**env, true);
        auto again = lmdb::Env::open(envdir, 64ull << 20, {"d"}, 0, lmdb::OpenMode::existing);
        bool refused = !r && r.error() == StoreError::corrupt && !w && !again;
        ::_exit(refused ? 0 : 13);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE_FALSE(WIFSIGNALED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
