#include "libproto/net/deflate_stream.h"

#include <algorithm>
#include <climits>

namespace postern {
namespace {

constexpr size_t out_step = 16 * 1024;  // output grows by this much per deflate() call

Bytef* bytes(const char* p) { return reinterpret_cast<Bytef*>(const_cast<char*>(p)); }

}  // namespace

std::unique_ptr<Deflater> Deflater::create(const DeflateOptions& o) {
    std::unique_ptr<Deflater> d(new Deflater);
    // Negative window bits: raw deflate, as RFC 4978 requires.
    if (deflateInit2(&d->z_, o.level, Z_DEFLATED, -o.window_bits, o.mem_level,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        d->z_.state = nullptr;  // deflateEnd must not run on a failed init
        return nullptr;
    }
    return d;
}

Deflater::~Deflater() {
    if (z_.state != nullptr) deflateEnd(&z_);
}

bool Deflater::run(std::string& out, int mode) {
    for (;;) {
        size_t old = out.size();
        out.resize(old + out_step);
        z_.next_out = reinterpret_cast<Bytef*>(out.data() + old);
        z_.avail_out = static_cast<uInt>(out_step);
        int r = ::deflate(&z_, mode);
        out.resize(old + (out_step - z_.avail_out));
        // Z_BUF_ERROR: no progress possible (nothing to do), not a failure.
        if (r != Z_OK && r != Z_BUF_ERROR) return false;
        if (z_.avail_out != 0 && z_.avail_in == 0) return true;
    }
}

bool Deflater::write(std::string_view in, std::string& out) {
    while (!in.empty()) {
        size_t n = std::min<size_t>(in.size(), UINT_MAX);
        z_.next_in = bytes(in.data());
        z_.avail_in = static_cast<uInt>(n);
        if (!run(out, Z_NO_FLUSH)) return false;
        in.remove_prefix(n);
        dirty_ = true;
    }
    z_.next_in = nullptr;
    return true;
}

bool Deflater::flush(std::string& out) {
    if (!dirty_) return true;
    z_.next_in = nullptr;
    z_.avail_in = 0;
    dirty_ = false;
    return run(out, Z_SYNC_FLUSH);
}

std::unique_ptr<Inflater> Inflater::create() {
    std::unique_ptr<Inflater> i(new Inflater);
    if (inflateInit2(&i->z_, -15) != Z_OK) {
        i->z_.state = nullptr;
        return nullptr;
    }
    return i;
}

Inflater::~Inflater() {
    if (z_.state != nullptr) inflateEnd(&z_);
}

InflateStatus Inflater::read(std::string_view& in, std::string& out, size_t max_out) {
    if (finished_) return in.empty() ? InflateStatus::finished : InflateStatus::error;
    size_t produced = 0;
    while (!in.empty() && produced < max_out) {
        size_t room = std::min<size_t>(max_out - produced, out_step);
        size_t old = out.size();
        out.resize(old + room);
        size_t avail = std::min<size_t>(in.size(), UINT_MAX);
        z_.next_in = bytes(in.data());
        z_.avail_in = static_cast<uInt>(avail);
        z_.next_out = reinterpret_cast<Bytef*>(out.data() + old);
        z_.avail_out = static_cast<uInt>(room);
        int r = ::inflate(&z_, Z_SYNC_FLUSH);
        size_t got = room - z_.avail_out;
        out.resize(old + got);
        produced += got;
        in.remove_prefix(avail - z_.avail_in);
        z_.next_in = nullptr;
        z_.avail_in = 0;
        if (r == Z_STREAM_END) {
            finished_ = true;
            return in.empty() ? InflateStatus::finished : InflateStatus::error;
        }
        if (r == Z_BUF_ERROR && got == 0) break;  // needs more input than there is
        if (r != Z_OK && r != Z_BUF_ERROR) return InflateStatus::error;
    }
    return InflateStatus::ok;
}

}  // namespace postern
