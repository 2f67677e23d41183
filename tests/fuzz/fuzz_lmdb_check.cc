// lmdb::check_data_fd (the pread check of data.mdb before LMDB maps it) on arbitrary file
// contents. Invariants: it returns, never reads out of bounds, and any verdict but "whole"
// is one line. Seeds (corpus/lmdb_check) are small valid files with 512-byte pages.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "libmailstore/lmdb_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    int fd = ::memfd_create("fuzz-data.mdb", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (size > 0 && ::write(fd, data, size) != ssize_t(size)) {
        ::close(fd);
        return 0;
    }
    uint64_t txnid = 0;
    std::string why = postern::lmdb::check_data_fd(fd, &txnid);
    ::close(fd);
    if (why.find('\n') != std::string::npos) __builtin_trap();
    return 0;
}
