#pragma once
// A self-signed TLS certificate for a fresh instance.

#include <expected>
#include <filesystem>
#include <string>
#include <vector>

namespace postern::ctl {

// Makes an EC P-256 key and a self-signed X.509 v3 certificate for `hostname`
// (CN=hostname, subjectAltName DNS:hostname plus IP:a for each of `addresses` that is not a
// wildcard, so clients that check the name also accept a connection to the listen address;
// valid 10 years) and writes them as PEM:
// key_file with mode 0600, cert_file with mode 0644. Neither file may exist yet.
// Returns a one-line reason on failure (and leaves neither file behind).
std::expected<void, std::string> make_self_signed_cert(const std::string& hostname,
                                                       const std::vector<std::string>& addresses,
                                                       const std::filesystem::path& cert_file,
                                                       const std::filesystem::path& key_file);

}  // namespace postern::ctl
