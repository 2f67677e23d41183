// MemoryStore's staged messages (store.h StagedMessage): the bytes in a string until
// deliver_staged() adds them all under one lock, or none.
#include <ctime>

#include "libmailstore/maildir_layout.h"  // canonical_folder
#include "tests/support/memory_core.h"
#include "tests/support/memory_store.h"

namespace postern {
namespace {

struct MemoryStaged final : StagedMessage {
    explicit MemoryStaged(std::shared_ptr<MemoryCore> c) : core(std::move(c)) {
        std::lock_guard lock(core->mu);
        ++core->staged_alive;
    }
    ~MemoryStaged() override {
        std::lock_guard lock(core->mu);
        --core->staged_alive;
    }
    MemoryStaged(const MemoryStaged&) = delete;
    MemoryStaged& operator=(const MemoryStaged&) = delete;

    StoreResult<void> write(std::string_view b) override {
        if (auto e = core->enter("staged_write")) return std::unexpected(*e);
        if (finished) return std::unexpected(StoreError::invalid);
        bytes.append(b);
        return {};
    }
    StoreResult<void> finish() override {
        if (auto e = core->enter("staged_finish")) return std::unexpected(*e);
        if (finished) return std::unexpected(StoreError::invalid);
        finished = true;
        return {};
    }
    uint64_t size() const override { return bytes.size(); }

    std::shared_ptr<MemoryCore> core;
    std::string bytes;
    bool finished = false;
};

}  // namespace

StoreResult<std::unique_ptr<StagedMessage>> MemoryStore::stage_message(std::string_view) {
    if (auto e = core_->enter("stage_message")) return std::unexpected(*e);
    return std::make_unique<MemoryStaged>(core_);
}

StoreResult<std::vector<Delivered>> MemoryStore::deliver_staged(std::string_view user,
                                                                std::string_view folder,
                                                                std::span<const StagedItem> items) {
    if (auto e = core_->enter("deliver_staged")) return std::unexpected(*e);
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    std::vector<std::shared_ptr<const std::string>> bytes;
    uint64_t total = 0;
    for (const auto& it : items) {
        auto* m = dynamic_cast<MemoryStaged*>(it.msg);
        if (m == nullptr || m->core != core_ || !m->finished)
            return std::unexpected(StoreError::invalid);
        bytes.push_back(std::make_shared<const std::string>(m->bytes));
        total += m->bytes.size();
    }
    const int64_t now = std::time(nullptr);
    return memstore::locked(
        *core_, [&](memstore::Fired& fired) -> StoreResult<std::vector<Delivered>> {
            std::string canon;
            auto f = core_->folder(user, *name, &canon);
            if (!f) return std::unexpected(f.error());
            const uint64_t quota = core_->quota_of(canon);
            // Checked for all of them first, so add() cannot fail half-way.
            if (quota > 0 && core_->usage_of(*core_->user_ref(canon)) + total > quota)
                return std::unexpected(StoreError::over_quota);
            if (core_->free() < total) return std::unexpected(StoreError::no_space);
            if (uint64_t((*f)->uidnext) + items.size() >= UINT32_MAX)
                return std::unexpected(StoreError::corrupt);
            std::vector<Delivered> out;
            for (size_t i = 0; i < items.size(); ++i) {
                DeliveryOptions o;
                o.flags = items[i].flags;
                o.keywords = items[i].keywords;
                o.internal_date = items[i].internal_date;
                auto d = core_->add(canon, *name, bytes[i], o, 0, now, fired);
                if (!d) return std::unexpected(d.error());  // not reached: checked above
                out.push_back(*d);
            }
            return out;
        });
}

StoreResult<uint64_t> MemoryStore::quota_room(std::string_view user) {
    if (auto e = core_->enter("quota_room")) return std::unexpected(*e);
    std::lock_guard lock(core_->mu);
    std::string canon;
    auto u = core_->user(user, &canon);
    if (!u) return std::unexpected(u.error());
    const uint64_t quota = core_->quota_of(canon);
    if (quota == 0) return UINT64_MAX;
    const uint64_t used = core_->usage_of(**u);
    return quota > used ? quota - used : 0;
}

uint32_t MemoryStore::staged_alive() const {
    std::lock_guard lock(core_->mu);
    return core_->staged_alive;
}

}  // namespace postern
