#include "options.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace imap_load {
namespace {

[[noreturn]] void usage(const char* why) {
    if (why) std::fprintf(stderr, "imap_load: %s\n", why);
    std::fprintf(
        stderr,
        "usage: imap_load [--host H] [--port P] [--tls] [--clients N] [--seconds S]\n"
        "                 [--user-fmt 'u%%d@bench.test'] [--first N] [--users N] [--password P]\n"
        "                 [--mix flags=10,envelope=20,body=20,store=15,append=5,expunge=5,"
        "noop=23,idle=2]\n"
        "                 [--msgs N] [--envelope-span N] [--idle-ms MS] [--json FILE|-]\n"
        "                 [--select-cost FOLDER [--reps N]] [--idle N [--ready-file F]]\n"
        "                 [--ramp N] [--open-seconds S] [--show-errors N]\n");
    std::exit(2);
}

int to_int(const std::string& s) {
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < 0 || v > 100000000) usage("bad number");
    return static_cast<int>(v);
}

double to_double(const std::string& s) {
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || v < 0) usage("bad number");
    return v;
}

void parse_mix(Options& o, std::string_view spec) {
    o.weights.fill(0);
    while (!spec.empty()) {
        size_t comma = spec.find(',');
        std::string_view item = spec.substr(0, comma);
        spec.remove_prefix(comma == std::string_view::npos ? spec.size() : comma + 1);
        size_t eq = item.find('=');
        if (eq == std::string_view::npos) usage("--mix wants name=weight");
        std::string_view name = item.substr(0, eq);
        size_t i = 0;
        while (i < op_names.size() && name != op_names[i]) ++i;
        if (i == op_names.size()) usage("unknown --mix command");
        o.weights[i] = to_int(std::string(item.substr(eq + 1)));
    }
}

}  // namespace

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) usage("missing value");
            return argv[++i];
        };
        if (a == "--host")
            o.host = val();
        else if (a == "--port")
            o.port = static_cast<uint16_t>(to_int(val()));
        else if (a == "--tls")
            o.tls = true;
        else if (a == "--clients")
            o.clients = to_int(val());
        else if (a == "--seconds")
            o.seconds = to_double(val());
        else if (a == "--user-fmt")
            o.user_fmt = val();
        else if (a == "--first")
            o.first = to_int(val());
        else if (a == "--users")
            o.users = to_int(val());
        else if (a == "--password")
            o.password = val();
        else if (a == "--mix")
            parse_mix(o, val());
        else if (a == "--msgs")
            o.msgs = to_int(val());
        else if (a == "--envelope-span")
            o.envelope_span = to_int(val());
        else if (a == "--idle-ms")
            o.idle_ms = to_double(val());
        else if (a == "--json")
            o.json = val();
        else if (a == "--select-cost") {
            o.mode = Mode::select_cost;
            o.folder = val();
        } else if (a == "--reps")
            o.reps = to_int(val());
        else if (a == "--idle") {
            o.mode = Mode::idle_hold;
            o.clients = to_int(val());
        } else if (a == "--ready-file")
            o.ready_file = val();
        else if (a == "--ramp")
            o.ramp = to_int(val());
        else if (a == "--open-seconds")
            o.open_seconds = to_double(val());
        else if (a == "--show-errors")
            o.show_errors = to_int(val());
        else
            usage("unknown option");
    }
    if (o.clients < 1 || o.ramp < 1 || o.envelope_span < 1) usage("counts must be at least 1");
    if (o.mode == Mode::select_cost) o.clients = 1;
    int total = 0;
    for (int w : o.weights) total += w;
    if (o.mode == Mode::mix && total == 0) usage("--mix has no command with a weight");
    return o;
}

}  // namespace imap_load
