// Reading folders from disk into the index: the full reindex (first use of a folder,
// rebuild) and the cheap absorb of new/ that every refresh does.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <set>

#include "libmailstore/bytes.h"
#include "libmailstore/mailbox_index.h"
#include "libmailstore/maildir_keywords.h"
#include "libmailstore/maildir_name.h"
#include "libmailstore/unique_fd.h"

namespace postern {
namespace {

struct Entry {
    bool in_new;
    std::string name;
    MaildirName parsed;
};

// stem with its ",U=" and ",S=" fields replaced by (or given) uid and size.
std::string stem_with_uid(std::string_view stem, uint32_t uid, uint64_t size) {
    std::string out;
    size_t pos = 0;
    while (pos <= stem.size()) {
        size_t comma = stem.find(',', pos);
        std::string_view part = stem.substr(
            pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        if (pos == 0 || !(part.starts_with("U=") || part.starts_with("S="))) {
            if (pos != 0) out.push_back(',');
            out.append(part);
        }
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    out += ",U=" + std::to_string(uid) + ",S=" + std::to_string(size);
    return out;
}

// The size a client is sent: the file's bytes with every bare LF counted as
// CR LF. Files we deliver are CRLF already; another delivery agent's may use
// bare LF, and then the file size is not what POP3 LIST or IMAP RFC822.SIZE
// must say. Counted once, when a file first gets its UID (the ",S=" we then
// put in its name is this size). nullopt: unreadable or gone.
std::optional<uint64_t> wire_size(const fs::path& p) {
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return std::nullopt;
    char buf[64 * 1024];
    uint64_t size = 0;
    bool prev_cr = false;
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) return size;
        for (ssize_t i = 0; i < n; ++i) {
            if (buf[i] == '\n' && !prev_cr) ++size;
            prev_cr = buf[i] == '\r';
        }
        size += uint64_t(n);
    }
}

uint64_t now_micros() {
    return uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count());
}

// Fills size (if not in the name) and internal date from the file. false (skip it) for
// anything but a regular file: a symlink planted in a maildir is not a message.
bool stat_file(const fs::path& p, MsgRecord& rec, bool need_size) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (need_size) rec.size = uint64_t(st.st_size);
    if (rec.internal_date == 0) rec.internal_date = st.st_mtime;
    return true;
}

// The folder's keyword list, read when a file name first needs it.
struct FolderKeywords {
    fs::path dir;
    std::optional<KeywordList> list;

    // rec's keywords from the keyword letters of its file name (maildir_keywords.h): the
    // letters are the truth for the keywords that have one, rec.keywords keeps the others.
    StoreResult<void> take_letters(MsgRecord& rec, uint32_t letters) {
        rec.keyword_letters = letters;
        if (letters == 0 && rec.keywords.empty()) return {};
        if (!list) {
            auto l = KeywordList::load(dir);
            if (!l) return std::unexpected(l.error());
            list = std::move(*l);
        }
        rec.keywords = list->keywords_for(letters, rec.keywords);
        return {};
    }
    StoreResult<void> save() { return list ? list->save(dir) : StoreResult<void>{}; }
};

StoreResult<uint32_t> alloc_folder_id(UserIndex& idx, lmdb::Txn& txn) {
    auto next = idx.get_u64(txn, "next_folder_id");
    if (!next) return std::unexpected(next.error());
    uint32_t id = uint32_t(std::max<uint64_t>(*next, 1));
    if (auto r = idx.put_u64(txn, "next_folder_id", id + 1); !r) return std::unexpected(r.error());
    return id;
}

}  // namespace

StoreResult<FolderMeta> UserIndex::reindex_folder(lmdb::Txn& txn, const std::string& name,
                                                  RebuildStats& stats) {
    fs::path dir = folder_path(paths_, name);
    struct stat st {};
    if (::stat((dir / "cur").c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return std::unexpected(StoreError::not_found);

    auto old = get_folder(txn, name);
    if (!old) return std::unexpected(old.error());
    FolderMeta meta;
    std::map<uint32_t, MsgRecord> old_recs;
    int64_t old_usage = 0;
    if (*old) {
        meta = **old;
        auto cur = lmdb::Cursor::open(txn, msgs());
        if (!cur) return std::unexpected(cur.error());
        std::string prefix = msg_key(meta.id, 0).substr(0, 4);
        for (cur->seek(prefix); cur->valid() && cur->key().starts_with(prefix);) {
            if (auto rec = decode_msg(cur->value())) {
                old_usage += int64_t(rec->size);
                old_recs.emplace(get_be32(cur->key(), 4), std::move(*rec));
            }
            if (auto d = cur->del(); !d) return std::unexpected(d.error());
            cur->next();
        }
        auto pcur = lmdb::Cursor::open(txn, pending());
        if (!pcur) return std::unexpected(pcur.error());
        for (pcur->seek(prefix); pcur->valid() && pcur->key().starts_with(prefix);) {
            if (auto d = pcur->del(); !d) return std::unexpected(d.error());
            pcur->next();
        }
    } else {
        auto id = alloc_folder_id(*this, txn);
        if (!id) return std::unexpected(id.error());
        meta.id = *id;
        meta.uidnext = 1;
    }

    // The uidvalidity file is the truth; the index only caches it.
    uint32_t uid_floor = 0;
    uint32_t uv = read_uidvalidity(dir, &uid_floor);
    meta.uidnext = std::max(meta.uidnext, uid_floor);
    if (uv == 0) {
        if (*old) {
            uv = meta.uidvalidity;
        } else {
            auto v = next_uidvalidity(txn);
            if (!v) return std::unexpected(v.error());
            uv = *v;
        }
        if (auto w = write_uidvalidity(dir, uv, meta.uidnext); !w)
            return std::unexpected(w.error());
    }
    meta.uidvalidity = uv;
    stats.tmp_removed += clean_stale_tmp(dir / "tmp");
    FolderKeywords kw{dir, {}};

    std::vector<Entry> entries;
    for (bool in_new : {false, true}) {
        auto names = list_dir(dir / (in_new ? "new" : "cur"));
        if (!names) return std::unexpected(names.error());
        for (auto& n : *names) {
            auto parsed = parse_maildir_name(n);
            if (parsed) entries.push_back({in_new, std::move(n), std::move(*parsed)});
        }
    }
    // Known UIDs first in order, so a duplicate UID is resolved in favour of one file and
    // the others (and files without a UID) get fresh UIDs above the maximum.
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        bool az = a.parsed.uid == 0, bz = b.parsed.uid == 0;
        if (az != bz) return bz;
        if (a.parsed.uid != b.parsed.uid) return a.parsed.uid < b.parsed.uid;
        if (a.in_new != b.in_new) return b.in_new;
        return a.name < b.name;
    });
    std::set<uint32_t> used;
    std::vector<bool> keep(entries.size(), false);
    uint32_t max_uid = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
        uint32_t u = entries[i].parsed.uid;
        if (u != 0 && used.insert(u).second) {
            keep[i] = true;
            max_uid = std::max(max_uid, u);
        }
    }
    meta.uidnext = std::max(meta.uidnext, max_uid + 1);
    meta.highestmodseq = *old ? meta.highestmodseq + 1 : std::max<uint64_t>(now_micros(), 1);
    meta.dirty = false;
    // What happened before is unknown now: the log starts again here, and counters anew.
    meta.log_floor = meta.highestmodseq;
    meta.messages = meta.unseen = 0;
    meta.size = 0;
    if (auto r = drop_log_and_cache(txn, meta.id); !r) return std::unexpected(r.error());

    int64_t usage = 0;
    bool renamed = false;
    for (size_t i = 0; i < entries.size(); ++i) {
        Entry& e = entries[i];
        MsgRecord rec;
        uint32_t uid = e.parsed.uid;
        rec.stem = e.parsed.stem;
        fs::path from = dir / (e.in_new ? "new" : "cur") / e.name;
        if (!keep[i]) {
            auto size = wire_size(from);
            if (!size) continue;  // removed meanwhile by another tool
            uid = meta.uidnext++;
            rec.stem = stem_with_uid(e.parsed.stem, uid, *size);
            e.parsed.size = *size;
            ++stats.new_uids;
        }
        rec.flags = e.parsed.flags;
        rec.other_info = e.parsed.other_info;
        rec.keyword_letters = e.parsed.keyword_letters;
        std::string target = rec.file_name();
        fs::path to = dir / "cur" / target;
        if (from != to) {
            if (::rename(from.c_str(), to.c_str()) != 0) {
                if (errno == ENOENT) continue;  // removed meanwhile by another tool
                return std::unexpected(errno_to_store_error(errno));
            }
            renamed = true;
        }
        auto it = old_recs.find(uid);
        if (it != old_recs.end() && it->second.stem == rec.stem) {
            rec.keywords = std::move(it->second.keywords);
            rec.internal_date = it->second.internal_date;
            rec.modseq = it->second.modseq;
        }
        if (auto k = kw.take_letters(rec, e.parsed.keyword_letters); !k)
            return std::unexpected(k.error());
        if (rec.modseq == 0) rec.modseq = meta.highestmodseq;
        rec.size = e.parsed.size.value_or(0);
        if ((!e.parsed.size || rec.internal_date == 0) &&
            !stat_file(to, rec, !e.parsed.size.has_value()))
            continue;
        usage += int64_t(rec.size);
        count_message(meta, rec, +1);
        if (auto r = put_msg(txn, meta.id, uid, rec); !r) return std::unexpected(r.error());
        ++stats.messages;
    }
    if (renamed) {
        if (auto r = fsync_path(dir / "cur"); !r) return std::unexpected(r.error());
    }
    if (auto r = kw.save(); !r) return std::unexpected(r.error());  // names for lost letters
    if (auto r = put_folder(txn, name, meta); !r) return std::unexpected(r.error());
    if (auto r = add_usage(txn, usage - old_usage); !r) return std::unexpected(r.error());
    ++stats.folders;
    return meta;
}

StoreResult<FolderMeta> UserIndex::absorb_new(lmdb::Txn& txn, const std::string& name,
                                              bool& again) {
    again = false;
    auto m = ensure_folder(txn, name);
    if (!m) return std::unexpected(m.error());
    FolderMeta meta = *m;
    fs::path dir = folder_path(paths_, name);
    auto names = list_dir(dir / "new");
    if (!names) return std::unexpected(names.error());

    std::set<uint32_t> handled;
    bool changed = false;
    FolderKeywords kw{dir, {}};
    // rec: as counted in meta so far (counted: false when not yet).
    auto finalize = [&](uint32_t uid, MsgRecord& rec, const fs::path& from,
                        std::optional<MsgRecord> counted) -> StoreResult<void> {
        if (counted) count_message(meta, *counted, -1);
        count_message(meta, rec, +1);
        rec.in_new = false;
        rec.pending = false;
        // Our own deliveries got their modseq (and log entry) when they were linked; moving
        // them to cur/ changes nothing a client sees. Anything else is news now.
        bool same = counted && counted->modseq != 0 && counted->flags == rec.flags &&
                    counted->keywords == rec.keywords;
        if (!same) {
            if (counted && counted->modseq != 0) {
                if (auto f = forget_change(txn, meta.id, counted->modseq, uid); !f) return f;
            }
            rec.modseq = ++meta.highestmodseq;
            if (auto r =
                    log_change(txn, meta.id, rec.modseq, ChangeKind::added, std::span(&uid, 1));
                !r)
                return r;
        }
        fs::path to = dir / "cur" / rec.file_name();
        if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT)
            return std::unexpected(errno_to_store_error(errno));
        if (auto r = put_msg(txn, meta.id, uid, rec); !r) return r;
        if (auto r = txn.del(pending(), msg_key(meta.id, uid)); !r)
            return std::unexpected(r.error());
        handled.insert(uid);
        changed = true;
        return {};
    };

    // Files carrying a UID first, in UID order, so one that merely lost its commit keeps
    // its UID before a file without one is given the next free UID.
    std::vector<std::pair<std::string, MaildirName>> files;
    for (auto& n : *names) {
        if (auto parsed = parse_maildir_name(n))
            files.emplace_back(std::move(n), std::move(*parsed));
    }
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
        bool az = a.second.uid == 0, bz = b.second.uid == 0;
        if (az != bz) return bz;
        if (a.second.uid != b.second.uid) return a.second.uid < b.second.uid;
        return a.first < b.first;
    });
    // Phase 1: files that keep their UID. Phase 2: new UIDs for the rest, so a clashing
    // file never takes a UID that another file in new/ legitimately carries.
    std::vector<size_t> deferred;
    for (size_t i = 0; i < files.size(); ++i) {
        const std::string& n = files[i].first;
        const MaildirName& parsed = files[i].second;
        fs::path from = dir / "new" / n;
        uint32_t u = parsed.uid;
        std::optional<MsgRecord> rec;
        if (u != 0) {
            auto r = get_msg(txn, meta.id, u);
            if (!r) return std::unexpected(r.error());
            rec = std::move(*r);
        }
        if (u != 0 && rec && rec->stem == parsed.stem) {
            // Our own delivery (pending), or a move interrupted by a crash.
            std::optional<MsgRecord> counted = *rec;
            rec->flags = parsed.flags;
            rec->other_info = parsed.other_info;
            if (parsed.keyword_letters != rec->keyword_letters) {
                if (auto k = kw.take_letters(*rec, parsed.keyword_letters); !k)
                    return std::unexpected(k.error());
            }
            if (auto r = finalize(u, *rec, from, counted); !r) return std::unexpected(r.error());
        } else if (u != 0 && !rec && u >= meta.uidnext) {
            // A UID nobody has seen or reserved: a delivery whose commit was lost.
            MsgRecord nr;
            nr.stem = parsed.stem;
            nr.flags = parsed.flags;
            nr.other_info = parsed.other_info;
            if (auto k = kw.take_letters(nr, parsed.keyword_letters); !k)
                return std::unexpected(k.error());
            nr.size = parsed.size.value_or(0);
            if (!stat_file(from, nr, !parsed.size.has_value())) continue;
            meta.uidnext = u + 1;
            if (auto r = add_usage(txn, int64_t(nr.size)); !r) return std::unexpected(r.error());
            if (auto r = finalize(u, nr, from, std::nullopt); !r) return std::unexpected(r.error());
        } else {
            deferred.push_back(i);
        }
    }
    for (size_t i : deferred) {
        // No UID, or one already taken: reserve a fresh UID and leave the file pending in
        // new/ under its new name; a later transaction moves it (see header).
        const MaildirName& parsed = files[i].second;
        fs::path from = dir / "new" / files[i].first;
        auto size = wire_size(from);
        MsgRecord nr;
        if (!size || !stat_file(from, nr, false)) continue;
        uint32_t nu = meta.uidnext++;
        nr.stem = stem_with_uid(parsed.stem, nu, *size);
        nr.in_new = true;
        nr.pending = true;
        nr.flags = parsed.flags;
        nr.other_info = parsed.other_info;
        if (auto k = kw.take_letters(nr, parsed.keyword_letters); !k)
            return std::unexpected(k.error());
        nr.size = *size;
        fs::path to = dir / "new" / nr.file_name();
        if (::rename(from.c_str(), to.c_str()) != 0) {
            if (errno == ENOENT) continue;
            return std::unexpected(errno_to_store_error(errno));
        }
        if (auto r = put_msg(txn, meta.id, nu, nr); !r) return std::unexpected(r.error());
        if (auto r = txn.put(pending(), msg_key(meta.id, nu), ""); !r)
            return std::unexpected(r.error());
        if (auto r = add_usage(txn, int64_t(nr.size)); !r) return std::unexpected(r.error());
        count_message(meta, nr, +1);
        handled.insert(nu);
        changed = true;
        again = true;
    }

    // Pending records whose file was not in new/: moved to cur/ by a transaction that was
    // lost in a crash (finish it), or gone (drop the record).
    auto pcur = lmdb::Cursor::open(txn, pending());
    if (!pcur) return std::unexpected(pcur.error());
    std::string prefix = msg_key(meta.id, 0).substr(0, 4);
    std::vector<uint32_t> leftovers;
    for (pcur->seek(prefix); pcur->valid() && pcur->key().starts_with(prefix); pcur->next()) {
        uint32_t uid = get_be32(pcur->key(), 4);
        if (!handled.count(uid)) leftovers.push_back(uid);
    }
    for (uint32_t uid : leftovers) {
        auto r = get_msg(txn, meta.id, uid);
        if (!r) return std::unexpected(r.error());
        changed = true;
        if (*r) {
            MsgRecord rec = std::move(**r);
            rec.in_new = false;
            fs::path in_cur = dir / "cur" / rec.file_name();
            if (::access(in_cur.c_str(), F_OK) == 0) {
                MsgRecord counted = rec;
                if (auto f = finalize(uid, rec, in_cur, counted); !f)
                    return std::unexpected(f.error());
                continue;
            }
            count_message(meta, rec, -1);
            if (auto a = add_usage(txn, -int64_t(rec.size)); !a) return std::unexpected(a.error());
            if (auto d = txn.del(msgs(), msg_key(meta.id, uid)); !d)
                return std::unexpected(d.error());
        }
        if (auto d = txn.del(pending(), msg_key(meta.id, uid)); !d)
            return std::unexpected(d.error());
    }
    if (auto r = kw.save(); !r) return std::unexpected(r.error());  // names for lost letters
    if (changed) {
        if (auto r = put_folder(txn, name, meta); !r) return std::unexpected(r.error());
    }
    return meta;
}

}  // namespace postern
