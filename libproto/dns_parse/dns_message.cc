// parse_dns_message: the RFC 1035 wire format, bounds-checked at every read.
#include "libproto/dns_parse/dns_message.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cstdio>

namespace postern {

namespace {

class Reader {
public:
    explicit Reader(std::string_view w) : w_(w) {}
    size_t pos() const { return pos_; }
    bool need(size_t n) const { return w_.size() - pos_ >= n; }
    uint8_t u8() { return static_cast<uint8_t>(w_[pos_++]); }
    uint16_t u16() {
        uint16_t v = uint16_t((u8() << 8));
        return uint16_t(v | u8());
    }
    uint32_t u32() {
        uint32_t hi = u16();
        return (hi << 16) | u16();
    }
    std::string_view take(size_t n) {
        auto s = w_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    void skip(size_t n) { pos_ += n; }
    std::string_view whole() const { return w_; }

private:
    std::string_view w_;
    size_t pos_ = 0;
};

void append_label(std::string& out, std::string_view label) {
    if (!out.empty()) out += '.';
    for (unsigned char c : label) {
        if (c >= 'A' && c <= 'Z') {
            out += char(c - 'A' + 'a');
        } else if (c > ' ' && c < 0x7f && c != '.' && c != '\\') {
            out += char(c);
        } else {  // master-file escape, so a label's dot cannot split it
            char esc[5];
            std::snprintf(esc, sizeof esc, "\\%03u", c);
            out += esc;
        }
    }
}

// Reads a possibly compressed name at the reader's position and moves past it.
// Pointers must point backwards, which rules out loops.
std::expected<std::string, DnsParseError> read_name(Reader& r) {
    std::string_view w = r.whole();
    std::string out;
    size_t wire_len = 1;
    size_t at = r.pos();
    bool jumped = false;
    size_t end_of_name = 0;
    for (;;) {
        if (at >= w.size()) return std::unexpected(DnsParseError::short_message);
        auto len = static_cast<uint8_t>(w[at]);
        if ((len & 0xc0) == 0xc0) {
            if (at + 1 >= w.size()) return std::unexpected(DnsParseError::short_message);
            size_t ptr = (size_t(len & 0x3f) << 8) | static_cast<uint8_t>(w[at + 1]);
            if (ptr >= at) return std::unexpected(DnsParseError::bad_name);
            if (!jumped) end_of_name = at + 2;
            jumped = true;
            at = ptr;
            continue;
        }
        if (len & 0xc0) return std::unexpected(DnsParseError::bad_name);  // 0x40/0x80: obsolete
        if (len == 0) {
            if (!jumped) end_of_name = at + 1;
            break;
        }
        wire_len += len + 1;
        if (wire_len > 255) return std::unexpected(DnsParseError::bad_name);
        if (at + 1 + len > w.size()) return std::unexpected(DnsParseError::short_message);
        append_label(out, w.substr(at + 1, len));
        at += 1 + len;
    }
    r.skip(end_of_name - r.pos());
    return out;
}

// An RDATA name: read from the whole message (compression may point anywhere
// before it) but it must end inside the RDATA.
std::expected<std::string, DnsParseError> rdata_name(std::string_view wire, size_t at,
                                                     size_t rdata_end, size_t* after = nullptr) {
    Reader r(wire.substr(0, rdata_end));
    r.skip(at);
    auto n = read_name(r);
    if (!n)
        return std::unexpected(n.error() == DnsParseError::short_message ? DnsParseError::bad_rdata
                                                                         : n.error());
    if (after) *after = r.pos();
    return n;
}

std::expected<DnsRecord, DnsParseError> read_record(Reader& r) {
    DnsRecord rec;
    auto name = read_name(r);
    if (!name) return std::unexpected(name.error());
    rec.name = std::move(*name);
    if (!r.need(10)) return std::unexpected(DnsParseError::short_message);
    rec.type = r.u16();
    r.u16();  // class: only IN is asked for
    rec.ttl = r.u32();
    if (rec.ttl > 0x7fffffff) rec.ttl = 0;  // RFC 2181 8: treat as zero
    uint16_t rdlen = r.u16();
    if (!r.need(rdlen)) return std::unexpected(DnsParseError::short_message);
    size_t start = r.pos();
    size_t end = start + rdlen;
    rec.rdata = std::string(r.take(rdlen));
    std::string_view w = r.whole();
    switch (rec.type) {
    case dns_type::a:
        if (rdlen != 4) return std::unexpected(DnsParseError::bad_rdata);
        break;
    case dns_type::aaaa:
        if (rdlen != 16) return std::unexpected(DnsParseError::bad_rdata);
        break;
    case dns_type::cname:
    case dns_type::ns:
    case dns_type::ptr: {
        auto t = rdata_name(w, start, end);
        if (!t) return std::unexpected(t.error());
        rec.target = std::move(*t);
        break;
    }
    case dns_type::mx: {
        if (rdlen < 3) return std::unexpected(DnsParseError::bad_rdata);
        rec.preference =
            uint16_t((static_cast<uint8_t>(w[start]) << 8) | static_cast<uint8_t>(w[start + 1]));
        auto t = rdata_name(w, start + 2, end);
        if (!t) return std::unexpected(t.error());
        rec.target = std::move(*t);
        break;
    }
    default: break;  // kept raw
    }
    return rec;
}

// RFC 2308 section 5 from an SOA record's RDATA: min(TTL, MINIMUM).
std::optional<uint32_t> soa_negative_ttl(std::string_view wire, size_t start, size_t end,
                                         uint32_t ttl) {
    size_t after = 0;
    if (!rdata_name(wire, start, end, &after)) return std::nullopt;  // MNAME
    size_t after2 = 0;
    if (!rdata_name(wire, after, end, &after2)) return std::nullopt;  // RNAME
    if (end - after2 != 20) return std::nullopt;
    Reader r(wire);
    r.skip(after2 + 16);  // serial, refresh, retry, expire
    uint32_t minimum = r.u32();
    return std::min(ttl, minimum);
}

}  // namespace

const char* dns_parse_error_text(DnsParseError e) {
    switch (e) {
    case DnsParseError::short_message: return "DNS message truncated";
    case DnsParseError::bad_name: return "malformed name in DNS message";
    case DnsParseError::bad_rdata: return "malformed record data in DNS message";
    case DnsParseError::not_response: return "DNS message is not a response";
    }
    return "?";
}

std::expected<DnsMessage, DnsParseError> parse_dns_message(std::string_view wire) {
    if (wire.size() > 65535) wire = wire.substr(0, 65535);
    Reader r(wire);
    if (!r.need(12)) return std::unexpected(DnsParseError::short_message);
    DnsMessage m;
    m.id = r.u16();
    uint16_t flags = r.u16();
    if (!(flags & 0x8000)) return std::unexpected(DnsParseError::not_response);
    m.truncated = flags & 0x0200;
    m.authenticated = flags & 0x0020;
    m.rcode = uint8_t(flags & 0x000f);
    uint16_t qd = r.u16(), an = r.u16(), ns = r.u16();
    r.u16();  // additional: not needed
    for (uint16_t i = 0; i < qd; ++i) {
        auto n = read_name(r);
        if (!n) return std::unexpected(n.error());
        if (!r.need(4)) return std::unexpected(DnsParseError::short_message);
        uint16_t t = r.u16();
        r.u16();
        if (i == 0) {
            m.qname = std::move(*n);
            m.qtype = t;
        }
    }
    // A truncated UDP answer may end anywhere: keep what was complete.
    m.answers.reserve(std::min<size_t>(an, 64));
    for (uint16_t i = 0; i < an; ++i) {
        auto rec = read_record(r);
        if (!rec) {
            if (m.truncated) return m;
            return std::unexpected(rec.error());
        }
        m.answers.push_back(std::move(*rec));
    }
    for (uint16_t i = 0; i < ns; ++i) {
        auto rec = read_record(r);
        if (!rec) {
            if (m.truncated) return m;
            return std::unexpected(rec.error());
        }
        if (rec->type == dns_type::soa && !m.negative_ttl) {
            size_t end = r.pos();
            size_t start = end - rec->rdata.size();
            m.negative_ttl = soa_negative_ttl(wire, start, end, rec->ttl);
        }
    }
    return m;
}

DnsRecordSet records_for(const DnsMessage& m, std::string_view name, uint16_t type) {
    DnsRecordSet out;
    out.canonical = dns_name_key(name);
    bool first = true;
    auto lower_ttl = [&](uint32_t t) {
        out.ttl = first ? t : std::min(out.ttl, t);
        first = false;
    };
    for (int hops = 0; hops <= 8; ++hops) {
        for (auto& r : m.answers)
            if (r.type == type && r.name == out.canonical) {
                out.records.push_back(&r);
                lower_ttl(r.ttl);
            }
        if (!out.records.empty() || type == dns_type::cname) return out;
        const DnsRecord* alias = nullptr;
        for (auto& r : m.answers)
            if (r.type == dns_type::cname && r.name == out.canonical) alias = &r;
        if (!alias || alias->target == out.canonical) return out;
        lower_ttl(alias->ttl);
        out.canonical = alias->target;
    }
    return out;
}

std::string address_text(const DnsRecord& r) {
    char s[INET6_ADDRSTRLEN] = {};
    if (r.type == dns_type::a && r.rdata.size() == 4)
        inet_ntop(AF_INET, r.rdata.data(), s, sizeof s);
    else if (r.type == dns_type::aaaa && r.rdata.size() == 16)
        inet_ntop(AF_INET6, r.rdata.data(), s, sizeof s);
    return s;
}

std::optional<std::string> txt_text(std::string_view rdata) {
    std::string out;
    size_t i = 0;
    while (i < rdata.size()) {
        size_t len = static_cast<uint8_t>(rdata[i]);
        if (i + 1 + len > rdata.size()) return std::nullopt;
        out.append(rdata.substr(i + 1, len));
        i += 1 + len;
    }
    return out;
}

std::optional<TlsaRecord> tlsa_record(std::string_view rdata) {
    if (rdata.size() < 3) return std::nullopt;
    return TlsaRecord{static_cast<uint8_t>(rdata[0]), static_cast<uint8_t>(rdata[1]),
                      static_cast<uint8_t>(rdata[2]), std::string(rdata.substr(3))};
}

std::string dns_name_key(std::string_view name) {
    std::string k(name);
    if (!k.empty() && k.back() == '.') k.pop_back();
    for (char& c : k)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return k;
}

}  // namespace postern
