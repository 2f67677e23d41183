#include "run.h"

#include <cstdio>
#include <string>

#include "client.h"

namespace imap_load {

void Run::error(int client, const char* cmd, std::string_view what) {
    ++stats.errors;
    if (stats.errors <= static_cast<uint64_t>(opts.show_errors))
        std::fprintf(stderr, "imap_load: error (client %d, %s): %.*s\n", client, cmd,
                     static_cast<int>(what.size()), what.data());
}

void Run::setup_ended() {
    if (in_flight > 0) --in_flight;
    kick();
}

void Run::kick() {
    while (in_flight < opts.ramp && !waiting.empty() && !releasing && !stopping) {
        Client* c = waiting.front();
        waiting.pop_front();
        ++in_flight;
        c->start();
    }
}

}  // namespace imap_load
