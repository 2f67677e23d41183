#pragma once
// The write side of one APPEND (imapd/cmd_append.cc): the literal's bytes go to the store's
// staged messages (store.h StagedMessage) on the pool, never all in memory. Bytes are
// gathered into a buffer of chunk_bytes; a full buffer becomes one pool job while the next
// fills. With a job in flight and the next buffer full (or a message end waiting), full()
// says so and the session reads no further input until wake() (backpressure): at most about
// two buffers per APPEND are held, whatever the message size.
//
// The staged messages live in a SpoolFiles shared with the jobs; only one job runs at a
// time and the loop reads SpoolFiles only between jobs. Destroying the spool (the APPEND
// failed, the client went away mid-literal) removes them on the pool.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imapd/imap_backend.h"

namespace postern {

struct SpoolFiles {
    std::vector<std::unique_ptr<StagedMessage>> msgs;  // one per message, in order
};

class AppendSpool {
public:
    static constexpr size_t chunk_bytes = 256 * 1024;

    // `wake` runs on the loop after each job (the session may read again).
    AppendSpool(ImapBackend& backend, std::string user, std::function<void()> wake);
    ~AppendSpool();
    AppendSpool(const AppendSpool&) = delete;
    AppendSpool& operator=(const AppendSpool&) = delete;

    void begin_message();            // the next bytes start a new message
    void write(std::string_view b);  // copied; a full buffer goes to the pool
    void end_message();              // the message is complete: flush and finish it

    // Stop feeding until wake(): a job is in flight and the next one is ready.
    bool full() const;
    // Nothing in flight or buffered: messages() is complete (or error() is set).
    bool idle() const;
    // The first write error; later bytes are dropped.
    std::optional<StoreError> error() const { return error_; }
    // The staged messages, for the commit job (only while idle()).
    std::shared_ptr<SpoolFiles> files() const { return files_; }

private:
    struct Job;
    void submit();

    ImapBackend& backend_;
    std::string user_;
    std::function<void()> wake_;
    std::shared_ptr<SpoolFiles> files_ = std::make_shared<SpoolFiles>();
    std::string buf_;    // being filled
    std::string spare_;  // the other buffer, back from the last job
    bool start_pending_ = false;
    bool finish_pending_ = false;
    bool in_flight_ = false;
    std::optional<StoreError> error_;
    std::shared_ptr<char> alive_ = std::make_shared<char>(0);
};

}  // namespace postern
