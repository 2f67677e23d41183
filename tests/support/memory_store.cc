// MailStore in memory (memory_store.h): users -> folders -> messages under one mutex, with
// the change log and the per-handle snapshots of the Maildir backend, and fault injection.
#include "tests/support/memory_store.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "libmailstore/address.h"
#include "libmailstore/maildir_layout.h"  // canonical_folder: the folder-name rules of store.h
#include "libproto/core/ascii.h"

namespace postern {
namespace {

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

bool has_keyword(const std::vector<std::string>& ks, std::string_view k) {
    return std::any_of(ks.begin(), ks.end(), [&](const auto& x) { return iequals(x, k); });
}

void add_keywords(std::vector<std::string>& to, const std::vector<std::string>& ks) {
    for (const auto& k : ks)
        if (!k.empty() && !has_keyword(to, k)) to.push_back(k);
}

// As apply_flag_change does for the Maildir records; true when something changed.
bool apply_change(Msg& m, const FlagChange& ch) {
    uint8_t flags = m.flags;
    std::vector<std::string> kw = m.keywords;
    uint8_t f = ch.flags & all_flags;
    switch (ch.op) {
    case FlagOp::set:
        flags = f;
        kw.clear();
        add_keywords(kw, ch.keywords);
        break;
    case FlagOp::add:
        flags |= f;
        add_keywords(kw, ch.keywords);
        break;
    case FlagOp::remove:
        flags &= uint8_t(~f);
        std::erase_if(kw, [&](const std::string& k) { return has_keyword(ch.keywords, k); });
        break;
    }
    bool changed = flags != m.flags || kw != m.keywords;
    m.flags = flags;
    m.keywords = std::move(kw);
    return changed;
}

// Folder names of a map, "INBOX" first, then in name order.
template <class Names, class F>
void inbox_first(const Names& names, F&& f) {
    for (const auto& n : names)
        if (n == "INBOX") f(n);
    for (const auto& n : names)
        if (n != "INBOX") f(n);
}

void fire(const Fired& fired) {
    for (const auto& w : fired) {
        std::lock_guard lock(w->mu);
        if (w->alive) w->on_change();
    }
}

}  // namespace

struct MemoryCore {
    mutable std::mutex mu;
    StoreOptions opts;
    uint64_t capacity = UINT64_MAX;
    uint64_t stored = 0;  // octets of every user's messages
    std::map<std::string, User> users;
    std::vector<User> retired;  // removed users' mail, kept aside
    std::set<std::string> locked;
    std::vector<std::shared_ptr<WatchState>> watches;
    uint32_t next_folder_id = 1;
    uint32_t next_uidvalidity = 1000;

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
                               std::shared_ptr<const std::string> bytes,
                               const DeliveryOptions& o, uint64_t quota, int64_t now,
                               Fired& fired) {
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

namespace {

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

class MemoryReader final : public MessageReader {
public:
    MemoryReader(std::shared_ptr<MemoryCore> core, std::shared_ptr<const std::string> bytes)
        : core_(std::move(core)), bytes_(std::move(bytes)) {}
    uint64_t size() const override { return bytes_->size(); }
    StoreResult<size_t> read_at(uint64_t offset, std::span<char> buf) override {
        if (auto e = core_->enter("read")) return std::unexpected(*e);
        if (offset >= bytes_->size()) return 0;
        size_t n = size_t(std::min<uint64_t>(bytes_->size() - offset, buf.size()));
        std::memcpy(buf.data(), bytes_->data() + offset, n);
        return n;
    }

private:
    std::shared_ptr<MemoryCore> core_;
    std::shared_ptr<const std::string> bytes_;
};

class MemoryMailbox final : public Mailbox {
public:
    MemoryMailbox(std::shared_ptr<MemoryCore> core, std::string user, std::string folder)
        : core_(std::move(core)), user_(std::move(user)), folder_(std::move(folder)) {}

    const std::string& user() const override { return user_; }
    const std::string& folder() const override { return folder_; }
    uint32_t uidvalidity() const override { return uidvalidity_; }
    uint32_t uidnext() const override { return uidnext_; }
    uint64_t highestmodseq() const override { return highestmodseq_; }
    std::span<const MessageEntry> messages() const override { return msgs_; }
    const MessageEntry* find(uint32_t uid) const override {
        auto it = lower(uid);
        return it != msgs_.end() && it->uid == uid ? &*it : nullptr;
    }
    const std::vector<std::string>& keywords_of(const MessageEntry& m) const override {
        return kwsets_.at(m.keywords);
    }
    std::vector<std::string> folder_keywords() const override {
        std::vector<std::string> out;
        for (const auto& m : msgs_) add_keywords(out, kwsets_.at(m.keywords));
        return out;
    }

    using Mailbox::info;
    StoreResult<std::vector<MessageInfo>> info(std::span<const uint32_t> uids) override {
        if (auto e = core_->enter("info")) return std::unexpected(*e);
        std::lock_guard lock(core_->mu);
        std::vector<MessageInfo> out;
        Folder* f = live();
        if (f == nullptr) return out;  // gone: every message expunged meanwhile
        for (uint32_t uid : uids) {
            if (find(uid) == nullptr) continue;
            auto it = f->msgs.find(uid);
            if (it == f->msgs.end()) continue;
            const Msg& m = it->second;
            out.push_back(MessageInfo{uid, m.bytes->size(), m.flags, m.keywords, m.internal_date,
                                      m.modseq});
        }
        return out;
    }

    StoreResult<MailboxDelta> refresh() override {
        if (auto e = core_->enter("refresh")) return std::unexpected(*e);
        std::lock_guard lock(core_->mu);
        return load();
    }

    // The whole folder, compared with the old snapshot (under the lock).
    StoreResult<MailboxDelta> load() {
        auto fr = core_->folder(user_, folder_);
        if (!fr) return std::unexpected(fr.error());
        const Folder& f = **fr;
        std::vector<MessageEntry> old = std::move(msgs_);
        std::vector<std::vector<std::string>> old_sets = std::move(kwsets_);
        kwsets_.assign(1, {});
        kwset_ids_.clear();
        msgs_.clear();
        msgs_.reserve(f.msgs.size());
        for (const auto& [uid, m] : f.msgs) {
            auto kw = keyword_set(m.keywords);
            if (!kw) return std::unexpected(kw.error());
            msgs_.push_back(MessageEntry{uid, m.flags, 0, *kw});
        }
        MailboxDelta d;
        if (loaded_ && f.id == id_) {
            size_t i = 0, j = 0;
            while (i < old.size() || j < msgs_.size()) {
                if (j == msgs_.size() || (i < old.size() && old[i].uid < msgs_[j].uid)) {
                    d.expunged.push_back(old[i++].uid);
                } else if (i == old.size() || msgs_[j].uid < old[i].uid) {
                    d.added.push_back(msgs_[j++].uid);
                } else {
                    if (old[i].flags != msgs_[j].flags ||
                        old_sets.at(old[i].keywords) != keywords_of(msgs_[j]))
                        d.changed.push_back(msgs_[j].uid);
                    ++i;
                    ++j;
                }
            }
        } else if (loaded_) {  // another folder of that name now
            for (const auto& m : old) d.expunged.push_back(m.uid);
            for (const auto& m : msgs_) d.added.push_back(m.uid);
        }
        loaded_ = true;
        id_ = f.id;
        uidvalidity_ = f.uidvalidity;
        uidnext_ = f.uidnext;
        highestmodseq_ = f.highestmodseq;
        return d;
    }

    StoreResult<FolderChanges> changes_since(uint64_t modseq) override {
        if (auto e = core_->enter("changes_since")) return std::unexpected(*e);
        std::lock_guard lock(core_->mu);
        Folder* f = live();
        if (f == nullptr) return std::unexpected(StoreError::not_found);
        FolderChanges out;
        out.highestmodseq = f->highestmodseq;
        if (modseq < f->log_floor) {
            out.vanished_complete = false;
            for (const auto& [uid, m] : f->msgs)
                if (m.modseq > modseq) out.changed.push_back(uid);
            return out;
        }
        std::set<uint32_t> touched, gone;
        for (auto it = f->log.upper_bound(modseq); it != f->log.end(); ++it) {
            auto& to = it->second.kind == Kind::expunged ? gone : touched;
            to.insert(it->second.uids.begin(), it->second.uids.end());
        }
        out.vanished.assign(gone.begin(), gone.end());
        for (uint32_t uid : touched)
            if (!gone.count(uid)) out.changed.push_back(uid);
        return out;
    }

    StoreResult<std::unique_ptr<MessageReader>> open_message(uint32_t uid) override {
        if (auto e = core_->enter("open_message")) return std::unexpected(*e);
        if (find(uid) == nullptr) return std::unexpected(StoreError::not_found);
        std::lock_guard lock(core_->mu);
        Msg* m = live_msg(uid);
        if (m == nullptr) return std::unexpected(StoreError::expunged);
        return std::make_unique<MemoryReader>(core_, m->bytes);
    }

    StoreResult<std::vector<uint32_t>> store_flags(std::span<const uint32_t> uids,
                                                   const FlagChange& change,
                                                   uint64_t unchanged_since) override {
        if (auto e = core_->enter("store_flags")) return std::unexpected(*e);
        return locked(*core_, [&](Fired& fired) -> StoreResult<std::vector<uint32_t>> {
            Folder* f = live();
            if (f == nullptr) return std::unexpected(StoreError::not_found);
            std::vector<uint32_t> modified;
            bool any = false;
            for (uint32_t uid : uids) {
                auto it = f->msgs.find(uid);
                if (it == f->msgs.end()) continue;
                Msg& m = it->second;
                if (unchanged_since != 0 && m.modseq > unchanged_since) {
                    modified.push_back(uid);
                    continue;
                }
                if (!apply_change(m, change)) continue;
                f->forget(m.modseq, uid);
                m.modseq = ++f->highestmodseq;
                f->log[m.modseq] = LogEntry{Kind::flags, {uid}};
                any = true;
                auto s = std::lower_bound(msgs_.begin(), msgs_.end(), uid, by_uid);
                if (s == msgs_.end() || s->uid != uid) continue;
                auto kw = keyword_set(m.keywords);
                if (!kw) return std::unexpected(kw.error());
                s->flags = m.flags;
                s->keywords = *kw;
            }
            if (any) {
                highestmodseq_ = f->highestmodseq;
                core_->touched(user_, folder_, fired);
            }
            return modified;
        });
    }

    StoreResult<void> expunge(std::span<const uint32_t> uids) override {
        if (auto e = core_->enter("expunge")) return std::unexpected(*e);
        return locked(*core_, [&](Fired& fired) -> StoreResult<void> {
            Folder* f = live();
            if (f == nullptr) return std::unexpected(StoreError::not_found);
            auto gone = core_->remove(*f, uids);
            if (gone.empty()) return {};
            drop(gone);
            highestmodseq_ = f->highestmodseq;
            core_->touched(user_, folder_, fired);
            return {};
        });
    }

    StoreResult<UidMap> copy_to(std::span<const uint32_t> uids, std::string_view folder) override {
        if (auto e = core_->enter("copy_to")) return std::unexpected(*e);
        return transfer(uids, folder, false);
    }
    StoreResult<UidMap> move_to(std::span<const uint32_t> uids, std::string_view folder) override {
        if (auto e = core_->enter("move_to")) return std::unexpected(*e);
        return transfer(uids, folder, true);
    }

    StoreResult<std::optional<std::string>> cache_get(uint32_t uid, uint32_t version) override {
        if (auto e = core_->enter("cache_get")) return std::unexpected(*e);
        if (find(uid) == nullptr) return std::unexpected(StoreError::not_found);
        std::lock_guard lock(core_->mu);
        Msg* m = live_msg(uid);
        if (m == nullptr || !m->cache || m->cache->first != version)
            return std::optional<std::string>{};
        return std::optional<std::string>(m->cache->second);
    }
    StoreResult<void> cache_put(uint32_t uid, uint32_t version, std::string_view data) override {
        if (auto e = core_->enter("cache_put")) return std::unexpected(*e);
        if (find(uid) == nullptr) return std::unexpected(StoreError::not_found);
        std::lock_guard lock(core_->mu);
        Msg* m = live_msg(uid);
        if (m == nullptr) return std::unexpected(StoreError::expunged);
        m->cache.emplace(version, std::string(data));
        return {};
    }

private:
    static bool by_uid(const MessageEntry& m, uint32_t u) { return m.uid < u; }
    std::vector<MessageEntry>::const_iterator lower(uint32_t uid) const {
        return std::lower_bound(msgs_.begin(), msgs_.end(), uid, by_uid);
    }

    // This handle's folder, unless it was deleted (or deleted and re-created) since.
    Folder* live() {
        auto f = core_->folder(user_, folder_);
        return f && (*f)->id == id_ ? *f : nullptr;
    }
    Msg* live_msg(uint32_t uid) {
        Folder* f = live();
        if (f == nullptr) return nullptr;
        auto it = f->msgs.find(uid);
        return it == f->msgs.end() ? nullptr : &it->second;
    }

    StoreResult<uint16_t> keyword_set(const std::vector<std::string>& kw) {
        if (kw.empty()) return 0;
        if (auto it = kwset_ids_.find(kw); it != kwset_ids_.end()) return it->second;
        if (kwsets_.size() > UINT16_MAX) return std::unexpected(StoreError::corrupt);
        auto id = uint16_t(kwsets_.size());
        kwsets_.push_back(kw);
        kwset_ids_.emplace(kw, id);
        return id;
    }

    void drop(const std::vector<uint32_t>& sorted) {
        std::erase_if(msgs_, [&](const MessageEntry& m) {
            return std::binary_search(sorted.begin(), sorted.end(), m.uid);
        });
    }

    // COPY, or MOVE (copy and expunge here, at once): all or nothing.
    StoreResult<UidMap> transfer(std::span<const uint32_t> uids, std::string_view folder,
                                 bool move) {
        auto dest = canonical_folder(folder);
        if (!dest) return std::unexpected(dest.error());
        if (move && *dest == folder_) return std::unexpected(StoreError::invalid);
        const uint64_t quota = core_->quota_of(user_);
        std::vector<uint32_t> sorted(uids.begin(), uids.end());
        std::sort(sorted.begin(), sorted.end());
        sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
        return locked(*core_, [&](Fired& fired) -> StoreResult<UidMap> {
            Folder* src = live();
            if (src == nullptr) return std::unexpected(StoreError::not_found);
            auto dr = core_->folder(user_, *dest);
            if (!dr) return std::unexpected(dr.error());
            Folder& dst = **dr;
            std::vector<uint32_t> from;
            uint64_t added = 0;
            for (uint32_t uid : sorted) {
                auto it = src->msgs.find(uid);
                if (it == src->msgs.end()) continue;
                from.push_back(uid);
                added += it->second.bytes->size();
            }
            UidMap map{dst.uidvalidity, {}, {}};
            if (from.empty()) return map;
            if (quota > 0 && core_->usage_of(*core_->user_ref(user_)) + added > quota)
                return std::unexpected(StoreError::over_quota);
            if (core_->free() < added)
                return std::unexpected(StoreError::no_space);
            if (uint64_t(dst.uidnext) + from.size() >= UINT32_MAX)
                return std::unexpected(StoreError::corrupt);
            for (uint32_t uid : from) {
                Msg m = src->msgs.at(uid);
                m.cache.reset();
                m.modseq = ++dst.highestmodseq;
                uint32_t to = dst.uidnext++;
                dst.log[m.modseq] = LogEntry{Kind::added, {to}};
                core_->stored += m.bytes->size();
                dst.msgs.emplace(to, std::move(m));
                map.from.push_back(uid);
                map.to.push_back(to);
            }
            core_->touched(user_, *dest, fired);
            if (move) {
                drop(core_->remove(*src, from));
                highestmodseq_ = src->highestmodseq;
                core_->touched(user_, folder_, fired);
            }
            return map;
        });
    }

    std::shared_ptr<MemoryCore> core_;
    std::string user_;
    std::string folder_;
    bool loaded_ = false;
    uint32_t id_ = 0;
    uint32_t uidvalidity_ = 0;
    uint32_t uidnext_ = 0;
    uint64_t highestmodseq_ = 0;
    std::vector<MessageEntry> msgs_;
    std::vector<std::vector<std::string>> kwsets_{{}};  // id 0: no keywords
    std::map<std::vector<std::string>, uint16_t> kwset_ids_;
};

struct MemoryLock final : StoreLock {
    MemoryLock(std::shared_ptr<MemoryCore> c, std::string u) : core(std::move(c)), user(u) {}
    ~MemoryLock() override {
        std::lock_guard lock(core->mu);
        core->locked.erase(user);
    }
    std::shared_ptr<MemoryCore> core;
    std::string user;
};

struct MemoryWatch final : FolderWatch {
    MemoryWatch(std::shared_ptr<MemoryCore> c, std::shared_ptr<WatchState> s)
        : core(std::move(c)), state(std::move(s)) {}
    ~MemoryWatch() override {
        {
            std::lock_guard lock(core->mu);
            std::erase(core->watches, state);
        }
        std::lock_guard lock(state->mu);  // waits for a callback in progress
        state->alive = false;
    }
    std::shared_ptr<MemoryCore> core;
    std::shared_ptr<WatchState> state;
};

// The message's bytes, from a buffer or all of a reader (invalid when it is shorter).
StoreResult<std::shared_ptr<const std::string>> take_bytes(const MessageSource& msg) {
    if (msg.reader == nullptr) return std::make_shared<const std::string>(msg.bytes);
    auto all = read_all(*msg.reader);
    if (!all) return std::unexpected(all.error());
    if (all->size() != msg.reader->size()) return std::unexpected(StoreError::invalid);
    return std::make_shared<const std::string>(std::move(*all));
}

// The canonical folder of a delivery and its bytes.
StoreResult<std::pair<std::string, std::shared_ptr<const std::string>>> message_for(
    const DeliveryOptions& o, const MessageSource& msg) {
    auto folder = canonical_folder(o.folder);
    if (!folder) return std::unexpected(folder.error());
    auto bytes = take_bytes(msg);
    if (!bytes) return std::unexpected(bytes.error());
    return std::pair(std::move(*folder), std::move(*bytes));
}

}  // namespace

MemoryStore::MemoryStore(StoreOptions opts) : core_(std::make_shared<MemoryCore>()) {
    core_->opts = std::move(opts);
}

MemoryStore::~MemoryStore() = default;

StoreResult<Delivered> MemoryStore::deliver(std::string_view user, const MessageSource& msg,
                                            const DeliveryOptions& opts) {
    if (auto e = core_->enter("deliver")) return std::unexpected(*e);
    auto folder = canonical_folder(opts.folder);
    if (!folder) return std::unexpected(folder.error());
    auto canon = normalize_address(user);
    if (!canon) return std::unexpected(canon.error());
    auto bytes = take_bytes(msg);
    if (!bytes) return std::unexpected(bytes.error());
    const uint64_t quota = core_->quota_of(*canon);
    const int64_t now = std::time(nullptr);
    return locked(*core_, [&](Fired& fired) {
        return core_->add(*canon, *folder, *bytes, opts, quota, now, fired);
    });
}

std::vector<StoreResult<Delivered>> MemoryStore::deliver_many(std::span<const std::string> users,
                                                              const MessageSource& msg,
                                                              const DeliveryOptions& opts) {
    std::vector<StoreResult<Delivered>> out(users.size(), std::unexpected(StoreError::temporary));
    if (auto e = core_->enter("deliver_many")) {
        std::fill(out.begin(), out.end(), std::unexpected(*e));
        return out;
    }
    auto bytes = message_for(opts, msg);
    if (!bytes) {
        std::fill(out.begin(), out.end(), std::unexpected(bytes.error()));
        return out;
    }
    std::vector<std::pair<std::string, uint64_t>> who;  // canonical name, quota
    for (const auto& u : users) {
        auto c = normalize_address(u);
        who.emplace_back(c ? *c : std::string(), c ? core_->quota_of(*c) : 0);
    }
    const int64_t now = std::time(nullptr);
    locked(*core_, [&](Fired& fired) {
        for (size_t i = 0; i < users.size(); ++i) {
            out[i] = who[i].first.empty()
                         ? std::unexpected(StoreError::invalid)
                         : core_->add(who[i].first, bytes->first, bytes->second, opts,
                                      who[i].second, now, fired);
        }
        return 0;
    });
    return out;
}

std::vector<std::vector<StoreResult<Delivered>>> MemoryStore::deliver_batch(
    std::span<const DeliveryBatchItem> items) {
    std::vector<std::vector<StoreResult<Delivered>>> out;
    if (auto e = core_->enter("deliver_batch")) {
        for (const auto& it : items) out.emplace_back(it.users.size(), std::unexpected(*e));
        return out;
    }
    // Item by item as deliver_many puts it, without counting (or failing) each as a call.
    for (const auto& it : items) {
        std::vector<StoreResult<Delivered>> r(it.users.size(), std::unexpected(StoreError::invalid));
        auto bytes = message_for(it.opts, it.msg);
        const int64_t now = std::time(nullptr);
        for (size_t j = 0; j < it.users.size(); ++j) {
            auto c = normalize_address(it.users[j]);
            if (!bytes || !c) {
                r[j] = std::unexpected(!bytes ? bytes.error() : c.error());
                continue;
            }
            const uint64_t quota = core_->quota_of(*c);
            r[j] = locked(*core_, [&](Fired& fired) {
                return core_->add(*c, bytes->first, bytes->second, it.opts, quota, now, fired);
            });
        }
        out.push_back(std::move(r));
    }
    return out;
}

bool MemoryStore::has_room(uint64_t bytes) {
    if (core_->enter("has_room")) return false;
    std::lock_guard lock(core_->mu);
    if (core_->capacity == UINT64_MAX) return true;
    uint64_t free = core_->free(), reserve = core_->opts.disk_reserve_bytes;
    return free >= reserve && free - reserve >= bytes;
}

StoreResult<uint64_t> MemoryStore::usage(std::string_view user) {
    if (auto e = core_->enter("usage")) return std::unexpected(*e);
    std::lock_guard lock(core_->mu);
    auto u = core_->user(user);
    if (!u) return std::unexpected(u.error());
    return core_->usage_of(**u);
}

StoreResult<void> MemoryStore::create_user(std::string_view user) {
    if (auto e = core_->enter("create_user")) return std::unexpected(*e);
    auto canon = normalize_address(user);
    if (!canon) return std::unexpected(canon.error());
    std::lock_guard lock(core_->mu);
    if (core_->users.count(*canon)) return std::unexpected(StoreError::exists);
    User u;
    u.folders.emplace("INBOX", core_->new_folder());
    core_->users.emplace(*canon, std::move(u));
    return {};
}

StoreResult<void> MemoryStore::remove_user(std::string_view user) {
    if (auto e = core_->enter("remove_user")) return std::unexpected(*e);
    return locked(*core_, [&](Fired& fired) -> StoreResult<void> {
        std::string canon;
        auto u = core_->user(user, &canon);
        if (!u) return std::unexpected(u.error());
        for (const auto& [name, f] : (*u)->folders) core_->stored -= f.bytes();
        core_->retired.push_back(std::move(**u));
        core_->users.erase(canon);
        core_->touched(canon, "", fired);
        return {};
    });
}

StoreResult<std::unique_ptr<Mailbox>> MemoryStore::open_mailbox(std::string_view user,
                                                                std::string_view folder) {
    if (auto e = core_->enter("open_mailbox")) return std::unexpected(*e);
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    auto canon = normalize_address(user);
    if (!canon) return std::unexpected(canon.error());
    auto mb = std::make_unique<MemoryMailbox>(core_, *canon, *name);
    std::lock_guard lock(core_->mu);
    if (auto r = mb->load(); !r) return std::unexpected(r.error());
    return std::unique_ptr<Mailbox>(std::move(mb));
}

StoreResult<FolderStatus> MemoryStore::status(std::string_view user, std::string_view folder) {
    if (auto e = core_->enter("status")) return std::unexpected(*e);
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    std::lock_guard lock(core_->mu);
    auto f = core_->folder(user, *name);
    if (!f) return std::unexpected(f.error());
    FolderStatus s{0, 0, (*f)->uidnext, (*f)->uidvalidity, (*f)->highestmodseq, 0};
    for (const auto& [uid, m] : (*f)->msgs) {
        ++s.messages;
        if ((m.flags & flag_seen) == 0) ++s.unseen;
        s.size += m.bytes->size();
    }
    return s;
}

StoreResult<std::unique_ptr<FolderWatch>> MemoryStore::watch(std::string_view user,
                                                             std::string_view folder,
                                                             std::function<void()> on_change) {
    if (auto e = core_->enter("watch")) return std::unexpected(*e);
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    std::lock_guard lock(core_->mu);
    std::string canon;
    if (auto f = core_->folder(user, *name, &canon); !f) return std::unexpected(f.error());
    auto s = std::make_shared<WatchState>();
    s->user = canon;
    s->folder = *name;
    s->on_change = std::move(on_change);
    core_->watches.push_back(s);
    return std::unique_ptr<FolderWatch>(std::make_unique<MemoryWatch>(core_, s));
}

StoreResult<std::vector<FolderEntry>> MemoryStore::folders(std::string_view user) {
    if (auto e = core_->enter("folders")) return std::unexpected(*e);
    std::lock_guard lock(core_->mu);
    auto u = core_->user(user);
    if (!u) return std::unexpected(u.error());
    const User& usr = **u;
    std::vector<std::string> names;
    for (const auto& [name, f] : usr.folders) names.push_back(name);
    std::vector<FolderEntry> out;
    inbox_first(names, [&](const std::string& n) {
        auto next = usr.folders.upper_bound(n + "/");
        bool children = next != usr.folders.end() && next->first.starts_with(n + "/");
        out.push_back(FolderEntry{n, usr.folders.at(n).special_use,
                                  usr.subscriptions.count(n) > 0, children});
    });
    return out;
}

StoreResult<void> MemoryStore::create_folder(std::string_view user, std::string_view folder,
                                             uint8_t special_use) {
    if (auto e = core_->enter("create_folder")) return std::unexpected(*e);
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    if (*name == "INBOX") return std::unexpected(StoreError::exists);
    if ((special_use & ~0x7f) != 0) return std::unexpected(StoreError::invalid);
    std::lock_guard lock(core_->mu);
    auto u = core_->user(user);
    if (!u) return std::unexpected(u.error());
    if ((*u)->folders.count(*name)) return std::unexpected(StoreError::exists);
    Folder f = core_->new_folder();
    f.special_use = special_use;
    (*u)->folders.emplace(*name, std::move(f));
    return {};
}

StoreResult<void> MemoryStore::delete_folder(std::string_view user, std::string_view folder) {
    if (auto e = core_->enter("delete_folder")) return std::unexpected(*e);
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    if (*name == "INBOX") return std::unexpected(StoreError::invalid);
    return locked(*core_, [&](Fired& fired) -> StoreResult<void> {
        std::string canon;
        auto u = core_->user(user, &canon);
        if (!u) return std::unexpected(u.error());
        auto& fs = (*u)->folders;
        auto it = fs.find(*name);
        if (it == fs.end()) return std::unexpected(StoreError::not_found);
        auto next = fs.upper_bound(*name + "/");
        if (next != fs.end() && next->first.starts_with(*name + "/"))
            return std::unexpected(StoreError::not_empty);
        core_->stored -= it->second.bytes();
        fs.erase(it);
        core_->touched(canon, *name, fired);
        return {};
    });
}

StoreResult<void> MemoryStore::rename_folder(std::string_view user, std::string_view from,
                                             std::string_view to) {
    if (auto e = core_->enter("rename_folder")) return std::unexpected(*e);
    auto src = canonical_folder(from);
    if (!src) return std::unexpected(src.error());
    auto dst = canonical_folder(to);
    if (!dst) return std::unexpected(dst.error());
    if (*src == "INBOX" || *dst == "INBOX" || *src == *dst || dst->starts_with(*src + "/"))
        return std::unexpected(StoreError::invalid);
    return locked(*core_, [&](Fired& fired) -> StoreResult<void> {
        std::string canon;
        auto u = core_->user(user, &canon);
        if (!u) return std::unexpected(u.error());
        auto& fs = (*u)->folders;
        if (!fs.count(*src)) return std::unexpected(StoreError::not_found);
        std::vector<std::string> moving;
        for (const auto& [name, f] : fs)
            if (name == *src || name.starts_with(*src + "/")) moving.push_back(name);
        // Every new name checked before anything moves: all or nothing.
        for (const auto& n : moving)
            if (fs.count(*dst + n.substr(src->size()))) return std::unexpected(StoreError::exists);
        for (const auto& n : moving) {
            auto node = fs.extract(n);
            node.key() = *dst + n.substr(src->size());
            fs.insert(std::move(node));
            core_->touched(canon, n, fired);
        }
        return {};
    });
}

StoreResult<void> MemoryStore::set_special_use(std::string_view user, std::string_view folder,
                                               uint8_t special_use) {
    if (auto e = core_->enter("set_special_use")) return std::unexpected(*e);
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    if ((special_use & ~0x7f) != 0) return std::unexpected(StoreError::invalid);
    std::lock_guard lock(core_->mu);
    auto f = core_->folder(user, *name);
    if (!f) return std::unexpected(f.error());
    (*f)->special_use = special_use;
    return {};
}

StoreResult<void> MemoryStore::set_subscribed(std::string_view user, std::string_view folder,
                                              bool subscribed) {
    if (auto e = core_->enter("set_subscribed")) return std::unexpected(*e);
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    std::lock_guard lock(core_->mu);
    auto u = core_->user(user);
    if (!u) return std::unexpected(u.error());
    if (subscribed)
        (*u)->subscriptions.insert(*name);
    else
        (*u)->subscriptions.erase(*name);
    return {};
}

StoreResult<std::vector<std::string>> MemoryStore::subscriptions(std::string_view user) {
    if (auto e = core_->enter("subscriptions")) return std::unexpected(*e);
    std::lock_guard lock(core_->mu);
    auto u = core_->user(user);
    if (!u) return std::unexpected(u.error());
    std::vector<std::string> out;
    inbox_first((*u)->subscriptions, [&](const std::string& n) { out.push_back(n); });
    return out;
}

StoreResult<MaildropLock> MemoryStore::try_lock_maildrop(std::string_view user) {
    if (auto e = core_->enter("try_lock_maildrop")) return std::unexpected(*e);
    std::lock_guard lock(core_->mu);
    std::string canon;
    if (auto u = core_->user(user, &canon); !u) return std::unexpected(u.error());
    if (!core_->locked.insert(canon).second) return std::unexpected(StoreError::in_use);
    return MaildropLock(std::make_unique<MemoryLock>(core_, canon));
}

StoreResult<RebuildStats> MemoryStore::rebuild_index(std::string_view user) {
    if (auto e = core_->enter("rebuild_index")) return std::unexpected(*e);
    std::lock_guard lock(core_->mu);
    auto u = core_->user(user);
    if (!u) return std::unexpected(u.error());
    RebuildStats s;
    for (const auto& [name, f] : (*u)->folders) {
        ++s.folders;
        s.messages += uint32_t(f.msgs.size());
    }
    return s;  // nothing to rebuild: there is no separate index
}

StoreResult<RebuildStats> MemoryStore::rebuild_all() {
    if (auto e = core_->enter("rebuild_all")) return std::unexpected(*e);
    std::lock_guard lock(core_->mu);
    RebuildStats s;
    for (const auto& [user, u] : core_->users) {
        for (const auto& [name, f] : u.folders) {
            ++s.folders;
            s.messages += uint32_t(f.msgs.size());
        }
    }
    return s;
}

void MemoryStore::fail_next(StoreError e, int count) {
    std::lock_guard lock(core_->mu);
    if (count > 0) core_->faults.push_back({{}, e, count});
}

void MemoryStore::fail_on(std::string_view op, StoreError e, int count) {
    std::lock_guard lock(core_->mu);
    if (count > 0) core_->faults.push_back({std::string(op), e, count});
}

void MemoryStore::set_delay(std::chrono::milliseconds d) {
    std::lock_guard lock(core_->mu);
    core_->delay = d;
}

void MemoryStore::set_capacity(uint64_t bytes) {
    std::lock_guard lock(core_->mu);
    core_->capacity = bytes;
}

int MemoryStore::calls(std::string_view op) const {
    std::lock_guard lock(core_->mu);
    auto it = core_->calls.find(op);
    return it == core_->calls.end() ? 0 : it->second;
}

StoreResult<void> MemoryStore::prune_log(std::string_view user, std::string_view folder) {
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    std::lock_guard lock(core_->mu);
    auto f = core_->folder(user, *name);
    if (!f) return std::unexpected(f.error());
    std::erase_if((*f)->log, [](const auto& e) { return e.second.kind == Kind::expunged; });
    (*f)->log_floor = ++(*f)->highestmodseq;
    return {};
}

}  // namespace postern
