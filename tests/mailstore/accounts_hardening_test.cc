// Issue 7 (hardening): retired maildirs never reach a new owner, failed adds leave nothing
// behind, mail domains must be real domains, alias loops are refused when they are made.
// Storage is the MailStore's (Accounts holds records only): these drive both as mailctl
// does, storage first (tests/e2e/test_accounts_hardening.py runs mailctl itself).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "libmailstore/accounts.h"
#include "libmailstore/address.h"
#include "libmailstore/store.h"
#include "tests/mailstore/raw_alias.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<MailStore> maildir_store(const fs::path& dir) {
    StoreOptions o;
    o.disk_reserve_bytes = 0;
    o.index_map_size = 32ull << 20;
    auto s = open_maildir_store(dir, o);
    REQUIRE(s);
    return std::move(*s);
}

struct Fixture {
    test::TempDir dir;
    std::shared_ptr<Accounts> acc;
    std::unique_ptr<MailStore> store;
    Fixture() {
        auto a = Accounts::open(dir.path(), 64ull << 20, Accounts::Open::create);
        REQUIRE(a);
        acc = *a;
        REQUIRE(acc->add_domain("example.com"));
        store = maildir_store(dir.path());
    }
    // mailctl user add: the storage, then the account (the storage goes if that fails).
    StoreResult<void> add_user(const std::string& addr) const {
        if (auto s = store->create_user(addr); !s) return s;
        auto r = acc->add_user(addr, "pw");
        if (!r) REQUIRE(store->discard_user(addr));
        return r;
    }
    // mailctl user del: the storage retired, then the account (the storage back if that fails).
    StoreResult<std::string> del_user(const std::string& addr) const {
        auto kept = store->remove_user(addr);
        if (!kept) return kept;
        if (auto r = acc->del_user(addr); !r) {
            REQUIRE(store->restore_user(addr, *kept));
            return std::unexpected(r.error());
        }
        return kept;
    }
    fs::path user_dir(const std::string& local) const { return dir.path() / "example.com" / local; }
    void plant_mail(const std::string& local, const std::string& name) const {
        std::ofstream(user_dir(local) / "Maildir" / "new" / name) << "Subject: private\r\n\r\n";
    }
};

std::set<std::string> retired_names(const fs::path& domain_dir) {
    std::set<std::string> out;
    for (auto& e : fs::directory_iterator(domain_dir))
        if (e.path().filename().string().starts_with(".deleted-"))
            out.insert(e.path().filename().string());
    return out;
}

}  // namespace

TEST_CASE("delete twice in a second, add again: the new owner gets an empty maildir",
          "[accounts][hardening]") {
    Fixture f;
    std::vector<fs::path> kept;
    for (const char* mail : {"first-owner-mail", "second-owner-mail"}) {
        REQUIRE(f.add_user("bob@example.com"));
        f.plant_mail("bob", mail);
        auto r = f.del_user("bob@example.com");
        REQUIRE(r);
        fs::path moved_to(*r);
        CHECK(moved_to.parent_path() == f.dir.path() / "example.com");
        CHECK(moved_to.filename().string().starts_with(".deleted-bob-"));
        CHECK(fs::exists(moved_to / "Maildir" / "new" / mail));
        kept.push_back(moved_to);
    }
    INFO("got " << kept[0] << " and " << kept[1] << ", want two names");
    CHECK(kept[0] != kept[1]);
    CHECK(retired_names(f.dir.path() / "example.com").size() == 2);

    REQUIRE(f.add_user("bob@example.com"));
    CHECK(test::count_files(f.user_dir("bob") / "Maildir" / "new") == 0);
    CHECK(test::count_files(f.user_dir("bob") / "Maildir" / "cur") == 0);
}

// Runs fn in a child process, as an unprivileged user when we are root (root ignores
// directory modes): the child opens its own store (an LMDB environment is not shared
// across fork). Returns fn's result, or -1 when the child did not exit normally.
template <class F>
int in_child_without_root(const fs::path& dir, F fn) {
    constexpr uid_t nobody = 65534;
    if (::geteuid() == 0) {
        for (auto& e : fs::recursive_directory_iterator(dir))
            REQUIRE(::lchown(e.path().c_str(), nobody, nobody) == 0);
        REQUIRE(::chown(dir.c_str(), nobody, nobody) == 0);
    }
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::geteuid() == 0 && (::setgid(nobody) != 0 || ::setuid(nobody) != 0)) ::_exit(100);
        ::_exit(fn());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_CASE("a failed move keeps the account and the maildir", "[accounts][hardening]") {
    Fixture f;
    REQUIRE(f.add_user("bob@example.com"));
    REQUIRE(f.add_user("carol@example.com"));
    f.plant_mail("bob", "keep-me");
    f.store.reset();
    const fs::path domain_dir = f.dir.path() / "example.com";
    REQUIRE(::chmod(domain_dir.c_str(), 0555) == 0);
    // The storage is retired first, so a move that fails stops user del before the account.
    int got = in_child_without_root(f.dir.path(), [&] {
        StoreOptions o;
        o.disk_reserve_bytes = 0;
        auto store = open_maildir_store(f.dir.path(), o);
        if (!store) return 10;
        auto r = (*store)->remove_user("bob@example.com");
        if (r || r.error() != StoreError::temporary) return 11;
        return 0;
    });
    REQUIRE(::chmod(domain_dir.c_str(), 0755) == 0);
    INFO("child exit " << got << " (10: open failed, 11: the move did not fail)");
    REQUIRE(got == 0);
    CHECK(f.acc->get_user("bob@example.com"));
    CHECK(f.acc->get_user("carol@example.com"));
    CHECK(f.acc->has_domain("example.com"));
    CHECK(fs::exists(f.user_dir("bob") / "Maildir" / "new" / "keep-me"));
    CHECK(retired_names(domain_dir).empty());
}

TEST_CASE("domain del --force moves every maildir aside under its own name",
          "[accounts][hardening]") {
    Fixture f;
    REQUIRE(f.add_user("bob@example.com"));
    REQUIRE(f.add_user("carol@example.com"));
    REQUIRE(f.acc->add_alias("team@example.com", {"bob@example.com"}));
    auto users = f.acc->list_users("example.com");
    REQUIRE(users);
    std::vector<std::string> kept;
    for (const auto& u : *users) {
        auto k = f.store->remove_user(u);
        REQUIRE(k);
        kept.push_back(*k);
    }
    auto r = f.acc->del_domain("example.com", true);
    REQUIRE(r);
    CHECK(*r == *users);  // what it deleted is what was retired
    CHECK(kept[0] != kept[1]);
    for (const auto& k : kept) CHECK(fs::is_directory(fs::path(k) / "Maildir"));
    CHECK_FALSE(fs::exists(f.user_dir("bob")));
    CHECK_FALSE(fs::exists(f.user_dir("carol")));
    // The domain comes back empty: nobody inherits the old users' mail.
    REQUIRE(f.acc->add_domain("example.com"));
    REQUIRE(f.add_user("bob@example.com"));
    CHECK(test::count_files(f.user_dir("bob") / "Maildir" / "new") == 0);
}

TEST_CASE("add_user refuses a directory left behind, accepts an empty one",
          "[accounts][hardening]") {
    Fixture f;
    SECTION("left-over mail") {
        fs::create_directories(f.user_dir("bob") / "Maildir" / "new");
        std::ofstream(f.user_dir("bob") / "Maildir" / "new" / "old") << "old mail";
        CHECK(f.add_user("bob@example.com").error() == StoreError::exists);
        CHECK(f.acc->get_user("bob@example.com").error() == StoreError::not_found);
        CHECK(fs::exists(f.user_dir("bob") / "Maildir" / "new" / "old"));  // untouched
    }
    SECTION("a symlink in its place") {
        fs::create_directories(f.dir.path() / "elsewhere");
        fs::create_directory_symlink(f.dir.path() / "elsewhere", f.user_dir("bob"));
        CHECK(f.add_user("bob@example.com").error() == StoreError::exists);
        CHECK(test::count_files(f.dir.path() / "elsewhere") == 0);
    }
    SECTION("an empty directory") {
        fs::create_directories(f.user_dir("bob"));
        REQUIRE(f.add_user("bob@example.com"));
        CHECK(fs::is_directory(f.user_dir("bob") / "Maildir" / "cur"));
    }
}

TEST_CASE("a failed add_user leaves no maildir behind", "[accounts][hardening]") {
    Fixture f;
    // An alias of that name makes the add fail after the directory checks.
    REQUIRE(f.acc->add_alias("info@example.com", {"x@remote.test"}));
    CHECK(f.add_user("info@example.com").error() == StoreError::exists);
    CHECK_FALSE(fs::exists(f.user_dir("info")));
    // A maildir that cannot be made (a file where the domain directory should be): the
    // store leaves nothing and the account is never tried.
    REQUIRE(f.acc->add_domain("example.org"));
    fs::remove(f.dir.path() / "example.org");
    std::ofstream(f.dir.path() / "example.org") << "not a directory";
    CHECK_FALSE(f.add_user("bob@example.org"));
    CHECK(f.acc->get_user("bob@example.org").error() == StoreError::not_found);
    CHECK(fs::is_regular_file(f.dir.path() / "example.org"));
}

TEST_CASE("mail domains: IP literals, single labels and localhost are refused",
          "[accounts][address][hardening]") {
    Fixture f;
    struct Case {
        const char* label;
        const char* domain;
        bool ok;
    };
    auto c = GENERATE(values<Case>({
        {"IPv4 literal", "1.2.3.4", false},
        {"numeric last label", "host.123", false},
        {"single label", "localhost", false},
        {"single label other", "example", false},
        {"under localhost", "mail.localhost", false},
        {"localhost.localdomain", "localhost.localdomain", false},
        {"trailing dot", "localhost.", false},
        {"bracketed literal", "[1.2.3.4]", false},
        {"punycode", "xn--bcher-kva.example", true},
        {"punycode label inside", "mail.xn--p1ai", true},
        {"digits in labels", "123.example.com", true},
        {"plain", "example.org", true},
    }));
    DYNAMIC_SECTION(c.label) {
        auto r = f.acc->add_domain(c.domain);
        INFO("domain " << c.domain);
        CHECK(r.has_value() == c.ok);
        if (!c.ok) {
            CHECK(r.error() == StoreError::invalid);
            CHECK_FALSE(fs::exists(f.dir.path() / c.domain));
        }
    }
}

TEST_CASE("mail_domain_problem says why", "[address][hardening]") {
    CHECK(std::string(mail_domain_problem("1.2.3.4")) == "an IP address is not a mail domain");
    CHECK(std::string(mail_domain_problem("localhost")) ==
          "a mail domain needs at least two labels");
    CHECK(std::string(mail_domain_problem("a.localhost")).find("loopback") != std::string::npos);
    CHECK(mail_domain_problem("example.com") == nullptr);
}

TEST_CASE("alias loops are refused when made, naming the loop", "[accounts][hardening]") {
    Fixture f;
    REQUIRE(f.add_user("bob@example.com"));
    REQUIRE(f.acc->add_alias("a@example.com", {"b@example.com"}));  // b unknown yet: fine
    std::vector<std::string> loop;

    SECTION("two aliases") {
        CHECK(f.acc->add_alias("b@example.com", {"bob@example.com", "a@example.com"}, &loop)
                  .error() == StoreError::loop);
        CHECK(loop == std::vector<std::string>{"b@example.com", "a@example.com", "b@example.com"});
        CHECK(f.acc->list_aliases()->size() == 1);  // not stored
    }
    SECTION("itself") {
        CHECK(f.acc->add_alias("self@example.com", {"Self@Example.com"}, &loop).error() ==
              StoreError::loop);
        CHECK(loop == std::vector<std::string>{"self@example.com", "self@example.com"});
    }
    SECTION("through the catch-all") {
        // b is unknown, so mail for it goes to the catch-all, which now leads back to a.
        CHECK(f.acc->add_alias("nobody@example.com", {"a@example.com"}, &loop).error() ==
              StoreError::loop);
        CHECK(loop.front() == loop.back());
        CHECK(std::find(loop.begin(), loop.end(), "a@example.com") != loop.end());
    }
    SECTION("made by the alias another one points at") {
        REQUIRE(f.acc->add_alias("c@example.com", {"a@example.com"}));
        CHECK(f.acc->add_alias("b@example.com", {"c@example.com"}, &loop).error() ==
              StoreError::loop);
        CHECK(loop == std::vector<std::string>{"b@example.com", "c@example.com", "a@example.com",
                                               "b@example.com"});
    }
    SECTION("no loop: shared targets and remote ones are fine") {
        REQUIRE(f.acc->add_alias("b@example.com", {"bob@example.com", "x@remote.test"}, &loop));
        REQUIRE(f.acc->add_alias("c@example.com", {"a@example.com", "b@example.com"}, &loop));
        CHECK(loop.empty());
        CHECK(f.acc->expand_recipient("c@example.com")->local_mailboxes ==
              std::vector<std::string>{"bob@example.com"});
    }
    SECTION("a loop already in the database is not blamed on an unrelated alias") {
        test::put_raw_alias(f.dir.path(), "old1", "example.com", {"old2@example.com"});
        test::put_raw_alias(f.dir.path(), "old2", "example.com", {"old1@example.com"});
        CHECK(f.acc->add_alias("fresh@example.com", {"bob@example.com"}, &loop));
    }
}

TEST_CASE("alias chains deeper than delivery follows are refused", "[accounts][hardening]") {
    Fixture f;
    REQUIRE(f.acc->add_user("end@example.com", "pw"));
    std::vector<std::string> loop;
    SECTION("built from the bottom") {
        std::string next = "end@example.com";
        int refused_at = -1;
        for (int i = 0; i < 12 && refused_at < 0; ++i) {
            std::string name = "a" + std::to_string(i) + "@example.com";
            if (!f.acc->add_alias(name, {next}, &loop)) refused_at = i;
            next = name;
        }
        CHECK(refused_at == 10);
        CHECK(loop.front() == "a10@example.com");
        CHECK(loop.front() != loop.back());
    }
    SECTION("built from the top: the link that makes it too deep is refused") {
        for (int i = 0; i < 10; ++i)
            REQUIRE(f.acc->add_alias("a" + std::to_string(i) + "@example.com",
                                     {"a" + std::to_string(i + 1) + "@example.com"}));
        CHECK(f.acc->add_alias("a10@example.com", {"end@example.com"}, &loop).error() ==
              StoreError::loop);
        CHECK(loop.front() == "a0@example.com");
        CHECK(loop.back() == "a10@example.com");
        // Ten aliases deep is what delivery follows.
        CHECK(f.acc->expand_recipient("a0@example.com").error() == StoreError::not_found);
    }
}
