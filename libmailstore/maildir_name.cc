#include "libmailstore/maildir_name.h"

#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>

#include "libmailstore/store.h"

namespace postern {
namespace {

template <class T>
std::optional<T> parse_number(std::string_view s) {
    T v{};
    if (s.empty()) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::string safe_hostname() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
    std::string out;
    for (char c : std::string_view(buf)) {
        // The Maildir spec's escapes for the characters that would break the name.
        if (c == '/')
            out += "\\057";
        else if (c == ':')
            out += "\\072";
        else if (c == ',')
            out += "\\054";
        else
            out.push_back(c);
    }
    return out;
}

}  // namespace

std::string flags_to_info(uint8_t flags) {
    std::string s;
    if (flags & flag_draft) s.push_back('D');
    if (flags & flag_flagged) s.push_back('F');
    if (flags & flag_answered) s.push_back('R');
    if (flags & flag_seen) s.push_back('S');
    if (flags & flag_deleted) s.push_back('T');
    return s;
}

std::string keyword_letters_to_info(uint32_t letters) {
    std::string s;
    for (int i = 0; i < max_keyword_letters; ++i)
        if (letters & (1u << i)) s.push_back(char('a' + i));
    return s;
}

std::optional<MaildirName> parse_maildir_name(std::string_view name) {
    if (name.empty() || name.front() == '.' || name.find('/') != std::string_view::npos ||
        name.find('\0') != std::string_view::npos)
        return std::nullopt;
    MaildirName out;
    std::string_view stem = name;
    if (auto colon = name.rfind(':'); colon != std::string_view::npos) {
        stem = name.substr(0, colon);
        std::string_view info = name.substr(colon + 1);
        if (info.starts_with("2,")) {
            std::string_view letters = info.substr(2);
            std::string_view fields;  // Dovecot: ":2,<flags>,<non-standard fields>"
            if (auto comma = letters.find(','); comma != std::string_view::npos) {
                fields = letters.substr(comma);
                letters = letters.substr(0, comma);
            }
            for (char c : letters) {
                switch (c) {
                case 'D': out.flags |= flag_draft; break;
                case 'F': out.flags |= flag_flagged; break;
                case 'R': out.flags |= flag_answered; break;
                case 'S': out.flags |= flag_seen; break;
                case 'T': out.flags |= flag_deleted; break;
                default:
                    if (c >= 'a' && c <= 'z')
                        out.keyword_letters |= 1u << (c - 'a');
                    else if (out.other_info.find(c) == std::string::npos)
                        out.other_info.push_back(c);
                }
            }
            out.other_info.append(fields);
        }
    }
    if (stem.empty()) return std::nullopt;
    out.stem = std::string(stem);
    // Fields after the first ',': "U=123", "S=456", others ignored.
    size_t pos = stem.find(',');
    while (pos != std::string_view::npos) {
        size_t next = stem.find(',', pos + 1);
        std::string_view field = stem.substr(
            pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
        if (field.starts_with("U=")) {
            if (auto v = parse_number<uint32_t>(field.substr(2))) out.uid = *v;
        } else if (field.starts_with("S=")) {
            out.size = parse_number<uint64_t>(field.substr(2));
        }
        pos = next;
    }
    return out;
}

std::string maildir_file_name(std::string_view stem, uint8_t flags, std::string_view other_info,
                              uint32_t keyword_letters) {
    std::string_view fields;
    if (auto comma = other_info.find(','); comma != std::string_view::npos) {
        fields = other_info.substr(comma);
        other_info = other_info.substr(0, comma);
    }
    std::string info = flags_to_info(flags) + keyword_letters_to_info(keyword_letters);
    info.append(other_info);
    std::sort(info.begin(), info.end());
    std::string name(stem);
    name += ":2,";
    name += info;
    name += fields;
    return name;
}

std::string maildir_unique_part() {
    static std::atomic<uint64_t> counter{0};
    static const std::string host = safe_hostname();
    timeval tv{};
    gettimeofday(&tv, nullptr);
    return std::to_string(tv.tv_sec) + ".M" + std::to_string(tv.tv_usec) + "P" +
           std::to_string(getpid()) + "Q" + std::to_string(++counter) + "." + host;
}

}  // namespace postern
