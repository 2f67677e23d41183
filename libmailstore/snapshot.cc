// A folder snapshot shared by the Mailbox backends (snapshot.h).
#include "libmailstore/snapshot.h"

#include <algorithm>

#include "libmailstore/flag_change.h"

namespace postern {
namespace {

bool by_uid(const MessageEntry& m, uint32_t u) { return m.uid < u; }

}  // namespace

const MessageEntry* SnapshotTable::find(uint32_t uid) const {
    auto it = std::lower_bound(msgs_.begin(), msgs_.end(), uid, by_uid);
    return (it != msgs_.end() && it->uid == uid) ? &*it : nullptr;
}

std::vector<MessageEntry>::iterator SnapshotTable::lower(uint32_t uid) {
    return std::lower_bound(msgs_.begin(), msgs_.end(), uid, by_uid);
}

std::vector<std::string> SnapshotTable::all_keywords() const {
    std::vector<std::string> out;
    for (const auto& set : kwsets_) add_keywords(out, set);
    return out;
}

StoreResult<uint16_t> SnapshotTable::intern(const std::vector<std::string>& keywords) {
    if (keywords.empty()) return 0;
    if (auto it = kwset_ids_.find(keywords); it != kwset_ids_.end()) return it->second;
    if (kwsets_.size() > UINT16_MAX) return std::unexpected(StoreError::corrupt);
    auto id = uint16_t(kwsets_.size());
    kwsets_.push_back(keywords);
    kwset_ids_.emplace(keywords, id);
    return id;
}

StoreResult<void> SnapshotTable::push_back(uint32_t uid, uint8_t flags,
                                           const std::vector<std::string>& keywords) {
    if (!msgs_.empty() && msgs_.back().uid >= uid) return std::unexpected(StoreError::corrupt);
    auto kw = intern(keywords);
    if (!kw) return std::unexpected(kw.error());
    msgs_.push_back(MessageEntry{uid, flags, 0, *kw});
    return {};
}

StoreResult<void> SnapshotTable::upsert(uint32_t uid, uint8_t flags,
                                        const std::vector<std::string>& keywords,
                                        MailboxDelta& delta) {
    auto kw = intern(keywords);
    if (!kw) return std::unexpected(kw.error());
    MessageEntry e{uid, flags, 0, *kw};
    auto it = lower(uid);
    if (it != msgs_.end() && it->uid == uid) {
        // One table: equal keyword sets have one id.
        if (it->flags != e.flags || it->keywords != e.keywords) {
            *it = e;
            delta.changed.push_back(uid);
        }
    } else {
        msgs_.insert(it, e);
        delta.added.push_back(uid);
    }
    return {};
}

StoreResult<void> SnapshotTable::update(uint32_t uid, uint8_t flags,
                                        const std::vector<std::string>& keywords) {
    auto it = lower(uid);
    if (it == msgs_.end() || it->uid != uid) return {};
    auto kw = intern(keywords);
    if (!kw) return std::unexpected(kw.error());
    it->flags = flags;
    it->keywords = *kw;
    return {};
}

void SnapshotTable::erase(std::span<const uint32_t> sorted_uids) {
    if (sorted_uids.empty()) return;
    std::erase_if(msgs_, [&](const MessageEntry& m) {
        return std::binary_search(sorted_uids.begin(), sorted_uids.end(), m.uid);
    });
}

void SnapshotTable::erase(std::span<const uint32_t> sorted_uids, MailboxDelta& delta) {
    const size_t first = delta.expunged.size();
    for (uint32_t uid : sorted_uids)
        if (find(uid) != nullptr) delta.expunged.push_back(uid);
    erase(std::span(delta.expunged).subspan(first));
}

MailboxDelta SnapshotTable::replace_with(SnapshotTable fresh, bool same_folder) {
    MailboxDelta delta;
    const auto& old = msgs_;
    const auto& now = fresh.msgs_;
    if (same_folder) {
        size_t i = 0, j = 0;
        while (i < old.size() || j < now.size()) {
            if (j == now.size() || (i < old.size() && old[i].uid < now[j].uid)) {
                delta.expunged.push_back(old[i++].uid);
            } else if (i == old.size() || now[j].uid < old[i].uid) {
                delta.added.push_back(now[j++].uid);
            } else {
                if (old[i].flags != now[j].flags ||
                    keywords_of(old[i]) != fresh.keywords_of(now[j]))
                    delta.changed.push_back(now[j].uid);
                ++i;
                ++j;
            }
        }
    } else {
        for (const auto& m : old) delta.expunged.push_back(m.uid);
        for (const auto& m : now) delta.added.push_back(m.uid);
    }
    *this = std::move(fresh);
    return delta;
}

}  // namespace postern
