#pragma once
// Failed-login budgets across sessions (the brute-force defence), one per daemon process,
// shared by all its sessions. Pure: no I/O, no clock of its own; it is fed the time in
// milliseconds of a monotonic clock (the daemons pass uv_now, tests a fake).
//
// Two tables, one keyed by client address (IPv4, or IPv6 by its /64), one by login name
// (the canonical user, or the name as typed when it names nobody). Each key remembers its
// failures of the last window_seconds. A failure returns how long the session must hold
// its reply: failure_delay_ms, doubled for each further failure of that address or login
// in the window, capped at max_failure_delay_ms. When a key reaches its threshold it is
// locked for lockout_seconds: sessions then refuse every attempt from that address or for
// that login with a temporary error, without checking the password.
//
// A success forgives only the failures of that same (address, login) pair (a user's own
// typos), never the failures of that login from other addresses nor the address's failures
// for other logins. Each table holds at most max_entries keys; the least recently failed
// one is dropped first, so memory stays bounded whatever a client sends.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace postern {

struct AuthBudgetConfig {
    uint32_t window_seconds = 900;         // failures older than this are forgotten
    uint32_t ip_lockout_failures = 10;     // per address in the window; 0: never lock
    uint32_t login_lockout_failures = 20;  // per login in the window; 0: never lock
    uint32_t lockout_seconds = 900;
    uint32_t failure_delay_ms = 1000;       // the first failure's reply waits this long
    uint32_t max_failure_delay_ms = 16000;  // ... doubling up to this
    uint32_t max_entries = 10000;           // per table
};

enum class AuthVerdict : uint8_t { allowed, ip_locked, login_locked };

struct AuthFailure {
    uint32_t delay_ms = 0;        // hold the reply this long
    uint32_t ip_failures = 0;     // failures of the address in the window, this one included
    uint32_t login_failures = 0;  // ... of the login
    bool ip_locked = false;       // this failure started a lockout of the address
    bool login_locked = false;    // ... of the login
};

class AuthBudget {
public:
    using Clock = std::function<uint64_t()>;  // milliseconds, monotonic

    AuthBudget(AuthBudgetConfig config, Clock clock);
    ~AuthBudget();
    AuthBudget(const AuthBudget&) = delete;
    AuthBudget& operator=(const AuthBudget&) = delete;

    // New settings (SIGHUP); what is known about addresses and logins is kept.
    void set_config(const AuthBudgetConfig& config);
    const AuthBudgetConfig& config() const { return config_; }

    // May an attempt from `ip` for `login` (empty: address only) be checked now?
    AuthVerdict check(std::string_view ip, std::string_view login) const;
    // A failed attempt (wrong password, unknown user): counts it for both keys.
    AuthFailure failed(std::string_view ip, std::string_view login);
    // A successful login: forgives the failures of this (address, login) pair.
    void succeeded(std::string_view ip, std::string_view login);

    size_t tracked_ips() const;
    size_t tracked_logins() const;

private:
    class Table;
    AuthBudgetConfig config_;
    Clock clock_;
    std::unique_ptr<Table> ips_;
    std::unique_ptr<Table> logins_;
};

// The address key: IPv4 as is, IPv6 by its /64 ("2001:db8:1:2::/64"), an IPv4-mapped
// IPv6 address as IPv4; anything else (not an address) as given.
std::string auth_ip_key(std::string_view ip);
// The login key: ASCII lower case, at most 256 bytes.
std::string auth_login_key(std::string_view login);

}  // namespace postern
