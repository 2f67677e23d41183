#include "libproto/dkim/dkim_key_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <system_error>

#include "libproto/core/safe_files.h"
#include "libproto/core/secret.h"

namespace postern {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxKeyFile = 64 * 1024;  // an 8192-bit RSA PEM is about 6.5 KB

std::optional<std::string> read_active_file(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line)) return std::nullopt;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!dkim_valid_name(line)) return std::nullopt;
    return line;
}

}  // namespace

fs::path dkim_key_dir(const fs::path& data_dir) { return data_dir / "dkim"; }

bool dkim_valid_name(std::string_view name) {
    if (name.empty() || name.size() > 253 || name[0] == '.' || name[0] == '-') return false;
    if (name.find("..") != std::string_view::npos) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    });
}

std::vector<DkimKeyFile> dkim_list_keys(const fs::path& dir) {
    std::map<std::pair<std::string, std::string>, fs::path> found;
    std::error_code ec;
    for (const auto& d : fs::directory_iterator(dir, ec)) {
        std::string domain = d.path().filename().string();
        if (!dkim_valid_name(domain) || !d.is_directory(ec) || d.is_symlink(ec)) continue;
        for (const auto& f : fs::directory_iterator(d.path(), ec)) {
            if (f.path().extension() != ".key") continue;
            std::string selector = f.path().stem().string();
            if (dkim_valid_name(selector)) found[{domain, selector}] = f.path();
        }
    }
    std::vector<DkimKeyFile> out;
    out.reserve(found.size());
    for (auto& [k, path] : found) out.push_back({k.first, k.second, path, false});
    for (auto& k : out) {
        auto active = dkim_active_selector(dir, k.domain);
        k.active = active && *active == k.selector;
    }
    return out;
}

std::optional<std::string> dkim_active_selector(const fs::path& dir, std::string_view domain) {
    if (!dkim_valid_name(domain)) return std::nullopt;
    fs::path d = dir / std::string(domain);
    std::error_code ec;
    if (fs::exists(d / "active", ec)) {
        auto s = read_active_file(d / "active");
        if (s && fs::exists(d / (*s + ".key"), ec)) return s;
        return std::nullopt;  // names no key: sign with none rather than guess
    }
    std::optional<std::string> only;
    for (const auto& f : fs::directory_iterator(d, ec)) {
        if (f.path().extension() != ".key" || !dkim_valid_name(f.path().stem().string())) continue;
        if (only) return std::nullopt;  // several keys and no "active": which one is unsaid
        only = f.path().stem().string();
    }
    return only;
}

std::expected<DkimKey, std::string> dkim_read_key_file(const fs::path& path) {
    auto fd = open_plain_file(path, O_RDONLY, 0, {::geteuid(), 0});
    if (!fd) return std::unexpected(fd.error());
    struct stat st {};
    if (::fstat(*fd, &st) != 0) {
        int e = errno;
        ::close(*fd);
        return std::unexpected(path.string() + ": " + std::strerror(e));
    }
    if ((st.st_mode & 077) != 0) {
        ::close(*fd);
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
        return std::unexpected(path.string() + ": mode " + mode +
                               " lets others read the key (chmod 600 it)");
    }
    std::string pem;
    pem.resize(size_t(std::min<off_t>(st.st_size, off_t(kMaxKeyFile))));
    size_t got = 0;
    while (got < pem.size()) {
        ssize_t n = ::read(*fd, pem.data() + got, pem.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += size_t(n);
    }
    ::close(*fd);
    pem.resize(got);
    auto key = DkimKey::from_pem(pem);
    wipe(pem);
    if (!key) return std::unexpected(path.string() + ": " + key.error());
    return key;
}

namespace {

std::expected<void, std::string> make_private_dir(const fs::path& d) {
    auto r = make_dir(d, 0700);
    if (!r) return std::unexpected(r.error());
    return {};
}

}  // namespace

std::expected<void, std::string> dkim_write_key_file(const fs::path& dir, std::string_view domain,
                                                     std::string_view selector, const DkimKey& key,
                                                     bool replace) {
    if (!dkim_valid_name(domain) || !dkim_valid_name(selector))
        return std::unexpected("invalid domain or selector: " + std::string(domain) + ", " +
                               std::string(selector));
    fs::path d = dir / std::string(domain);
    fs::path path = d / (std::string(selector) + ".key");
    std::error_code ec;
    if (!replace && fs::symlink_status(path, ec).type() != fs::file_type::not_found)
        return std::unexpected(path.string() + " exists (--force replaces it)");
    if (auto r = make_private_dir(dir); !r) return r;
    if (auto r = make_private_dir(d); !r) return r;
    auto pem = key.private_pem();
    if (!pem) return std::unexpected(pem.error());
    auto r = write_file_atomically(path, *pem, 0600);
    wipe(*pem);
    return r;
}

std::expected<void, std::string> dkim_set_active(const fs::path& dir, std::string_view domain,
                                                 std::string_view selector) {
    if (!dkim_valid_name(domain) || !dkim_valid_name(selector))
        return std::unexpected(std::string("invalid domain or selector"));
    fs::path d = dir / std::string(domain);
    std::error_code ec;
    if (!fs::exists(d / (std::string(selector) + ".key"), ec))
        return std::unexpected("no key " + std::string(selector) + " for " + std::string(domain));
    return write_file_atomically(d / "active", std::string(selector) + "\n", 0600);
}

std::string dkim_dns_zone_line(std::string_view domain, std::string_view selector,
                               const DkimKey& key) {
    std::string text = key.dns_record();
    std::string line = std::string(selector) + "._domainkey." + std::string(domain) + ". IN TXT";
    constexpr size_t kMaxString = 255;
    for (size_t at = 0; at < text.size(); at += kMaxString)
        line += " \"" + text.substr(at, kMaxString) + "\"";
    return line;
}

}  // namespace postern
