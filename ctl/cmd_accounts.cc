#include "ctl/accounts_cli.h"

namespace postern::ctl {
void add_account_commands(CLI::App&, const WithConfig&) {}
}  // namespace postern::ctl
