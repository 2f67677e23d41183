#pragma once
// Helpers for the store tests: a temp dir removed at the end, a data dir with users, message
// bytes.

#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "libmailstore/accounts.h"
#include "libmailstore/store.h"

namespace postern::test {

class TempDir {
public:
    TempDir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "postern-store-XXXXXX").string();
        char* p = ::mkdtemp(tmpl.data());
        path_ = p ? p : "";
    }
    ~TempDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// The users' Maildir storage in data_dir (what mailctl user add makes beside the account).
inline void make_mailboxes(const std::filesystem::path& data_dir,
                           std::initializer_list<std::string_view> users) {
    StoreOptions opts;
    opts.disk_reserve_bytes = 0;
    auto s = open_maildir_store(data_dir, opts);
    REQUIRE(s);
    for (auto u : users) REQUIRE((*s)->create_user(u));
}

// A new accounts database in data_dir with domain example.com and the given users (password
// "pw"), each with its Maildir storage.
inline std::shared_ptr<Accounts> accounts_with_users(
    const std::filesystem::path& data_dir, std::initializer_list<std::string_view> users) {
    auto a = Accounts::open(data_dir, 64ull << 20, Accounts::Open::create);
    REQUIRE(a);
    REQUIRE((*a)->add_domain("example.com"));
    for (auto u : users) REQUIRE((*a)->add_user(u, "pw"));
    make_mailboxes(data_dir, users);
    return *a;
}

// A CRLF message whose body says who sent it; "n" makes it unique.
inline std::string make_message(const std::string& tag, int n, size_t body_lines = 3) {
    std::string m = "From: a@example.org\r\nTo: b@example.com\r\nSubject: " + tag + " " +
                    std::to_string(n) + "\r\n\r\n";
    for (size_t i = 0; i < body_lines; ++i)
        m += "line " + std::to_string(i) + " of message " + std::to_string(n) + "\r\n";
    return m;
}

inline size_t count_files(const std::filesystem::path& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); ++it)
        ++n;
    return n;
}

}  // namespace postern::test
