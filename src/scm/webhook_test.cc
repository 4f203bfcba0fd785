#include "scm/webhook.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

namespace tauon::scm {
namespace {

const std::filesystem::path kCorpus = TAUON_SHARED_DIR "/corpus/webhooks";

std::string ReadCorpus(const std::string& name) {
  std::ifstream in(kCorpus / name, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << (kCorpus / name);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// What each corpus file must parse to, read off the files by hand.
struct CorpusCase {
  std::string file;
  Forge forge;
  std::string event;  // The event header the forge sends with this payload.
  std::string kind;
  std::string ref;
  std::string branch;
  bool deleted;
  std::vector<std::string> repository;
};

const std::vector<std::string> kHelloWorld = {"github.com/codertocat/hello-world",
                                              "codertocat/hello-world"};
const std::vector<std::string> kOctocoders = {"github.com/octocoders/hello-world",
                                              "octocoders/hello-world"};
const std::vector<std::string> kDroneTestGo = {"github.com/bradrydzewski/drone-test-go",
                                               "bradrydzewski/drone-test-go"};
// Gitea's fixtures give an ssh_url on "localhost", unlike their clone_url.
const std::vector<std::string> kGiteaHelloWorld = {
    "try.gitea.io/gogits/hello-world", "localhost/gogits/hello-world", "gogits/hello-world"};
const std::vector<std::string> kGitLabHelloWorld = {"gitlab.com/gitlab-org/hello-world",
                                                    "gitlab-org/hello-world"};

const std::vector<CorpusCase>& CorpusCases() {
  static const std::vector<CorpusCase> cases = {
      {"github-ping-octokit.json", Forge::kGitHub, "ping", "ping", "", "", false, kOctocoders},
      {"github-ping-with-app-id-octokit.json", Forge::kGitHub, "ping", "ping", "", "", false,
       kOctocoders},
      {"github-pull-request-opened-octokit.json", Forge::kGitHub, "pull_request", "pull_request",
       "", "", false, kHelloWorld},
      {"github-pull-request-opened-null-body-octokit.json", Forge::kGitHub, "pull_request",
       "pull_request", "", "", false, kHelloWorld},
      {"github-pull-request-opened-drone-go-scm.json", Forge::kGitHub, "pull_request",
       "pull_request", "", "", false, kDroneTestGo},
      {"github-push-branch-drone-go-scm.json", Forge::kGitHub, "push", "push", "refs/heads/master",
       "master", false, kHelloWorld},
      {"github-push-branch-created-drone-go-scm.json", Forge::kGitHub, "push", "push",
       "refs/heads/feature-branch", "feature-branch", false, kDroneTestGo},
      {"github-push-branch-deleted-drone-go-scm.json", Forge::kGitHub, "push", "push",
       "refs/heads/feature-branch", "feature-branch", true, kDroneTestGo},
      {"github-push-tag-created-drone-go-scm.json", Forge::kGitHub, "push", "push",
       "refs/tags/v0.0.1", "", false, kDroneTestGo},
      {"github-push-tag-deleted-drone-go-scm.json", Forge::kGitHub, "push", "push",
       "refs/tags/v0.0.1", "", true, kDroneTestGo},
      {"github-push-tag-deleted-octokit.json", Forge::kGitHub, "push", "push",
       "refs/tags/simple-tag", "", true, kHelloWorld},
      {"github-push-new-branch-octokit.json", Forge::kGitHub, "push", "push", "refs/heads/master",
       "master", false, kHelloWorld},
      {"github-push-no-username-committer-octokit.json", Forge::kGitHub, "push", "push",
       "refs/heads/master", "master", false, kHelloWorld},
      {"github-push-forced-actions-event-siqilu.json",
       Forge::kGitHub,
       "push",
       "push",
       "refs/heads/master",
       "master",
       false,
       {"github.com/siqilu/dotnetbumpversiontestsolution", "siqilu/dotnetbumpversiontestsolution"}},
      {"gitlab-push-drone-go-scm.json", Forge::kGitLab, "Push Hook", "push", "refs/heads/master",
       "master", false, kGitLabHelloWorld},
      {"gitlab-push-branch-created-drone-go-scm.json", Forge::kGitLab, "Push Hook", "push",
       "refs/heads/feature", "feature", false, kGitLabHelloWorld},
      {"gitlab-push-branch-deleted-drone-go-scm.json", Forge::kGitLab, "Push Hook", "push",
       "refs/heads/feature", "feature", true, kGitLabHelloWorld},
      {"gitlab-tag-push-created-drone-go-scm.json", Forge::kGitLab, "Tag Push Hook", "push",
       "refs/tags/v1.0.0", "", false, kGitLabHelloWorld},
      {"gitlab-tag-push-deleted-drone-go-scm.json", Forge::kGitLab, "Tag Push Hook", "push",
       "refs/tags/v1.0.0", "", true, kGitLabHelloWorld},
      {"gitlab-push-hook-docs.json",
       Forge::kGitLab,
       "Push Hook",
       "push",
       "refs/heads/master",
       "master",
       false,
       {"example.com/mike/diaspora", "mike/diaspora"}},
      // repository.url is "ssh://git@example.com/jsmith/example.git" here.
      {"gitlab-tag-push-hook-docs.json",
       Forge::kGitLab,
       "Tag Push Hook",
       "push",
       "refs/tags/v1.0.0",
       "",
       false,
       {"example.com/jsmith/example", "jsmith/example"}},
      {"gitea-push-drone-go-scm.json", Forge::kGitea, "push", "push", "refs/heads/master", "master",
       false, kGiteaHelloWorld},
      // "create" and "delete" are not pushes: their "ref" is a bare name ("v1.0.0").
      {"gitea-create-tag-drone-go-scm.json", Forge::kGitea, "create", "create", "", "", false,
       kGiteaHelloWorld},
      {"gitea-delete-branch-drone-go-scm.json", Forge::kGitea, "delete", "delete", "", "", false,
       kGiteaHelloWorld},
  };
  return cases;
}

class CorpusTest : public testing::TestWithParam<CorpusCase> {};

TEST_P(CorpusTest, Parses) {
  const CorpusCase& expected = GetParam();
  Result<WebhookEvent> event =
      ParseWebhook(expected.forge, expected.event, ReadCorpus(expected.file));
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(event->kind, expected.kind);
  EXPECT_EQ(event->ref, expected.ref);
  EXPECT_EQ(event->branch, expected.branch);
  EXPECT_EQ(event->deleted, expected.deleted);
  EXPECT_EQ(event->repository, expected.repository);
}

INSTANTIATE_TEST_SUITE_P(Webhooks, CorpusTest, testing::ValuesIn(CorpusCases()),
                         [](const testing::TestParamInfo<CorpusCase>& info) {
                           std::string name = info.param.file.substr(0, info.param.file.size() - 5);
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(WebhookCorpus, EveryFileHasACase) {
  std::set<std::string> covered;
  for (const CorpusCase& c : CorpusCases()) covered.insert(c.file);
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus)) {
    ++files;
    EXPECT_TRUE(covered.count(entry.path().filename().string()))
        << entry.path().filename() << " has no expectations in CorpusCases()";
  }
  EXPECT_EQ(files, covered.size());
  EXPECT_EQ(files, 24u);
}

TEST(ParseWebhook, GitLabEventsOtherThanPushesKeepTheirName) {
  Result<WebhookEvent> event = ParseWebhook(Forge::kGitLab, "Merge Request Hook",
                                            ReadCorpus("gitlab-push-drone-go-scm.json"));
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(event->kind, "Merge Request Hook");
  EXPECT_EQ(event->ref, "");
  EXPECT_EQ(event->branch, "");
}

TEST(ParseWebhook, GitLabDeletionWithoutAfterUsesCheckoutSha) {
  const std::string repository = R"("project": {"web_url": "https://gitlab.com/a/b"})";
  Result<WebhookEvent> deleted =
      ParseWebhook(Forge::kGitLab, "Push Hook",
                   R"({"ref": "refs/heads/x", "checkout_sha": null, )" + repository + "}");
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_TRUE(deleted->deleted);
  Result<WebhookEvent> pushed = ParseWebhook(
      Forge::kGitLab, "Push Hook",
      R"({"ref": "refs/heads/x", "checkout_sha": "2adc9465c4edfc33834e173fe89436a7cb899a1d", )" +
          repository + "}");
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_FALSE(pushed->deleted);
}

TEST(ParseWebhook, GitHubDeletionFromAfterAlone) {
  // Gitea's push payloads have no "deleted" field: the zero sha says it.
  Result<WebhookEvent> event = ParseWebhook(
      Forge::kGitea, "push",
      R"({"ref": "refs/heads/gone", "after": "0000000000000000000000000000000000000000",
          "repository": {"full_name": "a/b"}})");
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_TRUE(event->deleted);
  EXPECT_EQ(event->branch, "gone");
  EXPECT_EQ(event->repository, std::vector<std::string>{"a/b"});
}

TEST(ParseWebhook, MalformedJsonNamesTheByte) {
  Result<WebhookEvent> event =
      ParseWebhook(Forge::kGitHub, "push", R"({"ref": "refs/heads/main", })");
  ASSERT_FALSE(event);
  EXPECT_EQ(event.error().message,
            "malformed JSON at byte 28: syntax error while parsing object key - unexpected '}'; "
            "expected string literal");
}

TEST(ParseWebhook, TruncatedCorpusBody) {
  std::string body = ReadCorpus("github-push-branch-drone-go-scm.json");
  Result<WebhookEvent> event = ParseWebhook(Forge::kGitHub, "push", body.substr(0, 100));
  ASSERT_FALSE(event);
  EXPECT_EQ(event.error().message.rfind("malformed JSON at byte 101: ", 0), 0u)
      << event.error().message;
}

TEST(ParseWebhook, InvalidUtf8IsMalformed) {
  Result<WebhookEvent> event = ParseWebhook(Forge::kGitHub, "push", "{\"ref\": \"\xff\"}");
  ASSERT_FALSE(event);
  EXPECT_EQ(event.error().message.rfind("malformed JSON at byte 10: ", 0), 0u)
      << event.error().message;
}

TEST(ParseWebhook, RejectsBodiesThatAreNotRepositoryObjects) {
  struct Case {
    std::string body;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "empty webhook body: expected a JSON object"},
      {" \n", "empty webhook body: expected a JSON object"},
      {"payload=%7B%7D",
       "form-encoded webhook body: set the webhook's content type to application/json"},
      {"[1, 2]", "webhook body is a JSON array, expected an object"},
      {R"("push")", "webhook body is a JSON string, expected an object"},
      {"null", "webhook body is a JSON null, expected an object"},
      {R"({"ref": "refs/heads/main"})",
       "the GitHub 'push' payload names no repository (only repository webhooks are supported)"},
      {R"({"ref": "refs/heads/main", "repository": "a/b"})",
       "the GitHub 'push' payload names no repository (only repository webhooks are supported)"},
      {R"({"repository": {"full_name": 7, "clone_url": null}})",
       "the GitHub 'push' payload names no repository (only repository webhooks are supported)"},
      {R"({"repository": {"full_name": "a/b"}})", "the GitHub push payload has no 'ref'"},
      {R"({"ref": ["refs/heads/main"], "repository": {"full_name": "a/b"}})",
       "the GitHub push payload has no 'ref'"},
  };
  for (const Case& c : cases) {
    Result<WebhookEvent> event = ParseWebhook(Forge::kGitHub, "push", c.body);
    ASSERT_FALSE(event) << c.body;
    EXPECT_EQ(event.error().message, c.error) << c.body;
  }
}

TEST(ParseWebhook, DeepNestingIsNotACrash) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  Result<WebhookEvent> event = ParseWebhook(Forge::kGitHub, "push", deep);
  ASSERT_FALSE(event);
  EXPECT_EQ(event.error().message, "webhook body is a JSON array, expected an object");
  Result<WebhookEvent> unclosed =
      ParseWebhook(Forge::kGitHub, "push", "{\"a\":" + std::string(100000, '['));
  ASSERT_FALSE(unclosed);
  EXPECT_EQ(unclosed.error().message.rfind("malformed JSON at byte 100006: ", 0), 0u)
      << unclosed.error().message;
}

TEST(ParseWebhook, GitLabPayloadWithoutProject) {
  Result<WebhookEvent> event = ParseWebhook(Forge::kGitLab, "Push Hook",
                                            R"({"object_kind": "push", "ref": "refs/heads/a"})");
  ASSERT_FALSE(event);
  EXPECT_EQ(event.error().message,
            "the GitLab 'Push Hook' payload names no repository (only repository webhooks are "
            "supported)");
}

TEST(ParseWebhook, MissingEventHeader) {
  std::string body = ReadCorpus("gitea-push-drone-go-scm.json");
  Result<WebhookEvent> event = ParseWebhook(Forge::kGitea, "", body);
  ASSERT_FALSE(event);
  EXPECT_EQ(event.error().message,
            "missing X-Gitea-Event header: cannot tell which Gitea event this is");
}

TEST(ParseWebhook, WrongTypesDoNotThrow) {
  Result<WebhookEvent> event = ParseWebhook(
      Forge::kGitHub, "push",
      R"({"ref": "refs/heads/a", "deleted": "yes", "after": 0, "repository": {"full_name": "A/B",
          "clone_url": {"x": 1}, "ssh_url": ["git@h:a/b"]}})");
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_FALSE(event->deleted);
  EXPECT_EQ(event->repository, std::vector<std::string>{"a/b"});
}

// HMAC-SHA256 values checked with `openssl dgst -sha256 -hmac SECRET FILE`.
constexpr std::string_view kSecret = "It's a Secret to Everybody";
constexpr std::string_view kPushHmac =
    "f34850706d3e5e5a04a0ce1fc8cdec591b62e15f33636253edad1b9d3eb78385";

TEST(Signatures, GitHubDocumentationExample) {
  // The example in GitHub's "Validating webhook deliveries".
  EXPECT_TRUE(VerifyGitHubSignature(
      kSecret, "Hello, World!",
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"));
}

TEST(Signatures, GitHubCorpusBody) {
  std::string body = ReadCorpus("github-push-branch-drone-go-scm.json");
  std::string header = "sha256=" + std::string(kPushHmac);
  EXPECT_TRUE(VerifyGitHubSignature(kSecret, body, header));

  std::string upper = header;
  for (size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_TRUE(VerifyGitHubSignature(kSecret, body, upper)) << "hex digits in either case";

  EXPECT_FALSE(VerifyGitHubSignature("It's a secret to everybody", body, header));
  EXPECT_FALSE(VerifyGitHubSignature("", body, header));
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body + " ", header));
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body.substr(0, body.size() - 1), header));
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body, header.substr(0, header.size() - 1)));
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body, header.substr(0, header.size() - 2)));
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body, header + "0"));
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body, std::string(kPushHmac)));  // No prefix.
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body, "SHA256=" + std::string(kPushHmac)));
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body, "sha1=" + std::string(kPushHmac)));
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body, " " + header));
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body, ""));
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body, "sha256="));

  std::string flipped = header;
  flipped.back() = flipped.back() == '5' ? '4' : '5';
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body, flipped));
  std::string not_hex = header;
  not_hex[10] = 'g';
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, body, not_hex));
}

TEST(Signatures, GiteaCorpusBody) {
  std::string body = ReadCorpus("gitea-push-drone-go-scm.json");
  const std::string hmac = "a4e502e0af3c4b9d474b00ee37427abc4c7f65b355a25f5958e39ce3d9191845";
  EXPECT_TRUE(VerifyGiteaSignature("gitea-secret", body, hmac));
  EXPECT_FALSE(VerifyGiteaSignature("gitea-secreT", body, hmac));
  EXPECT_FALSE(VerifyGiteaSignature("gitea-secret", body, "sha256=" + hmac));
  EXPECT_FALSE(VerifyGiteaSignature("gitea-secret", body, hmac.substr(0, 63)));
  EXPECT_FALSE(VerifyGiteaSignature("gitea-secret", body, ""));
  EXPECT_FALSE(VerifyGiteaSignature("", body, hmac));
}

TEST(Signatures, GitLabToken) {
  EXPECT_TRUE(VerifyGitLabToken("s3cret-token", "s3cret-token"));
  EXPECT_FALSE(VerifyGitLabToken("s3cret-token", "s3cret-toke"));
  EXPECT_FALSE(VerifyGitLabToken("s3cret-token", "s3cret-token "));
  EXPECT_FALSE(VerifyGitLabToken("s3cret-token", "S3CRET-TOKEN"));
  EXPECT_FALSE(VerifyGitLabToken("s3cret-token", ""));
  EXPECT_FALSE(VerifyGitLabToken("", ""));  // No secret configured is never a match.
}

TEST(NormalizeRepository, HeaderExamples) {
  EXPECT_EQ(NormalizeRepository("https://user:pw@GitHub.com/Org/Repo.git/"), "github.com/org/repo");
  EXPECT_EQ(NormalizeRepository("git@github.com:org/repo.git"), "github.com/org/repo");
  EXPECT_EQ(NormalizeRepository("/srv/git/repo.git"), "/srv/git/repo");
  EXPECT_EQ(NormalizeRepository("Org/Repo"), "org/repo");
}

TEST(NormalizeRepository, FormsOfOneRemoteRepository) {
  for (const char* url : {
           "https://github.com/org/repo",
           "https://github.com/org/repo.git",
           "https://github.com/org/repo/",
           "https://github.com/org/repo.git/",
           "https://github.com:443/org/repo.git",
           "https://x-access-token:ghp_abc@github.com/org/repo.git",
           "http://github.com/org/repo",
           "HTTPS://GITHUB.COM/ORG/REPO.GIT",
           "https://github.com//org//repo",
           "https://github.com/org/repo?ref=x#readme",
           "ssh://git@github.com/org/repo.git",
           "ssh://git@github.com:22/org/repo.git",
           "git+ssh://git@github.com/org/repo",
           "git://github.com/org/repo.git",
           "git@github.com:org/repo.git",
           "git@github.com:/org/repo.git",
           "github.com:org/repo",
           "github.com/org/repo",
           "  https://github.com/org/repo \n",
       }) {
    EXPECT_EQ(NormalizeRepository(url), "github.com/org/repo") << url;
  }
}

TEST(NormalizeRepository, OtherForms) {
  EXPECT_EQ(NormalizeRepository(""), "");
  EXPECT_EQ(NormalizeRepository("  "), "");
  // Self-hosted GitLab: ssh on another port, subgroups.
  EXPECT_EQ(NormalizeRepository("ssh://git@gitlab.example.com:2222/group/sub/project.git"),
            "gitlab.example.com/group/sub/project");
  EXPECT_EQ(NormalizeRepository("https://[::1]:3000/a/b.git"), "[::1]/a/b");
  EXPECT_EQ(NormalizeRepository("https://localhost:3000/a/b"), "localhost/a/b");
  // A name that merely ends in "git" keeps it.
  EXPECT_EQ(NormalizeRepository("https://github.com/org/legit"), "github.com/org/legit");
  EXPECT_EQ(NormalizeRepository("org/.git"), "org/.git");
}

TEST(NormalizeRepository, LocalPaths) {
  EXPECT_EQ(NormalizeRepository("/srv/git/Repo.git/"), "/srv/git/Repo");  // Paths keep case.
  EXPECT_EQ(NormalizeRepository("/srv/git/repo/.git"), "/srv/git/repo");
  EXPECT_EQ(NormalizeRepository("/srv/git/repo/.git/"), "/srv/git/repo");
  EXPECT_EQ(NormalizeRepository("/srv//git/./x/../repo"), "/srv/git/repo");
  EXPECT_EQ(NormalizeRepository("file:///srv/git/repo.git"), "/srv/git/repo");
  EXPECT_EQ(NormalizeRepository("file://localhost/srv/git/repo"), "/srv/git/repo");
  EXPECT_EQ(NormalizeRepository("file:///tmp/my%20repo"), "/tmp/my repo");
  EXPECT_EQ(NormalizeRepository("./repos/a.git"), "./repos/a");  // Stays a path, not "owner/name".
  EXPECT_EQ(NormalizeRepository("../a"), "../a");
  EXPECT_EQ(NormalizeRepository("/"), "/");
}

TEST(WebhookNamesRepository, GitHubPushAgainstRegisteredUrls) {
  Result<WebhookEvent> event =
      ParseWebhook(Forge::kGitHub, "push", ReadCorpus("github-push-branch-drone-go-scm.json"));
  ASSERT_TRUE(event) << event.error().message;
  for (const char* url : {
           "https://github.com/Codertocat/Hello-World.git",
           "git@github.com:codertocat/hello-world.git",
           "ssh://git@github.com/Codertocat/Hello-World",
           "https://token:x@github.com/codertocat/hello-world/",
           // By "owner/name" at the end of the path:
           "/srv/mirrors/Codertocat/Hello-World.git",
           "file:///srv/mirrors/codertocat/hello-world",
           "https://git.internal/mirrors/codertocat/hello-world.git",
       }) {
    EXPECT_TRUE(WebhookNamesRepository(*event, url)) << url;
  }
  for (const char* url : {
           "",
           "https://github.com/Codertocat/Hello-World-2",
           "https://github.com/other/Hello-World",
           "/srv/mirrors/Hello-World",
           "/srv/mirrors/xcodertocat/hello-world",
           "hello-world",
       }) {
    EXPECT_FALSE(WebhookNamesRepository(*event, url)) << url;
  }
}

TEST(WebhookNamesRepository, GitLabAndGitea) {
  Result<WebhookEvent> gitlab =
      ParseWebhook(Forge::kGitLab, "Tag Push Hook", ReadCorpus("gitlab-tag-push-hook-docs.json"));
  ASSERT_TRUE(gitlab) << gitlab.error().message;
  EXPECT_TRUE(WebhookNamesRepository(*gitlab, "ssh://git@example.com:2222/jsmith/example.git"));
  EXPECT_TRUE(WebhookNamesRepository(*gitlab, "https://example.com/JSmith/Example"));
  EXPECT_FALSE(WebhookNamesRepository(*gitlab, "https://example.com/mike/diaspora"));

  Result<WebhookEvent> gitea =
      ParseWebhook(Forge::kGitea, "push", ReadCorpus("gitea-push-drone-go-scm.json"));
  ASSERT_TRUE(gitea) << gitea.error().message;
  EXPECT_TRUE(WebhookNamesRepository(*gitea, "http://try.gitea.io/gogits/hello-world.git"));
  EXPECT_TRUE(WebhookNamesRepository(*gitea, "https://try.gitea.io:3000/gogits/hello-world"));
  EXPECT_FALSE(WebhookNamesRepository(*gitea, "http://try.gitea.io/gogits/hello"));
}

TEST(WebhookNamesRepository, LocalPathsMatchExactly) {
  WebhookEvent event;
  event.repository = {NormalizeRepository("file:///tmp/repos/Origin.git")};
  EXPECT_TRUE(WebhookNamesRepository(event, "/tmp/repos/Origin"));
  EXPECT_TRUE(WebhookNamesRepository(event, "/tmp/repos/Origin.git/"));
  EXPECT_FALSE(WebhookNamesRepository(event, "/tmp/repos/origin"));
  EXPECT_FALSE(WebhookNamesRepository(event, "/other/tmp/repos/Origin"));
}

}  // namespace
}  // namespace tauon::scm
