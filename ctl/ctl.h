#pragma once
// What every mailctl command shares: exit codes and the one-line error report.

#include <string>

namespace postern::ctl {

// Exit codes (status follows the LSB init-script convention).
enum Exit : int {
    exit_ok = 0,
    exit_failed = 1,       // the operation was tried and failed
    exit_usage = 2,        // bad command line, bad input or a broken config
    exit_not_running = 3,  // status: some named service is not running
};

// Prints "mailctl: MESSAGE" on stderr (one line) and returns `code`.
int fail(int code, const std::string& message);

}  // namespace postern::ctl
