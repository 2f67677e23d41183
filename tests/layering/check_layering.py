"""Fails when an include or a link crosses a layer it must not (docs/architecture.md,
"Targets and layers"). Folders alone enforce nothing when every header is reachable from the
source root, so this test is the rule: run by CTest as `layering`.

    python3 tests/layering/check_layering.py [REPO]
"""

import os
import re
import sys

REPO = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))

DAEMONS = ("smtpd", "pop3d", "imapd", "spoold")
# What each libproto library may include from libproto (itself always).
PROTO_ALLOWED = {
    "core": set(),
    "auth": {"core"},
    "sasl": {"core"},
    "config": {"core", "auth"},
    "net": {"core", "config"},
    "dns": {"core", "net", "dns_parse"},
    "dns_parse": set(),
    "smtp": {"core", "auth", "sasl"},
    "pop3": {"core", "auth", "sasl"},
    "imap": {"core", "auth", "sasl", "mime"},
    "mime": {"core"},
    "smtp_client": {"core"},
    "dkim": {"core", "mime"},
    "mta_sts": {"core"},
    "https": {"core"},
    "dane": {"core", "dns_parse"},
}
# config/ (postern_config): the whole postern.toml, one file per daemon's section. It sits
# on the shared config layer and nothing else: no store, no loop, no engine, no daemon.
CONFIG_ALLOWED = {"core", "auth", "config"}
CONFIG_LINKS = {"proto_core", "proto_auth", "proto_config"}
# toml++ stays behind ConfigTable: only libproto/config's .cc files and its private header.
TOML_PRIVATE = os.path.join("libproto", "config", "toml_source.h")
# Pure libraries: parsers, engines and policy. No event loop, so a fuzzer links only them.
NO_LIBUV = {"core", "auth", "sasl", "config", "smtp", "pop3", "imap", "mime", "dns_parse",
            "smtp_client", "dkim", "mta_sts", "https", "dane"}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def sources(top):
    for root, _, files in os.walk(os.path.join(REPO, top)):
        for f in files:
            if f.endswith((".h", ".cc", ".in")):
                path = os.path.join(root, f)
                yield os.path.relpath(path, REPO), open(path, errors="replace").read()


def includes(text):
    return [(kind == "<", name) for kind, name in INCLUDE.findall(text)]


def check():
    problems = []

    def bad(path, what):
        problems.append("%s: %s" % (path, what))

    # libproto: no store, no daemons, no tests; only the libproto layers below it.
    for lib in sorted(PROTO_ALLOWED):
        for path, text in sources(os.path.join("libproto", lib)):
            for system, name in includes(text):
                if system:
                    if name == "uv.h" and lib in NO_LIBUV:
                        bad(path, "includes <uv.h>, but libproto/%s is a pure library" % lib)
                    if name == "ares.h" and lib != "dns":
                        bad(path, "includes <ares.h>: c-ares stays inside libproto/dns")
                    continue
                top = name.split("/")[0]
                if top in ("libmailstore", "ctl", "tests") + DAEMONS:
                    bad(path, "includes %s: libproto never includes %s code" % (name, top))
                elif top == "config":
                    bad(path, "includes %s: libproto never sees a daemon's config (the daemon "
                              "fills the engine's session settings)" % name)
                elif top == "libproto":
                    sub = name.split("/")[1]
                    if sub != lib and sub not in PROTO_ALLOWED[lib]:
                        bad(path, "includes %s: libproto/%s may use only %s" %
                            (name, lib, ", ".join(sorted(PROTO_ALLOWED[lib])) or "itself"))
    # config/: only the shared config layers of libproto.
    for path, text in sources("config"):
        for system, name in includes(text):
            if system:
                if name == "uv.h" or name.startswith("toml++"):
                    bad(path, "includes <%s>: config/ reads tables through ConfigTable" % name)
                continue
            parts = name.split("/")
            if parts[0] == "libproto" and parts[1] not in CONFIG_ALLOWED:
                bad(path, "includes %s: config/ may use only libproto/%s" %
                    (name, ", libproto/".join(sorted(CONFIG_ALLOWED))))
            elif parts[0] in ("libmailstore", "ctl", "tests") + DAEMONS:
                bad(path, "includes %s: config/ never includes %s code" % (name, parts[0]))
            elif name == "libproto/config/toml_source.h":
                bad(path, "includes %s: private to libproto/config" % name)
    # toml++ and its wrapper's inside only in libproto/config's .cc files.
    for top in ("libproto", "libmailstore", "config", "ctl") + DAEMONS:
        for path, text in sources(top):
            in_config_cc = path.startswith(os.path.join("libproto", "config", "")) and \
                path.endswith(".cc")
            for system, name in includes(text):
                private = name.startswith("toml++") if system else name == TOML_PRIVATE
                if private and not in_config_cc and path != TOML_PRIVATE:
                    bad(path, "includes %s: toml++ stays inside libproto/config's .cc files" % name)
    # libmailstore: only proto_core below it; the queue and the Maildir store share nothing.
    for path, text in sources("libmailstore"):
        in_queue = path.startswith("libmailstore/queue/")
        for system, name in includes(text):
            if system:
                if name == "uv.h":
                    bad(path, "includes <uv.h>: the store and the queue are not tied to an "
                              "event loop (the daemons use run_on_pool)")
                continue
            parts = name.split("/")
            if parts[0] in ("ctl", "tests", "config") + DAEMONS:
                bad(path, "includes %s: libmailstore never includes %s code" % (name, parts[0]))
            elif parts[0] == "libproto" and parts[1] != "core":
                bad(path, "includes %s: libmailstore uses only libproto/core" % name)
            elif parts[0] == "libmailstore" and len(parts) > 1:
                other_is_queue = parts[1] == "queue"
                if in_queue != other_is_queue:
                    bad(path, "includes %s: the queue and the Maildir store share nothing" % name)
    # Daemons include no other daemon; ctl includes no daemon.
    for d in DAEMONS + ("ctl",):
        for path, text in sources(d):
            for system, name in includes(text):
                top = name.split("/")[0]
                if not system and top in DAEMONS + ("ctl",) and top != d:
                    bad(path, "includes %s: %s never includes %s code" % (name, d, top))
                if not system and top == "tests":
                    bad(path, "includes %s: production code never includes tests" % name)

    # One helper runs a job on the thread pool and completes on the loop.
    for top in ("libproto", "libmailstore", "ctl") + DAEMONS:
        for path, text in sources(top):
            if path != os.path.join("libproto", "net", "pool_job.cc") and "uv_queue_work(" in text:
                bad(path, "calls uv_queue_work: use run_on_pool (libproto/net/pool_job.h)")

    # Links, from the CMake files.
    def links(cmake):
        text = open(os.path.join(REPO, cmake)).read()
        out = {}
        for m in re.finditer(r"postern_library\((\w+)\s+\w+\s+([^)]*)\)", text):
            out[m.group(1)] = m.group(2).split()
        for m in re.finditer(r"target_link_libraries\((\w+)\s+([^)]*)\)", text):
            out.setdefault(m.group(1), []).extend(m.group(2).split())
        return out
    for target, deps in links("libproto/CMakeLists.txt").items():
        lib = target.replace("proto_", "")
        if any(d.startswith("mailstore") for d in deps):
            bad("libproto/CMakeLists.txt", "%s links the store" % target)
        if "postern_config" in deps:
            bad("libproto/CMakeLists.txt", "%s links postern_config (a daemon's config)" % target)
        if lib in NO_LIBUV and any(d in ("PkgConfig::LIBUV", "proto_net", "proto_dns") for d in deps):
            bad("libproto/CMakeLists.txt", "%s is pure but links libuv" % target)
    for target, deps in links("libmailstore/CMakeLists.txt").items():
        for d in deps:
            if d == "PkgConfig::LIBUV":
                bad("libmailstore/CMakeLists.txt", "%s links libuv" % target)
            if d.startswith("proto_") and d != "proto_core" or d == "postern_config":
                bad("libmailstore/CMakeLists.txt", "%s links %s (only proto_core)" % (target, d))
    for target, deps in links("config/CMakeLists.txt").items():
        for d in deps:
            if d not in CONFIG_LINKS and d not in ("PUBLIC", "PRIVATE", "INTERFACE"):
                bad("config/CMakeLists.txt", "%s links %s (only %s)" %
                    (target, d, ", ".join(sorted(CONFIG_LINKS))))
    for target, deps in links("ctl/CMakeLists.txt").items():
        for d in deps:
            if d in DAEMONS or d.endswith("_core") and d != "proto_core":
                bad("ctl/CMakeLists.txt", "%s links daemon code (%s)" % (target, d))
    return problems


if __name__ == "__main__":
    found = check()
    for p in found:
        print("layering: " + p)
    print("layering: %d problem(s)" % len(found))
    sys.exit(1 if found else 0)
