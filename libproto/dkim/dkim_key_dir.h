#pragma once
// Where DKIM keys live: <paths.data>/dkim/<domain>/<selector>.key, PEM, mode 0600 (or
// 0400), owned by the user that signs (server.user; mailctl writes them as that user).
// When a domain has several keys, <domain>/active names the selector to sign with (one
// line); with one key and no such file, that key signs. mailctl dkim keygen and spoold's
// keyring both go through here, so the layout is written down once.

#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/dkim/dkim_key.h"

namespace postern {

// <data_dir>/dkim
std::filesystem::path dkim_key_dir(const std::filesystem::path& data_dir);

// A domain or selector fit for a file name and a DNS label list: lower-case letters,
// digits, '-', '_' and '.', not starting with '.' or '-', 1..253 octets.
bool dkim_valid_name(std::string_view name);

struct DkimKeyFile {
    std::string domain;
    std::string selector;
    std::filesystem::path path;
    bool active = false;  // the selector the domain signs with
};

// Every key file under `dir` (sorted by domain, then selector), with which one signs for
// each domain. A missing `dir` is no keys. Names that are not dkim_valid_name are skipped.
std::vector<DkimKeyFile> dkim_list_keys(const std::filesystem::path& dir);

// The selector that signs for `domain` ("active" file, else its only key), or nullopt.
std::optional<std::string> dkim_active_selector(const std::filesystem::path& dir,
                                                std::string_view domain);

// Reads a key file: a plain file (no symlink), owned by the caller or root, with no group
// or other permission bits, holding a key DkimKey::from_pem accepts. Error: one line
// naming the file.
std::expected<DkimKey, std::string> dkim_read_key_file(const std::filesystem::path& path);

// Writes `key` as <dir>/<domain>/<selector>.key (PKCS#8 PEM, mode 0600, the caller's),
// making <dir> and <dir>/<domain> (mode 0700) as needed: to a temporary file, fsynced, then
// renamed, so a crash leaves the old key or the new one. An existing key file is an error
// unless `replace`. Error: one line naming the file.
std::expected<void, std::string> dkim_write_key_file(const std::filesystem::path& dir,
                                                     std::string_view domain,
                                                     std::string_view selector, const DkimKey& key,
                                                     bool replace);

// Makes `selector` the one that signs for `domain` (<dir>/<domain>/active). Error: one line.
std::expected<void, std::string> dkim_set_active(const std::filesystem::path& dir,
                                                 std::string_view domain,
                                                 std::string_view selector);

// The record to publish, as a zone file line: `SELECTOR._domainkey.DOMAIN. IN TXT "..."`,
// the text split into strings of at most 255 octets (RFC 6376 section 3.6.2.2: a verifier
// joins them without spaces).
std::string dkim_dns_zone_line(std::string_view domain, std::string_view selector,
                               const DkimKey& key);

}  // namespace postern
