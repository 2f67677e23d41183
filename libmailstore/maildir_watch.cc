// Folder watches (MailStore::watch): inotify on each watched folder's new/ and cur/, one
// inotify instance and one thread per MaildirStore, made by the first watch.
//
// Why the directories and not a change file (one file per folder that every writer touches
// after its commit): only our own code would touch such a file, but a Maildir has other
// writers. A foreign MDA (procmail, maildrop, dovecot-lda) links into new/, another IMAP
// server or a script renames or unlinks in cur/. Every change to a folder, whoever makes it,
// is a create, rename or unlink in new/ or cur/: a delivery links into new/, a reader moves
// it to cur/, a flag change renames in cur/, an expunge unlinks. Watching these costs no
// extra write per change.
//
// Order: a flag change renames and a COPY links before its index commit, so an event can
// come before the change is visible to refresh(). Before calling back, the thread therefore
// takes and drops the user's index write lock (begins and aborts a write transaction):
// every writer holds it from its first file operation to its commit. (A delivery's file is
// in new/, which refresh() sees anyway; an expunge unlinks after its commit.)
//
// Events are coalesced: a watch is called once, 50 ms after the first event of a burst, and
// again only for events after that. The reader's own refresh() moving new mail to cur/ may
// cost one extra call. A keyword change is seen when it renames the file (keywords with a
// letter in the name, maildir_keywords.h); one kept in the index only (past a folder's 26
// letters) renames nothing, and other processes' watches do not see it.
//
// Bounds: at most max_watches watches per store; when the kernel's limit
// (fs.inotify.max_user_watches / max_user_instances) is reached, watch() fails with
// temporary and says so in the log.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <set>
#include <system_error>
#include <thread>

#include "libmailstore/maildir_store.h"
#include "libmailstore/unique_fd.h"
#include "libproto/core/log.h"

namespace postern {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto coalesce = std::chrono::milliseconds(50);
constexpr size_t max_watches = 65536;
constexpr uint32_t watch_mask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                IN_DELETE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW;

}  // namespace

class InotifyHub {
public:
    struct Watch {
        std::function<void()> on_change;
        std::shared_ptr<UserIndex> idx;  // for the index write-lock barrier
        std::array<int, 2> wds{-1, -1};  // new/, cur/; -1 once the kernel dropped it
        bool due = false;
        Clock::time_point when;
        bool cancelled = false;
    };

    static StoreResult<std::shared_ptr<InotifyHub>> start();
    ~InotifyHub() {
        stop();
        if (thread_.joinable()) thread_.detach();  // never: stop() joined or detached it
    }
    InotifyHub(const InotifyHub&) = delete;
    InotifyHub& operator=(const InotifyHub&) = delete;

    // Wakes the thread and waits for it; no callback runs once this returns.
    void stop();
    StoreResult<std::shared_ptr<Watch>> add(const fs::path& folder_dir,
                                            std::shared_ptr<UserIndex> idx,
                                            std::function<void()> on_change);
    // Removes the watch; then waits for its callback to finish, unless called from it.
    void remove(const std::shared_ptr<Watch>& w);

private:
    InotifyHub() = default;
    void run();
    void read_events(char* buf, size_t size);
    void mark_due(Watch& w, Clock::time_point now);
    void drop_wd(Watch& w, int wd);  // under mu_
    void fire_due();

    UniqueFd inotify_;
    UniqueFd wake_;
    std::thread thread_;
    std::thread::id thread_id_;
    std::mutex mu_;
    std::condition_variable idle_;
    std::map<int, std::vector<std::shared_ptr<Watch>>> by_wd_;
    std::set<std::shared_ptr<Watch>> watches_;
    const Watch* running_ = nullptr;
    bool stopping_ = false;
};

namespace {

class InotifyWatch final : public FolderWatch {
public:
    InotifyWatch(std::shared_ptr<InotifyHub> hub, std::shared_ptr<InotifyHub::Watch> w)
        : hub_(std::move(hub)), w_(std::move(w)) {}
    ~InotifyWatch() override { hub_->remove(w_); }

private:
    std::shared_ptr<InotifyHub> hub_;  // the watch may outlive the store
    std::shared_ptr<InotifyHub::Watch> w_;
};

}  // namespace

StoreResult<std::shared_ptr<InotifyHub>> InotifyHub::start() {
    std::shared_ptr<InotifyHub> hub(new InotifyHub());
    hub->inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!hub->inotify_) {
        log_msg(LogLevel::error, "store: cannot watch folders: inotify_init1: %s%s",
                std::strerror(errno),
                errno == EMFILE ? " (fs.inotify.max_user_instances is reached)" : "");
        return std::unexpected(StoreError::temporary);
    }
    hub->wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!hub->wake_) return std::unexpected(errno_to_store_error(errno));
    try {
        std::lock_guard lock(hub->mu_);
        // The thread owns the hub too: a store destroyed from a callback must not free it
        // under the running loop.
        hub->thread_ = std::thread([h = hub] { h->run(); });
        hub->thread_id_ = hub->thread_.get_id();
    } catch (const std::system_error& e) {
        log_msg(LogLevel::error, "store: cannot start the folder watch thread: %s", e.what());
        return std::unexpected(StoreError::temporary);
    }
    return hub;
}

void InotifyHub::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    uint64_t one = 1;
    if (wake_) (void)!::write(wake_.get(), &one, sizeof one);
    if (!thread_.joinable()) return;
    if (std::this_thread::get_id() == thread_id_)
        thread_.detach();  // the store destroyed from a callback: the loop ends after it
    else
        thread_.join();
}

StoreResult<std::shared_ptr<InotifyHub::Watch>> InotifyHub::add(const fs::path& folder_dir,
                                                                std::shared_ptr<UserIndex> idx,
                                                                std::function<void()> on_change) {
    auto w = std::make_shared<Watch>();
    w->on_change = std::move(on_change);
    w->idx = std::move(idx);
    std::lock_guard lock(mu_);
    if (stopping_) return std::unexpected(StoreError::temporary);
    if (watches_.size() >= max_watches) {
        log_msg(LogLevel::error, "store: %zu folder watches already, refusing more", max_watches);
        return std::unexpected(StoreError::temporary);
    }
    const char* subs[2] = {"new", "cur"};
    for (size_t i = 0; i < 2; ++i) {
        const fs::path dir = folder_dir / subs[i];
        int wd = ::inotify_add_watch(inotify_.get(), dir.c_str(), watch_mask);
        if (wd < 0) {
            int err = errno;
            for (size_t j = 0; j < i; ++j) drop_wd(*w, w->wds[j]);
            if (err == ENOENT || err == ENOTDIR) return std::unexpected(StoreError::not_found);
            log_msg(LogLevel::error, "store: cannot watch %s: %s%s", dir.c_str(),
                    std::strerror(err),
                    err == ENOSPC ? " (fs.inotify.max_user_watches is reached)" : "");
            return std::unexpected(StoreError::temporary);
        }
        w->wds[i] = wd;
        by_wd_[wd].push_back(w);
    }
    watches_.insert(w);
    return w;
}

// Forgets w's use of wd, and the kernel's watch when nobody else uses it.
void InotifyHub::drop_wd(Watch& w, int wd) {
    for (int& x : w.wds)
        if (x == wd) x = -1;
    auto it = by_wd_.find(wd);
    if (it == by_wd_.end()) return;  // the kernel dropped it already (IN_IGNORED)
    std::erase_if(it->second, [&](const std::shared_ptr<Watch>& p) { return p.get() == &w; });
    if (!it->second.empty()) return;
    ::inotify_rm_watch(inotify_.get(), wd);
    by_wd_.erase(it);
}

void InotifyHub::remove(const std::shared_ptr<Watch>& w) {
    std::unique_lock lock(mu_);
    if (!w->cancelled) {
        w->cancelled = true;
        for (int wd : w->wds)
            if (wd >= 0) drop_wd(*w, wd);
        watches_.erase(w);
    }
    if (std::this_thread::get_id() == thread_id_) return;  // from its own callback
    idle_.wait(lock, [&] { return running_ != w.get(); });
}

void InotifyHub::mark_due(Watch& w, Clock::time_point now) {
    if (w.due || w.cancelled) return;
    w.due = true;
    w.when = now + coalesce;
}

void InotifyHub::read_events(char* buf, size_t size) {
    for (;;) {
        ssize_t n = ::read(inotify_.get(), buf, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // EAGAIN: all read
        const auto now = Clock::now();
        std::lock_guard lock(mu_);
        for (ssize_t off = 0; off + ssize_t(sizeof(inotify_event)) <= n;) {
            const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
            off += ssize_t(sizeof(inotify_event) + ev->len);
            if ((ev->mask & IN_Q_OVERFLOW) != 0) {  // events were lost: everyone looks
                for (const auto& w : watches_) mark_due(*w, now);
                continue;
            }
            auto it = by_wd_.find(ev->wd);
            if (it == by_wd_.end()) continue;
            for (const auto& w : it->second) mark_due(*w, now);
            if ((ev->mask & IN_IGNORED) != 0) {  // the directory is gone: so is the watch
                for (const auto& w : it->second)
                    for (int& x : w->wds)
                        if (x == ev->wd) x = -1;
                by_wd_.erase(it);
            }
        }
    }
}

void InotifyHub::fire_due() {
    std::vector<std::shared_ptr<Watch>> ready;
    {
        const auto now = Clock::now();
        std::lock_guard lock(mu_);
        for (const auto& w : watches_) {
            if (!w->due || w->when > now) continue;
            w->due = false;  // events from here on call again
            ready.push_back(w);
        }
    }
    if (ready.empty()) return;
    // The barrier (see the top of the file): changes made before their commit are
    // committed once their writer let go of the lock.
    std::set<UserIndex*> synced;
    for (const auto& w : ready) {
        if (w->idx && synced.insert(w->idx.get()).second)
            (void)lmdb::Txn::begin(w->idx->env(), true);  // aborted at once
    }
    for (const auto& w : ready) {
        {
            std::lock_guard lock(mu_);
            if (w->cancelled || stopping_) continue;
            running_ = w.get();
        }
        try {
            w->on_change();
        } catch (const std::exception& e) {
            log_msg(LogLevel::error, "store: a folder watch callback threw: %s", e.what());
        } catch (...) {
            log_msg(LogLevel::error, "store: a folder watch callback threw");
        }
        {
            std::lock_guard lock(mu_);
            running_ = nullptr;
        }
        idle_.notify_all();
    }
}

void InotifyHub::run() {
    alignas(inotify_event) std::array<char, 16384> buf{};
    for (;;) {
        int timeout = -1;
        {
            std::lock_guard lock(mu_);
            if (stopping_) return;
            const auto now = Clock::now();
            for (const auto& w : watches_) {
                if (!w->due) continue;
                auto ms = std::chrono::ceil<std::chrono::milliseconds>(w->when - now).count();
                int t = ms < 0 ? 0 : int(ms);
                if (timeout < 0 || t < timeout) timeout = t;
            }
        }
        pollfd fds[2] = {{inotify_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
        if (::poll(fds, 2, timeout) < 0 && errno != EINTR) {
            log_msg(LogLevel::error, "store: folder watch poll: %s", std::strerror(errno));
            std::this_thread::sleep_for(coalesce);  // never spin
        }
        if ((fds[1].revents & POLLIN) != 0) {
            uint64_t v = 0;
            (void)!::read(wake_.get(), &v, sizeof v);
        }
        if ((fds[0].revents & POLLIN) != 0) read_events(buf.data(), buf.size());
        fire_due();
    }
}

MaildirStore::~MaildirStore() {
    if (watch_hub_) watch_hub_->stop();
}

StoreResult<std::unique_ptr<FolderWatch>> MaildirStore::watch(std::string_view user,
                                                              std::string_view folder,
                                                              std::function<void()> on_change) {
    if (!on_change) return std::unexpected(StoreError::invalid);
    auto name = canonical_folder(folder);
    if (!name) return std::unexpected(name.error());
    auto idx = index_for(user);
    if (!idx) return std::unexpected(idx.error());
    const fs::path dir = folder_path((*idx)->paths(), *name);
    struct stat st {};
    if (::stat((dir / "cur").c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return std::unexpected(StoreError::not_found);
    std::shared_ptr<InotifyHub> hub;
    {
        std::lock_guard lock(mu_);
        if (!watch_hub_) {
            auto h = InotifyHub::start();
            if (!h) return std::unexpected(h.error());
            watch_hub_ = std::move(*h);
        }
        hub = watch_hub_;
    }
    auto w = hub->add(dir, *idx, std::move(on_change));
    if (!w) return std::unexpected(w.error());
    return std::unique_ptr<FolderWatch>(new InotifyWatch(std::move(hub), std::move(*w)));
}

}  // namespace postern
