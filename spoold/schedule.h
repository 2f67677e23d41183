#pragma once
// spoold's in-memory schedule: every queue entry it knows with the time of its next attempt,
// or held. A min-heap of (time, entry) with lazy deletion: set() pushes a new heap node and
// bumps the entry's generation, so stale nodes are skipped when they reach the top (and the
// heap is rebuilt when stale nodes outnumber live ones). Rebuilt from the queue at start;
// pure (no clock, no I/O), loop thread only.

#include <cstdint>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace postern {

class Schedule {
public:
    // Entry `id` is due at `when` (unix seconds; <= now means due). Replaces what was known.
    void set(const std::string& id, int64_t when);
    // Entry `id` is held: known, never due until set() again.
    void hold(const std::string& id);
    // Forgets `id` (delivered, deleted).
    void erase(const std::string& id);
    // Every entry that is not held becomes due at `when` (mailctl queue flush).
    void all_due(int64_t when);

    bool contains(std::string_view id) const;
    bool held(std::string_view id) const;
    // The entry's time, nullopt when unknown or held.
    std::optional<int64_t> when(std::string_view id) const;
    // Removes and returns up to `max` entries due at `now`, earliest first.
    std::vector<std::string> take_due(int64_t now, size_t max = SIZE_MAX);
    // The earliest time of an entry that is not held.
    std::optional<int64_t> next_time();
    // Known entries (held ones included) and held ones.
    size_t size() const { return items_.size(); }
    size_t held_count() const { return held_; }
    std::vector<std::string> ids() const;

private:
    struct Item {
        int64_t when = 0;
        uint64_t gen = 0;
        bool held = false;
    };
    struct Node {
        int64_t when;
        uint64_t gen;
        std::string id;
        bool operator>(const Node& o) const { return when != o.when ? when > o.when : id > o.id; }
    };
    bool live(const Node& n) const;
    void drop_stale();
    void maybe_rebuild();

    std::unordered_map<std::string, Item> items_;
    std::priority_queue<Node, std::vector<Node>, std::greater<>> heap_;
    uint64_t gen_ = 0;
    size_t held_ = 0;
};

}  // namespace postern
