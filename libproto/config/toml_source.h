#pragma once
// Private to libproto/config: what a ConfigTable reads (toml++ appears only here and in
// the .cc files of this folder; tests/layering checks it).

#include <filesystem>
#include <toml++/toml.h>

#include "libproto/config/config_table.h"

namespace postern {

struct ConfigTable::Source {
    const toml::table* table;
    std::filesystem::path base;  // the config file's directory
};

inline int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

}  // namespace postern
