#pragma once
// Server replies as the SMTP client reads them (RFC 5321 4.2): one or more lines
// "ddd-text" ... "ddd text", the same code on every line, with an optional enhanced status
// code (RFC 2034 / 3463) at the start of each text. Pure and line-fed: the connection splits
// lines, the reader assembles replies and refuses garbage (a protocol error: the session
// gives up on the connection) and replies longer than its limits.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

struct ClientReply {
    int code = 0;                    // 200..599
    std::string status;              // "2.1.0"; empty when the server gave none
    std::vector<std::string> lines;  // the text of each line (status stripped); >= 1
    bool positive() const { return code >= 200 && code < 400; }
    bool temporary() const { return code >= 400 && code < 500; }
    bool permanent() const { return code >= 500; }
    // "550 5.1.1 text" with the lines joined by a space: what a result or a log shows.
    std::string text() const;
};

struct ReplyLimits {
    size_t max_line = 2048;  // bytes of one line, code included (RFC 5321 says 512)
    size_t max_lines = 128;  // lines of one reply (an EHLO answer has a few dozen)
};

class ReplyReader {
public:
    enum class Result : uint8_t { need_more, reply, error };

    explicit ReplyReader(ReplyLimits limits = {}) : limits_(limits) {}

    // One line without its CR LF. `reply`: reply() holds a complete reply (valid until the
    // next feed). `error`: the line is not a reply line, the code changed within a reply,
    // or a limit was passed; error_text() says which; the reader then stays in error.
    Result feed(std::string_view line);
    const ClientReply& reply() const { return done_; }
    const std::string& error_text() const { return error_; }
    // Between two replies (no continuation line pending).
    bool idle() const { return cur_.lines.empty(); }

private:
    Result fail(std::string what);

    ReplyLimits limits_;
    ClientReply cur_;
    ClientReply done_;
    std::string error_;
};

// The enhanced status code at the start of `text` ("5.1.1 rest"), if its class matches the
// reply code's first digit; nullopt otherwise. On success `rest` is what follows it.
std::optional<std::string> parse_enhanced_status(int code, std::string_view text,
                                                 std::string_view& rest);

}  // namespace postern
