#pragma once
// THREAD (RFC 5256 section 4), pure: the trees and their "(1 (2)(3))(4)" form.
// ORDEREDSUBJECT: messages with the same base subject form one thread: the earliest (by
// sent date, then sequence number) is its root, the others its children in date order;
// threads are ordered by their root's date.
// REFERENCES: the References / In-Reply-To chains link messages (with dummies for ids not
// in the set, never a loop), dummies are pruned, root threads with the same base subject
// are gathered, and every set of siblings is ordered by sent date (a dummy by its first
// child's).

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

std::vector<ThreadNode> thread_references(const std::vector<SortValues>& values,
                                          const std::vector<uint32_t>& numbers_by_position);

// The msg-ids ("<...>", without the brackets) of a References / In-Reply-To field.
std::vector<std::string> thread_msg_ids(std::string_view field);

// RFC 5256 section 4 thread-list: "(" members ")" per thread; a node with several children
// nests each child in its own parentheses.
void write_thread_list(std::string& out, const std::vector<ThreadNode>& threads);

}  // namespace postern
