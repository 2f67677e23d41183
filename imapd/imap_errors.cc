#include "imapd/imap_errors.h"

namespace postern {

std::string_view imap_code_name(ImapCode c) {
    switch (c) {
    case ImapCode::none: return "";
    case ImapCode::alert: return "ALERT";
    case ImapCode::alreadyexists: return "ALREADYEXISTS";
    case ImapCode::authenticationfailed: return "AUTHENTICATIONFAILED";
    case ImapCode::cannot: return "CANNOT";
    case ImapCode::clientbug: return "CLIENTBUG";
    case ImapCode::compressionactive: return "COMPRESSIONACTIVE";
    case ImapCode::closed: return "CLOSED";
    case ImapCode::expungeissued: return "EXPUNGEISSUED";
    case ImapCode::inuse: return "INUSE";
    case ImapCode::limit: return "LIMIT";
    case ImapCode::nonexistent: return "NONEXISTENT";
    case ImapCode::noperm: return "NOPERM";
    case ImapCode::overquota: return "OVERQUOTA";
    case ImapCode::privacyrequired: return "PRIVACYREQUIRED";
    case ImapCode::readonly: return "READ-ONLY";
    case ImapCode::readwrite: return "READ-WRITE";
    case ImapCode::serverbug: return "SERVERBUG";
    case ImapCode::trycreate: return "TRYCREATE";
    case ImapCode::unavailable: return "UNAVAILABLE";
    case ImapCode::useattr: return "USEATTR";
    }
    return "";
}

ImapReply store_error_reply(StoreError e, StoreContext ctx) {
    using S = ImapResult;
    using C = ImapCode;
    switch (e) {
    case StoreError::not_found:
        if (ctx == StoreContext::target) return {S::no, C::trycreate, "No such mailbox"};
        if (ctx == StoreContext::messages)
            return {S::no, C::expungeissued, "Some messages no longer exist"};
        return {S::no, C::nonexistent, "No such mailbox"};
    case StoreError::exists: return {S::no, C::alreadyexists, "Mailbox already exists"};
    case StoreError::invalid: return {S::no, C::cannot, "Invalid mailbox name or operation"};
    case StoreError::not_empty: return {S::no, C::cannot, "Mailbox has child mailboxes"};
    case StoreError::temporary:
        return {S::no, C::unavailable, "Temporary storage failure, try again later"};
    case StoreError::no_space: return {S::no, C::limit, "Server storage is full"};
    case StoreError::over_quota: return {S::no, C::overquota, "Quota exceeded"};
    case StoreError::in_use: return {S::no, C::inuse, "Mailbox is in use, try again later"};
    case StoreError::corrupt:
        return {S::no, C::serverbug, "Mailbox index damaged; the administrator can rebuild it"};
    case StoreError::expunged:
        return {S::no, C::expungeissued, "Some messages were expunged meanwhile"};
    case StoreError::loop: return {S::no, C::serverbug, "Internal server error"};
    }
    return {S::no, C::serverbug, "Internal server error"};
}

ImapReply refusal_reply(ImapRefusal r) {
    using S = ImapResult;
    using C = ImapCode;
    switch (r) {
    case ImapRefusal::not_implemented: return {S::bad, C::none, "Command not implemented yet"};
    case ImapRefusal::not_authenticated: return {S::bad, C::none, "Log in first"};
    case ImapRefusal::already_authenticated: return {S::bad, C::none, "Already logged in"};
    case ImapRefusal::no_mailbox_selected: return {S::bad, C::none, "No mailbox selected"};
    case ImapRefusal::logging_out: return {S::bad, C::none, "Logging out"};
    case ImapRefusal::privacy_required:
        return {S::no, C::privacyrequired,
                "Plaintext authentication is disallowed without TLS (use STARTTLS)"};
    case ImapRefusal::read_only: return {S::no, C::readonly, "Mailbox is read-only"};
    case ImapRefusal::bad_sequence: return {S::bad, C::none, "Invalid message sequence number"};
    }
    return {S::bad, C::none, "Command refused"};
}

}  // namespace postern
