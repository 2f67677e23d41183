#pragma once
// What imap_load measured: per command, how many completed inside the measuring window,
// their latencies, errors and untagged lines; printed as a text table and optionally JSON.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace imap_load {

enum class Cmd {
    login,
    select,
    fetch_flags,    // FETCH 1:* (FLAGS)
    envelope,       // UID FETCH n:m (ENVELOPE)
    body,           // FETCH n BODY.PEEK[]
    store_seen,     // STORE n +FLAGS/-FLAGS (\Seen)
    append,         // APPEND INBOX {n}
    store_deleted,  // UID STORE uids +FLAGS.SILENT (\Deleted)
    expunge,        // EXPUNGE
    noop,           // NOOP
    idle,           // IDLE ... DONE, including the wait
    uid_fetch_all,  // UID FETCH 1:* (FLAGS)   (--select-cost)
    logout,
    count
};
inline constexpr std::array<const char*, static_cast<size_t>(Cmd::count)> cmd_names = {
    "LOGIN",
    "SELECT",
    "FETCH 1:* FLAGS",
    "UID FETCH ENVELOPE",
    "FETCH BODY.PEEK[]",
    "STORE \\Seen",
    "APPEND",
    "UID STORE \\Deleted",
    "EXPUNGE",
    "NOOP",
    "IDLE",
    "UID FETCH 1:* FLAGS",
    "LOGOUT"};

struct CmdStats {
    uint64_t done = 0;      // completed OK inside the window
    uint64_t errors = 0;    // NO, BAD, or a failed check
    uint64_t untagged = 0;  // untagged lines received for it
    std::vector<uint32_t> latency_us;
};

struct Stats {
    std::array<CmdStats, static_cast<size_t>(Cmd::count)> cmd;
    uint64_t errors = 0;  // all errors, including connection failures
    uint64_t connection_errors = 0;
    uint64_t untagged = 0;
    uint64_t bytes_in = 0;
    uint64_t literal_bytes = 0;
    double window_s = 0;    // the measuring window
    double client_cpu = 0;  // this process's CPU over the window (1.0: one core)

    void record(Cmd c, uint64_t us, uint64_t untagged_lines);
};

// One line of text per command with completions: count, per second, p50, p99, max (ms).
// `mix_only` leaves LOGIN/SELECT/LOGOUT out of the overall commands/s.
void print_table(const Stats& s, const char* title, bool mix_only);
// The same as one JSON object, plus `extra` (already JSON members, may be empty).
bool write_json(const Stats& s, const std::string& path, const std::string& extra);

}  // namespace imap_load
