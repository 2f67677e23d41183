// libFuzzer: the SMTP command parser on arbitrary lines. Invariants: no crash,
// error details never carry CR/LF (they are echoed in replies), every reply is
// one well-formed line.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libproto/smtp/smtp_command.h"
#include "libproto/smtp/smtp_reply.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    while (true) {
        size_t nl = in.find('\n');
        std::string_view line = in.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        auto cmd = postern::parse_smtp_command(line);
        if (!cmd) {
            if (cmd.error().detail.find_first_of("\r\n") != std::string::npos) std::abort();
            auto wire = postern::smtp_syntax_reply(cmd.error()).format();
            if (wire.find("\r\n") != wire.size() - 2) std::abort();
        } else if (cmd->verb == postern::SmtpVerb::unknown) {
            std::abort();  // unknown verbs are errors
        }
        if (nl == std::string_view::npos) break;
        in.remove_prefix(nl + 1);
    }
    (void)postern::xtext_decode(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
