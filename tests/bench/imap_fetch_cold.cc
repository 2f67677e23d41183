// Cold and warm FETCH 1:* (ENVELOPE) over a real MaildirStore.
//   imap_fetch_cold populate DATA_DIR N      a fresh store with N uncached messages
//   imap_fetch_cold fetch DATA_DIR [--per-message]
// `fetch` drives imapd's FetchJob as cmd_fetch does (one produce() per pool round) cold,
// then again warm, and prints "cold 5000 msgs 0.41 s" / "warm ...". With --per-message the
// cold pass instead parses and caches each message with its own cache_put (what FetchJob
// did before cache_put_many). Two commands so that `strace -c` of `fetch` counts the
// FETCH's syncs only (tests/bench/imap_fetch_cold.sh).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "imapd/fetch_job.h"
#include "imapd/fetch_plan.h"
#include "imapd/message_structure.h"
#include "libmailstore/store.h"

namespace fs = std::filesystem;
using namespace postern;

namespace {

std::string message(int i) {
    std::string m = "From: \"Sender " + std::to_string(i) +
                    "\" <sender@example.net>\r\n"
                    "To: alice@example.org\r\n"
                    "Subject: benchmark message " +
                    std::to_string(i) +
                    "\r\n"
                    "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
                    "Message-ID: <" +
                    std::to_string(i) +
                    "@example.net>\r\n"
                    "MIME-Version: 1.0\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\n"
                    "\r\n";
    for (int l = 0; l < 40; ++l)
        m += "Some body text of a typical mail, line " + std::to_string(l) + "\r\n";
    return m;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// FETCH 1:* (ENVELOPE) through FetchJob, as cmd_fetch.cc runs it; the response is dropped.
bool fetch_envelopes(const std::shared_ptr<Mailbox>& box) {
    ImapFetch f;
    FetchAttr a;
    a.item = FetchItem::envelope;
    f.attrs.push_back(a);
    FetchPlan plan = make_fetch_plan(f, false, true, false, false);
    std::vector<uint32_t> uids;
    for (const MessageEntry& e : box->messages()) uids.push_back(e.uid);
    FetchJob job(box, std::move(plan), std::move(uids));
    while (!job.produce(256 * 1024)) job.output().clear();
    return !job.error();
}

// The old way: each parsed structure written by its own cache_put.
bool per_message(Mailbox& box) {
    std::vector<char> buf(64 * 1024);
    for (const MessageEntry& e : box.messages()) {
        std::unique_ptr<MessageReader> reader;
        CacheSlotBatch one;
        if (!load_message_structure(box, e.uid, reader, buf, one)) return false;
        one.flush(box);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    bool populate = argc == 4 && std::strcmp(argv[1], "populate") == 0;
    bool fetch = (argc == 3 || argc == 4) && std::strcmp(argv[1], "fetch") == 0;
    if (!populate && !fetch) {
        std::fprintf(stderr,
                     "usage: imap_fetch_cold populate DATA_DIR N\n"
                     "       imap_fetch_cold fetch DATA_DIR [--per-message]\n");
        return 2;
    }
    fs::path data = argv[2];
    if (populate) {
        fs::remove_all(data);
        fs::create_directories(data);
    }
    auto store = open_maildir_store(data, StoreOptions{});
    if (!store) {
        std::fprintf(stderr, "store: %s\n", std::string(describe(store.error())).c_str());
        return 1;
    }
    const std::string user = "alice@example.org";
    if (populate) {
        if (auto r = (*store)->create_user(user); !r) {
            std::fprintf(stderr, "create_user: %s\n", std::string(describe(r.error())).c_str());
            return 1;
        }
        int n = std::atoi(argv[3]);
        for (int i = 0; i < n; ++i) {
            if (auto r = (*store)->deliver(user, MessageSource::from_bytes(message(i)), {}); !r) {
                std::fprintf(stderr, "deliver: %s\n", std::string(describe(r.error())).c_str());
                return 1;
            }
        }
        return 0;
    }
    bool old_way = argc == 4 && std::strcmp(argv[3], "--per-message") == 0;
    auto opened = (*store)->open_mailbox(user);
    if (!opened) return 1;
    std::shared_ptr<Mailbox> box = std::move(*opened);
    auto n = box->messages().size();
    auto t = std::chrono::steady_clock::now();
    bool ok = old_way ? per_message(*box) : fetch_envelopes(box);
    std::printf("cold %zu msgs %.3f s%s\n", n, seconds_since(t),
                old_way ? " (one cache_put per message)" : " (cache_put_many per round)");
    t = std::chrono::steady_clock::now();
    ok = fetch_envelopes(box) && ok;
    std::printf("warm %zu msgs %.3f s\n", n, seconds_since(t));
    return ok ? 0 : 1;
}
