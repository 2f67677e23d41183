// acquire_pid_file: never through a symlink, only a plain file of ours, and the descriptor
// it keeps (for the lock) cannot write.
#include "libproto/net/daemon.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/proto/net_test_util.h"

using nettest::TempDir;

namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("pid file: written, locked, and held read-only") {
    TempDir d;
    const auto path = (d.path / "testd.pid").string();
    auto fd = postern::acquire_pid_file(path);
    REQUIRE(fd.has_value());
    CHECK(slurp(path) == std::to_string(getpid()) + "\n");
    CHECK((fcntl(*fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0644);
    auto second = postern::acquire_pid_file(path);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error() == "already running (pid " + std::to_string(getpid()) + ")");
    close(*fd);
}

TEST_CASE("pid file: a symlink, a FIFO or a hard link is refused and left alone") {
    TempDir d;
    const auto path = d.path / "testd.pid";
    const auto victim = d.path / "victim";
    std::ofstream(victim) << "precious\n";

    SECTION("symlink") {
        std::filesystem::create_symlink(victim, path);
        auto fd = postern::acquire_pid_file(path.string());
        REQUIRE_FALSE(fd.has_value());
        CHECK(fd.error() == path.string() + ": is a symbolic link (not following it)");
    }
    SECTION("dangling symlink: nothing created at its target") {
        std::filesystem::create_symlink(d.path / "made-by-root", path);
        REQUIRE_FALSE(postern::acquire_pid_file(path.string()).has_value());
        CHECK_FALSE(std::filesystem::exists(d.path / "made-by-root"));
    }
    SECTION("hard link") {
        REQUIRE(link(victim.c_str(), path.c_str()) == 0);
        auto fd = postern::acquire_pid_file(path.string());
        REQUIRE_FALSE(fd.has_value());
        CHECK(fd.error() == path.string() + ": has 2 hard links (refusing to use it)");
    }
    SECTION("FIFO: refused at once, no reader or writer needed") {
        REQUIRE(mkfifo(path.c_str(), 0644) == 0);
        auto fd = postern::acquire_pid_file(path.string());
        REQUIRE_FALSE(fd.has_value());
        CHECK(fd.error() == path.string() + ": not a plain file (refusing to use it)");
    }
    CHECK(slurp(victim) == "precious\n");
}

TEST_CASE("pid file: one owned by another user is refused (as root)") {
    if (geteuid() != 0) return;  // only root can make a file someone else's
    TempDir d;
    const auto path = d.path / "testd.pid";
    std::ofstream(path) << "1\n";
    REQUIRE(chown(path.c_str(), 65534, 65534) == 0);
    auto fd = postern::acquire_pid_file(path.string());
    REQUIRE_FALSE(fd.has_value());
    CHECK(fd.error() == path.string() + ": owned by uid 65534, not by us (refusing to use it)");
    CHECK(slurp(path) == "1\n");
}
