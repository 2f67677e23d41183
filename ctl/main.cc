// mailctl: the command line. This file is only the grammar; each command lives in its
// own cmd_*.cc and returns the exit code (0 ok, 1 failed, 2 usage or config, 3 not running).

#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <cstdio>
#include <functional>

#include "ctl/accounts_cli.h"
#include "ctl/commands.h"
#include "ctl/ctl.h"
#include "libproto/core/log.h"
#include "libproto/net/privileges.h"

using namespace postern;
using namespace postern::ctl;

namespace {

struct Cli {
    CLI::App app{"mailctl: set up, run and administer a Postern mail server", "mailctl"};
    std::string config_flag;
    std::function<int()> action;  // set by the subcommand that was given

    // A subcommand that needs the config: it is loaded (or the one-line error printed and
    // exit 2) before `run` is called, and nothing else happens on error. A store command
    // (as_run_user) run as root then drops to server.user for good, so that everything it
    // creates is the run user's; start/stop/status/check stay root (daemons bind as root).
    void with_config(CLI::App* sub, const std::function<int(const Config&)>& run,
                     bool as_run_user) {
        sub->callback([this, run, as_run_user] {
            action = [this, run, as_run_user] {
                auto cfg = load_config(default_config_path(config_flag));
                if (!cfg) return fail(exit_usage, cfg.error());
                if (as_run_user) {
                    auto who = run_user_for(*cfg);
                    if (!who) return fail(exit_usage, who.error());
                    if (*who) {
                        if (auto r = drop_to(**who); !r) return fail(exit_failed, r.error());
                    }
                }
                return run(*cfg);
            };
        });
    }
};

void add_init(Cli& cli) {
    static InitOptions opts;
    static uint32_t base = 0;
    auto* sub = cli.app.add_subcommand("init", "create a self-contained instance in DIR");
    sub->add_option("DIR", opts.dir, "instance directory (created if missing)")->required();
    auto* pb = sub->add_option("--port-base", base,
                               "ports become P+25, P+587, P+465, P+110, P+995, P+143, P+993");
    sub->add_option("--hostname", opts.hostname, "server host name (greeting, certificate)");
    sub->add_option("--listen", opts.listen,
                    "addresses to listen on, comma-separated (default 0.0.0.0,::)");
    sub->add_option("--user", opts.user,
                    "run user owning the data (root only; default postern, created if missing)");
    sub->callback([&cli, pb] {
        cli.action = [pb] {
            if (pb->count() > 0) opts.port_base = base;
            return cmd_init(opts);
        };
    });
}

void add_services(Cli& cli) {
    static std::vector<std::string> names;
    struct Verb {
        const char* name;
        const char* help;
        int (*run)(const Config&, const std::vector<std::string>&);
    };
    static constexpr Verb verbs[] = {
        {"start", "start services and wait until they listen", cmd_start},
        {"stop", "stop services (SIGTERM, then SIGKILL after the grace period)", cmd_stop},
        {"restart", "stop, then start services", cmd_restart},
        {"status", "show which services run (exit 3 if any named one does not)", cmd_status},
    };
    for (const auto& v : verbs) {
        auto* sub = cli.app.add_subcommand(v.name, v.help);
        sub->add_option("SERVICE", names, "smtpd, pop3d, imapd, spoold (default: all)");
        cli.with_config(
            sub, [&v](const Config& c) { return v.run(c, names); }, false);
    }
}

void add_check(Cli& cli) {
    auto* sub = cli.app.add_subcommand("check", "validate the config, TLS files and directories");
    cli.with_config(
        sub, [](const Config& c) { return cmd_check(c); }, false);
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // keep stdout and stderr lines in order
    ::umask(
        027);  // the store's files and directories are never for everyone, whatever the caller's
    // The store logs what it does; mailctl says it itself, so only warnings get through.
    log_setup("mailctl", "stderr", "warning");
    Cli cli;
    cli.app.fallthrough();  // -c may also come after the subcommand
    cli.app.require_subcommand(1);
    cli.app.add_option("-c,--config", cli.config_flag,
                       "config file (default $POSTERN_CONFIG, else /etc/postern/postern.toml)");
    add_init(cli);
    add_check(cli);
    add_services(cli);
    const WithConfig with_config = [&cli](CLI::App* sub,
                                          const std::function<int(const Config&)>& run) {
        cli.with_config(sub, run, true);
    };
    add_account_commands(cli.app, with_config);
    add_index_commands(cli.app, with_config);
    add_queue_commands(cli.app, with_config);
    add_dkim_commands(cli.app, with_config);

    try {
        cli.app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return cli.app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return cli.app.exit(e);
    } catch (const CLI::ParseError& e) {
        return fail(exit_usage, std::string(e.what()) + " (see mailctl --help)");
    }
    if (!cli.action) return fail(exit_usage, "no command given (see mailctl --help)");
    return cli.action();
}
