#pragma once
// The state behind MemoryStore (memory_store.h), shared by the store (memory_store.cc), its
// Mailbox handles (memory_mailbox.cc), locks and watches: users -> folders -> messages, each
// folder with its change log, all under one mutex. Internal to tests/support.

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "libmailstore/address.h"
#include "libmailstore/flag_change.h"
#include "libmailstore/store.h"

namespace postern {
namespace memstore {

enum class Kind : uint8_t { added, flags, expunged };

struct LogEntry {
    Kind kind = Kind::flags;
    std::vector<uint32_t> uids;
};

struct Msg {
    std::shared_ptr<const std::string> bytes;  // shared by deliver_many and copies
    uint8_t flags = 0;
    std::vector<std::string> keywords;
    int64_t internal_date = 0;
    uint64_t modseq = 0;
    std::optional<std::pair<uint32_t, std::string>> cache;  // version, data
};

struct Folder {
    uint32_t id = 0;  // unique in the store: a re-created folder is another one
    uint32_t uidvalidity = 0;
    uint32_t uidnext = 1;
    uint64_t highestmodseq = 1;
    uint64_t log_floor = 0;  // the log is complete above this modseq
    uint8_t special_use = 0;
    std::map<uint32_t, Msg> msgs;
    std::map<uint64_t, LogEntry> log;

    // The entry at a message's old modseq says nothing once the message changes again.
    void forget(uint64_t modseq, uint32_t uid) {
        auto it = log.find(modseq);
        if (it != log.end() && it->second.kind != Kind::expunged && it->second.uids.size() == 1 &&
            it->second.uids[0] == uid)
            log.erase(it);
    }
    uint64_t bytes() const {
        uint64_t n = 0;
        for (const auto& [uid, m] : msgs) n += m.bytes->size();
        return n;
    }
};

struct User {
    std::map<std::string, Folder> folders;  // canonical name -> folder
    std::set<std::string> subscriptions;
};

struct WatchState {
    std::mutex mu;  // held while the callback runs
    bool alive = true;
    std::string user, folder;
    std::function<void()> on_change;
};
using Fired = std::vector<std::shared_ptr<WatchState>>;

// Folder names of a map, "INBOX" first, then in name order.
template <class Names, class F>
void inbox_first(const Names& names, F&& f) {
    for (const auto& n : names)
        if (n == "INBOX") f(n);
    for (const auto& n : names)
        if (n != "INBOX") f(n);
}

inline void fire(const Fired& fired) {
    for (const auto& w : fired) {
        std::lock_guard lock(w->mu);
        if (w->alive) w->on_change();
    }
}

}  // namespace memstore

struct MemoryCore {
    using Folder = memstore::Folder;
    using User = memstore::User;
    using Fired = memstore::Fired;
    using Kind = memstore::Kind;
    using LogEntry = memstore::LogEntry;
    using Msg = memstore::Msg;

    mutable std::mutex mu;
    StoreOptions opts;
    uint64_t capacity = UINT64_MAX;
    uint64_t stored = 0;  // octets of every user's messages
    std::map<std::string, User> users;
    std::map<std::string, User> retired;  // removed users' mail by where it was "kept"
    uint64_t next_retired = 1;
    std::set<std::string> locked;
    std::vector<std::shared_ptr<memstore::WatchState>> watches;
    uint32_t next_folder_id = 1;
    uint32_t next_uidvalidity = 1000;
    uint32_t staged_alive = 0;  // StagedMessages not yet destroyed (memory_staged.cc)

    struct Fault {
        std::string op;  // empty: any
        StoreError error;
        int count;
    };
    std::vector<Fault> faults;
    std::chrono::milliseconds delay{0};
    std::map<std::string, int, std::less<>> calls;

    // Every operation starts here: the delay, the call count, then an injected fault.
    std::optional<StoreError> enter(std::string_view op) {
        std::chrono::milliseconds d;
        {
            std::lock_guard lock(mu);
            ++calls[std::string(op)];
            d = delay;
        }
        if (d.count() > 0) std::this_thread::sleep_for(d);
        std::lock_guard lock(mu);
        for (auto it = faults.begin(); it != faults.end(); ++it) {
            if (!it->op.empty() && it->op != op) continue;
            StoreError e = it->error;
            if (--it->count <= 0) faults.erase(it);
            return e;
        }
        return std::nullopt;
    }

    uint64_t free() const { return capacity > stored ? capacity - stored : 0; }
    uint64_t quota_of(const std::string& user) const {
        return opts.quota_of ? opts.quota_of(user) : 0;
    }

    // The user (canonical name in *canon): invalid for a malformed name, not_found.
    StoreResult<User*> user(std::string_view name, std::string* canon = nullptr) {
        auto c = normalize_address(name);
        if (!c) return std::unexpected(c.error());
        auto it = users.find(*c);
        if (it == users.end()) return std::unexpected(StoreError::not_found);
        if (canon) *canon = *c;
        return &it->second;
    }

    StoreResult<Folder*> folder(std::string_view user_name, const std::string& folder,
                                std::string* canon = nullptr) {
        auto u = user(user_name, canon);
        if (!u) return std::unexpected(u.error());
        auto it = (*u)->folders.find(folder);
        if (it == (*u)->folders.end()) return std::unexpected(StoreError::not_found);
        return &it->second;
    }

    Folder new_folder() {
        Folder f;
        f.id = next_folder_id++;
        f.uidvalidity = next_uidvalidity++;
        return f;
    }

    uint64_t usage_of(const User& u) const {
        uint64_t n = 0;
        for (const auto& [name, f] : u.folders) n += f.bytes();
        return n;
    }

    // The watches of user/folder (folder empty: all of the user's) to run once unlocked.
    void touched(const std::string& user, const std::string& folder, Fired& out) const {
        for (const auto& w : watches) {
            if (w->user != user || (!folder.empty() && w->folder != folder)) continue;
            if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
        }
    }

    // Adds a message (quota and capacity checked) as a delivery does.
    StoreResult<Delivered> add(const std::string& user, const std::string& folder_name,
                               std::shared_ptr<const std::string> bytes, const DeliveryOptions& o,
                               uint64_t quota, int64_t now, Fired& fired) {
        auto u = user_ref(user);
        if (!u) return std::unexpected(StoreError::not_found);
        auto it = u->folders.find(folder_name);
        if (it == u->folders.end()) return std::unexpected(StoreError::not_found);
        Folder& f = it->second;
        if (quota > 0 && usage_of(*u) + bytes->size() > quota)
            return std::unexpected(StoreError::over_quota);
        if (free() < bytes->size()) return std::unexpected(StoreError::no_space);
        if (f.uidnext == UINT32_MAX) return std::unexpected(StoreError::corrupt);
        uint32_t uid = f.uidnext++;
        Msg m;
        m.flags = o.flags & all_flags;
        add_keywords(m.keywords, o.keywords);
        m.internal_date = o.internal_date != 0 ? o.internal_date : now;
        m.modseq = ++f.highestmodseq;
        stored += bytes->size();
        m.bytes = std::move(bytes);
        f.log[m.modseq] = LogEntry{Kind::added, {uid}};
        f.msgs.emplace(uid, std::move(m));
        touched(user, folder_name, fired);
        return Delivered{f.uidvalidity, uid};
    }

    User* user_ref(const std::string& canon) {
        auto it = users.find(canon);
        return it == users.end() ? nullptr : &it->second;
    }

    // Removes the messages that are there (one modseq, one tombstone); their uids, sorted.
    std::vector<uint32_t> remove(Folder& f, std::span<const uint32_t> uids) {
        std::vector<uint32_t> gone;
        for (uint32_t uid : uids) {
            auto it = f.msgs.find(uid);
            if (it == f.msgs.end()) continue;
            f.forget(it->second.modseq, uid);
            stored -= it->second.bytes->size();
            f.msgs.erase(it);
            gone.push_back(uid);
        }
        if (gone.empty()) return gone;
        std::sort(gone.begin(), gone.end());
        f.log[++f.highestmodseq] = LogEntry{Kind::expunged, gone};
        return gone;
    }
};

namespace memstore {

// Applies `op` under the lock and runs the watches it touched after releasing it.
template <class F>
auto locked(MemoryCore& c, F&& op) {
    Fired fired;
    auto result = [&] {
        std::lock_guard lock(c.mu);
        return op(fired);
    }();
    fire(fired);
    return result;
}

// A handle on user/folder with its first snapshot (takes the lock); not_found when missing.
StoreResult<std::unique_ptr<Mailbox>> open_mailbox(std::shared_ptr<MemoryCore> core,
                                                   std::string user, std::string folder);

}  // namespace memstore
}  // namespace postern
