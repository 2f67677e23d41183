#include "spoold/dsn.h"

#include <cctype>
#include <ctime>

namespace postern {

bool wants_failure_dsn(const Recipient& r) {
    if (r.notify == 0) return true;
    if (r.notify & dsn_notify::never) return false;
    return (r.notify & dsn_notify::failure) != 0;
}

std::string dsn_status(std::string_view e, bool permanent) {
    // class.subject.detail: [245].\d{1,3}.\d{1,3}
    size_t i = 0;
    auto digits = [&](size_t max) {
        size_t n = 0;
        while (i < e.size() && n < max && std::isdigit(static_cast<unsigned char>(e[i]))) ++i, ++n;
        return n > 0;
    };
    if (e.size() >= 5 && (e[0] == '2' || e[0] == '4' || e[0] == '5') && e[1] == '.') {
        i = 2;
        if (digits(3) && i < e.size() && e[i] == '.' && (++i, digits(3)) &&
            (i == e.size() || e[i] == ' '))
            return std::string(e.substr(0, i));
    }
    return permanent ? "5.0.0" : "4.0.0";
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

// Header field values must not carry CR/LF from addresses or error texts.
std::string clean(std::string_view s) {
    std::string out;
    for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
    return out;
}

}  // namespace

std::string build_failure_dsn(std::string_view hostname, const Envelope& env,
                              const std::vector<const Recipient*>& failed,
                              std::string_view original, int64_t now) {
    const std::string host(hostname);
    const std::string boundary = env.id + "/" + host;
    const bool utf8 = env.smtputf8;
    std::string m;
    m += "From: Mail Delivery System <MAILER-DAEMON@" + host + ">\r\n";
    m += "To: <" + clean(env.reverse_path) + ">\r\n";
    m += "Subject: Undelivered Mail Returned to Sender\r\n";
    m += "Date: " + rfc5322_date(now) + "\r\n";
    m += "Message-ID: <" + env.id + ".dsn@" + host + ">\r\n";
    m += "Auto-Submitted: auto-replied\r\n";
    m += "MIME-Version: 1.0\r\n";
    m += "Content-Type: multipart/report; report-type=delivery-status;\r\n";
    m += "\tboundary=\"" + boundary + "\"\r\n";
    m += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";

    m += "--" + boundary + "\r\n";
    m += std::string("Content-Type: text/plain; charset=") + (utf8 ? "utf-8" : "us-ascii") + "\r\n";
    m += "Content-Description: Notification\r\n\r\n";
    m += "This is the mail system at host " + host + ".\r\n\r\n";
    m += "Your message could not be delivered to one or more recipients.\r\n\r\n";
    for (const Recipient* r : failed)
        m += "<" + clean(r->address) + ">: " + clean(r->last_error) + "\r\n";
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
    for (const Recipient* r : failed) {
        m += "\r\n";
        m += std::string("Final-Recipient: ") + (utf8 ? "utf-8; " : "rfc822; ") +
             clean(r->address) + "\r\n";
        if (!r->orcpt.empty()) m += "Original-Recipient: " + clean(r->orcpt) + "\r\n";
        m += "Action: failed\r\n";
        m += "Status: " + dsn_status(r->last_error) + "\r\n";
        m += "Diagnostic-Code: X-Postern; " + clean(r->last_error) + "\r\n";
        m += "Last-Attempt-Date: " + rfc5322_date(now) + "\r\n";
    }
    m += "\r\n";

    m += "--" + boundary + "\r\n";
    std::string_view part = original;
    if (env.ret == DsnRet::hdrs) {
        size_t end = original.find("\r\n\r\n");
        part = end == std::string_view::npos ? original : original.substr(0, end + 2);
        m += std::string("Content-Type: ") +
             (utf8 ? "message/global-headers" : "text/rfc822-headers") + "\r\n";
    } else {
        m += std::string("Content-Type: ") + (utf8 ? "message/global" : "message/rfc822") + "\r\n";
    }
    m += "Content-Description: Undelivered Message\r\n\r\n";
    m.append(part);
    if (!part.empty() && part.substr(part.size() >= 2 ? part.size() - 2 : 0) != "\r\n") m += "\r\n";
    m += "\r\n--" + boundary + "--\r\n";
    return m;
}

}  // namespace postern
