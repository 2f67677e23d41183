#pragma once
// A MessageReader over `size` octets of an open file from `base` (a Maildir message file,
// a message inside a queue file).

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "libmailstore/store.h"
#include "libmailstore/unique_fd.h"

namespace postern {

class FdReader final : public MessageReader {
public:
    // Owns the descriptor.
    FdReader(UniqueFd fd, uint64_t base, uint64_t size)
        : owned_(std::move(fd)), fd_(owned_.get()), base_(base), size_(size) {}
    // Borrows it: fd must outlive the reader.
    FdReader(int fd, uint64_t base, uint64_t size) : fd_(fd), base_(base), size_(size) {}

    uint64_t size() const override { return size_; }
    StoreResult<size_t> read_at(uint64_t offset, std::span<char> buf) override {
        if (offset >= size_) return 0;
        size_t want = size_t(std::min<uint64_t>(size_ - offset, buf.size()));
        ssize_t n;
        do {
            n = ::pread(fd_, buf.data(), want, off_t(base_ + offset));
        } while (n < 0 && errno == EINTR);
        if (n < 0) return std::unexpected(StoreError::temporary);
        return size_t(n);
    }

private:
    UniqueFd owned_;
    int fd_;
    uint64_t base_;
    uint64_t size_;
};

}  // namespace postern
