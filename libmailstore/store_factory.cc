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

std::expected<MailData, std::string> open_mail_data(const std::filesystem::path& data_dir,
                                                    const MailDataSettings& settings) {
    auto accounts = Accounts::open(data_dir, settings.lmdb_map_size);
    if (!accounts)
        return std::unexpected("cannot open accounts in " + data_dir.string() + ": " +
                               describe(accounts.error()));
    if (auto bad = backend_problem(settings.backend); !bad.empty()) return std::unexpected(bad);
    StoreOptions so;
    so.disk_reserve_bytes = settings.disk_reserve_bytes;
    so.quota_of = quota_lookup(*accounts);
    auto store = open_store(settings.backend, data_dir, so);
    if (!store)
        return std::unexpected("cannot open the mail store in " + data_dir.string() + ": " +
                               describe(store.error()));
    return MailData{std::move(*accounts), std::move(*store)};
}

}  // namespace postern
