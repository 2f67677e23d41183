#pragma once
// One HTTPS GET with libcurl, blocking (spoold runs it on the pool: spoold/mta_sts.cc), for
// the MTA-STS policy fetch (RFC 8461 3.3). curl connects only to `address`, pinned with
// CURLOPT_RESOLVE, so it never asks the system resolver; no proxy, no redirects (a 3xx is a
// failure), https only, TLS 1.2+, the certificate verified against `host` (the system store,
// or only `ca_file`), timeouts, a body cap, a Content-Type check.

#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>

namespace postern {

struct HttpsGet {
    std::string host;     // the URL's host: SNI, certificate name, Host header
    std::string address;  // the IP (from our resolver) to connect to
    uint16_t port = 443;
    std::string path = "/";
    std::filesystem::path ca_file;  // empty: the system's default verify paths
    uint32_t connect_timeout_ms = 10'000;
    uint32_t total_timeout_ms = 30'000;
    size_t max_bytes = 64 * 1024;  // a longer body is a failure
    std::string content_type;      // e.g. "text/plain": the media type must be it (any case,
                                   // parameters ignored); empty: not checked
};

// Once per process, before threads use https_get (curl_global_init).
void https_global_init();

// The body of a 200 answer; else one line saying what went wrong.
std::expected<std::string, std::string> https_get(const HttpsGet& req);

}  // namespace postern
