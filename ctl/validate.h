#pragma once
// Checks on what the administrator types, shared by init and the account commands.

#include <string>
#include <string_view>
#include <vector>

namespace postern::ctl {

// A DNS host name: 1..253 chars, dot-separated labels of 1..63 letters, digits and
// hyphens, no label starting or ending with a hyphen.
bool valid_hostname(std::string_view h);

// A literal IPv4 or IPv6 address.
bool valid_ip(const std::string& a);

// Splits "a,b,,c" into {"a","b","c"} (blank items dropped, spaces trimmed).
std::vector<std::string> split_list(std::string_view s);

}  // namespace postern::ctl
