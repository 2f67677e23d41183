#pragma once
// The grammar of the store commands (domain, user, alias, index, queue); main.cc calls this.

#include <CLI/CLI.hpp>

#include <functional>

#include "libproto/config.h"

namespace postern::ctl {

// Registers a subcommand whose handler needs the loaded config.
using WithConfig = std::function<void(CLI::App* sub, std::function<int(const Config&)> run)>;

void add_account_commands(CLI::App& app, const WithConfig& with_config);

}  // namespace postern::ctl
