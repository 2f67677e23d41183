#include "spoold/schedule.h"

#include <algorithm>

namespace postern {

void Schedule::set(const std::string& id, int64_t when) {
    auto [it, fresh] = items_.try_emplace(id);
    if (!fresh && it->second.held) --held_;
    it->second = {when, ++gen_, false};
    heap_.push({when, it->second.gen, id});
    maybe_rebuild();
}

void Schedule::hold(const std::string& id) {
    auto [it, fresh] = items_.try_emplace(id);
    if (fresh || !it->second.held) ++held_;
    it->second = {0, ++gen_, true};
}

void Schedule::erase(const std::string& id) {
    auto it = items_.find(id);
    if (it == items_.end()) return;
    if (it->second.held) --held_;
    items_.erase(it);
}

void Schedule::all_due(int64_t when) {
    for (auto& [id, item] : items_) {
        if (item.held || item.when <= when) continue;
        item = {when, ++gen_, false};
        heap_.push({when, item.gen, id});
    }
    maybe_rebuild();
}

bool Schedule::contains(std::string_view id) const { return items_.count(std::string(id)) != 0; }

bool Schedule::held(std::string_view id) const {
    auto it = items_.find(std::string(id));
    return it != items_.end() && it->second.held;
}

std::optional<int64_t> Schedule::when(std::string_view id) const {
    auto it = items_.find(std::string(id));
    if (it == items_.end() || it->second.held) return std::nullopt;
    return it->second.when;
}

bool Schedule::live(const Node& n) const {
    auto it = items_.find(n.id);
    return it != items_.end() && !it->second.held && it->second.gen == n.gen;
}

void Schedule::drop_stale() {
    while (!heap_.empty() && !live(heap_.top())) heap_.pop();
}

void Schedule::maybe_rebuild() {
    if (heap_.size() <= 2 * (items_.size() - held_) + 64) return;
    std::vector<Node> nodes;
    nodes.reserve(items_.size());
    for (const auto& [id, item] : items_)
        if (!item.held) nodes.push_back({item.when, item.gen, id});
    heap_ = decltype(heap_)(std::greater<>(), std::move(nodes));
}

std::vector<std::string> Schedule::take_due(int64_t now, size_t max) {
    std::vector<std::string> out;
    drop_stale();
    while (out.size() < max && !heap_.empty() && heap_.top().when <= now) {
        std::string id = heap_.top().id;
        heap_.pop();
        items_.erase(id);
        out.push_back(std::move(id));
        drop_stale();
    }
    return out;
}

std::optional<int64_t> Schedule::next_time() {
    drop_stale();
    if (heap_.empty()) return std::nullopt;
    return heap_.top().when;
}

std::vector<std::string> Schedule::ids() const {
    std::vector<std::string> out;
    out.reserve(items_.size());
    for (const auto& [id, item] : items_) out.push_back(id);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace postern
