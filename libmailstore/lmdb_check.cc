// Reading LMDB 0.9's on-disk format (mdb.c) just far enough to know whether the file holds
// every page the newest snapshot uses. Layout on a 64-bit little-endian build, where pgno_t
// and txnid_t are size_t:
//   page:  mp_pgno u64 | mp_pad u16 | mp_flags u16 | mp_lower u16 | mp_upper u16 (or, for an
//          overflow page, mp_pages u32) | mp_ptrs u16[] (node offsets from the page start)
//   meta (after the page header): mm_magic u32 | mm_version u32 | mm_address | mm_mapsize |
//          mm_dbs[2] (MDB_db, 48 bytes each; FREE_DBI's md_pad is the page size) |
//          mm_last_pg | mm_txnid
//   MDB_db: md_pad u32 | md_flags u16 | md_depth u16 | branch, leaf, overflow pages |
//          entries | md_root (all u64)
//   node:  mn_lo u16 | mn_hi u16 | mn_flags u16 | mn_ksize u16 | key | data. A branch node's
//          child is lo | hi << 16 | flags << 32; a leaf's data is an overflow page number
//          (F_BIGDATA), a sub-database's MDB_db (F_SUBDATA), or the value itself.
#include "libmailstore/lmdb_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <vector>

#include "libmailstore/unique_fd.h"

namespace postern::lmdb {
namespace {

static_assert(sizeof(size_t) == 8 && std::endian::native == std::endian::little,
              "the LMDB layout below is the 64-bit little-endian one");

constexpr uint32_t mdb_magic = 0xBEEFC0DE;
constexpr uint32_t mdb_data_version = 1;
constexpr uint64_t p_invalid = ~uint64_t(0);
constexpr uint16_t p_branch = 0x01, p_leaf = 0x02, p_overflow = 0x04, p_meta = 0x08, p_leaf2 = 0x20;
constexpr uint16_t f_bigdata = 0x01, f_subdata = 0x02;
constexpr size_t page_header = 16;
constexpr size_t node_header = 8;
constexpr size_t db_root = 40;  // md_root within MDB_db
constexpr size_t meta_bytes = page_header + 136;
constexpr int max_depth = 40;

template <class T>
T load(const unsigned char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

struct Meta {
    uint32_t psize = 0;
    uint64_t last_pg = 0;
    uint64_t txnid = 0;
    uint64_t roots[2] = {p_invalid, p_invalid};  // FREE_DBI, MAIN_DBI
};

// The meta page at off; "" when it is one, else why not.
std::string read_meta(int fd, off_t off, Meta& m) {
    unsigned char b[meta_bytes];
    ssize_t n = ::pread(fd, b, sizeof b, off);
    if (n < 0) return std::string("cannot read: ") + std::strerror(errno);
    if (size_t(n) < sizeof b) return "truncated (no room for its meta pages)";
    const unsigned char* mm = b + page_header;
    if (!(load<uint16_t>(b + 10) & p_meta) || load<uint32_t>(mm) != mdb_magic)
        return "not an LMDB database (no meta page at offset " + std::to_string(off) + ")";
    if (uint32_t v = load<uint32_t>(mm + 4); v != mdb_data_version)
        return "LMDB data format " + std::to_string(v) + ", want " +
               std::to_string(mdb_data_version);
    m.psize = load<uint32_t>(mm + 24);
    m.roots[0] = load<uint64_t>(mm + 24 + db_root);
    m.roots[1] = load<uint64_t>(mm + 24 + 48 + db_root);
    m.last_pg = load<uint64_t>(mm + 120);
    m.txnid = load<uint64_t>(mm + 128);
    if (m.psize < 512 || m.psize > 65536 || (m.psize & (m.psize - 1)) != 0)
        return "bad page size " + std::to_string(m.psize) + " in a meta page";
    if (m.last_pg < 1 || m.last_pg > (uint64_t(1) << 40))
        return "bad last page " + std::to_string(m.last_pg) + " in a meta page";
    return "";
}

// The newer of the two meta pages (LMDB uses it), checked against the first one's page size.
std::string read_metas(int fd, Meta& newer) {
    Meta m0, m1;
    if (auto e = read_meta(fd, 0, m0); !e.empty()) return e;
    if (auto e = read_meta(fd, off_t(m0.psize), m1); !e.empty()) return e;
    if (m1.psize != m0.psize) return "the meta pages disagree on the page size";
    newer = m1.txnid > m0.txnid ? m1 : m0;
    return "";
}

// Visits every page reachable from a root, failing on the first one past the end.
class Walker {
public:
    Walker(int fd, uint32_t psize, uint64_t pages) : fd_(fd), psize_(psize), pages_(pages) {}
    const std::string& error() const { return err_; }

    bool tree(uint64_t pgno, int depth) {
        if (pgno == p_invalid) return true;  // an empty database
        if (depth > max_depth) return fail("B-tree deeper than " + std::to_string(max_depth));
        std::vector<unsigned char> p(psize_);
        if (!read(pgno, 1, p.data())) return false;
        uint16_t flags = load<uint16_t>(p.data() + 10);
        if (flags & p_leaf2) return true;  // fixed-size values only, no references
        if (!(flags & (p_branch | p_leaf)))
            return fail("page " + std::to_string(pgno) + " is not a B-tree page");
        uint16_t lower = load<uint16_t>(p.data() + 12), upper = load<uint16_t>(p.data() + 14);
        if (lower < page_header || lower > upper || upper > psize_)
            return fail("page " + std::to_string(pgno) + " has a bad header");
        for (size_t i = 0; i < size_t(lower - page_header) / 2; ++i) {
            size_t off = load<uint16_t>(p.data() + page_header + 2 * i);
            if (off + node_header > psize_) return bad_node(pgno);
            const unsigned char* node = p.data() + off;
            uint64_t lo = load<uint16_t>(node), hi = load<uint16_t>(node + 2);
            uint16_t nflags = load<uint16_t>(node + 4);
            size_t data = off + node_header + load<uint16_t>(node + 6);
            if (flags & p_branch) {
                if (!tree(lo | hi << 16 | uint64_t(nflags) << 32, depth + 1)) return false;
            } else if (nflags & f_bigdata) {
                if (data + 8 > psize_) return bad_node(pgno);
                if (!overflow(load<uint64_t>(p.data() + data))) return false;
            } else if (nflags & f_subdata) {
                if (data + 48 > psize_) return bad_node(pgno);
                if (!tree(load<uint64_t>(p.data() + data + db_root), depth + 1)) return false;
            }
        }
        return true;
    }

private:
    bool fail(std::string why) {
        err_ = std::move(why);
        return false;
    }
    bool bad_node(uint64_t pgno) {
        return fail("page " + std::to_string(pgno) + " has a bad node");
    }

    bool read(uint64_t pgno, uint64_t count, unsigned char* out) {
        if (pgno >= pages_ || count > pages_ - pgno)
            return fail("truncated: page " + std::to_string(pgno + count - 1) +
                        " is in use but the file has " + std::to_string(pages_) + " pages");
        visited_ += count;
        if (visited_ > pages_) return fail("B-tree pages are referenced more than once");
        if (out == nullptr) return true;
        ssize_t n = ::pread(fd_, out, psize_, off_t(pgno * psize_));
        if (n != ssize_t(psize_)) return fail("cannot read page " + std::to_string(pgno));
        if (load<uint64_t>(out) != pgno)
            return fail("page " + std::to_string(pgno) + " carries the number " +
                        std::to_string(load<uint64_t>(out)));
        return true;
    }

    bool overflow(uint64_t pgno) {
        std::vector<unsigned char> p(psize_);
        if (!read(pgno, 1, p.data())) return false;
        if (!(load<uint16_t>(p.data() + 10) & p_overflow))
            return fail("page " + std::to_string(pgno) + " is not an overflow page");
        uint32_t count = load<uint32_t>(p.data() + 12);
        if (count == 0) return fail("page " + std::to_string(pgno) + " has a bad header");
        return count == 1 || read(pgno + 1, count - 1, nullptr);
    }

    int fd_;
    uint32_t psize_;
    uint64_t pages_;
    uint64_t visited_ = 0;
    std::string err_;
};

// "" when the file holds every page in use, else why not (see the header).
std::string check_open_file(int fd, uint64_t* txnid) {
    for (int attempt = 0; attempt < 3; ++attempt) {
        struct stat st {};
        if (::fstat(fd, &st) != 0) return std::string("cannot stat: ") + std::strerror(errno);
        uint64_t size = uint64_t(st.st_size);
        Meta m;
        if (auto e = read_metas(fd, m); !e.empty()) return e;
        if (txnid) *txnid = m.txnid;
        if ((m.last_pg + 1) * m.psize <= size) return "";
        if (size % m.psize != 0)
            return "truncated (" + std::to_string(size) + " bytes, not a whole number of pages)";
        Walker w(fd, m.psize, size / m.psize);
        bool whole = w.tree(m.roots[0], 0) && w.tree(m.roots[1], 0);
        // A commit during the walk may have reused pages it read: only a walk of a snapshot
        // that stayed the newest throughout counts.
        Meta after;
        if (auto e = read_metas(fd, after); !e.empty()) return e;
        if (after.txnid != m.txnid) continue;
        if (whole) return "";
        return w.error();
    }
    return "";  // too busy to tell; LMDB's own checks still apply
}

}  // namespace

FileCheck check_data_file(const std::filesystem::path& dir) {
    FileCheck c;
    const auto file = dir / "data.mdb";
    auto bad = [&](FileCheck::State s, const std::string& why) {
        c.state = s;
        c.why = file.string() + ": " + why;
        return c;
    };
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return bad(FileCheck::missing, "missing");
        if (errno == ELOOP) return bad(FileCheck::damaged, "is a symbolic link");
        return bad(FileCheck::unreadable, std::string("cannot open: ") + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return bad(FileCheck::unreadable, std::string("cannot stat: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return bad(FileCheck::damaged, "not a regular file");
    c.size = uint64_t(st.st_size);
    if (c.size == 0) return bad(FileCheck::empty, "empty (0 bytes)");
    if (auto e = check_open_file(fd.get(), nullptr); !e.empty()) return bad(FileCheck::damaged, e);
    return c;
}

std::string check_data_fd(int fd, uint64_t* txnid) { return check_open_file(fd, txnid); }

}  // namespace postern::lmdb
