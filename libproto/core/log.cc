#include "libproto/core/log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <syslog.h>
#include <unistd.h>

namespace postern {
namespace {

std::string g_ident = "postern";
bool g_syslog = false;
LogLevel g_level = LogLevel::info;
LogSink g_sink;

const char* level_name(LogLevel l) {
    switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
    }
    return "?";
}

int syslog_priority(LogLevel l) {
    switch (l) {
    case LogLevel::debug: return LOG_DEBUG;
    case LogLevel::info: return LOG_INFO;
    case LogLevel::warning: return LOG_WARNING;
    case LogLevel::error: return LOG_ERR;
    }
    return LOG_INFO;
}

}  // namespace

void log_setup(const std::string& ident, const std::string& target, const std::string& level) {
    g_ident = ident;
    g_syslog = target == "syslog";
    if (level == "debug")
        g_level = LogLevel::debug;
    else if (level == "warning")
        g_level = LogLevel::warning;
    else if (level == "error")
        g_level = LogLevel::error;
    else
        g_level = LogLevel::info;
    if (g_syslog) openlog(g_ident.c_str(), LOG_PID | LOG_NDELAY, LOG_MAIL);
}

bool log_enabled(LogLevel level) { return level >= g_level; }

void log_set_sink(LogSink sink) { g_sink = std::move(sink); }

void log_vmsg(LogLevel level, const char* session, const char* fmt, va_list ap) {
    if (!log_enabled(level)) return;
    char body[2048];
    vsnprintf(body, sizeof body, fmt, ap);
    if (g_sink) {
        g_sink(level, session ? "[" + std::string(session) + "] " + body : std::string(body));
        return;
    }
    if (g_syslog) {
        if (session)
            syslog(syslog_priority(level), "[%s] %s", session, body);
        else
            syslog(syslog_priority(level), "%s", body);
        return;
    }
    char stamp[32];
    time_t now = time(nullptr);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    // One fprintf per line so lines from one process never interleave.
    if (session)
        fprintf(stderr, "%s %s[%d] %s: [%s] %s\n", stamp, g_ident.c_str(), getpid(),
                level_name(level), session, body);
    else
        fprintf(stderr, "%s %s[%d] %s: %s\n", stamp, g_ident.c_str(), getpid(), level_name(level),
                body);
}

void log_msg(LogLevel level, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, nullptr, fmt, ap);
    va_end(ap);
}

SessionLog::SessionLog() {
    static std::atomic<unsigned long> counter{0};
    char buf[32];
    snprintf(buf, sizeof buf, "%x.%lx", static_cast<unsigned>(getpid()), ++counter);
    id_ = buf;
}

#define POSTERN_SESSION_LOG(method, level)                \
    void SessionLog::method(const char* fmt, ...) const { \
        va_list ap;                                       \
        va_start(ap, fmt);                                \
        log_vmsg(level, id_.c_str(), fmt, ap);            \
        va_end(ap);                                       \
    }
POSTERN_SESSION_LOG(debug, LogLevel::debug)
POSTERN_SESSION_LOG(info, LogLevel::info)
POSTERN_SESSION_LOG(warning, LogLevel::warning)
POSTERN_SESSION_LOG(error, LogLevel::error)
#undef POSTERN_SESSION_LOG

}  // namespace postern
