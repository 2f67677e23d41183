// mailctl init DIR: a self-contained instance that can be moved as a whole.
//
// Modes are set explicitly (the caller's umask does not matter) and, run as root, owners
// too: DIR, postern.toml, log/ and tls/ are root's; data/, queue/ and run/ (and all
// in them) the run user's, who must be able to reach them.

#include <fcntl.h>
#include <sys/stat.h>
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
#include "ctl/run_user.h"
#include "libproto/config/instance_secret.h"
#include "libproto/core/secret.h"
#include "ctl/validate.h"
#include "libmailstore/accounts.h"
#include "libproto/core/safe_files.h"

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

// Who owns what init makes. `run` is the run user when init runs as root, else nothing
// (everything is the caller's); `config_user` is what server.user says.
struct Owners {
    std::optional<RunUser> run;
    std::string config_user;
    uid_t run_uid() const { return run ? run->uid : uid_t(-1); }
    gid_t run_gid() const { return run ? run->gid : gid_t(-1); }
};

std::expected<Owners, int> choose_owners(const std::string& wanted) {
    Owners o;
    if (::geteuid() != 0) {
        // Not root: the daemons will run as the caller; naming anyone else cannot work.
        auto me = find_user(wanted);
        if (!wanted.empty() && (!me || me->uid != ::geteuid()))
            return std::unexpected(fail(exit_usage, "--user " + wanted +
                                                        " needs root (the instance's "
                                                        "files would have to belong to " +
                                                        wanted + ")"));
        o.config_user = wanted;
        return o;
    }
    auto u = wanted.empty() ? find_or_create_system_user(kDefaultRunUser) : find_user(wanted);
    if (!u)
        return std::unexpected(fail(wanted.empty() ? exit_failed : exit_usage,
                                    (wanted.empty() ? "" : "--user: ") + u.error()));
    if (u->uid == 0)
        return std::unexpected(
            fail(exit_usage, "--user " + wanted +
                                 " is root: the daemons would "
                                 "serve clients as root (name an unprivileged user)"));
    o.run = *u;
    o.config_user = u->name;
    return o;
}

// Gives `p` (no symlink) exactly `mode` and, unless uid is -1, that owner.
bool set_mode_owner(const fs::path& p, mode_t mode, uid_t uid, gid_t gid, std::string& err) {
    int fd = ::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    bool ok =
        fd >= 0 && ::fchmod(fd, mode) == 0 && (uid == uid_t(-1) || ::fchown(fd, uid, gid) == 0);
    if (!ok) err = p.string() + ": cannot set its mode or owner: " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return ok;
}

bool make_subdir(const fs::path& p, mode_t mode, uid_t uid, gid_t gid, Rollback& rb,
                 std::string& err) {
    std::error_code ec;
    if (fs::is_symlink(p, ec)) {
        err = p.string() + ": is a symbolic link (refusing to use it)";
        return false;
    }
    auto made = make_dir(p, mode, uid, gid);
    if (!made) {
        err = made.error();
        return false;
    }
    if (*made) rb.created(p);
    return set_mode_owner(p, mode, uid, gid, err);  // also when it was there already
}

// Everything under `top` (made above, or there before) becomes the run user's; symlinks
// are changed themselves, never followed.
bool hand_over(const fs::path& top, const RunUser& u, std::string& err) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(top, ec), end; !ec && it != end; it.increment(ec)) {
        if (::lchown(it->path().c_str(), u.uid, u.gid) != 0) {
            err =
                it->path().string() + ": cannot give it to " + u.name + ": " + std::strerror(errno);
            return false;
        }
    }
    if (ec) err = top.string() + ": " + ec.message();
    return !ec;
}

// Writes `text` to `path` through a temp file, never replacing an existing file.
bool write_new_file(const fs::path& path, const std::string& text, mode_t mode, gid_t gid,
                    std::string& err) {
    fs::path tmp = path;
    tmp += ".tmp";
    ::unlink(tmp.c_str());  // left by an init that crashed
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        err = tmp.string() + ": " + std::strerror(errno);
        return false;
    }
    bool ok = ::fchmod(fd, mode) == 0 &&
              (gid == gid_t(-1) || ::fchown(fd, ::geteuid(), gid) == 0) &&
              ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
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
        return fail(exit_usage,
                    "--port-base must be between 0 and " + std::to_string(kMaxPortBase));
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
    if (fs::exists(fs::symlink_status(config, ec)))
        return fail(exit_failed, config.string() + " already exists; not overwriting it");
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        return fail(exit_failed, dir.string() + " exists and is not a directory");
    ::umask(027);  // anything made below without an explicit mode is not for everyone
    auto owners = choose_owners(opts.user);
    if (!owners) return owners.error();

    auto port = [&](uint32_t standard) { return std::to_string(base + standard); };
    auto text =
        render_config(config_template(), {
                                             {"server.hostname", toml_string(hostname)},
                                             {"server.user", toml_string(owners->config_user)},
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
        while (top.has_parent_path() && top.parent_path() != top &&
               !fs::exists(top.parent_path(), ec))
            top = top.parent_path();
        if (auto made = make_dir(dir, 0755); !made) return fail(exit_failed, made.error());
        rb.created(top);
    }
    // Only its owner may replace postern.toml (root's, when root runs the daemons).
    const uid_t me = ::geteuid();
    const gid_t my_gid = ::getegid();
    const uid_t run_uid = owners->run_uid();
    const gid_t run_gid = owners->run_gid();
    if (!set_mode_owner(dir, 0755, owners->run ? me : uid_t(-1), my_gid, err))
        return fail(exit_failed, err);
    for (const char* sub : {"data", "queue", "run"})
        if (!make_subdir(dir / sub, 0750, run_uid, run_gid, rb, err)) return fail(exit_failed, err);
    // Only mailctl writes log/ (the daemons get their log as an open file): root's.
    if (!make_subdir(dir / "log", 0750, owners->run ? me : uid_t(-1), run_gid, rb, err))
        return fail(exit_failed, err);
    if (!make_subdir(dir / "tls", 0700, owners->run ? me : uid_t(-1), my_gid, rb, err))
        return fail(exit_failed, err);

    const fs::path cert = dir / "tls" / "cert.pem", key = dir / "tls" / "key.pem";
    const bool have_cert = fs::exists(cert, ec), have_key = fs::exists(key, ec);
    if (have_cert != have_key)
        return fail(exit_failed, (have_cert ? cert : key).string() + " exists without its pair");
    if (!have_cert) {
        if (auto r = make_self_signed_cert(hostname, addrs, cert, key); !r)
            return fail(exit_failed, r.error());
        rb.created(cert);
        rb.created(key);
    }
    // The key is read by root before the daemons drop privileges: it stays root's alone.
    if (!set_mode_owner(cert, 0644, uid_t(-1), gid_t(-1), err) ||
        !set_mode_owner(key, 0600, uid_t(-1), gid_t(-1), err))
        return fail(exit_failed, err);

    // The run user reads it on SIGHUP (group), but cannot change it.
    if (!write_new_file(config, header + *text, 0640, run_gid, err)) return fail(exit_failed, err);
    rb.created(config);
    // The rendered file must load: anything else is a bug in the template or here.
    if (auto loaded = load_config(config); !loaded) return fail(exit_failed, loaded.error());
    // The accounts database is made here, once: later a missing or empty one is an error,
    // never silently an empty new one (docs/security.md, "Store and accounts").
    const auto create = Accounts::Open::create;
    if (auto why = Accounts::open_problem(dir / "data", create); !why.empty())
        return fail(exit_failed, why);
    if (auto acc = Accounts::open(dir / "data", StoreConfig{}.lmdb_map_size, create); !acc)
        return fail(exit_failed, (dir / "data/accounts").string() + ": " + describe(acc.error()));
    // The secret behind unknown users' fake SCRAM salts (instance_secret.h); the run user's.
    const fs::path secret = dir / "data" / instance_secret_name;
    if (!fs::exists(secret, ec)) {
        std::string text = make_instance_secret();
        bool written = write_new_file(secret, text, 0600, gid_t(-1), err);
        wipe(text);
        if (!written) return fail(exit_failed, err);
        rb.created(secret);
    }

    if (owners->run) {
        // Keep this last: whatever was made above in data/, queue/ or run/ is the run user's.
        for (const char* sub : {"data", "queue", "run"})
            if (!hand_over(dir / sub, *owners->run, err)) return fail(exit_failed, err);
        const int rwx = R_OK | W_OK | X_OK;
        if (auto why = check_access_as(
                *owners->run,
                {{dir / "data", rwx}, {dir / "queue", rwx}, {dir / "run", rwx}, {config, R_OK}});
            !why.empty())
            return fail(exit_failed, why);
    }
    rb.commit();

    std::printf("initialised %s (hostname %s, run user %s)\n", dir.c_str(), hostname.c_str(),
                owners->config_user.empty() ? "the caller" : owners->config_user.c_str());
    std::printf("ports: smtp %s, submission %s, smtps %s, pop3 %s, pop3s %s, imap %s, imaps %s\n",
                port(25).c_str(), port(587).c_str(), port(465).c_str(), port(110).c_str(),
                port(995).c_str(), port(143).c_str(), port(993).c_str());
    std::printf("next: mailctl -c %s domain add DOMAIN; user add USER@DOMAIN; start\n",
                config.c_str());
    return exit_ok;
}

}  // namespace postern::ctl
