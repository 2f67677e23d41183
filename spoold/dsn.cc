#include "spoold/dsn.h"

#include <cctype>
#include <ctime>
#include <optional>

namespace postern {

bool wants_failure_dsn(const Recipient& r) {
    if (r.notify == 0) return true;
    if (r.notify & dsn_notify::never) return false;
    return (r.notify & dsn_notify::failure) != 0;
}

bool wants_delay_dsn(const Recipient& r) {
    if (r.notify == 0) return true;
    if (r.notify & dsn_notify::never) return false;
    return (r.notify & dsn_notify::delay) != 0;
}

bool wants_success_dsn(const Recipient& r) {
    return (r.notify & dsn_notify::never) == 0 && (r.notify & dsn_notify::success) != 0;
}

namespace {

constexpr std::string_view kHost = "host ";
constexpr std::string_view kSaid = " said: ";

// "X.Y.Z" (class.subject.detail: [245].\d{1,3}.\d{1,3}) at the start of e, ending there or
// at a space.
std::optional<std::string> enhanced_code(std::string_view e) {
    if (e.size() < 5 || (e[0] != '2' && e[0] != '4' && e[0] != '5') || e[1] != '.')
        return std::nullopt;
    size_t i = 2;
    auto digits = [&](size_t max) {
        size_t n = 0;
        while (i < e.size() && n < max && std::isdigit(static_cast<unsigned char>(e[i]))) ++i, ++n;
        return n > 0;
    };
    if (digits(3) && i < e.size() && e[i] == '.' && (++i, digits(3)) &&
        (i == e.size() || e[i] == ' '))
        return std::string(e.substr(0, i));
    return std::nullopt;
}

// True for an SMTP reply: a basic code [245]yz, then the end, a space or a dash.
bool is_smtp_reply(std::string_view e) {
    return e.size() >= 3 && (e[0] == '2' || e[0] == '4' || e[0] == '5') &&
           std::isdigit(static_cast<unsigned char>(e[1])) &&
           std::isdigit(static_cast<unsigned char>(e[2])) &&
           (e.size() == 3 || e[3] == ' ' || e[3] == '-');
}

// Header field values must not carry CR/LF from addresses or error texts.
std::string clean(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
    return out;
}

const char* action_text(DsnAction a) {
    switch (a) {
    case DsnAction::failed: return "failed";
    case DsnAction::delayed: return "delayed";
    case DsnAction::delivered: return "delivered";
    case DsnAction::expanded: return "expanded";
    case DsnAction::relayed: return "relayed";
    }
    return "failed";
}

}  // namespace

std::string dsn_status(std::string_view e, bool permanent) {
    const auto [mta, reply] = split_remote_reply(e);
    if (!mta.empty()) e = reply;
    if (is_smtp_reply(e)) {
        auto code = e.size() > 4 ? enhanced_code(e.substr(4)) : std::nullopt;
        if (code && (*code)[0] == e[0]) return *code;
        return std::string(1, e[0]) + ".0.0";
    }
    if (auto code = enhanced_code(e)) return *code;
    return permanent ? "5.0.0" : "4.0.0";
}

std::string remote_reply_text(std::string_view remote_mta, std::string_view reply) {
    if (remote_mta.empty()) return std::string(reply);
    return std::string(kHost) + std::string(remote_mta) + std::string(kSaid) + std::string(reply);
}

std::pair<std::string, std::string> split_remote_reply(std::string_view text) {
    if (!text.starts_with(kHost)) return {{}, {}};
    const size_t said = text.find(kSaid, kHost.size());
    const size_t space = text.find(' ', kHost.size());
    if (said == std::string_view::npos || space != said || said == kHost.size()) return {{}, {}};
    return {std::string(text.substr(kHost.size(), said - kHost.size())),
            std::string(text.substr(said + kSaid.size()))};
}

std::string rfc5322_date(int64_t t) {
    time_t tt = static_cast<time_t>(t);
    struct tm tm {};
    gmtime_r(&tt, &tm);
    char buf[64];
    strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

namespace {

struct Texts {
    const char* subject;
    const char* intro;
};

Texts texts_for(const DsnReport& rep) {
    if (rep.postmaster_copy)
        return {"Postmaster Copy: Undelivered Mail",
                "A message with no return address (<>) could not be delivered; this copy of\r\n"
                "its report goes to the postmaster. A failure of this copy is not reported."};
    switch (rep.action) {
    case DsnAction::delayed:
        return {"Delayed Mail (still being retried)",
                "Your message could not be delivered yet to one or more recipients.\r\n"
                "It will be retried; you will be told if it fails for good. No action is\r\n"
                "needed on your part."};
    case DsnAction::delivered:
    case DsnAction::expanded:
        return {"Successful Mail Delivery Report",
                "Your message was delivered to the recipients listed below, as you asked."};
    case DsnAction::relayed:
        return {"Relayed Mail Report",
                "Your message was relayed to the recipients listed below, as you asked, to a\r\n"
                "server that does not send delivery reports: no further report will come."};
    case DsnAction::failed: break;
    }
    return {"Undelivered Mail Returned to Sender",
            "Your message could not be delivered to one or more recipients."};
}

}  // namespace

std::string build_dsn(std::string_view hostname, const Envelope& env, const DsnReport& rep,
                      std::string_view original, int64_t now) {
    const std::string host(hostname);
    const std::string boundary = env.id + "/" + host;
    const bool utf8 = env.smtputf8;
    const Texts t = texts_for(rep);
    std::string m;
    m += "From: Mail Delivery System <MAILER-DAEMON@" + host + ">\r\n";
    m += "To: <" + clean(rep.to) + ">\r\n";
    m += std::string("Subject: ") + t.subject + "\r\n";
    m += "Date: " + rfc5322_date(now) + "\r\n";
    m += "Message-ID: <" + env.id + "." + action_text(rep.action) + "@" + host + ">\r\n";
    m += "Auto-Submitted: auto-replied\r\n";
    m += "MIME-Version: 1.0\r\n";
    m += "Content-Type: multipart/report; report-type=delivery-status;\r\n";
    m += "\tboundary=\"" + boundary + "\"\r\n";
    m += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";

    m += "--" + boundary + "\r\n";
    m += std::string("Content-Type: text/plain; charset=") + (utf8 ? "utf-8" : "us-ascii") + "\r\n";
    m += "Content-Description: Notification\r\n\r\n";
    m += "This is the mail system at host " + host + ".\r\n\r\n";
    m += std::string(t.intro) + "\r\n\r\n";
    if (rep.postmaster_copy) m += "Sender: <" + clean(env.reverse_path) + ">\r\n";
    for (const Recipient* r : rep.rcpts) {
        m += "<" + clean(r->address) + ">";
        if (!r->last_error.empty()) m += ": " + clean(r->last_error);
        m += "\r\n";
    }
    m += "\r\n";

    m += "--" + boundary + "\r\n";
    m += std::string("Content-Type: message/") +
         (utf8 ? "global-delivery-status" : "delivery-status") + "\r\n";
    m += "Content-Description: Delivery report\r\n\r\n";
    m += "Reporting-MTA: dns; " + host + "\r\n";
    m += "X-Postern-Queue-ID: " + env.id + "\r\n";
    if (!env.envid.empty()) m += "Original-Envelope-Id: " + clean(env.envid) + "\r\n";
    if (!env.reverse_path.empty())
        m += "X-Postern-Sender: rfc822; " + clean(env.reverse_path) + "\r\n";
    m += "Arrival-Date: " + rfc5322_date(env.arrival) + "\r\n";
    const bool temporary = rep.action == DsnAction::delayed;
    for (const Recipient* r : rep.rcpts) {
        auto [mta, reply] = split_remote_reply(r->last_error);
        const std::string& said = mta.empty() ? r->last_error : reply;
        m += "\r\n";
        m += std::string("Final-Recipient: ") + (utf8 ? "utf-8; " : "rfc822; ") +
             clean(r->address) + "\r\n";
        if (!r->orcpt.empty()) m += "Original-Recipient: " + clean(r->orcpt) + "\r\n";
        m += std::string("Action: ") + action_text(rep.action) + "\r\n";
        const bool success = rep.action == DsnAction::delivered ||
                             rep.action == DsnAction::expanded || rep.action == DsnAction::relayed;
        m += "Status: " + (success ? std::string("2.0.0") : dsn_status(said, !temporary)) + "\r\n";
        if (!mta.empty()) m += "Remote-MTA: dns; " + clean(mta) + "\r\n";
        if (!said.empty())
            m += std::string("Diagnostic-Code: ") +
                 (is_smtp_reply(said) ? "smtp; " : "X-Postern; ") + clean(said) + "\r\n";
        m += "Last-Attempt-Date: " + rfc5322_date(now) + "\r\n";
        if (temporary && rep.retry_until > 0)
            m += "Will-Retry-Until: " + rfc5322_date(rep.retry_until) + "\r\n";
    }
    m += "\r\n";

    m += "--" + boundary + "\r\n";
    std::string_view part = original;
    // The whole message only when asked for it, and only with a failure (RFC 3461 4.3);
    // never the body of a REQUIRETLS message (RFC 8689 5: its bounce is headers only, and
    // it goes back with REQUIRETLS itself, see Deliverer::enqueue_dsn).
    const bool full = env.ret == DsnRet::full && rep.action == DsnAction::failed && !env.requiretls;
    if (!full) {
        size_t end = original.find("\r\n\r\n");
        part = end == std::string_view::npos ? original : original.substr(0, end + 2);
        m += std::string("Content-Type: ") +
             (utf8 ? "message/global-headers" : "text/rfc822-headers") + "\r\n";
    } else {
        m += std::string("Content-Type: ") + (utf8 ? "message/global" : "message/rfc822") + "\r\n";
    }
    const char* what = full                              ? "Undelivered Message"
                       : rep.action == DsnAction::failed ? "Undelivered Message Headers"
                                                         : "Message Headers";
    m += std::string("Content-Description: ") + what + "\r\n\r\n";
    m.append(part);
    if (!part.empty() && part.substr(part.size() >= 2 ? part.size() - 2 : 0) != "\r\n") m += "\r\n";
    m += "\r\n--" + boundary + "--\r\n";
    return m;
}

std::string build_failure_dsn(std::string_view hostname, const Envelope& env,
                              const std::vector<const Recipient*>& failed,
                              std::string_view original, int64_t now) {
    DsnReport rep;
    rep.to = env.reverse_path;
    rep.rcpts = failed;
    return build_dsn(hostname, env, rep, original, now);
}

}  // namespace postern
