#include "imapd/message_set.h"

#include <algorithm>
#include <string>

namespace postern {
namespace {

auto first_not_below(std::span<const MessageEntry> snap, uint32_t uid) {
    return std::lower_bound(snap.begin(), snap.end(), uid,
                            [](const MessageEntry& m, uint32_t u) { return m.uid < u; });
}

}  // namespace

std::expected<std::vector<uint32_t>, ImapRefusal> resolve_message_set(
    const SequenceSet& set, bool uid, std::span<const MessageEntry> snapshot,
    const std::vector<uint32_t>* saved) {
    std::vector<uint32_t> out;
    if (set.saved) {
        // RFC 5182 2.1: the saved result is empty from SELECT until a SAVE.
        if (saved == nullptr) return out;
        // The saved UIDs that are still there.
        for (uint32_t u : *saved) {
            auto it = first_not_below(snapshot, u);
            if (it != snapshot.end() && it->uid == u) out.push_back(u);
        }
        return out;
    }
    if (uid) {
        uint32_t max = snapshot.empty() ? 0 : snapshot.back().uid;
        for (const SeqRange& r : set.normalized(max)) {
            for (auto it = first_not_below(snapshot, r.first);
                 it != snapshot.end() && it->uid <= r.last; ++it)
                out.push_back(it->uid);
        }
        return out;
    }
    auto count = static_cast<uint32_t>(snapshot.size());
    if (set.exceeds(count)) return std::unexpected(ImapRefusal::bad_sequence);
    for (const SeqRange& r : set.normalized(count))
        for (uint32_t s = r.first; s <= r.last; ++s) out.push_back(snapshot[s - 1].uid);
    return out;
}

uint32_t sequence_of(std::span<const MessageEntry> snapshot, uint32_t uid) {
    auto it = first_not_below(snapshot, uid);
    if (it == snapshot.end() || it->uid != uid) return 0;
    return static_cast<uint32_t>(it - snapshot.begin()) + 1;
}

void write_uid_set(std::string& out, std::span<const uint32_t> uids) {
    for (size_t i = 0; i < uids.size();) {
        size_t j = i;
        while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
        if (i > 0) out.push_back(',');
        out.append(std::to_string(uids[i]));
        if (j > i) out.append(":").append(std::to_string(uids[j]));
        i = j + 1;
    }
}

}  // namespace postern
