#include "artifacts/artifact_store.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

#include "util/strings.h"

namespace tauon::artifacts {
namespace {

namespace fs = std::filesystem;

class ArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / ("artifacts_test_" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "ws");
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const fs::path& relative, const std::string& content) {
    fs::create_directories((root_ / "ws" / relative).parent_path());
    std::ofstream(root_ / "ws" / relative) << content;
  }

  fs::path root_;
};

TEST_F(ArtifactStoreTest, StoresContentOnceUnderItsDigest) {
  Write("a.txt", "weights");
  Write("b.txt", "weights");
  ArtifactStore store(root_ / "store");
  Result<std::string> a = store.Put(root_ / "ws/a.txt");
  Result<std::string> b = store.Put(root_ / "ws/b.txt");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, "sha256:" + Sha256Hex("weights"));
  EXPECT_EQ(*a, *b);
  size_t blobs = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root_ / "store/sha256")) {
    blobs += entry.is_regular_file();
  }
  EXPECT_EQ(blobs, 1u);
  ASSERT_TRUE(store.Restore(*a, root_ / "restored/deep/w.bin", 0755));
  std::ifstream in(root_ / "restored/deep/w.bin");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "weights");
  EXPECT_EQ(fs::status(root_ / "restored/deep/w.bin").permissions() & fs::perms::owner_exec,
            fs::perms::owner_exec);
  EXPECT_FALSE(store.PathOf("sha256:../../etc/passwd").has_value());
  EXPECT_FALSE(store.PathOf("md5:abc").has_value());
}

TEST_F(ArtifactStoreTest, FindsFilesOfDirectoriesAndFiles) {
  Write("out/model/w.bin", "w");
  Write("out/model/meta/info.json", "{}");
  Write("out/metrics.json", "{}");
  Write("other.txt", "x");
  Result<std::vector<WorkspaceFile>> files =
      FindArtifactFiles(root_ / "ws", {"out/model/", "out/metrics.json"});
  ASSERT_TRUE(files.has_value()) << files.error().message;
  std::vector<std::string> paths;
  for (const WorkspaceFile& f : *files) paths.push_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"out/metrics.json", "out/model/meta/info.json",
                                             "out/model/w.bin"}));
}

TEST_F(ArtifactStoreTest, RefusesPathsThatEscapeTheWorkspace) {
  Write("out/ok.txt", "x");
  fs::create_symlink("/etc/passwd", root_ / "ws/out/passwd");
  Result<std::vector<WorkspaceFile>> files = FindArtifactFiles(root_ / "ws", {"out/"});
  ASSERT_FALSE(files.has_value());
  EXPECT_EQ(files.error().message,
            "artifact 'out/': out/passwd points outside the workspace (to /etc/passwd)");
  fs::create_directories(root_ / "outside");
  fs::create_directory_symlink(root_ / "outside", root_ / "ws/linkdir");
  std::ofstream(root_ / "outside/secret.txt") << "s";
  files = FindArtifactFiles(root_ / "ws", {"linkdir/secret.txt"});
  ASSERT_FALSE(files.has_value());
  EXPECT_EQ(files.error().message,
            "artifact 'linkdir/secret.txt' is outside the workspace (through a symlinked "
            "directory)");
  EXPECT_EQ(FindArtifactFiles(root_ / "ws", {"../x"}).error().message,
            "artifact '../x' is outside the workspace");
  EXPECT_EQ(FindArtifactFiles(root_ / "ws", {"missing/"}).error().message,
            "artifact 'missing/' does not exist in the workspace");
}

TEST_F(ArtifactStoreTest, SymlinksInsideTheWorkspaceStoreTheirTarget) {
  Write("out/real.txt", "content");
  fs::create_symlink("real.txt", root_ / "ws/out/link.txt");
  Result<std::vector<WorkspaceFile>> files = FindArtifactFiles(root_ / "ws", {"out/link.txt"});
  ASSERT_TRUE(files.has_value()) << files.error().message;
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ(files->at(0).path, "out/link.txt");
  EXPECT_EQ(files->at(0).size, 7);
}

}  // namespace
}  // namespace tauon::artifacts
