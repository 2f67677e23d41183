#include "tests/support/pop3_maildrop_memory.h"

#include <algorithm>
#include <cstring>

namespace postern {

namespace {

class MemoryStream : public MessageStream {
public:
    MemoryStream(std::string bytes, bool fail) : bytes_(std::move(bytes)), fail_(fail) {}
    std::expected<size_t, MaildropError> read(std::span<char> buf) override {
        if (fail_) return std::unexpected(MaildropError::temporary);
        size_t n = std::min(buf.size(), bytes_.size() - pos_);
        if (n) std::memcpy(buf.data(), bytes_.data() + pos_, n);
        pos_ += n;
        return n;
    }

private:
    std::string bytes_;  // a copy: the message may be removed while we stream it
    size_t pos_ = 0;
    bool fail_;
};

}  // namespace

class MemoryMaildrop : public Maildrop {
public:
    MemoryMaildrop(Pop3MemoryStore& store, std::shared_ptr<Pop3MemoryStore::Box> box, bool lock)
        : store_(store), box_(std::move(box)), lock_(lock) {
        if (lock_) box_->locked = true;
        for (const auto& [uid, m] : box_->messages) snapshot_.push_back({uid, m.bytes.size()});
    }
    ~MemoryMaildrop() override {
        if (lock_) box_->locked = false;
    }
    uint32_t uid_validity() const override { return box_->uid_validity; }
    const std::vector<MaildropMessage>& messages() const override { return snapshot_; }
    std::expected<std::unique_ptr<MessageStream>, MaildropError> open(uint32_t uid) override {
        auto it = box_->messages.find(uid);
        if (it == box_->messages.end()) return std::unexpected(MaildropError::vanished);
        return std::make_unique<MemoryStream>(it->second.bytes, store_.fail_reads);
    }
    std::expected<void, MaildropError> mark_seen(uint32_t uid) override {
        auto it = box_->messages.find(uid);
        if (it == box_->messages.end()) return std::unexpected(MaildropError::vanished);
        it->second.seen = true;
        return {};
    }
    std::expected<void, MaildropError> expunge(std::span<const uint32_t> uids) override {
        if (store_.fail_expunge) return std::unexpected(MaildropError::temporary);
        for (uint32_t uid : uids) box_->messages.erase(uid);
        return {};
    }

private:
    Pop3MemoryStore& store_;
    std::shared_ptr<Pop3MemoryStore::Box> box_;
    std::vector<MaildropMessage> snapshot_;
    bool lock_;
};

uint32_t Pop3MemoryStore::deliver(const std::string& user, std::string bytes) {
    auto& b = boxes_[user];
    if (!b) b = std::make_shared<Box>();
    uint32_t uid = b->uid_next++;
    b->messages[uid] = Message{std::move(bytes), false};
    return uid;
}

void Pop3MemoryStore::remove(const std::string& user, uint32_t uid) {
    if (auto* b = box(user)) b->messages.erase(uid);
}

Pop3MemoryStore::Box* Pop3MemoryStore::box(const std::string& user) {
    auto it = boxes_.find(user);
    return it == boxes_.end() ? nullptr : it->second.get();
}

std::expected<std::unique_ptr<Maildrop>, MaildropError> Pop3MemoryStore::open(
    const std::string& user, bool exclusive) {
    auto it = boxes_.find(user);
    if (it == boxes_.end()) {
        // A user with no mail yet has an empty maildrop.
        it = boxes_.emplace(user, std::make_shared<Box>()).first;
    }
    if (exclusive && it->second->locked) return std::unexpected(MaildropError::in_use);
    return std::make_unique<MemoryMaildrop>(*this, it->second, exclusive);
}

}  // namespace postern
