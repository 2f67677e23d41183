#include "libproto/config/instance_secret.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/rand.h>

#include "libproto/core/secret.h"

namespace postern {

std::filesystem::path instance_secret_path(const InstanceConfig& config) {
    return config.data_dir / instance_secret_name;
}

std::string make_instance_secret() {
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) abort();  // no randomness: nothing is safe
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : raw) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    wipe(raw, sizeof raw);
    return out + "\n";
}

std::expected<std::string, std::string> read_instance_secret(const InstanceConfig& config) {
    const auto path = instance_secret_path(config);
    auto fail = [&](const std::string& why) {
        return std::unexpected(path.string() + ": " + why + " (mailctl init makes it)");
    };
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return fail(std::string("cannot read: ") + std::strerror(errno));
    char buf[128];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    if (n < 0) return fail(std::string("cannot read: ") + std::strerror(errno));
    std::string s(buf, size_t(n));
    wipe(buf, sizeof buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.size() != 64 || s.find_first_not_of("0123456789abcdef") != std::string::npos) {
        wipe(s);
        return fail("not an instance secret (64 hex digits)");
    }
    return s;
}

}  // namespace postern
