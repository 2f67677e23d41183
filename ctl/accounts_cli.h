#pragma once
// The grammar of the store commands (domain, user, alias, index, queue); main.cc calls
// these. Every handler validates its input before it opens anything, so bad input never
// leaves partial state behind.

#include <CLI/CLI.hpp>

#include <functional>

#include "config/config.h"

namespace postern::ctl {

// Registers a subcommand whose handler needs the loaded config.
using WithConfig = std::function<void(CLI::App* sub, std::function<int(const Config&)> run)>;

// domain add|del|list, user add [--quota SIZE]|del|list|passwd|quota|show [--json],
// alias add|del|list (cmd_accounts.cc)
void add_account_commands(CLI::App& app, const WithConfig& with_config);

// index rebuild [U@D] (cmd_index.cc)
void add_index_commands(CLI::App& app, const WithConfig& with_config);

// queue list|show ID|flush [ID]|delete ID|hold ID|release ID, list and show with --json (cmd_queue.cc)
void add_queue_commands(CLI::App& app, const WithConfig& with_config);

// dkim keygen DOMAIN [--selector S] [--type rsa|ed25519] [--bits N] [--force] [--activate],
// dkim list, dkim show DOMAIN, dkim activate DOMAIN SELECTOR (cmd_dkim.cc)
void add_dkim_commands(CLI::App& app, const WithConfig& with_config);

}  // namespace postern::ctl
