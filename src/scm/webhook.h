// Webhooks from GitHub, GitLab and Gitea: what they say happened, and
// whether they come from who they claim. A webhook only tells the server to
// fetch: nothing in a payload (refs, commits, code) is trusted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace tauon::scm {

enum class Forge { kGitHub, kGitLab, kGitea };

struct WebhookEvent {
  // "push" for branch and tag pushes, "ping" for GitHub's ping (and Gitea's
  // test delivery), otherwise the forge's event name (ignored by the server).
  std::string kind;
  // Ways the payload names its repository, for matching a registered one:
  // clone URLs (https, ssh, git), the web URL and "owner/name", all passed
  // through NormalizeRepository().
  std::vector<std::string> repository;
  std::string ref;       // "refs/heads/main", "refs/tags/v1"; "" when not a push.
  std::string branch;    // "main" when `ref` is a branch, else "".
  bool deleted = false;  // The push deleted the ref.
};

// Parses a webhook body. `event` is the X-GitHub-Event, X-Gitlab-Event or
// X-Gitea-Event header. Fails with a precise message on a missing event,
// malformed JSON ("malformed JSON at byte 17: ..."), a body that is not an
// object, a payload without a repository, or a push without a ref. Never
// throws: fields of the wrong type count as absent.
// `deleted`: GitHub/Gitea "deleted": true or an all-zero "after"; GitLab an
// all-zero "after" (or, without "after", a null "checkout_sha").
// Gitea's "create"/"delete" events keep their name and have no ref.
Result<WebhookEvent> ParseWebhook(Forge forge, std::string_view event, std::string_view body);

// The three checks are constant time and false for an empty `secret`.
// Hex digits may be of either case; anything but exactly 64 of them is false.
// X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256(secret, body).
bool VerifyGitHubSignature(std::string_view secret, std::string_view body, std::string_view header);
// X-Gitea-Signature: hex HMAC-SHA256(secret, body), without a prefix.
bool VerifyGiteaSignature(std::string_view secret, std::string_view body, std::string_view header);
// X-Gitlab-Token: the secret itself.
bool VerifyGitLabToken(std::string_view secret, std::string_view header);

// A comparable form of a repository URL, path or "owner/name":
// "https://user:pw@GitHub.com/Org/Repo.git/" -> "github.com/org/repo",
// "git@github.com:org/repo.git" -> "github.com/org/repo",
// "/srv/git/repo.git" -> "/srv/git/repo", "Org/Repo" -> "org/repo".
// Remote forms (scheme://, scp-like, "owner/name") lose credentials, port,
// query, ".git", empty components and case, so https and ssh URLs of one
// repository agree. Local paths and file:// URLs become lexically normal
// paths that keep their case ("./x" stays relative); "" stays "".
std::string NormalizeRepository(std::string_view url);

// True if a registered repository (its clone URL/path and its name) is the
// one a webhook names: a normalized URL matches exactly, or the payload's
// "owner/name" matches the end of the registered URL's path, whole path
// components and ignoring case ("/srv/git/Org/Repo.git" is named by "org/repo",
// ".../xorg/repo" is not). The host is not compared in that second case.
bool WebhookNamesRepository(const WebhookEvent& event, std::string_view registered_url);

}  // namespace tauon::scm
