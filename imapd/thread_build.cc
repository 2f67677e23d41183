#include "imapd/thread_build.h"

#include <algorithm>
#include <functional>
#include <string_view>
#include <unordered_map>

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

// One container of the REFERENCES algorithm: a message (index into values) or a dummy.
struct Box {
    int msg = -1;
    int parent = -1;
    std::vector<int> children;
    bool dead = false;
};

class ReferencesThreader {
public:
    ReferencesThreader(const std::vector<SortValues>& v, const std::vector<uint32_t>& number)
        : v_(v), number_(number) {}

    std::vector<ThreadNode> run() {
        link_all();
        std::vector<int> roots;
        for (int i = 0; i < int(boxes_.size()); ++i)
            if (boxes_[i].parent < 0) roots.push_back(i);
        roots = prune(roots, true);
        for (int r : roots) sort_tree(r);
        sort_siblings(roots);
        roots = gather(roots);
        for (int r : roots) sort_tree(r);
        sort_siblings(roots);
        std::vector<ThreadNode> out;
        out.reserve(roots.size());
        for (int r : roots) out.push_back(node(r));
        return out;
    }

private:
    int box_for(const std::string& id) {
        auto [it, fresh] = by_id_.try_emplace(id, int(boxes_.size()));
        if (fresh) boxes_.emplace_back();
        return it->second;
    }
    bool is_ancestor(int a, int b) const {  // a is b or above it
        for (int x = b; x >= 0; x = boxes_[x].parent)
            if (x == a) return true;
        return false;
    }
    void unlink(int c) {
        int p = boxes_[c].parent;
        if (p < 0) return;
        auto& ch = boxes_[p].children;
        ch.erase(std::remove(ch.begin(), ch.end(), c), ch.end());
        boxes_[c].parent = -1;
    }
    void link(int parent, int child) {
        if (is_ancestor(child, parent)) return;  // never a loop
        unlink(child);
        boxes_[child].parent = parent;
        boxes_[parent].children.push_back(child);
    }

    void link_all() {
        for (int i = 0; i < int(v_.size()); ++i) {
            const SortValues& m = v_[i];
            std::vector<std::string> refs = thread_msg_ids(m.references);
            if (refs.empty()) {
                auto irt = thread_msg_ids(m.in_reply_to);
                if (!irt.empty()) refs.push_back(irt.front());
            }
            // Step 1A: the chain, without breaking an existing link.
            for (size_t k = 0; k + 1 < refs.size(); ++k) {
                int a = box_for(refs[k]), b = box_for(refs[k + 1]);
                if (boxes_[b].parent < 0 && !is_ancestor(b, a)) link(a, b);
            }
            // Step 1B: the message's own container (a duplicate id gets a new one).
            auto ids = thread_msg_ids(m.message_id);
            int self = -1;
            if (!ids.empty()) {
                self = box_for(ids.front());
                if (boxes_[self].msg >= 0) self = -1;
            }
            if (self < 0) {
                self = int(boxes_.size());
                boxes_.emplace_back();
            }
            boxes_[self].msg = i;
            if (!refs.empty()) {
                int p = box_for(refs.back());
                if (!is_ancestor(self, p)) {
                    link(p, self);
                } else {
                    unlink(self);
                }
            }
        }
    }

    // Step 4: dummies without children go; a dummy's children take its place, except a
    // root dummy with several children.
    std::vector<int> prune(const std::vector<int>& list, bool at_root) {
        std::vector<int> out;
        for (int b : list) {
            Box& x = boxes_[b];
            x.children = prune(std::vector<int>(x.children), false);
            for (int c : x.children) boxes_[c].parent = b;
            if (x.msg >= 0) {
                out.push_back(b);
            } else if (x.children.empty()) {
                x.dead = true;
            } else if (at_root && x.children.size() > 1) {
                out.push_back(b);
            } else {
                for (int c : x.children) {
                    boxes_[c].parent = at_root ? -1 : x.parent;
                    out.push_back(c);
                }
                x.children.clear();
                x.dead = true;
            }
        }
        return out;
    }

    // The message a box stands for in dates and subjects: its own, or its first child's.
    int rep(int b) const {
        while (b >= 0 && boxes_[b].msg < 0)
            b = boxes_[b].children.empty() ? -1 : boxes_[b].children.front();
        return b < 0 ? -1 : boxes_[b].msg;
    }
    void sort_siblings(std::vector<int>& list) {
        std::stable_sort(list.begin(), list.end(), [&](int a, int b) {
            int ma = rep(a), mb = rep(b);
            if (ma < 0 || mb < 0) return ma > mb;
            if (v_[ma].date != v_[mb].date) return v_[ma].date < v_[mb].date;
            return v_[ma].position < v_[mb].position;
        });
    }
    void sort_tree(int b) {
        for (int c : boxes_[b].children) sort_tree(c);
        sort_siblings(boxes_[b].children);
    }

    // Step 5: root threads with the same base subject come together.
    std::vector<int> gather(const std::vector<int>& roots) {
        std::unordered_map<std::string_view, int> table;
        auto subject = [&](int b) -> const std::string& { return v_[rep(b)].subject; };
        auto reply = [&](int b) { return v_[rep(b)].reply; };
        for (int r : roots) {
            if (rep(r) < 0 || subject(r).empty()) continue;
            auto [it, fresh] = table.try_emplace(subject(r), r);
            if (fresh) continue;
            int old = it->second;
            bool dummy = boxes_[r].msg < 0, old_dummy = boxes_[old].msg < 0;
            if ((dummy && !old_dummy) || (!old_dummy && !dummy && reply(old) && !reply(r)))
                it->second = r;
        }
        std::vector<int> out;
        for (int r : roots) {
            if (boxes_[r].dead || boxes_[r].parent >= 0) continue;  // merged meanwhile
            auto it = rep(r) < 0 ? table.end() : table.find(subject(r));
            if (it == table.end() || it->second == r) {
                out.push_back(r);
                continue;
            }
            int t = it->second;
            bool dummy = boxes_[r].msg < 0, t_dummy = boxes_[t].msg < 0;
            if (dummy && t_dummy) {
                for (int c : boxes_[r].children) {
                    boxes_[c].parent = t;
                    boxes_[t].children.push_back(c);
                }
                boxes_[r].children.clear();
                boxes_[r].dead = true;
            } else if (t_dummy) {
                boxes_[r].parent = t;
                boxes_[t].children.push_back(r);
            } else if (!dummy && reply(r) && !reply(t)) {
                boxes_[r].parent = t;
                boxes_[t].children.push_back(r);
            } else {
                // A new dummy holds both, in the table entry's place.
                int d = int(boxes_.size());
                boxes_.emplace_back();
                boxes_[d].children = {t, r};
                boxes_[t].parent = d;
                boxes_[r].parent = d;
                it->second = d;
                auto at = std::find(out.begin(), out.end(), t);
                if (at != out.end()) {
                    *at = d;
                } else {
                    out.push_back(d);  // t comes later in `roots` and is skipped then
                }
            }
        }
        return out;
    }

    ThreadNode node(int b) const {
        ThreadNode n;
        n.number = boxes_[b].msg >= 0 ? number_[v_[boxes_[b].msg].position] : 0;
        for (int c : boxes_[b].children) n.children.push_back(node(c));
        return n;
    }

    const std::vector<SortValues>& v_;
    const std::vector<uint32_t>& number_;
    std::vector<Box> boxes_;
    std::unordered_map<std::string, int> by_id_;
};

}  // namespace

std::vector<std::string> thread_msg_ids(std::string_view field) {
    std::vector<std::string> out;
    size_t i = 0;
    while ((i = field.find('<', i)) != std::string_view::npos) {
        size_t j = field.find('>', i + 1);
        if (j == std::string_view::npos) break;
        i = field.rfind('<', j);  // "<<a@x>": the innermost
        std::string_view id = field.substr(i + 1, j - i - 1);
        if (!id.empty() && out.size() < 1000) out.emplace_back(id);
        i = j + 1;
    }
    return out;
}

std::vector<ThreadNode> thread_references(const std::vector<SortValues>& values,
                                          const std::vector<uint32_t>& number) {
    return ReferencesThreader(values, number).run();
}

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
