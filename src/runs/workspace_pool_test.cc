#include "runs/workspace_pool.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

namespace tauon::runs {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void Write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << content;
}

// Every path under `dir` with its content ("->target" for symlinks, "/" for directories).
std::map<std::string, std::string> Tree(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    std::string path = entry.path().lexically_relative(dir).generic_string();
    if (entry.is_symlink()) {
      out[path] = "->" + fs::read_symlink(entry.path()).string();
    } else if (entry.is_directory()) {
      out[path] = "/";
    } else {
      out[path] = Read(entry.path());
    }
  }
  return out;
}

class WorkspacePoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / ("pool_test_" + std::to_string(getpid()));
    fs::remove_all(root_);
    Write(root_ / "checkout/.tauon.yml", "jobs: {}\n");
    Write(root_ / "checkout/src/model.py", "print('model')\n");
    Write(root_ / "checkout/data/labels.csv", "a,b\n");
    fs::create_symlink("src/model.py", root_ / "checkout/link.py");
    fs::permissions(root_ / "checkout/src/model.py", fs::perms::owner_exec, fs::perm_options::add);
    pool_ = std::make_unique<WorkspacePool>(root_ / "checkout", root_ / "work");
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path Acquire(const std::string& name) {
    Result<fs::path> ws = pool_->Acquire(name);
    EXPECT_TRUE(ws.has_value()) << ws.error().message;
    return *ws;
  }

  fs::path root_;
  std::unique_ptr<WorkspacePool> pool_;
};

TEST_F(WorkspacePoolTest, FreshWorkspaceIsACopyOfTheCheckout) {
  fs::path ws = Acquire("0-lint.1");
  EXPECT_EQ(ws, root_ / "work/0-lint.1");
  EXPECT_EQ(Tree(ws), Tree(root_ / "checkout"));
  EXPECT_NE(fs::status(ws / "src/model.py").permissions() & fs::perms::owner_exec, fs::perms::none);
  // A copy, not a link: writing to it leaves the checkout alone.
  Write(ws / "src/model.py", "changed");
  EXPECT_EQ(Read(root_ / "checkout/src/model.py"), "print('model')\n");
}

TEST_F(WorkspacePoolTest, WorkspacesInUseAreDistinct) {
  fs::path a = Acquire("a");
  fs::path b = Acquire("b");
  EXPECT_NE(a, b);
  Write(a / "out/result.txt", "from a");
  EXPECT_FALSE(fs::exists(b / "out/result.txt"));
}

TEST_F(WorkspacePoolTest, ReusedWorkspaceIsRestoredToTheCheckout) {
  const auto expected = Tree(root_ / "checkout");
  fs::path ws = Acquire("first");
  Write(ws / "out/model/weights.bin", "w");             // Added.
  fs::remove(ws / "data/labels.csv");                   // Deleted.
  Write(ws / "src/model.py", "print('hacked')\n");      // Changed, same size.
  fs::remove(ws / "link.py");                           // Symlink replaced by a file.
  Write(ws / "link.py", "not a link");
  fs::remove_all(ws / "data");                          // Directory removed.
  pool_->Release(ws);

  fs::path again = Acquire("second");
  EXPECT_EQ(again, ws);  // Reused, not created.
  EXPECT_EQ(Tree(again), expected);
  EXPECT_FALSE(fs::exists(root_ / "work/second"));
}

TEST_F(WorkspacePoolTest, SameSizeChangeRightAfterTheCopyIsFound) {
  // Within the ctime granule of the copy: only the content tells.
  fs::path ws = Acquire("first");
  {
    std::fstream f(ws / ".tauon.yml", std::ios::in | std::ios::out);
    f.seekp(0);
    f << "JOBS";  // Same size, same inode.
  }
  pool_->Release(ws);
  EXPECT_EQ(Read(Acquire("second") / ".tauon.yml"), "jobs: {}\n");
}

TEST_F(WorkspacePoolTest, ChangedPermissionsAreRestored) {
  fs::path ws = Acquire("first");
  fs::permissions(ws / "src/model.py", fs::perms::owner_exec, fs::perm_options::remove);
  pool_->Release(ws);
  fs::path again = Acquire("second");
  EXPECT_NE(fs::status(again / "src/model.py").permissions() & fs::perms::owner_exec,
            fs::perms::none);
}

TEST_F(WorkspacePoolTest, UntouchedFilesAreKept) {
  fs::path ws = Acquire("first");
  ino_t before = fs::status(ws / ".tauon.yml").type() == fs::file_type::regular
                     ? [&] { struct stat st; stat((ws / ".tauon.yml").c_str(), &st); return st.st_ino; }()
                     : 0;
  pool_->Release(ws);
  fs::path again = Acquire("second");
  struct stat st;
  ASSERT_EQ(stat((again / ".tauon.yml").c_str(), &st), 0);
  EXPECT_EQ(st.st_ino, before);  // Not copied again.
}

}  // namespace
}  // namespace tauon::runs
