#include "config/delivery_section.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "libproto/core/secret.h"

namespace postern {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& ch : out)
        if (ch >= 'A' && ch <= 'Z') ch = char(ch - 'A' + 'a');
    return out;
}

// (inet_pton reads a C string: an embedded NUL would hide what follows it.)
bool is_ipv4(std::string_view s) {
    if (s.find('\0') != std::string_view::npos) return false;
    in_addr a{};
    return inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}
bool is_ipv6(std::string_view s) {
    if (s.find('\0') != std::string_view::npos) return false;
    in6_addr a{};
    return inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1;
}

// A host name as DNS spells it: labels of letters, digits and '-', dots between.
bool is_host_name(std::string_view s) {
    if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.') return false;
    size_t label = 0;
    for (char ch : s) {
        if (ch == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
        if (!ok || ++label > 63) return false;
    }
    return true;
}

std::optional<uint16_t> parse_port(std::string_view s) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < 1 || v > 65535) return std::nullopt;
    return uint16_t(v);
}

// A route or policy key: a domain, or ".domain" for every subdomain of it.
bool is_domain_key(std::string_view s) {
    if (!s.empty() && s.front() == '.') s.remove_prefix(1);
    return is_host_name(s);
}

// `delivery.routes."example.org"`: the entry named as the file would spell it.
std::string entry_name(const ConfigTable& t, const char* table, const std::string& key) {
    return t.name(table) + ".\"" + key + "\"";
}

bool is_dns_server(std::string_view s) {
    if (is_ipv4(s) || is_ipv6(s)) return true;
    if (!s.empty() && s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
            return false;
        return is_ipv6(s.substr(1, close - 1)) && parse_port(s.substr(close + 2)).has_value();
    }
    auto colon = s.rfind(':');
    return colon != std::string_view::npos && is_ipv4(s.substr(0, colon)) &&
           parse_port(s.substr(colon + 1)).has_value();
}

std::optional<DeliveryTls> parse_tls(std::string_view s) {
    if (s == "none") return DeliveryTls::none;
    if (s == "may") return DeliveryTls::may;
    if (s == "encrypt") return DeliveryTls::encrypt;
    if (s == "verify") return DeliveryTls::verify;
    if (s == "dane") return DeliveryTls::dane;
    if (s == "dane-only") return DeliveryTls::dane_only;
    return std::nullopt;
}
constexpr const char* tls_values =
    R"(must be "none", "may", "encrypt", "verify", "dane" or "dane-only")";

}  // namespace

std::optional<HostPort> parse_host_port(std::string_view s) {
    HostPort hp;
    if (!s.empty() && s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        auto inside = s.substr(1, close - 1);
        auto rest = s.substr(close + 1);
        if (!is_ipv6(inside) && !is_ipv4(inside)) return std::nullopt;
        hp.host = lower(inside);
        if (rest.empty()) return hp;
        if (rest.front() != ':') return std::nullopt;
        auto port = parse_port(rest.substr(1));
        if (!port) return std::nullopt;
        hp.port = *port;
        return hp;
    }
    if (is_ipv6(s)) {
        hp.host = lower(s);
        return hp;
    }
    auto colon = s.rfind(':');
    auto host = colon == std::string_view::npos ? s : s.substr(0, colon);
    if (colon != std::string_view::npos) {
        auto port = parse_port(s.substr(colon + 1));
        if (!port) return std::nullopt;
        hp.port = *port;
    }
    if (!is_ipv4(host) && !is_host_name(host)) return std::nullopt;
    hp.host = lower(host);
    return hp;
}

void parse_delivery(ConfigTable& t, DeliveryConfig& c) {
    t.strings("dns_servers", c.dns_servers);
    for (const auto& item : t.items("dns_servers"))
        if (!is_dns_server(item.value))
            t.fail(item.line, t.name("dns_servers") + " entry \"" + item.value +
                                  "\" must be \"IP\" or \"IP:PORT\" (\"[IPv6]:PORT\")");

    if (t.has("smarthost")) {
        std::string s;
        t.str("smarthost", s);
        auto hp = parse_host_port(s);
        if (!hp)
            t.fail(t.line_of("smarthost"),
                   t.name("smarthost") + " must be \"HOST\" or \"HOST:PORT\", not \"" + s + "\"");
        c.smarthost = *hp;
    }
    if (t.has("smarthost_mode")) {
        std::string mode;
        t.str("smarthost_mode", mode);
        if (mode == "fallback")
            c.smarthost_mode = SmarthostMode::fallback;
        else if (mode == "exclusive")
            c.smarthost_mode = SmarthostMode::exclusive;
        else
            t.fail(t.line_of("smarthost_mode"),
                   t.name("smarthost_mode") + " must be \"fallback\" or \"exclusive\"");
        if (!c.smarthost)
            t.fail(t.line_of("smarthost_mode"),
                   t.name("smarthost_mode") + " needs " + t.name("smarthost"));
    }
    t.str("smarthost_user", c.smarthost_user);
    t.path("smarthost_password_file", c.smarthost_password_file);
    if (!c.smarthost_user.empty() && !c.smarthost)
        t.fail(t.line_of("smarthost_user"),
               t.name("smarthost_user") + " needs " + t.name("smarthost"));
    if (!c.smarthost_user.empty() && c.smarthost_password_file.empty())
        t.fail(t.line_of("smarthost_user"),
               t.name("smarthost_user") + " needs " + t.name("smarthost_password_file"));
    if (c.smarthost_user.empty() && !c.smarthost_password_file.empty())
        t.fail(t.line_of("smarthost_password_file"),
               t.name("smarthost_password_file") + " needs " + t.name("smarthost_user"));

    for (const auto& e : t.string_table("routes")) {
        if (!is_domain_key(e.key))
            t.fail(e.line, entry_name(t, "routes", e.key) + " is not a domain");
        auto hp = parse_host_port(e.value);
        if (!hp)
            t.fail(e.line, entry_name(t, "routes", e.key) +
                               " must be \"HOST\" or \"HOST:PORT\", not \"" + e.value + "\"");
        if (!c.routes.emplace(lower(e.key), *hp).second)
            t.fail(e.line, entry_name(t, "routes", e.key) + " is given twice");
    }

    if (t.has("tls_policy_default")) {
        std::string s;
        t.str("tls_policy_default", s);
        auto p = parse_tls(s);
        if (!p)
            t.fail(t.line_of("tls_policy_default"),
                   t.name("tls_policy_default") + " " + tls_values);
        c.default_tls = *p;
    }
    for (const auto& e : t.string_table("tls_policy")) {
        if (!is_domain_key(e.key))
            t.fail(e.line, entry_name(t, "tls_policy", e.key) + " is not a domain");
        auto p = parse_tls(e.value);
        if (!p) t.fail(e.line, entry_name(t, "tls_policy", e.key) + " " + tls_values);
        if (!c.tls_policy.emplace(lower(e.key), *p).second)
            t.fail(e.line, entry_name(t, "tls_policy", e.key) + " is given twice");
    }

    t.num("destination_concurrency_limit", c.destination_concurrency_limit, 1, 1000);
    t.num("remote_concurrency_limit", c.remote_concurrency_limit, 1, 10000);
    t.num("host_concurrency_limit", c.host_concurrency_limit, 1, 1000);
    t.num("connect_timeout_seconds", c.connect_timeout_seconds, 1, 3600);
    t.num("helo_timeout_seconds", c.helo_timeout_seconds, 1, 3600);
    t.num("data_done_timeout_seconds", c.data_done_timeout_seconds, 1, 3600);
    t.path("tls_ca_file", c.tls_ca_file);
    t.boolean("mta_sts", c.mta_sts);
    t.port("mx_port", c.mx_port);
}

std::expected<std::string, std::string> read_smarthost_password(const std::filesystem::path& file) {
    auto fail = [&](const std::string& why) { return std::unexpected(file.string() + ": " + why); };
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return fail(std::string("cannot read smarthost password: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return fail("smarthost password file is not a regular file");
    }
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        ::close(fd);
        return fail("smarthost password file is readable or writable by others (chmod o-rw it)");
    }
    char buf[1024];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    if (n < 0) return fail(std::string("cannot read smarthost password: ") + std::strerror(errno));
    std::string s(buf, size_t(n));
    wipe(buf, sizeof buf);
    if (auto eol = s.find_first_of("\r\n"); eol != std::string::npos) {
        wipe(s.data() + eol, s.size() - eol);
        s.resize(eol);
    }
    if (s.empty()) return fail("smarthost password file is empty");
    return s;
}

namespace {
// `domain`'s own entry, else the nearest ".parent" entry (".example.org" covers every
// subdomain of example.org, as in Postfix's transport maps).
template <typename V>
const V* lookup_domain(const std::map<std::string, V>& m, const std::string& domain) {
    if (auto it = m.find(domain); it != m.end()) return &it->second;
    for (auto dot = domain.find('.'); dot != std::string::npos; dot = domain.find('.', dot + 1))
        if (auto it = m.find(domain.substr(dot)); it != m.end()) return &it->second;
    return nullptr;
}
}  // namespace

const HostPort* route_for(const DeliveryConfig& c, const std::string& domain) {
    return lookup_domain(c.routes, domain);
}

DeliveryTls tls_policy_for(const DeliveryConfig& c, const std::string& domain) {
    const auto* p = lookup_domain(c.tls_policy, domain);
    return p ? *p : c.default_tls;
}

bool has_tls_policy_entry(const DeliveryConfig& c, const std::string& domain) {
    return lookup_domain(c.tls_policy, domain) != nullptr;
}

}  // namespace postern
