#include "libproto/auth/auth_budget.h"

#include <arpa/inet.h>

#include <algorithm>
#include <list>
#include <unordered_map>
#include <vector>

namespace postern {

namespace {

constexpr size_t max_login_key = 256;
// Failures kept per key beyond the threshold: enough for the delay to reach any cap.
constexpr uint32_t min_kept_failures = 16;

uint64_t ms(uint32_t seconds) { return uint64_t(seconds) * 1000; }

size_t kept(uint32_t threshold) { return std::max(threshold, min_kept_failures); }

}  // namespace

class AuthBudget::Table {
public:
    struct Failure {
        uint64_t at;
        size_t peer;  // hash of the other key: the login for an address, and the reverse
    };
    struct Entry {
        std::string key;
        std::vector<Failure> failures;  // oldest first
        uint64_t locked_until = 0;
    };

    explicit Table(size_t max_entries) : max_(std::max<size_t>(max_entries, 1)) {}

    void set_max(size_t m) {
        max_ = std::max<size_t>(m, 1);
        while (index_.size() > max_) drop(std::prev(lru_.end()));
    }

    const Entry* find(std::string_view key) const {
        auto it = index_.find(key);
        return it == index_.end() ? nullptr : &*it->second;
    }

    Entry* find(std::string_view key) {
        auto it = index_.find(key);
        return it == index_.end() ? nullptr : &*it->second;
    }

    // The entry for `key`, made the most recent; a new one may push out the oldest.
    Entry& touch(const std::string& key) {
        if (auto it = index_.find(key); it != index_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second);
            return lru_.front();
        }
        while (index_.size() >= max_) drop(std::prev(lru_.end()));
        lru_.push_front(Entry{key, {}, 0});
        index_.emplace(lru_.front().key, lru_.begin());
        return lru_.front();
    }

    void erase(const Entry& e) {
        auto it = index_.find(e.key);
        if (it != index_.end()) drop(it->second);
    }

    size_t size() const { return index_.size(); }

    // Forgets failures older than the window, and the oldest beyond `cap`.
    static void prune(Entry& e, uint64_t now, uint64_t window, size_t cap) {
        auto fresh = std::find_if(e.failures.begin(), e.failures.end(),
                                  [&](const Failure& f) { return f.at + window > now; });
        e.failures.erase(e.failures.begin(), fresh);
        if (e.failures.size() > cap)
            e.failures.erase(e.failures.begin(),
                             e.failures.end() - static_cast<std::ptrdiff_t>(cap));
    }

private:
    void drop(std::list<Entry>::iterator it) {
        index_.erase(it->key);
        lru_.erase(it);
    }

    size_t max_;
    std::list<Entry> lru_;  // front: most recent failure
    // Keys are views of Entry::key: list nodes never move.
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

AuthBudget::AuthBudget(AuthBudgetConfig config, Clock clock)
    : config_(config), clock_(std::move(clock)), ips_(std::make_unique<Table>(config.max_entries)),
      logins_(std::make_unique<Table>(config.max_entries)) {}

AuthBudget::~AuthBudget() = default;

void AuthBudget::set_config(const AuthBudgetConfig& config) {
    config_ = config;
    ips_->set_max(config.max_entries);
    logins_->set_max(config.max_entries);
}

AuthVerdict AuthBudget::check(std::string_view ip, std::string_view login) const {
    const uint64_t now = clock_();
    if (const auto* e = ips_->find(auth_ip_key(ip)); e && e->locked_until > now)
        return AuthVerdict::ip_locked;
    if (!login.empty())
        if (const auto* e = logins_->find(auth_login_key(login)); e && e->locked_until > now)
            return AuthVerdict::login_locked;
    return AuthVerdict::allowed;
}

AuthFailure AuthBudget::failed(std::string_view ip, std::string_view login) {
    const uint64_t now = clock_();
    const std::string ip_key = auth_ip_key(ip);
    const std::string login_key = auth_login_key(login);
    const std::hash<std::string> hash;
    AuthFailure r;
    auto charge = [&](Table& t, const std::string& key, size_t peer, uint32_t threshold,
                      uint32_t& count, bool& locked_now) {
        auto& e = t.touch(key);
        Table::prune(e, now, ms(config_.window_seconds), kept(threshold) - 1);
        e.failures.push_back({now, peer});
        count = static_cast<uint32_t>(e.failures.size());
        if (threshold > 0 && count >= threshold && e.locked_until <= now) {
            e.locked_until = now + ms(config_.lockout_seconds);
            locked_now = true;
        }
    };
    charge(*ips_, ip_key, hash(login_key), config_.ip_lockout_failures, r.ip_failures, r.ip_locked);
    if (!login_key.empty())
        charge(*logins_, login_key, hash(ip_key), config_.login_lockout_failures, r.login_failures,
               r.login_locked);
    uint32_t n = std::max(r.ip_failures, r.login_failures);
    uint64_t delay = uint64_t(config_.failure_delay_ms) << std::min<uint32_t>(n - 1, 24);
    r.delay_ms = static_cast<uint32_t>(std::min<uint64_t>(delay, config_.max_failure_delay_ms));
    return r;
}

void AuthBudget::succeeded(std::string_view ip, std::string_view login) {
    const uint64_t now = clock_();
    const std::string ip_key = auth_ip_key(ip);
    const std::string login_key = auth_login_key(login);
    const std::hash<std::string> hash;
    auto forgive = [&](Table& t, const std::string& key, size_t peer) {
        auto* e = t.find(key);
        if (!e) return;
        std::erase_if(e->failures, [&](const auto& f) { return f.peer == peer; });
        if (e->failures.empty() && e->locked_until <= now) t.erase(*e);
    };
    forgive(*ips_, ip_key, hash(login_key));
    if (!login_key.empty()) forgive(*logins_, login_key, hash(ip_key));
}

size_t AuthBudget::tracked_ips() const { return ips_->size(); }
size_t AuthBudget::tracked_logins() const { return logins_->size(); }

std::string auth_ip_key(std::string_view ip) {
    std::string s(ip);
    unsigned char a[16];
    if (inet_pton(AF_INET, s.c_str(), a) == 1) return s;
    if (inet_pton(AF_INET6, s.c_str(), a) != 1) return s;
    char text[INET6_ADDRSTRLEN];
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(mapped, mapped + 12, a)) {
        inet_ntop(AF_INET, a + 12, text, sizeof text);
        return text;
    }
    std::fill(a + 8, a + 16, 0);
    inet_ntop(AF_INET6, a, text, sizeof text);
    return std::string(text) + "/64";
}

std::string auth_login_key(std::string_view login) {
    std::string s(login.substr(0, max_login_key));
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

}  // namespace postern
