#include "libmailstore/store_factory.h"

#include <algorithm>
#include <array>

namespace postern {
namespace {

constexpr std::array<std::string_view, 1> backends{"maildir"};

}  // namespace

std::span<const std::string_view> store_backends() { return backends; }

std::string backend_problem(std::string_view name) {
    if (std::find(backends.begin(), backends.end(), name) != backends.end()) return {};
    std::string known;
    for (auto b : backends) known += (known.empty() ? "" : ", ") + std::string(b);
    return "store.backend \"" + std::string(name) + "\" is not one of: " + known;
}

StoreResult<std::unique_ptr<MailStore>> open_store(std::string_view backend,
                                                   const std::filesystem::path& data_dir,
                                                   const StoreOptions& opts) {
    if (backend == "maildir") return open_maildir_store(data_dir, opts);
    return std::unexpected(StoreError::invalid);
}

}  // namespace postern
