#pragma once
// Checking an LMDB data file with pread, before anything maps it (lmdb_env.h says why: a
// truncated data.mdb is SIGBUS on first read, an empty one is silently made anew).

#include <cstdint>
#include <filesystem>
#include <string>

namespace postern::lmdb {

struct FileCheck {
    enum State { ok, missing, empty, damaged, unreadable } state = ok;
    std::string why;    // one line naming the file; empty when ok
    uint64_t size = 0;  // bytes
};

// DIR/data.mdb: both meta pages must carry LMDB's magic and data format, and every page the
// newer meta page can reach must lie inside the file. The quick test is LMDB's high-water
// mark, (last_pgno + 1) * psize <= size. A shorter file is not necessarily damaged (pages
// allocated and freed within one transaction are never written), so then the B-trees are
// walked with pread to find the pages really in use; a walk that a concurrent commit may
// have spoiled is retried, and given up (as ok) after three tries.
FileCheck check_data_file(const std::filesystem::path& dir);

// The same test on an open data.mdb (for a file that may have been truncated while open):
// "" when whole, else why not. *txnid is the snapshot that was checked.
std::string check_data_fd(int fd, uint64_t* txnid);

}  // namespace postern::lmdb
