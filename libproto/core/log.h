#pragma once
// Logging: one line per event, to stderr (mailctl sends a daemon's stderr to
// LOG_DIR/<service>.log) or to syslog. Sessions prefix their lines with a
// short id so one conversation can be followed through a busy log.

#include <cstdarg>
#include <functional>
#include <string>

namespace postern {

enum class LogLevel { debug = 0, info = 1, warning = 2, error = 3 };

// Set once at start-up from the config. `ident` is the service name.
void log_setup(const std::string& ident, const std::string& target, const std::string& level);

bool log_enabled(LogLevel level);

// printf-style; a trailing newline is added.
void log_msg(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(LogLevel level, const char* session, const char* fmt, va_list ap);

// Tests: lines go to `sink` ("[session] body", no time or ident) instead of stderr or
// syslog; an empty function restores the normal target. Not thread-safe: set it while no
// other thread logs.
using LogSink = std::function<void(LogLevel level, const std::string& line)>;
void log_set_sink(LogSink sink);

// A session's logger: every line carries "[id]".
class SessionLog {
public:
    SessionLog();  // a fresh, process-unique id
    const std::string& id() const { return id_; }
    void debug(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));
    void info(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));
    void warning(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));
    void error(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));

private:
    std::string id_;
};

}  // namespace postern
