// COPY on Maildir when the kernel refuses the hard link (fs.protected_hardlinks with a file
// the daemon user does not own, EXDEV, EMLINK): the bytes are copied instead, with the same
// date, flags and content, durable and all-or-nothing. The refusal is injected through
// set_maildir_link_fn_for_test (a root test process is never refused a link).

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "libmailstore/maildir_link.h"
#include "libmailstore/store.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

const std::string bob = "bob@example.com";

struct Fixture {
    test::TempDir dir;
    std::unique_ptr<MailStore> store;
    Fixture() {
        test::accounts_with_users(dir.path(), {bob});
        StoreOptions o;
        o.disk_reserve_bytes = 0;
        o.index_map_size = 32ull << 20;
        auto s = open_maildir_store(dir.path(), o);
        REQUIRE(s);
        store = std::move(*s);
        REQUIRE(store->create_folder(bob, "Archive"));
    }
    fs::path folder_dir(const std::string& folder) const {
        fs::path md = dir.path() / "example.com" / "bob" / "Maildir";
        return folder == "INBOX" ? md : md / ("." + folder);
    }
    uint32_t deliver(const std::string& body, const DeliveryOptions& o) {
        auto d = store->deliver(bob, MessageSource::from_bytes(body), o);
        REQUIRE(d);
        return d->uid;
    }
    std::unique_ptr<Mailbox> mailbox(const std::string& folder = "INBOX") {
        auto mb = store->open_mailbox(bob, folder);
        REQUIRE(mb);
        return std::move(*mb);
    }
};

std::vector<fs::path> files_in(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
    return out;
}

// The seams: which errno each link call fails with, in order (0: do the real link).
std::vector<int> g_link_errors;
size_t g_link_calls = 0;
int scripted_link(const char* from, const char* to) {
    size_t i = g_link_calls++;
    int err = i < g_link_errors.size() ? g_link_errors[i] : g_link_errors.back();
    if (err == 0) return ::link(from, to);
    errno = err;
    return -1;
}

struct ScriptedLink {
    explicit ScriptedLink(std::vector<int> errors) {
        g_link_errors = std::move(errors);
        g_link_calls = 0;
        set_maildir_link_fn_for_test(&scripted_link);
    }
    ~ScriptedLink() { set_maildir_link_fn_for_test(nullptr); }
};

}  // namespace

TEST_CASE("COPY copies the bytes when the link is refused (EPERM, EXDEV, EMLINK)",
          "[store][maildir][copy]") {
    const int err = GENERATE(EPERM, EXDEV, EMLINK);
    Fixture f;
    DeliveryOptions o;
    o.flags = flag_seen | flag_flagged;
    o.keywords = {"Work"};
    o.internal_date = 1500000000;
    const std::string a = test::make_message("fallback", 1, 2000);
    const std::string b = test::make_message("fallback", 2);
    const uint32_t ua = f.deliver(a, o);
    o.flags = 0;
    o.keywords = {};
    o.internal_date = 1400000000;
    const uint32_t ub = f.deliver(b, o);
    auto mb = f.mailbox();

    ScriptedLink refuse({err});
    auto map = mb->copy_to(std::vector<uint32_t>{ua, ub}, "Archive");
    REQUIRE(map);
    CHECK(g_link_calls == 2);
    REQUIRE(map->to.size() == 2);

    // Own files (not links of the originals), with the same bytes, date and flags.
    auto dst = f.mailbox("Archive");
    REQUIRE(dst->messages().size() == 2);
    auto ra = dst->read_message(map->to[0]);
    auto rb = dst->read_message(map->to[1]);
    REQUIRE(ra);
    REQUIRE(rb);
    CHECK(*ra == a);
    CHECK(*rb == b);
    auto infos = dst->info(map->to);
    REQUIRE(infos);
    REQUIRE(infos->size() == 2);
    CHECK((*infos)[0].internal_date == 1500000000);
    CHECK((*infos)[1].internal_date == 1400000000);
    CHECK((*infos)[0].size == a.size());
    CHECK(dst->messages()[0].flags == (flag_seen | flag_flagged));
    CHECK(dst->keywords_of(dst->messages()[0]) == std::vector<std::string>{"Work"});
    for (const fs::path& p : files_in(f.folder_dir("Archive") / "cur")) {
        struct stat st {};
        REQUIRE(::stat(p.c_str(), &st) == 0);
        CHECK(st.st_nlink == 1);
    }
    for (const fs::path& p : files_in(f.folder_dir("INBOX") / "cur")) {
        struct stat st {};
        REQUIRE(::stat(p.c_str(), &st) == 0);
        CHECK(st.st_nlink == 1);
    }
    CHECK(files_in(f.folder_dir("Archive") / "tmp").empty());  // nothing left behind
    // A rebuild from the files finds the copies as the index has them.
    REQUIRE(f.store->rebuild_index(bob));
    auto again = f.mailbox("Archive");
    CHECK(again->messages().size() == 2);
}

TEST_CASE("COPY with the link fallback stays all-or-nothing", "[store][maildir][copy]") {
    Fixture f;
    DeliveryOptions o;
    const uint32_t ua = f.deliver(test::make_message("aon", 1), o);
    const uint32_t ub = f.deliver(test::make_message("aon", 2), o);
    auto mb = f.mailbox();
    const size_t inbox_files = files_in(f.folder_dir("INBOX") / "cur").size();

    SECTION("another link error is not papered over") {
        // The first message is copied (EPERM), the second's link fails with EACCES.
        ScriptedLink script({EPERM, EACCES});
        auto map = mb->copy_to(std::vector<uint32_t>{ua, ub}, "Archive");
        REQUIRE_FALSE(map);
        CHECK(g_link_calls == 2);
    }
    SECTION("the copy itself fails") {
        // tmp/ is not a directory: the fallback cannot write; the first copy (a real link)
        // is taken back.
        fs::path tmp = f.folder_dir("Archive") / "tmp";
        fs::remove_all(tmp);
        { std::ofstream(tmp.string()) << "x"; }
        ScriptedLink script({0, EPERM});
        auto map = mb->copy_to(std::vector<uint32_t>{ua, ub}, "Archive");
        REQUIRE_FALSE(map);
    }
    CHECK(files_in(f.folder_dir("Archive") / "cur").empty());
    CHECK(f.mailbox("Archive")->messages().empty());
    CHECK(files_in(f.folder_dir("INBOX") / "cur").size() == inbox_files);
    CHECK(mb->messages().size() == 2);
}
