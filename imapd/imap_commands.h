#pragma once
// The command handlers, one file each (cmd_*.cc), and the dispatch table that maps an
// ImapCommandId to one (imap_commands.cc). Gating (state, TLS) happened before a handler
// runs: see ImapSession::begin. Adding a command: a cmd_*.cc, its declaration here, its row
// in imap_commands.cc.

#include <string>

#include "imapd/imap_session.h"

namespace postern {

void cmd_capability(ImapSession& s, ImapCommand& c);
void cmd_search(ImapSession& s, ImapCommand& c);  // SEARCH and UID SEARCH
void cmd_sort(ImapSession& s, ImapCommand& c);    // SORT and UID SORT
void cmd_thread(ImapSession& s, ImapCommand& c);  // THREAD and UID THREAD
void cmd_noop(ImapSession& s, ImapCommand& c);    // NOOP and CHECK
void cmd_logout(ImapSession& s, ImapCommand& c);
void cmd_starttls(ImapSession& s, ImapCommand& c);
void cmd_compress(ImapSession& s, ImapCommand& c);
void cmd_login(ImapSession& s, ImapCommand& c);
void cmd_authenticate(ImapSession& s, ImapCommand& c);
void cmd_enable(ImapSession& s, ImapCommand& c);
void cmd_id(ImapSession& s, ImapCommand& c);
void cmd_namespace(ImapSession& s, ImapCommand& c);
void cmd_select(ImapSession& s, ImapCommand& c);  // SELECT and EXAMINE
void cmd_create(ImapSession& s, ImapCommand& c);
void cmd_delete(ImapSession& s, ImapCommand& c);
void cmd_rename(ImapSession& s, ImapCommand& c);
void cmd_subscribe(ImapSession& s, ImapCommand& c);  // SUBSCRIBE and UNSUBSCRIBE
void cmd_list(ImapSession& s, ImapCommand& c);
void cmd_lsub(ImapSession& s, ImapCommand& c);
void cmd_status(ImapSession& s, ImapCommand& c);
void cmd_close(ImapSession& s, ImapCommand& c);    // CLOSE and UNSELECT
void cmd_expunge(ImapSession& s, ImapCommand& c);  // EXPUNGE and UID EXPUNGE
void cmd_idle(ImapSession& s, ImapCommand& c);
void cmd_fetch(ImapSession& s, ImapCommand& c);  // FETCH and UID FETCH
void cmd_store(ImapSession& s, ImapCommand& c);  // STORE and UID STORE
void cmd_copy(ImapSession& s, ImapCommand& c);   // COPY, MOVE and their UID forms
// cmd_quota.cc (RFC 9208)
void cmd_getquotaroot(ImapSession& s, ImapCommand& c);
void cmd_getquota(ImapSession& s, ImapCommand& c);
void cmd_setquota(ImapSession& s, ImapCommand& c);

// STATUS data of one folder (cmd_status.cc; LIST-STATUS uses it too). read_status is the
// blocking part (DELETED counts \Deleted messages in a snapshot).
struct StatusData {
    FolderStatus status;
    uint32_t deleted = 0;
};
StoreResult<StatusData> read_status(MailStore& store, const std::string& user,
                                    const std::string& folder, uint16_t items);
// "* STATUS name (MESSAGES n ...)\r\n" for the StatusItemBits in `items`.
void write_status(std::string& out, std::string_view client_name, bool utf8, const StatusData& d,
                  uint16_t items, uint64_t append_limit);

// The handler for a command, or null when it is not implemented yet.
ImapCommandHandler command_handler(ImapCommandId id);

// After a successful LOGIN / AUTHENTICATE (imap_login.cc): Authenticated, the tagged OK
// with the new capabilities.
void login_succeeded(ImapSession& s, const std::string& user, std::string_view how);
// A failed one: charged to the budget, the NO held back; after max_auth_failures * BYE.
void login_failed(ImapSession& s, uint32_t delay_ms, bool refused);

}  // namespace postern
