#pragma once
// What the MailStore contract suites share (store_contract_*_test.cc): the two backends as
// fixtures (the Maildir++ + LMDB store, the in-memory one of tests/support/memory_store.h)
// and small helpers. Anything a protocol may rely on is asserted in those suites, so a third
// backend passes the same tests.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "libmailstore/accounts.h"
#include "libmailstore/store.h"
#include "tests/mailstore/test_util.h"
#include "tests/support/memory_store.h"

namespace contract {

using namespace postern;

inline const std::string bob = "bob@example.com";
inline const std::string alice = "alice@example.com";

inline StoreOptions options(std::atomic<uint64_t>& quota) {
    StoreOptions o;
    o.disk_reserve_bytes = 0;
    o.index_map_size = 32ull << 20;
    o.quota_of = [&quota](std::string_view) { return quota.load(); };
    return o;
}

// The Maildir store over a fresh data dir with accounts bob and alice and their storage.
struct Maildir {
    test::TempDir dir;
    std::atomic<uint64_t> quota{0};  // every user's quota (0: none)
    std::unique_ptr<MailStore> store;
    Maildir() {
        test::accounts_with_users(dir.path(), {bob, alice});
        auto s = open_maildir_store(dir.path(), options(quota));
        REQUIRE(s);
        store = std::move(*s);
    }
    // Makes the folder's change log forget its tombstones (a reindex starts it anew).
    void prune_log(const std::string& user, const std::string&) {
        REQUIRE(store->rebuild_index(user));
    }
    // Staged messages still kept somewhere (files in DATA/tmp).
    size_t staged_left() { return test::count_files(dir.path() / "tmp"); }
};

struct Memory {
    std::atomic<uint64_t> quota{0};
    std::unique_ptr<MailStore> store;
    MemoryStore* mem = nullptr;
    Memory() {
        auto m = std::make_unique<MemoryStore>(options(quota));
        m->set_capacity(1ull << 50);
        REQUIRE(m->create_user(bob));
        REQUIRE(m->create_user(alice));
        mem = m.get();
        store = std::move(m);
    }
    void prune_log(const std::string& user, const std::string& folder) {
        REQUIRE(mem->prune_log(user, folder));
    }
    size_t staged_left() { return mem->staged_alive(); }
};

// Message n's bytes; they stay (a MessageSource only points at them).
inline const std::string& msg(int n) {
    static std::map<int, std::string> made;
    auto [it, fresh] = made.try_emplace(n);
    if (fresh) it->second = test::make_message("contract", n);
    return it->second;
}

template <class F>
Delivered deliver(F& f, int n, const std::string& folder = "INBOX", const std::string& user = bob) {
    DeliveryOptions o;
    o.folder = folder;
    auto d = f.store->deliver(user, MessageSource::from_bytes(msg(n)), o);
    REQUIRE(d);
    return *d;
}

template <class F>
std::unique_ptr<Mailbox> open(F& f, const std::string& folder = "INBOX",
                              const std::string& user = bob) {
    auto mb = f.store->open_mailbox(user, folder);
    REQUIRE(mb);
    return std::move(*mb);
}

inline std::vector<uint32_t> uids_of(const Mailbox& mb) {
    std::vector<uint32_t> out;
    for (const auto& m : mb.messages()) out.push_back(m.uid);
    return out;
}

using Uids = std::vector<uint32_t>;
using Words = std::vector<std::string>;

// A reader that claims `claim` octets of `s` (shorter than that: a broken source).
struct StringReader final : MessageReader {
    std::string s;
    uint64_t claim;
    StringReader(std::string b, uint64_t c) : s(std::move(b)), claim(c) {}
    uint64_t size() const override { return claim; }
    StoreResult<size_t> read_at(uint64_t offset, std::span<char> buf) override {
        if (offset >= s.size()) return 0;
        size_t n = std::min<size_t>(buf.size(), s.size() - offset);
        std::memcpy(buf.data(), s.data() + offset, n);
        return n;
    }
};

// STATUS without a snapshot says what a fresh snapshot says.
template <class F>
void check_status(F& f, Mailbox& mb, const std::string& folder) {
    REQUIRE(mb.refresh());
    auto st = f.store->status(bob, folder);
    REQUIRE(st);
    uint32_t unseen = 0;
    for (const auto& m : mb.messages()) unseen += (m.flags & flag_seen) == 0;
    auto infos = mb.info(uids_of(mb));
    REQUIRE(infos);
    uint64_t size = 0;
    for (const auto& i : *infos) size += i.size;
    CHECK(st->messages == mb.messages().size());
    CHECK(st->unseen == unseen);
    CHECK(st->uidnext == mb.uidnext());
    CHECK(st->uidvalidity == mb.uidvalidity());
    CHECK(st->highestmodseq == mb.highestmodseq());
    CHECK(st->size == size);
}

// Waits (bounded) until `n` reaches `want`.
inline bool wait_for(const std::atomic<int>& n, int want, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (n.load() < want) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

}  // namespace contract
