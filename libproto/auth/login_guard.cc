#include "libproto/auth/login_guard.h"

#include <cstdarg>

#include "libproto/core/log_escape.h"

namespace postern {

LoginGuard::LoginGuard(AuthBudget* budget, std::string client_ip, const SessionLog* log,
                       uint32_t fallback_delay_ms)
    : budget_(budget), ip_(std::move(client_ip)), log_(log), fallback_delay_ms_(fallback_delay_ms) {
}

void LoginGuard::log(const char* fmt, ...) const {
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(LogLevel::warning, log_ ? log_->id().c_str() : nullptr, fmt, ap);
    va_end(ap);
}

bool LoginGuard::admit(std::string_view account, std::string_view login, std::string_view mech) {
    if (!budget_) return true;
    AuthVerdict v = budget_->check(ip_, account);
    if (v == AuthVerdict::allowed) return true;
    log("auth refused: ip=%s login=\"%s\" mech=%s reason=%s", log_escape(ip_).c_str(),
        log_escape(login).c_str(), log_escape(mech).c_str(),
        v == AuthVerdict::ip_locked ? "ip-locked" : "login-locked");
    return false;
}

uint32_t LoginGuard::failed(std::string_view account, std::string_view login,
                            std::string_view mech) {
    log("auth failed: ip=%s login=\"%s\" mech=%s", log_escape(ip_).c_str(),
        log_escape(login).c_str(), log_escape(mech).c_str());
    if (!budget_) return fallback_delay_ms_;
    AuthFailure f = budget_->failed(ip_, account);
    const auto& cfg = budget_->config();
    if (f.ip_locked)
        log("auth lockout: ip=%s failures=%u seconds=%u", auth_ip_key(ip_).c_str(), f.ip_failures,
            cfg.lockout_seconds);
    if (f.login_locked)
        log("auth lockout: login=\"%s\" failures=%u seconds=%u",
            log_escape(auth_login_key(account)).c_str(), f.login_failures, cfg.lockout_seconds);
    return f.delay_ms;
}

void LoginGuard::succeeded(std::string_view account) {
    if (budget_) budget_->succeeded(ip_, account);
}

uint32_t LoginGuard::refusal_delay_ms() const {
    return budget_ ? budget_->config().max_failure_delay_ms : fallback_delay_ms_;
}

}  // namespace postern
