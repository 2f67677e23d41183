#pragma once
// imap_load's command line: what to connect to, as whom, and which workload to run.

#include <array>
#include <cstdint>
#include <string>

namespace imap_load {

// The commands of the mix (--mix name=weight,...). expunge issues two commands (UID STORE
// +FLAGS.SILENT (\Deleted) of the UIDs this client appended, then EXPUNGE).
enum class Op { flags, envelope, body, store, append, expunge, noop, idle, count };
inline constexpr std::array<const char*, static_cast<size_t>(Op::count)> op_names = {
    "flags", "envelope", "body", "store", "append", "expunge", "noop", "idle"};

enum class Mode { mix, select_cost, idle_hold };

struct Options {
    std::string host = "127.0.0.1";
    uint16_t port = 143;
    bool tls = false;
    std::string user_fmt = "u%d@bench.test";  // %d: first + client % users
    std::string password = "pass";
    int first = 1;
    int users = 0;  // 0: one user per client
    int clients = 10;
    double seconds = 10;
    Mode mode = Mode::mix;
    std::array<int, static_cast<size_t>(Op::count)> weights = {10, 20, 20, 15, 5, 5, 23, 2};
    int msgs = 0;                  // messages the tests may touch (1..msgs); 0: EXISTS at SELECT
    int envelope_span = 10;        // UID FETCH n:n+span-1 (ENVELOPE)
    double idle_ms = 5;            // mix: how long an IDLE waits when nothing arrives
    std::string folder = "INBOX";  // --select-cost FOLDER
    int reps = 5;                  // --select-cost: timed repetitions after one warm-up
    int ramp = 100;                // connections being set up at once
    double open_seconds = 300;     // --idle: stop opening after this long
    std::string ready_file;        // --idle: created once every connection is in IDLE
    std::string json;              // write the report as JSON here ("-": stdout)
    int show_errors = 10;
};

// Parses argv; prints usage and exits with status 2 on a bad command line.
Options parse_options(int argc, char** argv);

}  // namespace imap_load
