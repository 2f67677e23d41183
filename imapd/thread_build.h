#pragma once
// THREAD=ORDEREDSUBJECT (RFC 5256 section 4): the tree and its "(1 (2)(3))(4)" form, pure.
// Messages with the same base subject form one thread: the earliest (by sent date, then
// sequence number) is its root, the others its children in date order; threads are ordered
// by their root's date.

#include <cstdint>
#include <string>
#include <vector>

#include "imapd/sort_keys.h"

namespace postern {

struct ThreadNode {
    uint32_t number = 0;  // sequence number or UID; 0 for a dummy
    std::vector<ThreadNode> children;
};

// `values` is reordered. number_of(v) gives what the answer names a message by.
std::vector<ThreadNode> thread_ordered_subject(std::vector<SortValues>& values,
                                               const std::vector<uint32_t>& numbers_by_position);

// RFC 5256 section 4 thread-list: "(" members ")" per thread; a node with several children
// nests each child in its own parentheses.
void write_thread_list(std::string& out, const std::vector<ThreadNode>& threads);

}  // namespace postern
