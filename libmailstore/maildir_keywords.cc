// A folder's dovecot-keywords list (maildir_keywords.h).
#include "libmailstore/maildir_keywords.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "libmailstore/maildir_name.h"
#include "libmailstore/unique_fd.h"
#include "libproto/core/ascii.h"

namespace postern {
namespace {

// A list of 26 names is small; anything much larger is not a keyword list.
constexpr size_t max_file_size = 1 << 20;

bool writable_name(std::string_view name) {
    return !name.empty() && std::none_of(name.begin(), name.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
}

bool contains(const std::vector<std::string>& ks, std::string_view k) {
    return std::any_of(ks.begin(), ks.end(), [&](const std::string& x) { return iequals(x, k); });
}

StoreResult<void> write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t w = ::write(fd, s.data(), s.size());
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return std::unexpected(errno_to_store_error(errno));
        s.remove_prefix(size_t(w));
    }
    return {};
}

}  // namespace

StoreResult<KeywordList> KeywordList::load(const fs::path& folder_dir) {
    UniqueFd fd(
        ::open((folder_dir / file_name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return KeywordList{};
        return std::unexpected(errno_to_store_error(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return std::unexpected(errno_to_store_error(errno));
    if (!S_ISREG(st.st_mode) || uint64_t(st.st_size) > max_file_size)
        return std::unexpected(StoreError::corrupt);
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::unexpected(errno_to_store_error(errno));
        if (n == 0) break;
        text.append(buf, size_t(n));
        if (text.size() > max_file_size) return std::unexpected(StoreError::corrupt);
    }
    return parse(text);
}

KeywordList KeywordList::parse(std::string_view text) {
    KeywordList out;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        size_t sp = line.find(' ');
        if (sp == std::string_view::npos) continue;
        std::string_view num = line.substr(0, sp), name = line.substr(sp + 1);
        unsigned idx = 0;
        auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), idx);
        if (ec != std::errc{} || p != num.data() + num.size() || num.empty() ||
            idx >= max_keyword_letters || name.empty())
            continue;
        out.names_[idx] = std::string(name);
    }
    return out;
}

std::string KeywordList::serialize() const {
    std::string out;
    for (int i = 0; i < max_keyword_letters; ++i) {
        if (names_[size_t(i)].empty()) continue;
        out += std::to_string(i);
        out += ' ';
        out += names_[size_t(i)];
        out += '\n';
    }
    return out;
}

int KeywordList::find(std::string_view name) const {
    for (int i = 0; i < max_keyword_letters; ++i)
        if (!names_[size_t(i)].empty() && iequals(names_[size_t(i)], name)) return i;
    return -1;
}

const std::string& KeywordList::name_at(int index) const {
    static const std::string none;
    if (index < 0 || index >= max_keyword_letters) return none;
    return names_[size_t(index)];
}

int KeywordList::assign(std::string_view name) {
    if (int i = find(name); i >= 0) return i;
    if (!writable_name(name)) return -1;
    for (int i = 0; i < max_keyword_letters; ++i) {
        if (!names_[size_t(i)].empty()) continue;
        names_[size_t(i)] = std::string(name);
        changed_ = true;
        return i;
    }
    return -1;
}

uint32_t KeywordList::letters_for(const std::vector<std::string>& keywords, bool assign_new) {
    uint32_t letters = 0;
    for (const auto& k : keywords) {
        int i = assign_new ? assign(k) : find(k);
        if (i >= 0) letters |= 1u << i;
    }
    return letters;
}

std::vector<std::string> KeywordList::keywords_for(uint32_t letters,
                                                   const std::vector<std::string>& previous) {
    std::vector<std::string> out;
    for (const auto& k : previous) {
        int i = find(k);
        if (i >= 0 && (letters & (1u << i)) == 0) continue;  // the file name says it is gone
        if (!k.empty() && !contains(out, k)) out.push_back(k);
    }
    for (int i = 0; i < max_keyword_letters; ++i) {
        if ((letters & (1u << i)) == 0) continue;
        std::string& name = names_[size_t(i)];
        if (name.empty()) {
            std::string n = "unknown-" + std::to_string(i);
            while (find(n) >= 0) n += '?';
            name = std::move(n);
            changed_ = true;
        }
        if (!contains(out, name)) out.push_back(name);
    }
    return out;
}

StoreResult<void> KeywordList::save(const fs::path& folder_dir) {
    if (!changed_) return {};
    const fs::path tmp = folder_dir / (std::string(file_name) + ".tmp");
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640));
    if (!fd) return std::unexpected(errno_to_store_error(errno));
    if (auto w = write_all(fd.get(), serialize()); !w) return w;
    if (::fsync(fd.get()) != 0) return std::unexpected(errno_to_store_error(errno));
    fd.reset();
    if (::rename(tmp.c_str(), (folder_dir / file_name).c_str()) != 0)
        return std::unexpected(errno_to_store_error(errno));
    if (auto s = fsync_path(folder_dir); !s) return s;
    changed_ = false;
    return {};
}

}  // namespace postern
