#pragma once
// The commented config template (etc/postern.toml, compiled in) and its rendering.

#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::ctl {

// The text of etc/postern.toml as it was at build time.
std::string_view config_template();

// One setting to fill in: "section.key" and its value as a TOML literal (quoted string,
// number or array), e.g. {"server.hostname", "\"mail.test\""}.
using ConfigValue = std::pair<std::string, std::string>;

// Returns the template with the value of each named setting replaced (comments kept), or
// an error naming a setting the template does not contain.
std::expected<std::string, std::string> render_config(std::string_view tmpl,
                                                      const std::vector<ConfigValue>& values);

// A TOML basic string literal for s (quoted, with escapes).
std::string toml_string(std::string_view s);

}  // namespace postern::ctl
