#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ctl/pidfile.h"

using namespace postern::ctl;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/postern-ctl-test-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write_file(const fs::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::trunc);
    f << text;
}

pid_t a_dead_pid() {
    pid_t p = ::fork();
    if (p == 0) ::_exit(0);
    ::waitpid(p, nullptr, 0);
    return p;
}

}  // namespace

TEST_CASE("probe_pid_file") {
    TempDir dir;
    const auto file = dir.path / "smtpd.pid";

    SECTION("no file: stopped, not stale") {
        auto st = probe_pid_file(file);
        CHECK_FALSE(st.running);
        CHECK_FALSE(st.stale_file);
        CHECK(st.pid == 0);
    }
    SECTION("a live pid without the lock is stale") {
        write_file(file, std::to_string(::getpid()) + "\n");
        auto st = probe_pid_file(file);
        CHECK_FALSE(st.running);
        CHECK(st.stale_file);
        CHECK(remove_stale_pid_file(file));
        CHECK_FALSE(fs::exists(file));
    }
    SECTION("a dead pid is stale") {
        write_file(file, std::to_string(a_dead_pid()) + "\n");
        auto st = probe_pid_file(file);
        CHECK_FALSE(st.running);
        CHECK(st.stale_file);
    }
    SECTION("garbage is stale") {
        write_file(file, "hello\n");
        auto st = probe_pid_file(file);
        CHECK_FALSE(st.running);
        CHECK(st.stale_file);
        CHECK(st.pid == 0);
    }
    SECTION("a held flock means running, and is left alone") {
        write_file(file, std::to_string(::getpid()) + "\n");
        // flock locks belong to the open file description: our own probe (a second open)
        // conflicts with this one just as it would with a daemon's.
        int fd = ::open(file.c_str(), O_RDWR);
        REQUIRE(fd >= 0);
        REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
        auto st = probe_pid_file(file);
        CHECK(st.running);
        CHECK(st.pid == ::getpid());
        CHECK_FALSE(st.stale_file);
        CHECK_FALSE(remove_stale_pid_file(file));
        CHECK(fs::exists(file));
        // The probe did not steal or drop the lock.
        int other = ::open(file.c_str(), O_RDONLY);
        CHECK(::flock(other, LOCK_SH | LOCK_NB) != 0);
        ::close(other);
        ::close(fd);
        CHECK_FALSE(probe_pid_file(file).running);
    }
    SECTION("the lock holder is verified: a file naming another process is not") {
        int fd = ::open(file.c_str(), O_RDWR | O_CREAT, 0644);
        REQUIRE(fd >= 0);
        REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
        write_file(file, std::to_string(::getpid()) + "\n");
        CHECK(probe_pid_file(file).pid_verified);
        // What a compromised daemon could write: its lock, but someone else's pid (init's).
        write_file(file, "1\n");
        auto st = probe_pid_file(file);
        CHECK(st.running);
        CHECK(st.pid == 1);
        CHECK_FALSE(st.pid_verified);
        ::close(fd);
    }
    SECTION("a symlink or a FIFO is neither followed nor opened") {
        const auto victim = dir.path / "victim";
        write_file(victim, std::to_string(::getpid()) + "\n");
        fs::create_symlink(victim, file);
        auto st = probe_pid_file(file);
        CHECK_FALSE(st.running);
        CHECK(st.pid == 0);
        CHECK(st.problem == "is a symbolic link");
        CHECK_FALSE(remove_stale_pid_file(file));
        fs::remove(file);
        REQUIRE(::mkfifo(file.c_str(), 0644) == 0);
        st = probe_pid_file(file);  // returns at once: no writer needed
        CHECK_FALSE(st.running);
        CHECK(st.problem == "is not a plain file");
    }
}

// stop waits for the process itself, not only for its lock: a daemon gives the lock up
// a moment before it exits.
TEST_CASE("process_ended") {
    CHECK_FALSE(process_ended(::getpid()));
    CHECK(process_ended(a_dead_pid()));

    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t child = ::fork();
    if (child == 0) {
        ::close(ready[0]);
        ::close(ready[1]);  // tells the parent it runs
        ::pause();
        ::_exit(0);
    }
    ::close(ready[1]);
    char c;
    REQUIRE(::read(ready[0], &c, 1) == 0);
    ::close(ready[0]);
    CHECK_FALSE(process_ended(child));
    ::kill(child, SIGKILL);
    // Not yet reaped: a zombie has ended.
    for (int i = 0; i < 200 && !process_ended(child); ++i) ::usleep(10000);
    CHECK(process_ended(child));
    ::waitpid(child, nullptr, 0);
    CHECK(process_ended(child));
}
