#include "libproto/imap/imap_envelope.h"

#include "libproto/imap/imap_string.h"

namespace postern {

namespace {

void nstring(std::string& out, const std::optional<std::string>& s, bool utf8) {
    imap_write_nstring(out, s ? std::optional<std::string_view>(*s) : std::nullopt, utf8);
}

std::vector<MimeAddress> addresses(const std::optional<std::string>& field) {
    if (!field) return {};
    return mime_parse_address_list(*field);
}

}  // namespace

void imap_write_address_list(std::string& out, const std::vector<MimeAddress>& list, bool utf8) {
    if (list.empty()) {
        out += "NIL";
        return;
    }
    out += '(';
    for (const MimeAddress& a : list) {
        out += '(';
        nstring(out, a.name, utf8);
        out += ' ';
        nstring(out, a.adl, utf8);
        out += ' ';
        nstring(out, a.mailbox, utf8);
        out += ' ';
        nstring(out, a.host, utf8);
        out += ')';
    }
    out += ')';
}

void imap_write_envelope(std::string& out, const MimeEnvelopeFields& env, bool utf8) {
    std::vector<MimeAddress> from = addresses(env.from);
    std::vector<MimeAddress> sender = addresses(env.sender);
    std::vector<MimeAddress> reply_to = addresses(env.reply_to);
    out += '(';
    nstring(out, env.date, utf8);
    out += ' ';
    nstring(out, env.subject, utf8);
    out += ' ';
    imap_write_address_list(out, from, utf8);
    out += ' ';
    imap_write_address_list(out, sender.empty() ? from : sender, utf8);
    out += ' ';
    imap_write_address_list(out, reply_to.empty() ? from : reply_to, utf8);
    for (const auto* f : {&env.to, &env.cc, &env.bcc}) {
        out += ' ';
        imap_write_address_list(out, addresses(*f), utf8);
    }
    out += ' ';
    nstring(out, env.in_reply_to, utf8);
    out += ' ';
    nstring(out, env.message_id, utf8);
    out += ')';
}

void imap_write_empty_envelope(std::string& out) {
    out += "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)";
}

}  // namespace postern
