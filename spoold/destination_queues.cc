#include "spoold/destination_queues.h"

namespace postern {

void DestinationQueues::maybe_ring(const std::string& name, Dest& d) {
    if (!d.in_ring && !d.waiting.empty() && d.in_flight < limits_.per_destination) {
        d.in_ring = true;
        ring_.push_back(name);
    }
}

void DestinationQueues::push(RemoteBatch batch) {
    std::string name = batch.destination;
    Dest& d = dests_[name];
    d.waiting.push_back(std::move(batch));
    ++waiting_;
    maybe_ring(name, d);
}

std::optional<RemoteBatch> DestinationQueues::start_next() {
    if (in_flight_ >= limits_.total || ring_.empty()) return std::nullopt;
    std::string name = std::move(ring_.front());
    ring_.pop_front();
    Dest& d = dests_[name];
    d.in_ring = false;
    RemoteBatch b = std::move(d.waiting.front());
    d.waiting.pop_front();
    --waiting_;
    ++d.in_flight;
    ++in_flight_;
    maybe_ring(name, d);
    return b;
}

void DestinationQueues::finished(const std::string& destination) {
    auto it = dests_.find(destination);
    if (it == dests_.end() || it->second.in_flight == 0) return;
    --it->second.in_flight;
    --in_flight_;
    if (it->second.in_flight == 0 && it->second.waiting.empty()) {
        dests_.erase(it);
        return;
    }
    maybe_ring(destination, it->second);
}

size_t DestinationQueues::in_flight(const std::string& destination) const {
    auto it = dests_.find(destination);
    return it == dests_.end() ? 0 : it->second.in_flight;
}

}  // namespace postern
