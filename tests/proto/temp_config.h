#pragma once
// A postern.toml with the given text in a fresh temp dir, removed at the end of the scope.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

struct TempConfig {
    std::filesystem::path dir;
    std::filesystem::path file;
    explicit TempConfig(const std::string& text) {
        char tmpl[] = "/tmp/postern-config-XXXXXX";
        dir = mkdtemp(tmpl);
        file = dir / "postern.toml";
        std::ofstream(file) << text;
    }
    ~TempConfig() { std::filesystem::remove_all(dir); }
};
