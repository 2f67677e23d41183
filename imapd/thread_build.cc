#include "imapd/thread_build.h"

#include <algorithm>

namespace postern {
namespace {

// The members of `n` after its number: one child continues the chain, several branch.
void write_members(std::string& out, const ThreadNode& n) {
    if (n.number != 0) out.append(std::to_string(n.number));
    if (n.children.size() == 1) {
        if (n.number != 0) out.push_back(' ');
        write_members(out, n.children[0]);
        return;
    }
    if (!n.children.empty() && n.number != 0) out.push_back(' ');
    for (const ThreadNode& c : n.children) {
        out.push_back('(');
        write_members(out, c);
        out.push_back(')');
    }
}

}  // namespace

std::vector<ThreadNode> thread_ordered_subject(std::vector<SortValues>& v,
                                               const std::vector<uint32_t>& number) {
    std::sort(v.begin(), v.end(), [](const SortValues& a, const SortValues& b) {
        if (a.subject != b.subject) return a.subject < b.subject;
        if (a.date != b.date) return a.date < b.date;
        return a.position < b.position;
    });
    struct Group {
        int64_t date;
        uint32_t position;
        ThreadNode node;
    };
    std::vector<Group> groups;
    for (size_t i = 0; i < v.size();) {
        size_t j = i + 1;
        while (j < v.size() && v[j].subject == v[i].subject) ++j;
        Group g{v[i].date, v[i].position, ThreadNode{number[v[i].position], {}}};
        for (size_t k = i + 1; k < j; ++k)
            g.node.children.push_back(ThreadNode{number[v[k].position], {}});
        groups.push_back(std::move(g));
        i = j;
    }
    std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
        return a.date != b.date ? a.date < b.date : a.position < b.position;
    });
    std::vector<ThreadNode> out;
    out.reserve(groups.size());
    for (Group& g : groups) out.push_back(std::move(g.node));
    return out;
}

void write_thread_list(std::string& out, const std::vector<ThreadNode>& threads) {
    for (const ThreadNode& t : threads) {
        out.push_back('(');
        write_members(out, t);
        out.push_back(')');
    }
}

}  // namespace postern
