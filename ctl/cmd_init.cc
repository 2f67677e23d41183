// mailctl init DIR: a self-contained instance that can be moved as a whole.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ctl/cert.h"
#include "ctl/commands.h"
#include "ctl/config_template.h"
#include "ctl/ctl.h"
#include "ctl/validate.h"

namespace postern::ctl {
namespace fs = std::filesystem;
namespace {

constexpr uint32_t kMaxPortBase = 65535 - 995;  // the highest offset is IMAPS/POP3S

std::string default_hostname() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) == 0 && valid_hostname(buf)) return buf;
    return "localhost";
}

// Undoes a failed init: removes what it created, newest first.
class Rollback {
public:
    void created(fs::path p) { paths_.push_back(std::move(p)); }
    void commit() { paths_.clear(); }
    ~Rollback() {
        for (auto it = paths_.rbegin(); it != paths_.rend(); ++it) {
            std::error_code ec;
            fs::remove_all(*it, ec);
        }
    }

private:
    std::vector<fs::path> paths_;
};

bool make_dir(const fs::path& p, fs::perms mode, Rollback& rb, std::string& err) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) return true;
    if (!fs::create_directory(p, ec)) {
        err = p.string() + ": " + (ec ? ec.message() : "exists and is not a directory");
        return false;
    }
    rb.created(p);
    fs::permissions(p, mode, ec);
    return true;
}

// Writes `text` to `path` through a temp file, never replacing an existing file.
bool write_new_file(const fs::path& path, const std::string& text, std::string& err) {
    fs::path tmp = path;
    tmp += ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        err = tmp.string() + ": " + std::strerror(errno);
        return false;
    }
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    int saved = errno;
    ::close(fd);
    // link() fails with EEXIST instead of replacing a config someone wrote meanwhile.
    if (ok && ::link(tmp.c_str(), path.c_str()) != 0) {
        saved = errno;
        ok = false;
    }
    ::unlink(tmp.c_str());
    if (!ok) err = path.string() + ": " + std::strerror(saved);
    return ok;
}

}  // namespace

int cmd_init(const InitOptions& opts) {
    const std::string hostname = opts.hostname.empty() ? default_hostname() : opts.hostname;
    if (!valid_hostname(hostname)) return fail(exit_usage, "invalid host name: " + hostname);
    uint32_t base = opts.port_base.value_or(0);
    if (base > kMaxPortBase)
        return fail(exit_usage, "--port-base must be between 0 and " + std::to_string(kMaxPortBase));
    auto addrs = split_list(opts.listen);
    if (addrs.empty()) return fail(exit_usage, "--listen needs at least one address");
    std::string listen = "[";
    for (const auto& a : addrs) {
        if (!valid_ip(a)) return fail(exit_usage, "invalid listen address: " + a);
        listen += (listen.size() > 1 ? ", " : "") + toml_string(a);
    }
    listen += "]";

    std::error_code ec;
    const fs::path dir = fs::absolute(opts.dir, ec).lexically_normal();
    const fs::path config = dir / "postern.toml";
    if (fs::exists(config, ec))
        return fail(exit_failed, config.string() + " already exists; not overwriting it");
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        return fail(exit_failed, dir.string() + " exists and is not a directory");

    auto port = [&](uint32_t standard) { return std::to_string(base + standard); };
    auto text = render_config(config_template(), {
        {"server.hostname", toml_string(hostname)},
        {"server.user", toml_string("")},
        {"server.listen", listen},
        {"paths.data", toml_string("data")},
        {"paths.queue", toml_string("queue")},
        {"paths.run", toml_string("run")},
        {"paths.log", toml_string("log")},
        {"tls.cert", toml_string("tls/cert.pem")},
        {"tls.key", toml_string("tls/key.pem")},
        {"smtpd.mx_port", port(25)},
        {"smtpd.submission_port", port(587)},
        {"smtpd.smtps_port", port(465)},
        {"pop3d.port", port(110)},
        {"pop3d.tls_port", port(995)},
        {"imapd.port", port(143)},
        {"imapd.tls_port", port(993)},
    });
    if (!text) return fail(exit_failed, text.error());
    const std::string header =
        "# Made by `mailctl init`. Paths are relative to this file's directory, so the instance\n"
        "# can be moved as a whole. Check edits with `mailctl -c postern.toml check`.\n\n";

    Rollback rb;
    std::string err;
    if (!fs::exists(dir, ec)) {
        // Only the missing tail of DIR is ours to remove on failure.
        fs::path top = dir;
        while (top.has_parent_path() && top.parent_path() != top && !fs::exists(top.parent_path(), ec))
            top = top.parent_path();
        if (!fs::create_directories(dir, ec)) return fail(exit_failed, dir.string() + ": " + ec.message());
        rb.created(top);
    }
    const auto priv = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec;
    for (const char* sub : {"data", "queue", "run", "log"})
        if (!make_dir(dir / sub, priv, rb, err)) return fail(exit_failed, err);
    if (!make_dir(dir / "tls", fs::perms::owner_all, rb, err)) return fail(exit_failed, err);

    const fs::path cert = dir / "tls" / "cert.pem", key = dir / "tls" / "key.pem";
    const bool have_cert = fs::exists(cert, ec), have_key = fs::exists(key, ec);
    if (have_cert != have_key)
        return fail(exit_failed, (have_cert ? cert : key).string() + " exists without its pair");
    if (!have_cert) {
        if (auto r = make_self_signed_cert(hostname, cert, key); !r) return fail(exit_failed, r.error());
        rb.created(cert);
        rb.created(key);
    }

    if (!write_new_file(config, header + *text, err)) return fail(exit_failed, err);
    rb.created(config);
    // The rendered file must load: anything else is a bug in the template or here.
    if (auto loaded = load_config(config); !loaded) return fail(exit_failed, loaded.error());
    rb.commit();

    std::printf("initialised %s (hostname %s)\n", dir.c_str(), hostname.c_str());
    std::printf("ports: smtp %s, submission %s, smtps %s, pop3 %s, pop3s %s, imap %s, imaps %s\n",
                port(25).c_str(), port(587).c_str(), port(465).c_str(), port(110).c_str(),
                port(995).c_str(), port(143).c_str(), port(993).c_str());
    std::printf("next: mailctl -c %s domain add DOMAIN; user add USER@DOMAIN; start\n", config.c_str());
    return exit_ok;
}

}  // namespace postern::ctl
