#include "libproto/smtp/smtp_reply.h"

namespace postern {

std::string SmtpReply::format() const {
    std::string out;
    const std::string code_text = std::to_string(code);
    for (size_t i = 0; i < lines.size() || i == 0; ++i) {
        bool last = i + 1 >= lines.size();
        out += code_text;
        out += last ? ' ' : '-';
        if (!status.empty()) {
            out += status;
            out += ' ';
        }
        if (i < lines.size()) out += lines[i];
        out += "\r\n";
    }
    return out;
}

SmtpReply smtp_reply(int code, std::string_view status, std::string_view text) {
    return SmtpReply{code, std::string(status), {std::string(text)}};
}

SmtpReply smtp_verdict_reply(SmtpVerdict v, SmtpStage stage) {
    switch (v) {
    case SmtpVerdict::ok:
        switch (stage) {
        case SmtpStage::mail: return smtp_reply(250, "2.1.0", "Ok");
        case SmtpStage::rcpt: return smtp_reply(250, "2.1.5", "Ok");
        case SmtpStage::data: return smtp_reply(354, "", "End data with <CR><LF>.<CR><LF>");
        }
        break;
    // Texts never say whether a mailbox exists beyond what the code itself says.
    case SmtpVerdict::unknown_user:
        return smtp_reply(550, "5.1.1", "Recipient address rejected: User unknown");
    case SmtpVerdict::relay_denied: return smtp_reply(554, "5.7.1", "Relay access denied");
    case SmtpVerdict::bad_address:
        return smtp_reply(553, stage == SmtpStage::mail ? "5.1.7" : "5.1.3",
                          "Address form not accepted");
    case SmtpVerdict::temp_failure:
        return smtp_reply(451, "4.3.0", "Temporary lookup failure, try again later");
    case SmtpVerdict::no_room: return smtp_reply(452, "4.3.1", "Insufficient system storage");
    case SmtpVerdict::over_quota: return smtp_reply(452, "4.2.2", "Mailbox full, try again later");
    case SmtpVerdict::too_big: return smtp_reply(552, "5.3.4", "Message size exceeds fixed limit");
    case SmtpVerdict::rejected: return smtp_reply(550, "5.7.1", "Rejected by policy");
    case SmtpVerdict::sender_mismatch:
        if (stage == SmtpStage::mail)
            return smtp_reply(553, "5.7.1", "Sender address rejected: not owned by user");
        return smtp_reply(550, "5.7.1",
                          stage == SmtpStage::data
                              ? "From: header address rejected: not owned by user"
                              : "Sender address rejected: not owned by user");
    case SmtpVerdict::too_many_hops:
        return smtp_reply(554, "5.4.6", "Too many hops: the message is looping");
    }
    return smtp_reply(451, "4.3.0", "Temporary failure");
}

SmtpReply smtp_syntax_reply(const SmtpSyntaxError& e) {
    switch (e.kind) {
    case SmtpSyntax::unknown_command: return smtp_reply(500, "5.5.1", "Error: " + e.detail);
    case SmtpSyntax::bad_syntax: return smtp_reply(501, "5.5.4", e.detail);
    case SmtpSyntax::bad_parameter: return smtp_reply(555, "5.5.4", e.detail);
    case SmtpSyntax::bad_parameter_value: return smtp_reply(501, "5.5.4", e.detail);
    }
    return smtp_reply(501, "5.5.4", "Syntax error");
}

}  // namespace postern
