#pragma once
// Runs one attempt the way spoold's scheduler does (step 1, every remote batch through a
// transport and step 2, then step 3), synchronously; and a scripted RemoteTransport.

#include <map>
#include <string>
#include <vector>

#include "spoold/delivery.h"
#include "spoold/remote_transport.h"

namespace postern::test {

// Answers per target address (default: deferred "451 4.4.1 try later") and counts what it
// was handed, so a test can see that no target is sent twice.
class ScriptedTransport final : public RemoteTransport {
public:
    std::map<std::string, TargetResult> answers;
    std::map<std::string, int> sent;  // address -> times handed to the transport
    std::vector<std::string> destinations;

    void deliver(const RemoteBatch& batch, Done done) override {
        destinations.push_back(batch.destination);
        std::vector<TargetResult> out;
        for (const auto& ref : batch.targets) {
            const auto& addr = batch.envelope->recipients[ref.rcpt].targets[ref.target].address;
            ++sent[addr];
            auto it = answers.find(addr);
            out.push_back(it != answers.end()
                              ? it->second
                              : TargetResult{TargetState::deferred, "451 4.4.1 try later"});
        }
        done(std::move(out));
    }
};

inline AttemptReport full_attempt(Deliverer& d, MailStore& store, const std::string& id,
                                  int64_t now, RemoteTransport& transport, bool force = false) {
    AttemptReport first = d.attempt(store, id, now, force);
    if (first.outcome != AttemptReport::Outcome::remote) return first;
    std::vector<RcptReport> rcpts = first.rcpts;
    std::vector<std::string> bounces = first.bounce_ids;
    for (const auto& w : first.remote) {
        RemoteBatch b{id, w.destination, first.envelope, w.targets};
        std::vector<TargetResult> res;
        transport.deliver(b, [&](std::vector<TargetResult> r) { res = std::move(r); });
        auto rec = d.record_remote(b, res, now);
        rcpts.insert(rcpts.end(), rec.rcpts.begin(), rec.rcpts.end());
        bounces.insert(bounces.end(), rec.bounce_ids.begin(), rec.bounce_ids.end());
    }
    AttemptReport last = d.complete(id, now);
    rcpts.insert(rcpts.end(), last.rcpts.begin(), last.rcpts.end());
    last.rcpts = std::move(rcpts);
    bounces.insert(bounces.end(), last.bounce_ids.begin(), last.bounce_ids.end());
    last.bounce_ids = std::move(bounces);
    return last;
}

}  // namespace postern::test
