#pragma once
// Tiny binary encoding for LMDB values: fixed-width integers (host order, the files never
// leave the machine) and length-prefixed strings. ByteReader never reads out of bounds;
// ok() turns false on truncated input instead.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace postern {

class ByteWriter {
public:
    void u8(uint8_t v) { out_.push_back(char(v)); }
    void u32(uint32_t v) { raw(&v, sizeof v); }
    void u64(uint64_t v) { raw(&v, sizeof v); }
    void i64(int64_t v) { raw(&v, sizeof v); }
    void str(std::string_view s) {
        u32(uint32_t(s.size()));
        out_.append(s);
    }
    void bytes(const void* p, size_t n) { raw(p, n); }
    const std::string& data() const { return out_; }
    std::string take() { return std::move(out_); }

private:
    void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
    std::string out_;
};

class ByteReader {
public:
    explicit ByteReader(std::string_view in) : in_(in) {}
    uint8_t u8() {
        uint8_t v = 0;
        raw(&v, sizeof v);
        return v;
    }
    uint32_t u32() {
        uint32_t v = 0;
        raw(&v, sizeof v);
        return v;
    }
    uint64_t u64() {
        uint64_t v = 0;
        raw(&v, sizeof v);
        return v;
    }
    int64_t i64() {
        int64_t v = 0;
        raw(&v, sizeof v);
        return v;
    }
    std::string str() {
        uint32_t n = u32();
        if (!ok_ || n > in_.size()) {
            ok_ = false;
            return {};
        }
        std::string s(in_.substr(0, n));
        in_.remove_prefix(n);
        return s;
    }
    void bytes(void* p, size_t n) { raw(p, n); }
    bool ok() const { return ok_; }
    bool at_end() const { return in_.empty(); }

private:
    void raw(void* p, size_t n) {
        if (!ok_ || in_.size() < n) {
            ok_ = false;
            return;
        }
        std::memcpy(p, in_.data(), n);
        in_.remove_prefix(n);
    }
    std::string_view in_;
    bool ok_ = true;
};

// Big-endian so that LMDB's byte order sorts numerically.
inline void put_be32(std::string& s, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(char((v >> shift) & 0xff));
}
inline uint32_t get_be32(std::string_view s, size_t at = 0) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4 && at + i < s.size(); ++i) v = (v << 8) | uint8_t(s[at + i]);
    return v;
}

}  // namespace postern
