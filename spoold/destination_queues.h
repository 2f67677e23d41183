#pragma once
// Remote batches waiting for their destination (a domain; per MX host once MX lookups come),
// with concurrency limits per destination and in total. A destination at its limit waits on
// its own: the others keep going (round robin between destinations with room), so one slow or
// dead destination never holds back the rest. Pure, loop thread only.

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "spoold/remote_transport.h"

namespace postern {

struct DestinationLimits {
    // TODO(config): delivery.destination_concurrency_limit (Postfix's default is 20).
    size_t per_destination = 20;
    // TODO(config): delivery.remote_concurrency_limit.
    size_t total = 100;
};

class DestinationQueues {
public:
    explicit DestinationQueues(DestinationLimits limits = {}) : limits_(limits) {}

    void push(RemoteBatch batch);
    // The next batch that may start now (counted as in flight), or nullopt.
    std::optional<RemoteBatch> start_next();
    // A batch of `destination` finished.
    void finished(const std::string& destination);

    size_t in_flight() const { return in_flight_; }
    size_t in_flight(const std::string& destination) const;
    size_t waiting() const { return waiting_; }

private:
    struct Dest {
        std::deque<RemoteBatch> waiting;
        size_t in_flight = 0;
        bool in_ring = false;
    };
    void maybe_ring(const std::string& name, Dest& d);

    DestinationLimits limits_;
    std::unordered_map<std::string, Dest> dests_;
    std::deque<std::string> ring_;  // destinations with waiting batches and room
    size_t in_flight_ = 0;
    size_t waiting_ = 0;
};

}  // namespace postern
