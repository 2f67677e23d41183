// MailStore in memory (memory_store.h): the store's operations over the shared state
// (memory_core.h); folder handles are in memory_mailbox.cc.
#include "tests/support/memory_store.h"

#include <ctime>

#include "libmailstore/maildir_layout.h"  // canonical_folder: the folder-name rules of store.h
#include "tests/support/memory_core.h"

namespace postern {
using namespace memstore;  // NOLINT: this file is the store over that state
namespace {

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
            out[i] = who[i].first.empty() ? std::unexpected(StoreError::invalid)
                                          : core_->add(who[i].first, bytes->first, bytes->second,
                                                       opts, who[i].second, now, fired);
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
        std::vector<StoreResult<Delivered>> r(it.users.size(),
                                              std::unexpected(StoreError::invalid));
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

StoreResult<void> MemoryStore::discard_user(std::string_view user) {
    if (auto e = core_->enter("discard_user")) return std::unexpected(*e);
    return locked(*core_, [&](Fired& fired) -> StoreResult<void> {
        std::string canon;
        auto u = core_->user(user, &canon);
        if (!u) return std::unexpected(u.error());
        for (const auto& [name, f] : (*u)->folders)
            if (!f.msgs.empty()) return std::unexpected(StoreError::not_empty);
        core_->users.erase(canon);
        core_->touched(canon, "", fired);
        return {};
    });
}

StoreResult<std::string> MemoryStore::remove_user(std::string_view user) {
    if (auto e = core_->enter("remove_user")) return std::unexpected(*e);
    return locked(*core_, [&](Fired& fired) -> StoreResult<std::string> {
        std::string canon;
        auto u = core_->user(user, &canon);
        if (!u) return std::unexpected(u.error());
        for (const auto& [name, f] : (*u)->folders) core_->stored -= f.bytes();
        std::string kept = "memory:retired/" + canon + "/" + std::to_string(core_->next_retired++);
        core_->retired.emplace(kept, std::move(**u));
        core_->users.erase(canon);
        core_->touched(canon, "", fired);
        return kept;
    });
}

StoreResult<void> MemoryStore::restore_user(std::string_view user, std::string_view kept) {
    if (auto e = core_->enter("restore_user")) return std::unexpected(*e);
    auto canon = normalize_address(user);
    if (!canon) return std::unexpected(canon.error());
    std::lock_guard lock(core_->mu);
    if (!kept.starts_with("memory:retired/" + *canon + "/"))
        return std::unexpected(StoreError::invalid);
    auto it = core_->retired.find(std::string(kept));
    if (it == core_->retired.end()) return std::unexpected(StoreError::not_found);
    if (core_->users.count(*canon)) return std::unexpected(StoreError::exists);
    for (const auto& [name, f] : it->second.folders) core_->stored += f.bytes();
    core_->users.emplace(*canon, std::move(it->second));
    core_->retired.erase(it);
    return {};
}

StoreResult<std::unique_ptr<Mailbox>> MemoryStore::open_mailbox(std::string_view user,
                                                                std::string_view folder) {
    if (auto e = core_->enter("open_mailbox")) return std::unexpected(*e);
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    auto canon = normalize_address(user);
    if (!canon) return std::unexpected(canon.error());
    return memstore::open_mailbox(core_, *canon, *name);
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
        out.push_back(FolderEntry{n, usr.folders.at(n).special_use, usr.subscriptions.count(n) > 0,
                                  children});
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