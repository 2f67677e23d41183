#include "libproto/imap/imap_command_table.h"

#include <array>

#include "libproto/core/ascii.h"

namespace postern {
namespace {

constexpr uint8_t any_state =
    imap_state_not_authenticated | imap_state_authenticated | imap_state_selected;
constexpr uint8_t pre_auth = imap_state_not_authenticated;
constexpr uint8_t authed = imap_state_authenticated | imap_state_selected;
constexpr uint8_t selected = imap_state_selected;

constexpr uint8_t seqs = imap_cmd_uses_seqs;
constexpr uint8_t expunges = imap_cmd_may_expunge;
constexpr uint8_t tls = imap_cmd_needs_tls;
constexpr uint8_t uid = imap_cmd_uid;
constexpr uint8_t alone = imap_cmd_exclusive;

using Id = ImapCommandId;

// In ImapCommandId order (checked below).
constexpr std::array<ImapCommandSpec, size_t(Id::unknown) + 1> table{{
    {"CAPABILITY", Id::capability, any_state, 0},
    {"NOOP", Id::noop, any_state, 0},
    {"LOGOUT", Id::logout, any_state, alone},
    {"STARTTLS", Id::starttls, pre_auth, alone},
    {"AUTHENTICATE", Id::authenticate, pre_auth, alone},
    {"LOGIN", Id::login, pre_auth, tls | alone},
    {"SELECT", Id::select, authed, alone},
    {"EXAMINE", Id::examine, authed, alone},
    {"CREATE", Id::create, authed, 0},
    {"DELETE", Id::delete_mailbox, authed, 0},
    {"RENAME", Id::rename, authed, 0},
    {"SUBSCRIBE", Id::subscribe, authed, 0},
    {"UNSUBSCRIBE", Id::unsubscribe, authed, 0},
    {"LIST", Id::list, authed, 0},
    {"LSUB", Id::lsub, authed, 0},
    {"STATUS", Id::status, authed, 0},
    {"APPEND", Id::append, authed, alone},
    {"CHECK", Id::check, selected, 0},
    {"CLOSE", Id::close, selected, expunges | alone},
    {"UNSELECT", Id::unselect, selected, alone},
    {"EXPUNGE", Id::expunge, selected, expunges | uid},
    {"SEARCH", Id::search, selected, seqs | uid},
    {"FETCH", Id::fetch, selected, seqs | uid},
    {"STORE", Id::store, selected, seqs | uid},
    {"COPY", Id::copy, selected, seqs | uid},
    {"MOVE", Id::move, selected, seqs | uid | expunges},
    {"IDLE", Id::idle, authed, alone},
    {"NAMESPACE", Id::namespace_, authed, 0},
    {"ENABLE", Id::enable, authed, alone},
    {"ID", Id::id, any_state, 0},
    {"GETQUOTA", Id::getquota, authed, 0},
    {"GETQUOTAROOT", Id::getquotaroot, authed, 0},
    {"SETQUOTA", Id::setquota, authed, 0},
    {"COMPRESS", Id::compress, authed, alone},
    {"SORT", Id::sort, selected, seqs | uid},
    {"THREAD", Id::thread, selected, seqs | uid},
    {"", Id::unknown, 0, 0},
}};

constexpr bool in_id_order() {
    for (size_t i = 0; i < table.size(); ++i)
        if (size_t(table[i].id) != i) return false;
    return true;
}
static_assert(in_id_order(), "imap command table out of ImapCommandId order");

}  // namespace

const ImapCommandSpec* find_imap_command(std::string_view name) {
    if (name.empty()) return nullptr;
    for (const ImapCommandSpec& s : table)
        if (s.id != Id::unknown && iequals(s.name, name)) return &s;
    return nullptr;
}

const ImapCommandSpec& imap_command_spec(ImapCommandId id) { return table[size_t(id)]; }

std::string_view imap_command_name(ImapCommandId id) { return table[size_t(id)].name; }

bool uses_sequence_numbers(ImapCommandId id, bool uid_prefix) {
    return !uid_prefix && (imap_command_spec(id).flags & imap_cmd_uses_seqs) != 0;
}

bool allowed_in_state(ImapCommandId id, uint8_t state_bit) {
    return (imap_command_spec(id).states & state_bit) != 0;
}

}  // namespace postern
