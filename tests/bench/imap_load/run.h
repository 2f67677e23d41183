#pragma once
// State shared by all clients of one run (one libuv loop, one thread): the options, the
// statistics, the measuring window and the set-up ramp.

#include <chrono>
#include <cstdint>
#include <deque>
#include <openssl/ssl.h>
#include <string_view>
#include <uv.h>

#include "options.h"
#include "stats.h"

namespace imap_load {

using Clock = std::chrono::steady_clock;
class Client;

struct Run {
    const Options& opts;
    uv_loop_t* loop;
    SSL_CTX* ssl = nullptr;
    Stats stats;

    bool measuring = false;  // commands completing now are recorded
    bool stopping = false;   // mix: the window is over, clients clean up and log out
    bool releasing = false;  // idle mode: the hold is over, clients send DONE
    Clock::time_point window_start, deadline;

    int set_up = 0;               // clients that reached their steady state (selected / in IDLE)
    int failed = 0;               // clients whose set-up failed and that will not retry
    int in_flight = 0;            // clients connecting or logging in now (bounded by --ramp)
    std::deque<Client*> waiting;  // clients not yet started, in order

    Run(const Options& o, uv_loop_t* l) : opts(o), loop(l) {}

    // Counts an error and prints the first --show-errors of them.
    void error(int client, const char* cmd, std::string_view what);
    // A client left the set-up phase (steady state or failure): start the next waiting one.
    void setup_ended();
    // Starts waiting clients until --ramp of them are setting up.
    void kick();
    bool recording(Clock::time_point started, Clock::time_point now) const {
        return measuring && started >= window_start && now <= deadline;
    }
};

}  // namespace imap_load
