#include "libproto/smtp/smtp_received.h"

#include <cstdio>

namespace postern {

namespace {

// Header text from client-supplied values: printable ASCII, no parentheses
// that would unbalance the comment, bounded.
std::string clean(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 255)) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u >= 0x7f || c == '(' || c == ')' || c == '\\')
            out += '?';
        else
            out += c;
    }
    return out;
}

}  // namespace

std::string received_protocol(const ReceivedInfo& r) {
    if (!r.esmtp) return "SMTP";
    std::string p = r.smtputf8 ? "UTF8SMTP" : "ESMTP";
    if (r.tls) p += 'S';
    if (r.authenticated) p += 'A';
    return p;
}

std::string rfc5322_date(std::time_t t) {
    static const char* const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
                  tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

std::string format_received(const ReceivedInfo& r, std::string_view id) {
    std::string h = "Received: from ";
    h += r.helo.empty() ? "unknown" : clean(r.helo);
    h += " ([" + clean(r.client_ip) + "])\r\n";
    h += "\tby " + clean(r.hostname) + " (Postern) with " + received_protocol(r);
    h += " id " + clean(id) + "\r\n";
    if (r.tls || r.authenticated) {
        h += "\t(";
        if (r.tls) h += "using " + clean(r.tls_version) + " with cipher " + clean(r.tls_cipher);
        if (r.tls && r.authenticated) h += "; ";
        if (r.authenticated) h += "authenticated user " + clean(r.auth_user);
        h += ")\r\n";
    }
    h += '\t';
    if (!r.for_rcpt.empty()) h += "for <" + clean(r.for_rcpt) + ">; ";
    h += rfc5322_date(r.when) + "\r\n";
    return h;
}

}  // namespace postern
