// libFuzzer: ImapParser on arbitrary bytes. The first byte picks the chunking, the limits and
// the literal policy; the rest is the client's stream. Checks: the stream fed whole and fed
// in pieces gives the same events; APPEND data adds up to the announced size; only APPEND
// events follow an AppendBegin until its End or Bad; next() always gets back to NeedMore.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "libproto/imap/imap_parser.h"

using namespace postern;

namespace {

struct Config {
    size_t chunk = 0;  // 0: random-ish sizes from the data itself
    bool small_limits = false;
    bool refuse_odd = false;  // refuse literals of odd size (same decision however split)
};

ImapParserLimits limits_for(const Config& c) {
    ImapParserLimits l;
    if (c.small_limits) {
        l.line_max = 80;
        l.literal_max = 24;
        l.command_max = 160;
        l.append_max = 64;
        l.depth_max = 4;
        l.search_keys_max = 12;
        l.sequence_ranges_max = 6;
        l.fetch_items_max = 6;
        l.list_items_max = 6;
    }
    return l;
}

// One event as a fingerprint; AppendData merged by the caller.
std::string print(const ImapEvent& ev) {
    std::string s(1, char('A' + ev.index()));
    if (auto* c = std::get_if<ImapCommand>(&ev)) {
        s += c->tag + ":" + std::to_string(int(c->id)) + (c->uid ? "u" : "");
    } else if (auto* b = std::get_if<ImapBad>(&ev)) {
        s += b->tag + ":" + std::to_string(int(b->reason)) + ":" + std::to_string(int(b->id));
    } else if (auto* l = std::get_if<ImapNeedLiteral>(&ev)) {
        s += std::to_string(l->size);
    } else if (auto* m = std::get_if<ImapAppendMessage>(&ev)) {
        s += std::to_string(m->size) + ":" + std::to_string(m->flags.size());
    } else if (auto* a = std::get_if<ImapAppendBegin>(&ev)) {
        s += a->tag + ":" + a->mailbox;
    } else if (auto* r = std::get_if<ImapSaslResponse>(&ev)) {
        s += r->line;
    }
    return s;
}

struct Checker {
    bool in_append = false;
    uint64_t want = 0, got = 0;
    bool in_message = false;

    void on(const ImapEvent& ev) {
        if (std::holds_alternative<ImapAppendBegin>(ev)) {
            if (in_append) __builtin_trap();
            in_append = true;
            return;
        }
        if (auto* m = std::get_if<ImapAppendMessage>(&ev)) {
            if (!in_append) __builtin_trap();
            finish_message();
            in_message = true;
            want = m->size;
            got = 0;
            return;
        }
        if (auto* d = std::get_if<ImapAppendData>(&ev)) {
            if (!in_message || d->bytes.empty()) __builtin_trap();
            got += d->bytes.size();
            if (got > want) __builtin_trap();
            return;
        }
        if (std::holds_alternative<ImapAppendEnd>(ev)) {
            if (!in_append) __builtin_trap();
            finish_message();
            in_append = false;
            return;
        }
        if (std::holds_alternative<ImapBad>(ev)) {
            in_append = in_message = false;  // a refused or broken APPEND ends here
            return;
        }
        if (in_append && !std::holds_alternative<ImapNeedMore>(ev) &&
            !std::holds_alternative<ImapNeedLiteral>(ev))
            __builtin_trap();
    }
    void finish_message() {
        if (in_message && got != want) __builtin_trap();
        in_message = false;
    }
};

std::vector<std::string> run(std::string_view in, const Config& cfg, bool whole) {
    ImapParser p(limits_for(cfg));
    Checker check;
    std::vector<std::string> out;
    size_t pos = 0, round = 0;
    while (pos < in.size()) {
        size_t n = in.size() - pos;
        if (!whole) {
            size_t step =
                cfg.chunk ? cfg.chunk
                          : 1 + static_cast<unsigned char>(in[(pos * 7 + round) % in.size()]) % 97;
            n = std::min(n, step);
        }
        p.feed(in.substr(pos, n));
        pos += n;
        ++round;
        for (size_t guard = 0;; ++guard) {
            if (guard > 4 * in.size() + 16) __builtin_trap();  // next() must get to NeedMore
            ImapEvent ev = p.next();
            check.on(ev);
            if (std::holds_alternative<ImapNeedMore>(ev)) break;
            if (std::holds_alternative<ImapAppendData>(ev)) {
                if (out.empty() || out.back()[0] != 'G') out.emplace_back("G");
                continue;
            }
            out.push_back(print(ev));
            if (auto* l = std::get_if<ImapNeedLiteral>(&ev))
                if (cfg.refuse_odd && (l->size & 1)) p.refuse_literal();
            if (auto* m = std::get_if<ImapAppendMessage>(&ev))
                if (cfg.refuse_odd && (m->size & 1)) p.refuse_literal();
            if (auto* c = std::get_if<ImapCommand>(&ev)) {
                if (c->id == ImapCommandId::idle) p.expect_done();
                if (c->id == ImapCommandId::authenticate) p.expect_sasl_response();
            }
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    Config cfg;
    uint8_t c = data[0];
    cfg.chunk = (c & 7) == 0 ? 0 : size_t(1) << ((c & 7) - 1);  // 0 or 1..64
    cfg.small_limits = (c & 8) != 0;
    cfg.refuse_odd = (c & 16) != 0;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (in.empty()) return 0;
    auto whole = run(in, cfg, true);
    auto split = run(in, cfg, false);
    if (whole != split) __builtin_trap();
    return 0;
}
