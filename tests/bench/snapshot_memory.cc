// snapshot_memory: what open folder snapshots cost. Makes USERS users with MSGS messages
// each in a temporary Maildir store, then opens SESSIONS Mailbox handles on their INBOXes
// (round robin, as many sessions of one process would) and prints the resident-set growth
// per handle and in all. Issue 8's bar: 10,000 sessions on 100-message mailboxes in well
// under 100 MB.
//
//   snapshot_memory [SESSIONS [USERS [MSGS]]]      (defaults 10000 100 100)

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "libmailstore/store.h"

namespace fs = std::filesystem;
using namespace postern;

namespace {

long rss_kb() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.starts_with("VmRSS:")) return std::atol(line.c_str() + 6);
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    int sessions = argc > 1 ? std::atoi(argv[1]) : 10000;
    int users = argc > 2 ? std::atoi(argv[2]) : 100;
    int msgs = argc > 3 ? std::atoi(argv[3]) : 100;
    if (sessions <= 0 || users <= 0 || msgs < 0) {
        std::fprintf(stderr, "usage: snapshot_memory [SESSIONS [USERS [MSGS]]]\n");
        return 2;
    }
    char tmpl[] = "/tmp/postern-snapmem-XXXXXX";
    fs::path dir = ::mkdtemp(tmpl);
    auto store = open_maildir_store(dir);
    if (!store) return 1;
    std::string body = "Subject: x\r\n\r\n" + std::string(4000, 'a') + "\r\n";
    std::vector<std::string> names;
    for (int u = 1; u <= users; ++u) {
        names.push_back("u" + std::to_string(u) + "@bench.test");
        if (auto r = (*store)->create_user(names.back()); !r) {
            std::fprintf(stderr, "create_user: %s\n", describe(r.error()));
            return 1;
        }
        std::vector<DeliveryBatchItem> batch;
        for (int m = 0; m < msgs; ++m)
            batch.push_back({{names.back()}, MessageSource::from_bytes(body), {}});
        (*store)->deliver_batch(batch);
        // A first open moves new/ to cur/, as the first session of a real user would.
        if (auto b = (*store)->open_mailbox(names.back()); !b) return 1;
    }
    long before = rss_kb();
    std::vector<std::unique_ptr<Mailbox>> open;
    open.reserve(size_t(sessions));
    for (int s = 0; s < sessions; ++s) {
        auto b = (*store)->open_mailbox(names[size_t(s % users)]);
        if (!b || (*b)->messages().size() != size_t(msgs)) {
            std::fprintf(stderr, "open_mailbox failed\n");
            return 1;
        }
        open.push_back(std::move(*b));
    }
    long after = rss_kb();
    std::printf(
        "sessions=%d users=%d msgs=%d rss_before_kb=%ld rss_after_kb=%ld "
        "growth_kb=%ld bytes_per_session=%.0f\n",
        sessions, users, msgs, before, after, after - before,
        double(after - before) * 1024.0 / sessions);
    open.clear();
    std::error_code ec;
    fs::remove_all(dir, ec);
    return 0;
}
