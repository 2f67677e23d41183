#include "libproto/https/https_get.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "libproto/core/ascii.h"

namespace postern {
namespace {

struct EasyFree {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
    void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};

struct Sink {
    std::string body;
    size_t max = 0;
    bool too_big = false;
};

size_t on_data(char* data, size_t size, size_t n, void* user) {
    auto* s = static_cast<Sink*>(user);
    size_t len = size * n;
    if (s->body.size() + len > s->max) {
        s->too_big = true;
        return 0;  // CURLE_WRITE_ERROR: the transfer stops
    }
    s->body.append(data, len);
    return len;
}

// "text/plain; charset=utf-8" -> "text/plain".
std::string media_type(const char* ct) {
    std::string_view s = ct ? ct : "";
    s = s.substr(0, s.find(';'));
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return ascii_lowered(s);
}

}  // namespace

void https_global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::expected<std::string, std::string> https_get(const HttpsGet& req) {
    using std::unexpected;
    https_global_init();
    if (req.host.empty() || req.address.empty()) return unexpected("no host or address");
    if (req.host.find_first_of(":/[]@ ") != std::string::npos)
        return unexpected("bad host name " + req.host);
    std::unique_ptr<CURL, EasyFree> curl(curl_easy_init());
    if (!curl) return unexpected("curl_easy_init failed");
    CURL* c = curl.get();
    const std::string port = std::to_string(req.port);
    const bool v6 = req.address.find(':') != std::string::npos;
    std::string pin = req.host + ":" + port + ":" + (v6 ? "[" + req.address + "]" : req.address);
    std::unique_ptr<curl_slist, SlistFree> resolve(curl_slist_append(nullptr, pin.c_str()));
    if (!resolve) return unexpected("out of memory");
    std::string url = "https://" + req.host + ":" + port + req.path;
    Sink sink;
    sink.max = req.max_bytes;
    char err[CURL_ERROR_SIZE] = {0};

    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");  // no proxy, whatever the environment says
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, long(CURL_SSLVERSION_TLSv1_2));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!req.ca_file.empty()) {
        curl_easy_setopt(c, CURLOPT_CAINFO, req.ca_file.c_str());
        curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
    }
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(req.connect_timeout_ms));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(req.total_timeout_ms));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(req.max_bytes));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "postern-mta-sts");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);

    CURLcode rc = curl_easy_perform(c);
    if (sink.too_big) return unexpected("body larger than " + std::to_string(req.max_bytes));
    if (rc != CURLE_OK)
        return unexpected(url + ": " + (err[0] ? std::string(err) : curl_easy_strerror(rc)));
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return unexpected(url + ": HTTP status " + std::to_string(status));
    if (!req.content_type.empty()) {
        char* ct = nullptr;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        std::string got = media_type(ct);
        if (got != ascii_lowered(req.content_type))
            return unexpected(url + ": Content-Type \"" + got + "\", not " + req.content_type);
    }
    return std::move(sink.body);
}

}  // namespace postern
