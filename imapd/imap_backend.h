#pragma once
// What an ImapSession asks of the daemon's world: the mail store, credential lookups,
// and the two hooks that keep the event loop from ever waiting:
//
//   run_blocking(work, done)  `work` runs where blocking is fine (the daemon: the libuv
//                             thread pool; tests: inline or on a thread), then `done` on the
//                             session's thread. `work` owns what it touches (shared_ptrs,
//                             values, the store, which outlives every session).
//   post(fn)                  thread-safe: runs fn on the session's thread soon (a folder
//                             watch calls it from a store thread).
//
// The session guards its own callbacks (a session destroyed while work is in flight is
// never called back), so a backend needs no cancellation.

#include <cstdint>
#include <functional>
#include <string_view>

#include "libmailstore/store.h"
#include "libproto/sasl/sasl.h"

namespace postern {

class ImapBackend {
public:
    virtual ~ImapBackend() = default;
    virtual MailStore& store() = 0;
    // Login resolution (Accounts::resolve_login), password checks (with a dummy hash for
    // unknown users) and SCRAM keys; called from run_blocking work, so thread-safe.
    virtual const SaslCallbacks& sasl_callbacks() = 0;
    // Hostname and the instance secret for unknown users' fake SCRAM salts.
    virtual SaslOptions sasl_options() = 0;
    // The user's quota in octets (0: unlimited) for GETQUOTA; called from run_blocking work.
    // This default derives it from the store (usage + quota_room: exact below the quota, the
    // usage once at or over it); the daemon reads Accounts, as the store does.
    virtual StoreResult<uint64_t> quota_limit(std::string_view user) {
        auto room = store().quota_room(user);
        if (!room) return std::unexpected(room.error());
        if (*room == UINT64_MAX) return 0;
        auto used = store().usage(user);
        if (!used) return std::unexpected(used.error());
        return *used + *room;
    }
    virtual void run_blocking(std::function<void()> work, std::function<void()> done) = 0;
    virtual void post(std::function<void()> fn) = 0;
};

}  // namespace postern
