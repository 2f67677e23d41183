#include "stats.h"

#include <algorithm>
#include <cstdio>

namespace imap_load {
namespace {

double pct_ms(std::vector<uint32_t>& v, double p) {
    if (v.empty()) return 0;
    size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return v[i] / 1000.0;
}

bool counts_in_mix(size_t i) {
    auto c = static_cast<Cmd>(i);
    return c != Cmd::login && c != Cmd::select && c != Cmd::logout;
}

struct Row {
    double p50, p99, max;
};

Row row_of(const CmdStats& cs) {
    std::vector<uint32_t> v = cs.latency_us;  // a copy: nth_element reorders
    Row r{pct_ms(v, 0.5), pct_ms(v, 0.99), 0};
    if (!v.empty()) r.max = *std::max_element(v.begin(), v.end()) / 1000.0;
    return r;
}

}  // namespace

void Stats::record(Cmd c, uint64_t us, uint64_t untagged_lines) {
    auto& cs = cmd[static_cast<size_t>(c)];
    ++cs.done;
    cs.untagged += untagged_lines;
    cs.latency_us.push_back(static_cast<uint32_t>(std::min<uint64_t>(us, UINT32_MAX)));
}

void print_table(const Stats& s, const char* title, bool mix_only) {
    double w = s.window_s > 0 ? s.window_s : 1;
    uint64_t total = 0;
    std::printf("%s: window %.2f s, client CPU %.0f%%\n", title, s.window_s, s.client_cpu * 100);
    std::printf("%-22s %10s %10s %9s %9s %9s %8s %10s\n", "command", "count", "per_s", "p50_ms",
                "p99_ms", "max_ms", "errors", "untagged");
    for (size_t i = 0; i < s.cmd.size(); ++i) {
        const CmdStats& cs = s.cmd[i];
        if (cs.done == 0 && cs.errors == 0) continue;
        if (!mix_only || counts_in_mix(i)) total += cs.done;
        Row r = row_of(cs);
        std::printf("%-22s %10llu %10.1f %9.3f %9.3f %9.3f %8llu %10llu\n", cmd_names[i],
                    static_cast<unsigned long long>(cs.done), static_cast<double>(cs.done) / w,
                    r.p50, r.p99, r.max, static_cast<unsigned long long>(cs.errors),
                    static_cast<unsigned long long>(cs.untagged));
    }
    std::printf(
        "%-22s %10llu %10.1f   errors %llu (connections %llu), untagged %llu, "
        "%.1f MB in (literals %.1f MB)\n",
        mix_only ? "total (mix)" : "total", static_cast<unsigned long long>(total),
        static_cast<double>(total) / w, static_cast<unsigned long long>(s.errors),
        static_cast<unsigned long long>(s.connection_errors),
        static_cast<unsigned long long>(s.untagged), static_cast<double>(s.bytes_in) / 1e6,
        static_cast<double>(s.literal_bytes) / 1e6);
    std::fflush(stdout);
}

bool write_json(const Stats& s, const std::string& path, const std::string& extra) {
    FILE* f = path == "-" ? stdout : std::fopen(path.c_str(), "w");
    if (!f) return false;
    double w = s.window_s > 0 ? s.window_s : 1;
    uint64_t total = 0;
    std::fprintf(f,
                 "{\"window_s\":%.3f,\"client_cpu\":%.3f,\"errors\":%llu,"
                 "\"connection_errors\":%llu,\"untagged\":%llu,\"bytes_in\":%llu,"
                 "\"commands\":{",
                 s.window_s, s.client_cpu, static_cast<unsigned long long>(s.errors),
                 static_cast<unsigned long long>(s.connection_errors),
                 static_cast<unsigned long long>(s.untagged),
                 static_cast<unsigned long long>(s.bytes_in));
    bool first = true;
    for (size_t i = 0; i < s.cmd.size(); ++i) {
        const CmdStats& cs = s.cmd[i];
        if (cs.done == 0 && cs.errors == 0) continue;
        if (counts_in_mix(i)) total += cs.done;
        Row r = row_of(cs);
        std::string name = cmd_names[i];
        std::string esc;
        for (char c : name) {
            if (c == '\\' || c == '"') esc += '\\';
            esc += c;
        }
        std::fprintf(f,
                     "%s\"%s\":{\"count\":%llu,\"per_s\":%.2f,\"p50_ms\":%.3f,"
                     "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"errors\":%llu}",
                     first ? "" : ",", esc.c_str(), static_cast<unsigned long long>(cs.done),
                     static_cast<double>(cs.done) / w, r.p50, r.p99, r.max,
                     static_cast<unsigned long long>(cs.errors));
        first = false;
    }
    std::fprintf(f, "},\"mix_per_s\":%.2f%s%s}\n", static_cast<double>(total) / w,
                 extra.empty() ? "" : ",", extra.c_str());
    if (f == stdout) return std::fflush(f) == 0;
    return std::fclose(f) == 0;
}

}  // namespace imap_load
