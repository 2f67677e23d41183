#pragma once
// A message file put under a second name for COPY: a hard link, or, when the kernel refuses
// one, a copy of the bytes. Refusals are EPERM (fs.protected_hardlinks=1 and a file the
// daemon user does not own: mail dropped by another agent, root-written files), EXDEV (the
// folder on another file system) and EMLINK (the file's link count at its maximum). The copy
// is written in the folder's tmp/, given the source's mtime (the internal date), fsynced and
// renamed to `dest`, as a delivery writes; the caller fsyncs dest's directory as for a link.

#include <filesystem>

namespace postern {

// 0, or the errno of the failure (ENOENT: `src` is gone). Nothing is left behind on failure.
int maildir_link_or_copy(const std::filesystem::path& src, const std::filesystem::path& dest,
                         const std::filesystem::path& tmp_dir);

// Test seam: the call that makes the hard link (default ::link). nullptr restores it.
using MaildirLinkFn = int (*)(const char* from, const char* to);
void set_maildir_link_fn_for_test(MaildirLinkFn fn);

}  // namespace postern
