// Folder attributes: the folder list with special-use and subscription state, STATUS, and
// the two files that keep special-use and subscriptions (maildir_folder_attrs.h).
#include "libmailstore/maildir_folder_attrs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <functional>
#include <optional>
#include <set>

#include "libmailstore/maildir_store.h"
#include "libmailstore/unique_fd.h"
#include "libproto/core/ascii.h"
#include "libproto/core/log.h"

namespace postern {
namespace {

constexpr const char* subscriptions_file = "subscriptions";
constexpr const char* special_use_file = "postern-special-use";
constexpr std::string_view dovecot_v2_header = "V\t2\n\n";
constexpr size_t max_attr_file = 16u << 20;  // far above any real list; more is not ours

struct UseName {
    uint8_t bit;
    std::string_view name;
};
constexpr std::array<UseName, 7> use_names{{{use_all, "\\All"},
                                            {use_archive, "\\Archive"},
                                            {use_drafts, "\\Drafts"},
                                            {use_flagged, "\\Flagged"},
                                            {use_junk, "\\Junk"},
                                            {use_sent, "\\Sent"},
                                            {use_trash, "\\Trash"}}};

// Calls f(line) for each line of text (without "\n" or trailing "\r"s: a file edited on
// another system), skipping empty ones.
template <class F>
void for_each_line(std::string_view text, F f) {
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) f(line);
    }
}

// Dovecot's tab-unescaping (str_tabunescape): \001 followed by 0, 1, t, r or n.
std::string tab_unescaped(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\001' || i + 1 == s.size()) {
            out.push_back(s[i]);
            continue;
        }
        switch (s[++i]) {
        case '0': out.push_back('\0'); break;
        case '1': out.push_back('\001'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'n': out.push_back('\n'); break;
        default: out.push_back(s[i]);
        }
    }
    return out;
}

std::string replaced(std::string_view s, char from, char to) {
    std::string out(s);
    std::replace(out.begin(), out.end(), from, to);
    return out;
}

// A version 2 line's levels joined with '/'; "" (invalid) when a level holds a '/'.
std::string v2_name(std::string_view line) {
    std::string out;
    while (true) {
        size_t tab = line.find('\t');
        std::string level = tab_unescaped(line.substr(0, tab));
        if (level.find('/') != std::string::npos) return {};
        out += level;
        if (tab == std::string_view::npos) return out;
        out.push_back('/');
        line.remove_prefix(tab + 1);
    }
}

// The whole file; "" when it is not there.
StoreResult<std::string> read_attr_file(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return std::string();
        return std::unexpected(errno_to_store_error(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return std::unexpected(errno_to_store_error(errno));
    if (!S_ISREG(st.st_mode) || uint64_t(st.st_size) > max_attr_file) {
        log_msg(LogLevel::error, "store: %s: not a regular file of at most %zu octets",
                path.c_str(), max_attr_file);
        return std::unexpected(StoreError::corrupt);
    }
    std::string out(size_t(st.st_size), '\0');
    size_t got = 0;
    while (got < out.size()) {
        ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::unexpected(errno_to_store_error(errno));
        if (n == 0) break;
        got += size_t(n);
    }
    out.resize(got);
    return out;
}

StoreResult<void> write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::unexpected(errno_to_store_error(errno));
        data.remove_prefix(size_t(n));
    }
    return {};
}

// Read-modify-write of maildir/name under an exclusive flock of the maildir directory:
// edit gets the current text and returns the new one, or nullopt to leave the file alone.
// The new text replaces the file atomically and durably.
StoreResult<void> update_attr_file(
    const fs::path& maildir, const char* name,
    const std::function<std::optional<std::string>(std::string_view)>& edit) {
    UniqueFd dir(::open(maildir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!dir) return std::unexpected(errno_to_store_error(errno));
    while (::flock(dir.get(), LOCK_EX) != 0) {
        if (errno != EINTR) return std::unexpected(errno_to_store_error(errno));
    }
    const fs::path path = maildir / name;
    auto current = read_attr_file(path);
    if (!current) return std::unexpected(current.error());
    auto next = edit(*current);
    if (!next) return {};
    const fs::path tmp = maildir / (std::string(name) + ".tmp");
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640));
    if (!fd) return std::unexpected(errno_to_store_error(errno));
    auto w = write_all(fd.get(), *next);
    if (w && ::fsync(fd.get()) != 0) w = std::unexpected(errno_to_store_error(errno));
    if (w && ::rename(tmp.c_str(), path.c_str()) != 0)
        w = std::unexpected(errno_to_store_error(errno));
    if (!w) {
        ::unlink(tmp.c_str());
        return w;
    }
    if (::fsync(dir.get()) != 0) return std::unexpected(errno_to_store_error(errno));
    return {};
}

bool is_folder_dir(const fs::path& dir) {
    struct stat st {};
    return ::stat((dir / "cur").c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// INBOX first, then by name (the order of folders()).
void sort_folder_names(std::vector<std::string>& names) {
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
        if ((a == "INBOX") != (b == "INBOX")) return a == "INBOX";
        return a < b;
    });
}

}  // namespace

SubscriptionList parse_subscriptions(std::string_view text) {
    SubscriptionList out;
    if (text.starts_with(dovecot_v2_header)) {
        out.version = 2;
        text.remove_prefix(dovecot_v2_header.size());
    }
    std::set<std::string> seen;
    for_each_line(text, [&](std::string_view line) {
        // Version 1 separates levels with the Maildir++ '.', version 2 with a tab (and
        // escapes each level).
        std::string name = out.version == 2 ? v2_name(line) : replaced(line, '.', '/');
        auto canon = canonical_folder(name);
        if (!canon) {
            out.other_lines.emplace_back(line);
            return;
        }
        if (seen.insert(*canon).second) out.names.push_back(std::move(*canon));
    });
    return out;
}

std::string format_subscriptions(const SubscriptionList& s) {
    // Our names hold no control characters, so version 2 needs no tab-escaping.
    std::string out = s.version == 2 ? std::string(dovecot_v2_header) : std::string();
    for (const auto& n : s.names) out += replaced(n, '/', s.version == 2 ? '\t' : '.') + "\n";
    for (const auto& l : s.other_lines) out += l + "\n";
    return out;
}

SpecialUseTable parse_special_use(std::string_view text) {
    SpecialUseTable out;
    for_each_line(text, [&](std::string_view line) {
        size_t sp = line.find(' ');
        const UseName* use = nullptr;
        if (sp != std::string_view::npos) {
            for (const auto& u : use_names)
                if (iequals(line.substr(0, sp), u.name)) use = &u;
        }
        std::optional<std::string> folder;
        if (use != nullptr) {
            if (auto canon = canonical_folder(line.substr(sp + 1))) folder = std::move(*canon);
        }
        if (!folder) {
            out.other_lines.emplace_back(line);
            return;
        }
        out.uses[*folder] |= use->bit;
    });
    return out;
}

std::string format_special_use(const SpecialUseTable& t) {
    std::string out;
    for (const auto& [folder, bits] : t.uses) {
        for (const auto& u : use_names)
            if ((bits & u.bit) != 0) out += std::string(u.name) + " " + folder + "\n";
    }
    for (const auto& l : t.other_lines) out += l + "\n";
    return out;
}

StoreResult<SubscriptionList> read_subscriptions(const fs::path& maildir) {
    auto text = read_attr_file(maildir / subscriptions_file);
    if (!text) return std::unexpected(text.error());
    return parse_subscriptions(*text);
}

StoreResult<SpecialUseTable> read_special_use(const fs::path& maildir) {
    auto text = read_attr_file(maildir / special_use_file);
    if (!text) return std::unexpected(text.error());
    return parse_special_use(*text);
}

StoreResult<void> write_special_uses(const fs::path& maildir,
                                     const std::map<std::string, uint8_t>& uses) {
    return update_attr_file(maildir, special_use_file,
                            [&](std::string_view text) -> std::optional<std::string> {
                                auto t = parse_special_use(text);
                                bool changed = false;
                                for (const auto& [folder, bits] : uses) {
                                    auto it = t.uses.find(folder);
                                    uint8_t now = it == t.uses.end() ? 0 : it->second;
                                    if (now == bits) continue;
                                    changed = true;
                                    if (bits == 0)
                                        t.uses.erase(it);
                                    else
                                        t.uses[folder] = bits;
                                }
                                if (!changed) return std::nullopt;
                                return format_special_use(t);
                            });
}

StoreResult<void> write_special_use(const fs::path& maildir, const std::string& folder,
                                    uint8_t special_use) {
    return write_special_uses(maildir, {{folder, special_use}});
}

StoreResult<void> rename_special_use(const fs::path& maildir, const std::string& from,
                                     const std::string& to) {
    return update_attr_file(maildir, special_use_file,
                            [&](std::string_view text) -> std::optional<std::string> {
                                auto t = parse_special_use(text);
                                std::map<std::string, uint8_t> moved;
                                for (auto it = t.uses.begin(); it != t.uses.end();) {
                                    if (it->first == from || it->first.starts_with(from + "/")) {
                                        moved[to + it->first.substr(from.size())] = it->second;
                                        it = t.uses.erase(it);
                                    } else {
                                        ++it;
                                    }
                                }
                                if (moved.empty()) return std::nullopt;
                                for (auto& [name, bits] : moved) t.uses[name] = bits;
                                return format_special_use(t);
                            });
}

StoreResult<void> write_subscribed(const fs::path& maildir, const std::string& folder,
                                   bool subscribed) {
    return update_attr_file(maildir, subscriptions_file,
                            [&](std::string_view text) -> std::optional<std::string> {
                                auto s = parse_subscriptions(text);
                                auto it = std::find(s.names.begin(), s.names.end(), folder);
                                if ((it != s.names.end()) == subscribed) return std::nullopt;
                                if (subscribed)
                                    s.names.push_back(folder);
                                else
                                    s.names.erase(it);
                                return format_subscriptions(s);
                            });
}

StoreResult<std::vector<FolderEntry>> MaildirStore::folders(std::string_view user) {
    auto paths = user_paths(data_, user);
    if (!paths) return std::unexpected(paths.error());
    auto names = folders_on_disk(*paths);
    if (!names) return std::unexpected(names.error());
    auto subs = read_subscriptions(paths->maildir);
    if (!subs) return std::unexpected(subs.error());
    auto uses = read_special_use(paths->maildir);
    if (!uses) return std::unexpected(uses.error());
    const std::set<std::string> subscribed(subs->names.begin(), subs->names.end());
    std::vector<std::string> sorted = *names;
    std::sort(sorted.begin(), sorted.end());
    std::vector<FolderEntry> out;
    out.reserve(names->size());
    for (auto& n : *names) {
        FolderEntry e;
        auto u = uses->uses.find(n);
        e.special_use = u == uses->uses.end() ? 0 : u->second;
        e.subscribed = subscribed.count(n) != 0;
        auto child = std::lower_bound(sorted.begin(), sorted.end(), n + "/");
        e.has_children = child != sorted.end() && child->starts_with(n + "/");
        e.name = std::move(n);
        out.push_back(std::move(e));
    }
    return out;
}

StoreResult<FolderStatus> MaildirStore::status(std::string_view user, std::string_view folder) {
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    auto idx = index_for(user);
    if (!idx) return std::unexpected(idx.error());
    auto txn = lmdb::Txn::begin((*idx)->env(), true);
    if (!txn) return std::unexpected(txn.error());
    // new/ is looked at as a refresh would: another delivery agent's files count at once.
    bool again = false;
    auto m = (*idx)->absorb_new(*txn, *name, again);
    if (!m) return std::unexpected(m.error());
    if (auto c = txn->commit(); !c) return std::unexpected(c.error());
    return FolderStatus{m->messages,    m->unseen,        m->uidnext,
                        m->uidvalidity, m->highestmodseq, m->size};
}

StoreResult<void> MaildirStore::set_special_use(std::string_view user, std::string_view folder,
                                                uint8_t special_use) {
    if ((special_use & ~all_special_uses) != 0) return std::unexpected(StoreError::invalid);
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    auto paths = user_paths(data_, user);
    if (!paths) return std::unexpected(paths.error());
    if (!is_folder_dir(folder_path(*paths, *name))) return std::unexpected(StoreError::not_found);
    return write_special_use(paths->maildir, *name, special_use);
}

StoreResult<void> MaildirStore::set_subscribed(std::string_view user, std::string_view folder,
                                               bool subscribed) {
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    auto paths = user_paths(data_, user);
    if (!paths) return std::unexpected(paths.error());
    return write_subscribed(paths->maildir, *name, subscribed);
}

StoreResult<std::vector<std::string>> MaildirStore::subscriptions(std::string_view user) {
    auto paths = user_paths(data_, user);
    if (!paths) return std::unexpected(paths.error());
    auto subs = read_subscriptions(paths->maildir);
    if (!subs) return std::unexpected(subs.error());
    sort_folder_names(subs->names);
    return std::move(subs->names);
}

}  // namespace postern
