#pragma once
// What every protocol session does around a login attempt (smtpd, pop3d, and imapd once it
// has LOGIN): asks the process-wide AuthBudget whether to check the credentials at all,
// charges it for each failure, and writes the fixed-format log lines that operators and
// fail2ban match (docs/security.md has the regex):
//
//   auth failed: ip=192.0.2.1 login="bob@example.org" mech=PLAIN
//   auth refused: ip=192.0.2.1 login="bob@example.org" mech=PLAIN reason=ip-locked
//   auth lockout: ip=192.0.2.1 failures=10 seconds=900
//   auth lockout: login="bob@example.org" failures=20 seconds=900
//
// Time, daemon and session id come from the log prefix (log.h). `login` is the name as the
// client typed it, escaped (log_escape.h); `mech` is the SASL mechanism, USER for POP3
// USER/PASS, LOGIN for IMAP LOGIN.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "libproto/auth/auth_budget.h"
#include "libproto/core/log.h"

namespace postern {

class LoginGuard {
public:
    // `budget` null: no budget across sessions, every failure waits `fallback_delay_ms`.
    // `log` null: lines go out without a session id. Both must outlive the guard.
    LoginGuard(AuthBudget* budget, std::string client_ip, const SessionLog* log,
               uint32_t fallback_delay_ms);

    // Before any password or proof is checked. `account`: the canonical user, or the login
    // as typed when it names nobody (the budget key); `login`: as typed, for the log.
    // False: refuse the attempt with a temporary error (the refusal is logged).
    bool admit(std::string_view account, std::string_view login, std::string_view mech);
    // A failed check (wrong password, unknown user): logged and charged. Returns how long
    // the session holds its reply (on a timer, never blocking the loop).
    uint32_t failed(std::string_view account, std::string_view login, std::string_view mech);
    // A successful login forgives this address's failures for `account`.
    void succeeded(std::string_view account);
    // How long a refusal is held.
    uint32_t refusal_delay_ms() const;

    const std::string& client_ip() const { return ip_; }

private:
    void log(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));

    AuthBudget* budget_;
    std::string ip_;
    const SessionLog* log_;
    uint32_t fallback_delay_ms_;
};

}  // namespace postern
