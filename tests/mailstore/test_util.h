#pragma once
// Helpers for the store tests: a temp dir removed at the end, message bytes.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

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
