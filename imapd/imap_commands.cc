#include "imapd/imap_commands.h"

#include <array>

namespace postern {
namespace {

using Id = ImapCommandId;

struct Row {
    ImapCommandId id;
    ImapCommandHandler handler;
};

// One row per implemented command; the rest answer BAD "not implemented yet".
constexpr Row rows[] = {
    {Id::capability, cmd_capability},
    {Id::search, cmd_search},
    {Id::sort, cmd_sort},
    {Id::thread, cmd_thread},
    {Id::noop, cmd_noop},
    {Id::check, cmd_noop},
    {Id::logout, cmd_logout},
    {Id::starttls, cmd_starttls},
    {Id::login, cmd_login},
    {Id::authenticate, cmd_authenticate},
    {Id::enable, cmd_enable},
    {Id::id, cmd_id},
    {Id::namespace_, cmd_namespace},
    {Id::select, cmd_select},
    {Id::examine, cmd_select},
    {Id::create, cmd_create},
    {Id::delete_mailbox, cmd_delete},
    {Id::rename, cmd_rename},
    {Id::subscribe, cmd_subscribe},
    {Id::unsubscribe, cmd_subscribe},
    {Id::list, cmd_list},
    {Id::lsub, cmd_lsub},
    {Id::status, cmd_status},
    {Id::close, cmd_close},
    {Id::unselect, cmd_close},
    {Id::expunge, cmd_expunge},
    {Id::idle, cmd_idle},
    {Id::fetch, cmd_fetch},
    {Id::store, cmd_store},
    {Id::copy, cmd_copy},
    {Id::move, cmd_copy},
    {Id::compress, cmd_compress},
    {Id::getquotaroot, cmd_getquotaroot},
    {Id::getquota, cmd_getquota},
    {Id::setquota, cmd_setquota},
};

constexpr std::array<ImapCommandHandler, size_t(Id::unknown) + 1> make_table() {
    std::array<ImapCommandHandler, size_t(Id::unknown) + 1> t{};
    for (const Row& r : rows) t[size_t(r.id)] = r.handler;
    return t;
}
constexpr auto table = make_table();

}  // namespace

ImapCommandHandler command_handler(ImapCommandId id) { return table[size_t(id)]; }

}  // namespace postern
