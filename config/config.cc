#include "config/config.h"

namespace postern {

std::expected<Config, std::string> load_config(const std::filesystem::path& file) {
    Config c;
    // Every section of postern.toml, in the order they are read (the first error wins).
    // A new section: its file in this folder, its member in Config, one line here.
    const SectionBinding sections[] = {
        bind(server_section, static_cast<InstanceConfig&>(c)),
        bind(paths_section, static_cast<InstanceConfig&>(c)),
        bind(tls_section, static_cast<InstanceConfig&>(c)),
        bind(smtpd_section, c.smtpd),
        bind(pop3d_section, c.pop3d),
        bind(imapd_section, c.imapd),
        bind(auth_section, c.auth),
        bind(spoold_section, c.spoold),
        bind(delivery_section, c.delivery),
        bind(store_section, c.store),
        bind(log_section, c.log),
    };
    if (auto r = load_config_file(file, c, sections); !r) return std::unexpected(r.error());
    return c;
}

std::expected<Config, std::string> Config::load(const std::filesystem::path& file) {
    return load_config(file);
}

}  // namespace postern
