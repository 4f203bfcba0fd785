// Job workspaces of one run, each starting as an exact copy of the run's
// checkout.
//
// Creating files is the dominant cost of small jobs on a busy ext4 (inode
// allocation after many deletions), so a workspace freed by a finished
// attempt is reused by a later one after being brought back to the
// checkout's state, like a CI runner's `git clean -ffdx && git checkout .`:
// everything the attempt added is deleted, everything it changed is copied
// again, untouched files stay. A run of many small jobs then creates almost
// no files.
//
// A file counts as untouched when its inode, size and ctime are what they
// were right after it was copied. ctime cannot be set from user space, but it
// has a coarse granularity on some kernels, so when the attempt began within
// kCtimeGranule of the copy the content is compared too.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "util/error.h"

namespace tauon::runs {

class WorkspacePool {
 public:
  // `checkout` is read-only from now on; workspaces are created under `root`.
  WorkspacePool(std::filesystem::path checkout, std::filesystem::path root)
      : checkout_(std::move(checkout)), root_(std::move(root)) {}

  // A directory holding exactly the checkout's files: a released one
  // restored, or else a fresh one named `name` (under root).
  Result<std::filesystem::path> Acquire(const std::string& name);
  // Gives a workspace back for reuse.
  void Release(const std::filesystem::path& workspace);

 private:
  struct Entry {  // One path of the checkout.
    std::string path;  // Relative, '/'-separated; parents come before children.
    mode_t mode = 0;   // Type and permission bits, from lstat.
    std::string link_target;
  };
  struct Copied {  // How a copied file looked right after the copy.
    ino_t inode = 0;
    off_t size = 0;
    timespec ctime = {};
  };
  struct Workspace {
    std::filesystem::path dir;
    std::map<std::string, Copied> files;
    timespec acquired = {};  // When the last attempt got it.
  };

  Status ScanCheckout();
  // Creates the manifest entries missing from `workspace`.
  Status Fill(Workspace& workspace);
  // Deletes what differs from the checkout; Fill() then completes it.
  Status Clean(Workspace& workspace);
  Status CopyFile(const Entry& entry, Workspace& workspace);
  bool SameContent(const std::string& path, const std::filesystem::path& copy) const;

  const std::filesystem::path checkout_;
  const std::filesystem::path root_;
  bool scanned_ = false;
  std::vector<Entry> manifest_;
  std::map<std::string, size_t> index_;  // Path -> manifest_ position.
  std::vector<Workspace> free_;
  std::map<std::filesystem::path, Workspace> in_use_;
};

}  // namespace tauon::runs
