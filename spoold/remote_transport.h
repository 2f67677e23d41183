#pragma once
// Where remote delivery plugs in. spoold hands a transport one batch per (queue entry,
// destination domain): the targets of that entry at that destination, to go in one SMTP
// transaction. The transport answers once per batch with one result per target; spoold
// records the results durably and never hands the same target out again once delivered.
//
// Threading: deliver() is called on spoold's loop thread and `done` must be called exactly
// once, on the loop thread, possibly before deliver() returns. The message bytes are read
// from the queue (Queue::read_message), never held by spoold. Until the SMTP client comes,
// DeferringTransport defers every target.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "libmailstore/queue/queue.h"

namespace postern {

// Which target of which recipient (indices into Envelope::recipients[i].targets).
struct TargetRef {
    uint32_t rcpt = 0;
    uint32_t target = 0;
    bool operator==(const TargetRef&) const = default;
};

struct RemoteBatch {
    std::string id;                            // queue entry
    std::string destination;                   // lower-case domain of every target in the batch
    std::shared_ptr<const Envelope> envelope;  // sender, DSN parameters, the targets' addresses
    std::vector<TargetRef> targets;
};

// A target's outcome: delivered, deferred (temporary, reply says why) or failed (permanent).
struct TargetResult {
    TargetState state = TargetState::deferred;
    std::string reply;  // "250 2.0.0 ok", "451 4.3.0 ...", "550 5.1.1 ..." or a local text
    // The host that gave `reply` (the MX or smarthost name), when a server answered: the
    // DSN's Remote-MTA. Empty for a text of our own (connection refused, DNS failure).
    std::string remote_mta{};
    // Delivered to a server without DSN (RFC 3461 5.2.2): NOTIFY was not passed on, so a
    // recipient with NOTIFY=SUCCESS gets a "relayed" DSN from us instead.
    bool relayed = false;
};

class RemoteTransport {
public:
    using Done = std::function<void(std::vector<TargetResult>)>;
    virtual ~RemoteTransport() = default;
    // One result per batch.targets entry, in order, through done (see the header comment).
    virtual void deliver(const RemoteBatch& batch, Done done) = 0;
};

// Defers every target with "4.4.0 remote delivery not implemented yet (address)".
class DeferringTransport final : public RemoteTransport {
public:
    void deliver(const RemoteBatch& batch, Done done) override;
};

// The destination (queue) a remote address goes to: its domain, lower-cased.
std::string destination_of(std::string_view address);

}  // namespace postern
