// pop3_populate: fills a Postern store for the POP3 benchmark with the same messages the
// shared Dovecot setup serves, through libmailstore (Accounts + MailStore::deliver).
//
//   pop3_populate DATA_DIR SRC_BASE DOMAIN USERS
//
// Adds DOMAIN and users u1..uUSERS@DOMAIN, all with one yescrypt hash of the password in
// $BENCH_PASS (default "pass"), then delivers every file of SRC_BASE/uN/cur (sorted by
// name, as ../shared/bench/populate.py writes them) into uN's INBOX with the file's
// mtime as internal date. Prints the hash on stdout (the benchmark gives Dovecot the same
// one, so both servers check the same yescrypt cost per login).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <sys/stat.h>

#include "libmailstore/accounts.h"
#include "libmailstore/password.h"
#include "libmailstore/store.h"

namespace fs = std::filesystem;
using namespace postern;

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: pop3_populate DATA_DIR SRC_BASE DOMAIN USERS\n");
        return 2;
    }
    fs::path data = argv[1], src = argv[2];
    std::string domain = argv[3];
    int users = std::atoi(argv[4]);
    const char* pw = std::getenv("BENCH_PASS");
    std::string password = pw ? pw : "pass";

    auto accounts = Accounts::open(data, 1ull << 30, Accounts::Open::create);
    if (!accounts) {
        std::fprintf(stderr, "accounts: %s\n", std::string(describe(accounts.error())).c_str());
        return 1;
    }
    auto store = open_maildir_store(data, StoreOptions{});
    if (!store) {
        std::fprintf(stderr, "store: %s\n", std::string(describe(store.error())).c_str());
        return 1;
    }
    if (auto r = (*accounts)->add_domain(domain); !r && r.error() != StoreError::exists) {
        std::fprintf(stderr, "add_domain: %s\n", std::string(describe(r.error())).c_str());
        return 1;
    }
    auto hash = hash_password(password);
    if (!hash) return 1;
    size_t delivered = 0;
    for (int i = 1; i <= users; ++i) {
        std::string local = "u" + std::to_string(i);
        std::string addr = local + "@" + domain;
        if (auto r = (*accounts)->add_user_with_hash(addr, *hash); !r) {
            std::fprintf(stderr, "add_user %s: %s\n", addr.c_str(),
                         std::string(describe(r.error())).c_str());
            return 1;
        }
        if (auto r = (*store)->create_user(addr); !r) {
            std::fprintf(stderr, "create_user %s: %s\n", addr.c_str(),
                         std::string(describe(r.error())).c_str());
            return 1;
        }
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(src / local / "cur")) files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            std::ifstream in(f, std::ios::binary);
            std::stringstream ss;
            ss << in.rdbuf();
            std::string bytes = ss.str();
            DeliveryOptions o;
            struct stat st {};
            if (::stat(f.c_str(), &st) == 0) o.internal_date = st.st_mtime;
            if (auto r = (*store)->deliver(addr, MessageSource::from_bytes(bytes), o); !r) {
                std::fprintf(stderr, "deliver %s: %s\n", addr.c_str(),
                             std::string(describe(r.error())).c_str());
                return 1;
            }
            ++delivered;
        }
    }
    std::fprintf(stderr, "pop3_populate: %d users, %zu messages\n", users, delivered);
    std::printf("%s\n", hash->c_str());
    return 0;
}
