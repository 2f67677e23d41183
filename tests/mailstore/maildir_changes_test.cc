// What the Maildir backend adds under the store contract and only it can show: the change
// log lives in the user's LMDB index (another process, a reopened store see it), a rebuild
// restarts it, an older index format is reindexed, the STATUS counters in the folder records
// follow every path that adds or removes a file (another MDA's too), and COPY/MOVE work by
// hard link.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "libmailstore/accounts.h"
#include "libmailstore/bytes.h"
#include "libmailstore/lmdb_env.h"
#include "libmailstore/mailbox_index.h"
#include "libmailstore/store.h"
#include "tests/mailstore/test_util.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

const std::string bob = "bob@example.com";

struct Fixture {
    test::TempDir dir;
    std::atomic<uint64_t> quota{0};  // bob's (0: none)
    std::unique_ptr<MailStore> store;
    Fixture() {
        test::accounts_with_users(dir.path(), {bob});
        store = open();
    }
    std::unique_ptr<MailStore> open() {
        StoreOptions o;
        o.disk_reserve_bytes = 0;
        o.index_map_size = 32ull << 20;
        o.quota_of = [this](std::string_view) { return quota.load(); };
        auto s = open_maildir_store(dir.path(), o);
        REQUIRE(s);
        return std::move(*s);
    }
    fs::path maildir() const { return dir.path() / "example.com" / "bob" / "Maildir"; }
    fs::path index_dir() const { return maildir().parent_path() / "index"; }
    fs::path folder_dir(const std::string& folder) const {
        return folder == "INBOX" ? maildir() : maildir() / ("." + folder);
    }
    uint32_t deliver(const std::string& body, const DeliveryOptions& o = {}) {
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

// The one file of `dir` whose name carries ",U=<uid>," (empty when none).
fs::path file_of(const fs::path& dir, uint32_t uid) {
    const std::string tag = ",U=" + std::to_string(uid) + ",";
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().find(tag) != std::string::npos) return e.path();
    return {};
}

// The system flag letters of a file name's ":2," info (keyword letters left out).
std::string flag_letters(const fs::path& p) {
    std::string name = p.filename().string(), out;
    auto at = name.find(":2,");
    if (at == std::string::npos) return out;
    for (char c : name.substr(at + 3))
        if (c >= 'A' && c <= 'Z') out.push_back(c);
    return out;
}

struct stat stat_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st;
}

// What a fresh snapshot of the folder says, as a FolderStatus.
FolderStatus snapshot_status(Mailbox& mb) {
    FolderStatus s;
    s.messages = uint32_t(mb.messages().size());
    for (const auto& e : mb.messages()) {
        if ((e.flags & flag_seen) == 0) ++s.unseen;
        auto info = mb.info(e.uid);
        REQUIRE(info);
        s.size += info->size;
    }
    s.uidnext = mb.uidnext();
    s.uidvalidity = mb.uidvalidity();
    s.highestmodseq = mb.highestmodseq();
    return s;
}

// status() before anyone opens the folder counts what a snapshot then shows (a snapshot
// opening may still give pending arrivals their modseq, so that one can only grow); status()
// after it equals the snapshot exactly.
void check_status(Fixture& f, const std::string& folder, const char* after) {
    INFO("after " << after << ", folder " << folder);
    auto before = f.store->status(bob, folder);
    REQUIRE(before);
    auto mb = f.mailbox(folder);
    FolderStatus snap = snapshot_status(*mb);
    auto st = f.store->status(bob, folder);
    REQUIRE(st);
    for (const FolderStatus* s : {&*before, &*st}) {
        CHECK(s->messages == snap.messages);
        CHECK(s->unseen == snap.unseen);
        CHECK(s->size == snap.size);
        CHECK(s->uidnext == snap.uidnext);
        CHECK(s->uidvalidity == snap.uidvalidity);
    }
    CHECK(before->highestmodseq <= snap.highestmodseq);
    CHECK(st->highestmodseq == snap.highestmodseq);
}

}  // namespace

TEST_CASE("the change log is in the index: another process and a reopened store see it",
          "[store][maildir][changes]") {
    Fixture f;
    for (int i = 0; i < 3; ++i) f.deliver(test::make_message("log", i));
    auto mb = f.mailbox();
    REQUIRE(mb->messages().size() == 3);
    const uint64_t m0 = mb->highestmodseq();

    // A child process with its own store (and its own LMDB environment) changes the folder.
    int go[2];
    REQUIRE(::pipe(go) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(go[1]);
        char c;
        if (::read(go[0], &c, 1) != 1) ::_exit(2);
        StoreOptions o;
        o.disk_reserve_bytes = 0;
        auto s = open_maildir_store(f.dir.path(), o);
        if (!s) ::_exit(3);
        for (int i = 3; i < 5; ++i)
            if (!(*s)->deliver(bob, MessageSource::from_bytes(test::make_message("log", i))))
                ::_exit(4);
        auto cm = (*s)->open_mailbox(bob, "INBOX");
        if (!cm) ::_exit(5);
        std::vector<uint32_t> one{1}, two{2};
        if (!(*cm)->store_flags(one, {FlagOp::add, flag_flagged, {"Child"}})) ::_exit(6);
        if (!(*cm)->expunge(two)) ::_exit(7);
        ::_exit(0);
    }
    ::close(go[0]);
    REQUIRE(::write(go[1], "g", 1) == 1);
    ::close(go[1]);
    int st = 0;
    REQUIRE(::waitpid(pid, &st, 0) == pid);
    REQUIRE((WIFEXITED(st) && WEXITSTATUS(st) == 0));

    const std::vector<uint32_t> none, changed{1, 4, 5}, vanished{2};
    auto delta = mb->refresh();
    REQUIRE(delta);
    CHECK(delta->expunged == vanished);
    CHECK(delta->added == std::vector<uint32_t>{4, 5});
    CHECK(delta->changed == std::vector<uint32_t>{1});
    CHECK(mb->keywords_of(*mb->find(1)) == std::vector<std::string>{"Child"});
    CHECK(mb->highestmodseq() > m0);
    auto ch = mb->changes_since(m0);
    REQUIRE(ch);
    CHECK(ch->changed == changed);
    CHECK(ch->vanished == vanished);
    CHECK(ch->vanished_complete);
    CHECK(ch->highestmodseq == mb->highestmodseq());
    const uint64_t m1 = mb->highestmodseq();

    // Every handle and store gone (the environment is closed), then a new store: the same
    // answers from the log on disk, and changes made here are seen by a second store.
    mb.reset();
    f.store.reset();
    f.store = f.open();
    auto again = f.mailbox();
    CHECK(again->highestmodseq() == m1);
    auto ch2 = again->changes_since(m0);
    REQUIRE(ch2);
    CHECK(ch2->changed == changed);
    CHECK(ch2->vanished == vanished);
    CHECK(ch2->vanished_complete);
    auto nothing = again->changes_since(m1);
    REQUIRE(nothing);
    CHECK(nothing->changed == none);
    CHECK(nothing->vanished == none);

    auto other = f.open();
    auto ob = other->open_mailbox(bob, "INBOX");
    REQUIRE(ob);
    std::vector<uint32_t> three{3}, four{4};
    REQUIRE((*ob)->store_flags(three, {FlagOp::add, flag_seen, {}}));
    REQUIRE((*ob)->expunge(four));
    auto d2 = again->refresh();
    REQUIRE(d2);
    CHECK(d2->expunged == four);
    CHECK(d2->changed == three);
    CHECK(d2->added == none);
    auto ch3 = again->changes_since(m1);
    REQUIRE(ch3);
    CHECK(ch3->changed == three);
    CHECK(ch3->vanished == four);
}

TEST_CASE(
    "after rebuild_index, changes since a modseq below it are every message, "
    "vanished incomplete",
    "[store][maildir][changes]") {
    Fixture f;
    for (int i = 0; i < 4; ++i) f.deliver(test::make_message("rb", i));
    auto mb = f.mailbox();
    std::vector<uint32_t> two{2}, three{3};
    REQUIRE(mb->store_flags(two, {FlagOp::add, flag_seen, {}}));
    REQUIRE(mb->expunge(three));
    const uint64_t before = mb->highestmodseq();
    const uint64_t early = before - 1;  // before the expunge
    // Another tool flags uid 1 by renaming its file: the reindex keeps the file's old
    // modseq, so only "everything changed" is a safe answer below the rebuild.
    const fs::path one = file_of(f.maildir() / "cur", 1);
    REQUIRE_FALSE(one.empty());
    REQUIRE(one.string().ends_with(":2,"));
    fs::rename(one, one.string() + "F");

    auto stats = f.store->rebuild_index(bob);
    REQUIRE(stats);
    CHECK(stats->messages == 3);
    const std::vector<uint32_t> all{1, 2, 4};
    for (uint64_t m : {early, before}) {
        INFO("changes_since " << m << " (rebuild after " << before << ")");
        auto ch = mb->changes_since(m);
        REQUIRE(ch);
        CHECK_FALSE(ch->vanished_complete);
        CHECK(ch->changed == all);
        CHECK(ch->highestmodseq > before);
    }
    // The log is whole again from the rebuild on.
    auto delta = mb->refresh();
    REQUIRE(delta);
    CHECK(delta->changed == std::vector<uint32_t>{1});
    CHECK(delta->added.empty());
    CHECK(delta->expunged.empty());
    CHECK(mb->find(1)->flags == flag_flagged);
    const uint64_t after = mb->highestmodseq();
    REQUIRE(mb->store_flags(std::vector<uint32_t>{4}, {FlagOp::add, flag_answered, {}}));
    REQUIRE(mb->expunge(std::vector<uint32_t>{1}));
    auto ch = mb->changes_since(after);
    REQUIRE(ch);
    CHECK(ch->vanished_complete);
    CHECK(ch->changed == std::vector<uint32_t>{4});
    CHECK(ch->vanished == std::vector<uint32_t>{1});
}

TEST_CASE("a folder record of version 1 is read as dirty and the folder reindexed",
          "[store][maildir][changes]") {
    Fixture f;
    const std::string a = test::make_message("v1", 1), b = test::make_message("v1", 2, 9);
    f.deliver(a);
    DeliveryOptions seen;
    seen.flags = flag_seen;
    f.deliver(b, seen);
    FolderStatus want;
    {
        auto mb = f.mailbox();
        want = snapshot_status(*mb);
    }
    REQUIRE(want.messages == 2);
    REQUIRE(want.unseen == 1);
    f.store.reset();

    // Rewrite INBOX's record as an older index wrote it: version 1, no counters, no log floor.
    {
        auto env = lmdb::Env::open(f.index_dir(), 32ull << 20,
                                   {"meta", "folders", "msgs", "pending", "changes", "cache"},
                                   MDB_NOMETASYNC, lmdb::OpenMode::existing);
        REQUIRE(env);
        auto txn = lmdb::Txn::begin(**env, true);
        REQUIRE(txn);
        auto old = txn->get((*env)->dbi(1), "INBOX");
        REQUIRE(old);
        REQUIRE(old->has_value());
        auto meta = decode_folder(**old);
        REQUIRE(meta);
        ByteWriter w;
        w.u8(1);
        w.u32(meta->id);
        w.u32(meta->uidvalidity);
        w.u32(meta->uidnext);
        w.u64(meta->highestmodseq);
        w.u8(0);  // not dirty, as far as version 1 knew
        const std::string v1 = w.take();
        REQUIRE(txn->put((*env)->dbi(1), "INBOX", v1));
        REQUIRE(txn->commit());
        auto back = decode_folder(v1);
        REQUIRE(back);
        CHECK(back->dirty);
        CHECK(back->messages == 0);
    }

    f.store = f.open();
    auto st = f.store->status(bob, "INBOX");
    REQUIRE(st);
    CHECK(st->messages == want.messages);
    CHECK(st->unseen == want.unseen);
    CHECK(st->size == want.size);
    CHECK(st->uidnext == want.uidnext);
    CHECK(st->uidvalidity == want.uidvalidity);
    CHECK(st->highestmodseq > want.highestmodseq);
    auto mb = f.mailbox();
    CHECK(snapshot_status(*mb).messages == 2);
    CHECK(*mb->read_message(1) == a);
    CHECK(*mb->read_message(2) == b);
    CHECK(mb->find(2)->flags == flag_seen);
    // The reindex started the log anew: below it nothing is known for sure.
    auto ch = mb->changes_since(want.highestmodseq);
    REQUIRE(ch);
    CHECK_FALSE(ch->vanished_complete);
    CHECK(*f.store->usage(bob) == a.size() + b.size());
}

TEST_CASE("status counters follow every change, another MDA's files in new/ too",
          "[store][maildir][changes]") {
    Fixture f;
    REQUIRE(f.store->create_folder(bob, "Archive"));
    check_status(f, "INBOX", "nothing");

    for (int i = 0; i < 3; ++i) f.deliver(test::make_message("st", i, size_t(i)));
    DeliveryOptions seen;
    seen.flags = flag_seen;
    f.deliver(test::make_message("st", 3), seen);
    check_status(f, "INBOX", "deliver");

    std::vector<DeliveryBatchItem> items(3);
    for (size_t i = 0; i < items.size(); ++i) {
        items[i].users = {bob};
        items[i].msg = MessageSource::from_bytes(i == 2 ? std::string_view("short\r\n")
                                                        : std::string_view("batch\r\n\r\nx\r\n"));
        if (i == 1) items[i].opts.flags = flag_seen | flag_flagged;
    }
    auto res = f.store->deliver_batch(items);
    for (const auto& r : res) REQUIRE(r.at(0));
    check_status(f, "INBOX", "deliver_batch");

    // Another delivery agent writes straight into new/ (bare LF: counted as CRLF).
    std::ofstream(f.maildir() / "new" / "1700000000.M1P1Q1.other", std::ios::binary)
        << "From: x\n\nforeign\n";
    std::ofstream(f.maildir() / "new" / "1700000001.M1P1Q2.other", std::ios::binary)
        << "From: y\r\n\r\nforeign 2\r\n";
    check_status(f, "INBOX", "foreign files in new/");

    auto mb = f.mailbox();
    REQUIRE(mb->messages().size() == 9);
    std::vector<uint32_t> some{1, 2, 5};
    REQUIRE(mb->store_flags(some, {FlagOp::add, flag_seen, {"Read"}}));
    check_status(f, "INBOX", "add \\Seen");
    std::vector<uint32_t> unseen{4, 5};
    REQUIRE(mb->store_flags(unseen, {FlagOp::remove, flag_seen, {}}));
    check_status(f, "INBOX", "remove \\Seen");

    REQUIRE(mb->expunge(std::vector<uint32_t>{2, 3}));
    check_status(f, "INBOX", "expunge");

    auto copied = mb->copy_to(std::vector<uint32_t>{1, 4, 8}, "Archive");
    REQUIRE(copied);
    CHECK(copied->to.size() == 3);
    check_status(f, "INBOX", "copy (source)");
    check_status(f, "Archive", "copy");

    auto moved = mb->move_to(std::vector<uint32_t>{5, 9}, "Archive");
    REQUIRE(moved);
    CHECK(moved->to.size() == 2);
    check_status(f, "INBOX", "move (source)");
    check_status(f, "Archive", "move");

    auto same = mb->copy_to(std::vector<uint32_t>{6}, "INBOX");
    REQUIRE(same);
    check_status(f, "INBOX", "copy into the same folder");

    REQUIRE(f.store->rebuild_index(bob));
    check_status(f, "INBOX", "rebuild");
    check_status(f, "Archive", "rebuild");
}

TEST_CASE("COPY hard-links the file, keeping date and flags; MOVE leaves no source file",
          "[store][maildir][copy]") {
    Fixture f;
    REQUIRE(f.store->create_folder(bob, "Archive"));
    DeliveryOptions o;
    o.flags = flag_seen | flag_flagged;
    o.keywords = {"Work"};
    o.internal_date = 1500000000;
    const std::string a = test::make_message("cp", 1), b = test::make_message("cp", 2);
    const uint32_t ua = f.deliver(a, o);
    o.flags = flag_answered;
    o.keywords = {};
    o.internal_date = 1400000000;
    const uint32_t ub = f.deliver(b, o);
    auto mb = f.mailbox();  // moves both into cur/
    const fs::path src_a = file_of(f.maildir() / "cur", ua);
    const fs::path src_b = file_of(f.maildir() / "cur", ub);
    REQUIRE_FALSE(src_a.empty());
    REQUIRE_FALSE(src_b.empty());
    const struct stat sa = stat_of(src_a), sb = stat_of(src_b);
    CHECK(sa.st_mtime == 1500000000);

    auto map = mb->copy_to(std::vector<uint32_t>{ua}, "Archive");
    REQUIRE(map);
    REQUIRE(map->to.size() == 1);
    const fs::path dst_a = file_of(f.folder_dir("Archive") / "cur", map->to[0]);
    REQUIRE_FALSE(dst_a.empty());
    const struct stat da = stat_of(dst_a);
    CHECK(da.st_ino == sa.st_ino);
    CHECK(da.st_dev == sa.st_dev);
    CHECK(da.st_nlink == 2);
    CHECK(da.st_mtime == 1500000000);
    CHECK(flag_letters(dst_a) == "FS");
    auto archive = f.mailbox("Archive");
    auto info = archive->info(map->to[0]);
    REQUIRE(info);
    CHECK(info->internal_date == 1500000000);
    CHECK(info->flags == (flag_seen | flag_flagged));
    CHECK(info->keywords == std::vector<std::string>{"Work"});
    CHECK(info->size == a.size());
    CHECK(*archive->read_message(map->to[0]) == a);
    // The source is untouched.
    CHECK(fs::exists(src_a));
    CHECK(mb->info(ua)->flags == (flag_seen | flag_flagged));

    auto moved = mb->move_to(std::vector<uint32_t>{ub}, "Archive");
    REQUIRE(moved);
    REQUIRE(moved->to.size() == 1);
    CHECK_FALSE(fs::exists(src_b));
    CHECK(file_of(f.maildir() / "cur", ub).empty());
    CHECK(file_of(f.maildir() / "new", ub).empty());
    CHECK(mb->find(ub) == nullptr);
    const fs::path dst_b = file_of(f.folder_dir("Archive") / "cur", moved->to[0]);
    REQUIRE_FALSE(dst_b.empty());
    const struct stat db = stat_of(dst_b);
    CHECK(db.st_ino == sb.st_ino);
    CHECK(db.st_nlink == 1);
    CHECK(db.st_mtime == 1400000000);
    CHECK(flag_letters(dst_b) == "R");
    REQUIRE(archive->refresh());
    auto binfo = archive->info(moved->to[0]);
    REQUIRE(binfo);
    CHECK(binfo->internal_date == 1400000000);
    CHECK(binfo->flags == flag_answered);
    CHECK(*archive->read_message(moved->to[0]) == b);
    CHECK(test::count_files(f.maildir() / "cur") == 1);
    CHECK(*f.store->usage(bob) == 2 * a.size() + b.size());

    // A rebuild finds the same dates again (from the files' mtime).
    fs::remove_all(f.index_dir());
    mb.reset();
    archive.reset();
    f.store.reset();
    f.store = f.open();
    auto rebuilt = f.mailbox("Archive");
    CHECK(rebuilt->info(map->to[0])->internal_date == 1500000000);
    CHECK(rebuilt->info(moved->to[0])->internal_date == 1400000000);
}

TEST_CASE("a COPY refused for quota leaves nothing in the destination", "[store][maildir][copy]") {
    Fixture f;
    REQUIRE(f.store->create_folder(bob, "Archive"));
    const std::string a = test::make_message("q", 1), b = test::make_message("q", 2);
    f.deliver(a);
    f.deliver(b);
    f.deliver(test::make_message("arch", 0), DeliveryOptions{"Archive", flag_seen, {"K"}, 0});
    auto mb = f.mailbox();
    auto archive = f.mailbox("Archive");
    const fs::path dcur = f.folder_dir("Archive") / "cur";
    const size_t files_before = test::count_files(dcur);
    auto st_before = f.store->status(bob, "Archive");
    REQUIRE(st_before);
    const uint64_t used = *f.store->usage(bob);
    // Room for one more message, not two: the copy is all or nothing.
    f.quota = used + a.size() + 1;

    auto r = mb->copy_to(std::vector<uint32_t>{1, 2}, "Archive");
    REQUIRE_FALSE(r);
    CHECK(r.error() == StoreError::over_quota);
    CHECK(test::count_files(dcur) == files_before);
    CHECK(test::count_files(f.folder_dir("Archive") / "new") == 0);
    CHECK(test::count_files(f.folder_dir("Archive") / "tmp") == 0);
    auto st_after = f.store->status(bob, "Archive");
    REQUIRE(st_after);
    CHECK(st_after->messages == st_before->messages);
    CHECK(st_after->uidnext == st_before->uidnext);
    CHECK(st_after->highestmodseq == st_before->highestmodseq);
    CHECK(*f.store->usage(bob) == used);
    // Each source file has one link again (the copies' links are gone).
    for (uint32_t uid : {1u, 2u}) {
        fs::path p = file_of(f.maildir() / "cur", uid);
        REQUIRE_FALSE(p.empty());
        CHECK(stat_of(p).st_nlink == 1);
    }
    auto delta = archive->refresh();
    REQUIRE(delta);
    CHECK(delta->empty());

    SECTION("a MOVE refused for quota keeps the source") {
        auto m = mb->move_to(std::vector<uint32_t>{1, 2}, "Archive");
        REQUIRE_FALSE(m);
        CHECK(m.error() == StoreError::over_quota);
        CHECK(test::count_files(dcur) == files_before);
        CHECK(mb->messages().size() == 2);
        CHECK(*mb->read_message(1) == a);
    }
    SECTION("the copy that fits goes through") {
        auto one = mb->copy_to(std::vector<uint32_t>{1}, "Archive");
        REQUIRE(one);
        CHECK(one->to == std::vector<uint32_t>{st_before->uidnext});
        CHECK(test::count_files(dcur) == files_before + 1);
    }
}
