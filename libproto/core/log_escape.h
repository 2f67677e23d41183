#pragma once
// Client-controlled text made safe for one log line (log injection defence): whatever a
// client sends (EHLO name, addresses, login names, unknown verbs) goes through log_escape
// before it reaches a log call, so a CR/LF cannot forge a second line and an ESC cannot
// drive the terminal of whoever reads the log.

#include <cstddef>
#include <string>
#include <string_view>

namespace postern {

// Longest client string kept by default (input bytes; the rest becomes "...").
inline constexpr size_t log_escape_default_max = 256;

// `s` with every byte < 0x20, 0x7f, '\\' and '"' escaped (\r \n \t \\ \" or \xHH), and
// every byte >= 0x80 that is not part of a valid UTF-8 sequence, or that encodes a C1
// control (U+0080..U+009F), as \xHH. Valid UTF-8 otherwise passes unchanged. Input longer
// than `max_len` bytes is cut (at a character boundary) and "..." appended. The result
// never holds a control byte, so it may go inside "..." in a fixed-format log line.
std::string log_escape(std::string_view s, size_t max_len = log_escape_default_max);

}  // namespace postern
