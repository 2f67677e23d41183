#pragma once
// The text side of SEARCH: finding several folded needles in a stream of folded text
// (BODY / TEXT over a decoded body), and splitting a raw header stream into unfolded fields
// (HEADER and TEXT over the header). Both keep bounded memory whatever the input: the
// scanner the longest needle's length, the reader one field (kMimeMaxFieldBytes).

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

class SearchTextScanner {
public:
    // Needles already folded (search_fold.h). An empty needle matches at once.
    explicit SearchTextScanner(std::vector<std::string> needles);

    // More folded text; matches across chunk boundaries are found.
    void feed(std::string_view folded);
    bool hit(size_t i) const { return hits_[i]; }
    bool all_hit() const { return left_ == 0; }
    const std::vector<bool>& hits() const { return hits_; }
    // Forgets the text seen (not the hits): the next feed starts a new text.
    void break_text() { tail_.clear(); }

private:
    std::vector<std::string> needles_;
    std::vector<bool> hits_;
    size_t left_ = 0;
    size_t keep_ = 0;  // longest needle - 1
    std::string tail_;
    std::string buf_;
};

// Raw header bytes in chunks of any size -> (name, unfolded value) per field, in order.
// A value is cut at kMimeMaxFieldBytes; lines without a colon are skipped. Stops at the
// empty line that ends the header.
class SearchHeaderReader {
public:
    using Field = std::function<void(std::string_view name, std::string_view value)>;
    explicit SearchHeaderReader(Field on_field) : on_field_(std::move(on_field)) {}

    void feed(std::string_view bytes);
    void finish();
    bool done() const { return done_; }

private:
    void line(std::string_view l);
    void flush_field();

    Field on_field_;
    std::string line_;
    std::string field_;
    bool line_cut_ = false;
    bool done_ = false;
};

}  // namespace postern
