// Mirrors of real repositories made with the git CLI in temporary directories.
#include "scm/mirror.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>

#include <gtest/gtest.h>

#include "util/strings.h"

namespace tauon::scm {
namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr, trailing newline removed.
};

CommandResult Run(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  int status = pclose(pipe);
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// Runs git in `dir`, isolated from the user's configuration; fails the test
// if git fails. Returns its output.
std::string Git(const fs::path& dir, const std::string& args) {
  CommandResult result =
      Run("cd " + ShellQuote(dir.string()) +
          " && GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=Tester"
          " GIT_AUTHOR_EMAIL=tester@example.com GIT_COMMITTER_NAME=Tester"
          " GIT_COMMITTER_EMAIL=tester@example.com git -c init.defaultBranch=main"
          " -c commit.gpgsign=false -c tag.gpgsign=false " +
          args);
  EXPECT_EQ(result.exit_code, 0) << "git " << args << " in " << dir << ":\n" << result.output;
  return result.output;
}

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A bare "origin" with a clone "work" that pushes to it, in a temporary
// directory removed after the test. The origin starts with one commit on main.
class MirrorTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tauon-mirror-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    origin_ = root_ / "origin.git";
    work_ = root_ / "work";
    Git(root_, "init --quiet --bare origin.git");
    Git(root_, "init --quiet work");
    Git(work_, "remote add origin " + ShellQuote(origin_.string()));
    WriteFile(work_ / "README.md", "first\n");
    Commit("first");
    Git(work_, "push --quiet origin main");
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // Commits everything in the work tree; returns the new sha.
  std::string Commit(const std::string& message) {
    Git(work_, "add -A");
    Git(work_, "commit --quiet -m " + ShellQuote(message));
    return Git(work_, "rev-parse HEAD");
  }

  std::unique_ptr<Mirror> OpenMirror(const std::string& url) {
    Result<std::unique_ptr<Mirror>> mirror = Mirror::Open(root_ / "mirrors" / "repo.git", url);
    EXPECT_TRUE(mirror) << mirror.error().message;
    return mirror ? std::move(*mirror) : nullptr;
  }

  std::map<std::string, std::string> Branches(Mirror& mirror) {
    Result<std::map<std::string, std::string>> branches = mirror.Branches();
    EXPECT_TRUE(branches) << branches.error().message;
    return branches ? *branches : std::map<std::string, std::string>();
  }

  fs::path root_;
  fs::path origin_;
  fs::path work_;
};

TEST_F(MirrorTest, OpenCreatesABareMirrorOfTheUrl) {
  std::unique_ptr<Mirror> mirror = OpenMirror(origin_.string());
  ASSERT_TRUE(mirror);
  fs::path path = root_ / "mirrors" / "repo.git";
  EXPECT_TRUE(fs::exists(path / "HEAD"));
  EXPECT_EQ(mirror->repository().workdir(), fs::path());
  EXPECT_EQ(Git(path, "config remote.origin.url"), origin_.string());
  EXPECT_EQ(Git(path, "config --get-all remote.origin.fetch"),
            "+refs/heads/*:refs/heads/*\n+refs/tags/*:refs/tags/*");
  EXPECT_TRUE(Branches(*mirror).empty()) << "nothing is fetched before Fetch()";
}

TEST_F(MirrorTest, FetchBringsCommitsBranchesAndTags) {
  std::unique_ptr<Mirror> mirror = OpenMirror(origin_.string());
  ASSERT_TRUE(mirror);
  ASSERT_TRUE(mirror->Fetch());
  std::string first = Git(work_, "rev-parse HEAD");
  EXPECT_EQ(Branches(*mirror), (std::map<std::string, std::string>{{"main", first}}));

  // HEAD follows origin's default branch, so "" resolves to main.
  Result<CommitInfo> head = mirror->repository().Resolve("");
  ASSERT_TRUE(head) << head.error().message;
  EXPECT_EQ(head->sha, first);
  EXPECT_EQ(head->branch, "main");
  EXPECT_EQ(head->subject, "first");

  WriteFile(work_ / "README.md", "second\n");
  std::string second = Commit("second");
  Git(work_, "tag v1");
  Git(work_, "tag -a v2 -m release");
  Git(work_, "checkout --quiet -b feature/nested");
  WriteFile(work_ / "feature.txt", "feature\n");
  std::string feature = Commit("feature");
  Git(work_, "push --quiet origin main feature/nested v1 v2");

  ASSERT_TRUE(mirror->Fetch());
  EXPECT_EQ(Branches(*mirror),
            (std::map<std::string, std::string>{{"main", second}, {"feature/nested", feature}}));
  for (const char* tag : {"v1", "v2"}) {
    Result<CommitInfo> resolved = mirror->repository().Resolve(tag);
    ASSERT_TRUE(resolved) << resolved.error().message;
    EXPECT_EQ(resolved->sha, second) << tag;
  }
  Result<CommitInfo> branch = mirror->repository().Resolve("feature/nested");
  ASSERT_TRUE(branch) << branch.error().message;
  EXPECT_EQ(branch->sha, feature);
  EXPECT_EQ(branch->branch, "feature/nested");
}

TEST_F(MirrorTest, ForcePushIsFollowed) {
  std::unique_ptr<Mirror> mirror = OpenMirror(origin_.string());
  ASSERT_TRUE(mirror);
  WriteFile(work_ / "a.txt", "a\n");
  std::string before = Commit("to be rewritten");
  Git(work_, "push --quiet origin main");
  ASSERT_TRUE(mirror->Fetch());
  EXPECT_EQ(Branches(*mirror)["main"], before);

  WriteFile(work_ / "a.txt", "rewritten\n");
  Git(work_, "add -A");
  Git(work_, "commit --quiet --amend -m rewritten");
  std::string after = Git(work_, "rev-parse HEAD");
  ASSERT_NE(before, after);
  Git(work_, "push --quiet --force origin main");
  // A moved tag is followed too.
  Git(work_, "tag v1 HEAD~1");
  Git(work_, "push --quiet origin v1");
  ASSERT_TRUE(mirror->Fetch());
  Git(work_, "tag -f v1 HEAD");
  Git(work_, "push --quiet --force origin v1");

  Status fetched = mirror->Fetch();
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(Branches(*mirror)["main"], after);
  Result<std::optional<std::string>> content = mirror->repository().ReadFile(after, "a.txt");
  ASSERT_TRUE(content) << content.error().message;
  EXPECT_EQ(content->value_or("<missing>"), "rewritten\n");
  Result<CommitInfo> tag = mirror->repository().Resolve("v1");
  ASSERT_TRUE(tag) << tag.error().message;
  EXPECT_EQ(tag->sha, after);
}

TEST_F(MirrorTest, DeletedBranchesAndTagsDisappear) {
  std::unique_ptr<Mirror> mirror = OpenMirror(origin_.string());
  ASSERT_TRUE(mirror);
  Git(work_, "branch doomed");
  Git(work_, "tag doomed-tag");
  Git(work_, "push --quiet origin doomed doomed-tag");
  ASSERT_TRUE(mirror->Fetch());
  ASSERT_EQ(Branches(*mirror).count("doomed"), 1u);
  ASSERT_TRUE(mirror->repository().Resolve("doomed-tag"));

  Git(work_, "push --quiet origin --delete doomed");
  Git(work_, "push --quiet origin :refs/tags/doomed-tag");
  Status fetched = mirror->Fetch();
  ASSERT_TRUE(fetched) << fetched.error().message;
  std::map<std::string, std::string> branches = Branches(*mirror);
  EXPECT_EQ(branches.count("doomed"), 0u);
  EXPECT_EQ(branches.count("main"), 1u);
  EXPECT_FALSE(mirror->repository().Resolve("doomed-tag"));
}

TEST_F(MirrorTest, CheckoutOfAMirroredCommit) {
  WriteFile(work_ / "models" / "config.yaml", "layers: 4\n");
  WriteFile(work_ / "run.sh", "#!/bin/sh\necho hi\n");
  fs::permissions(work_ / "run.sh", fs::perms::owner_exec, fs::perm_options::add);
  fs::create_symlink("models/config.yaml", work_ / "config-link");
  std::string sha = Commit("files");
  Git(work_, "push --quiet origin main");

  std::unique_ptr<Mirror> mirror = OpenMirror(origin_.string());
  ASSERT_TRUE(mirror);
  ASSERT_TRUE(mirror->Fetch());
  fs::path dir = root_ / "checkout";
  Status checked_out = mirror->repository().Checkout(sha, dir);
  ASSERT_TRUE(checked_out) << checked_out.error().message;
  EXPECT_EQ(ReadFile(dir / "README.md"), "first\n");
  EXPECT_EQ(ReadFile(dir / "models" / "config.yaml"), "layers: 4\n");
  EXPECT_EQ(ReadFile(dir / "run.sh"), "#!/bin/sh\necho hi\n");
  EXPECT_NE(fs::status(dir / "run.sh").permissions() & fs::perms::owner_exec, fs::perms::none);
  EXPECT_TRUE(fs::is_symlink(dir / "config-link"));
  EXPECT_EQ(fs::read_symlink(dir / "config-link"), "models/config.yaml");
  EXPECT_FALSE(fs::exists(dir / ".git"));
  // The mirror itself stays bare and untouched.
  EXPECT_FALSE(fs::exists(root_ / "mirrors" / "repo.git" / "README.md"));
  EXPECT_FALSE(fs::exists(root_ / "mirrors" / "repo.git" / "index"));

  Result<std::optional<std::string>> file =
      mirror->repository().ReadFile(sha, "models/config.yaml");
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(file->value_or("<missing>"), "layers: 4\n");
}

TEST_F(MirrorTest, FileUrl) {
  std::unique_ptr<Mirror> mirror = OpenMirror("file://" + origin_.string());
  ASSERT_TRUE(mirror);
  Status fetched = mirror->Fetch();
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(Branches(*mirror),
            (std::map<std::string, std::string>{{"main", Git(work_, "rev-parse HEAD")}}));
}

TEST_F(MirrorTest, ReopeningKeepsTheMirrorAndFollowsANewUrl) {
  {
    std::unique_ptr<Mirror> mirror = OpenMirror(origin_.string());
    ASSERT_TRUE(mirror);
    ASSERT_TRUE(mirror->Fetch());
  }
  {
    std::unique_ptr<Mirror> mirror = OpenMirror(origin_.string());
    ASSERT_TRUE(mirror);
    EXPECT_EQ(Branches(*mirror).size(), 1u) << "reopening keeps what was fetched";
  }
  // The repository moved: a second origin with other branches.
  fs::path moved = root_ / "moved.git";
  Git(root_, "init --quiet --bare moved.git");
  Git(work_, "checkout --quiet -b elsewhere");
  WriteFile(work_ / "moved.txt", "moved\n");
  std::string moved_sha = Commit("moved");
  Git(work_, "push --quiet " + ShellQuote(moved.string()) + " elsewhere");

  std::unique_ptr<Mirror> mirror = OpenMirror(moved.string());
  ASSERT_TRUE(mirror);
  EXPECT_EQ(Git(root_ / "mirrors" / "repo.git", "config remote.origin.url"), moved.string());
  Status fetched = mirror->Fetch();
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(Branches(*mirror), (std::map<std::string, std::string>{{"elsewhere", moved_sha}}));
}

TEST_F(MirrorTest, EmptyOrigin) {
  Git(root_, "init --quiet --bare empty.git");
  std::unique_ptr<Mirror> mirror = OpenMirror((root_ / "empty.git").string());
  ASSERT_TRUE(mirror);
  Status fetched = mirror->Fetch();
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_TRUE(Branches(*mirror).empty());
}

TEST_F(MirrorTest, FetchingAMissingPathFailsClearly) {
  std::string missing = (root_ / "does-not-exist").string();
  std::unique_ptr<Mirror> mirror = OpenMirror(missing);
  ASSERT_TRUE(mirror);
  Status fetched = mirror->Fetch();
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().message, "cannot fetch " + missing + ": no such directory");

  std::unique_ptr<Mirror> by_url = OpenMirror("file://" + missing);
  ASSERT_TRUE(by_url);
  fetched = by_url->Fetch();
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().message, "cannot fetch file://" + missing + ": no such directory");

  fs::create_directories(root_ / "not-a-repository");
  std::string not_repository = (root_ / "not-a-repository").string();
  std::unique_ptr<Mirror> not_git = OpenMirror(not_repository);
  ASSERT_TRUE(not_git);
  fetched = not_git->Fetch();
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().message.rfind(
                "cannot fetch " + not_repository + ": could not find repository", 0),
            0u)
      << fetched.error().message;
}

TEST_F(MirrorTest, ErrorsDoNotShowCredentials) {
  // Port 1 on the loopback refuses the connection at once.
  std::unique_ptr<Mirror> mirror =
      OpenMirror("https://alice:s3cr3t-t0ken@127.0.0.1:1/org/repo.git");
  ASSERT_TRUE(mirror);
  Status fetched = mirror->Fetch();
  ASSERT_FALSE(fetched);
  const std::string& message = fetched.error().message;
  EXPECT_EQ(message.rfind("cannot fetch https://127.0.0.1:1/org/repo.git: ", 0), 0u) << message;
  EXPECT_EQ(message.find("s3cr3t"), std::string::npos) << message;
  EXPECT_EQ(message.find("alice"), std::string::npos) << message;
}

TEST_F(MirrorTest, ErrorsDoNotShowCredentialsOfAnyScheme) {
  for (const std::string url : {"ssh://alice:s3cr3t-t0ken@127.0.0.1:1/org/repo.git",
                                "nosuchscheme://alice:s3cr3t-t0ken@example.com/org/repo.git"}) {
    std::unique_ptr<Mirror> mirror = OpenMirror(url);
    ASSERT_TRUE(mirror);
    Status fetched = mirror->Fetch();
    ASSERT_FALSE(fetched) << url;
    EXPECT_EQ(fetched.error().message.find("s3cr3t"), std::string::npos) << fetched.error().message;
    EXPECT_EQ(fetched.error().message.find("alice"), std::string::npos) << fetched.error().message;
  }
}

TEST_F(MirrorTest, OpenRefusesWhatIsNotABareMirror) {
  Result<std::unique_ptr<Mirror>> work_tree = Mirror::Open(work_, origin_.string());
  ASSERT_FALSE(work_tree);
  EXPECT_EQ(work_tree.error().message,
            work_.string() + " has a work tree: a mirror must be a bare repository");

  WriteFile(root_ / "junk" / "file.txt", "not a repository\n");
  Result<std::unique_ptr<Mirror>> junk = Mirror::Open(root_ / "junk", origin_.string());
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().message.rfind((root_ / "junk").string() + " is not a git repository", 0),
            0u)
      << junk.error().message;

  Result<std::unique_ptr<Mirror>> no_url = Mirror::Open(root_ / "m.git", "");
  ASSERT_FALSE(no_url);
  EXPECT_EQ(no_url.error().message, "no URL to mirror into " + (root_ / "m.git").string());
}

TEST_F(MirrorTest, OpenUsesAnEmptyDirectory) {
  fs::create_directories(root_ / "mirrors" / "repo.git");
  std::unique_ptr<Mirror> mirror = OpenMirror(origin_.string());
  ASSERT_TRUE(mirror);
  ASSERT_TRUE(mirror->Fetch());
  EXPECT_EQ(Branches(*mirror).size(), 1u);
}

}  // namespace
}  // namespace tauon::scm
