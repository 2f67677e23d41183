// libFuzzer: the queue's state log parser (state/<id>, read by spoold before every attempt and
// by mailctl; a damaged or torn log must skip records, never crash or misread). Every record
// that decodes must encode and decode again to itself, and replaying any log over an envelope
// (in range or not) leaves every recipient in a consistent state.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "libmailstore/queue/queue.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace postern;
    std::string_view log(reinterpret_cast<const char*>(data), size);
    auto recs = decode_state_log(log);
    std::string again;
    for (const auto& r : recs) again += encode_state_record(r);
    auto twice = decode_state_log(again);
    if (twice.size() != recs.size()) std::abort();
    for (size_t i = 0; i < recs.size(); ++i)
        if (encode_state_record(twice[i]) != encode_state_record(recs[i])) std::abort();

    Envelope env;
    env.recipients.resize(3);
    for (const auto& r : recs) apply_state_record(env, r);
    derive_status(env);
    for (const auto& r : env.recipients) {
        if (!r.expanded && !r.targets.empty()) std::abort();
        bool all_delivered = !r.targets.empty();
        for (const auto& t : r.targets)
            all_delivered = all_delivered && t.state == TargetState::delivered;
        if (r.expanded && all_delivered && r.status != RcptStatus::delivered) std::abort();
    }
    return 0;
}
