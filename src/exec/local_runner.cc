#include "exec/local_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

namespace tauon::exec {
namespace {

constexpr size_t kReadBufferSize = 64 * 1024;

// glibc 2.36's <sys/pidfd.h> lacks extern "C", so call the system call directly.
int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// Closes `fd` if it is open and marks it closed.
void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace

LocalProcessRunner::LocalProcessRunner(const Clock& clock, Duration kill_grace)
    : clock_(clock), kill_grace_(kill_grace), buffer_(new char[kReadBufferSize]) {
  interrupt_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

LocalProcessRunner::~LocalProcessRunner() {
  for (auto& [id, process] : processes_) {
    kill(-process.pid, SIGKILL);
    waitpid(process.pid, nullptr, 0);
    CloseFd(&process.pidfd);
    CloseFd(&process.output_fd);
  }
  CloseFd(&interrupt_fd_);
  CloseFd(&wake_fd_);
}

Result<ProcessId> LocalProcessRunner::Start(ProcessSpec spec) {
  if (spec.argv.empty()) return Fail("cannot start a process without a command");
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Fail("cannot create a pipe: {}", strerror(errno));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  if (spec.stderr_path) {
    posix_spawn_file_actions_addopen(&actions, 2, spec.stderr_path->c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  } else {
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  }
  // Nothing else of Tauon's leaks into jobs: not a listening socket, not the
  // database, whichever thread opened them without O_CLOEXEC.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attr, &signals);
  // Tauon ignores SIGPIPE and handles SIGINT/SIGTERM; children get the defaults.
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD}) sigaddset(&signals, sig);
  posix_spawnattr_setsigdefault(&attr, &signals);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  for (std::string& arg : spec.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& var : spec.env) envp.push_back(var.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  int error = spec.argv[0].find('/') == std::string::npos
                  ? posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data())
                  : posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(pipe_fds[1]);
  if (error != 0) {
    close(pipe_fds[0]);
    if (error == ENOENT && !spec.cwd.empty() && !std::filesystem::is_directory(spec.cwd)) {
      return Fail("cannot start '{}': working directory {} does not exist", spec.argv[0],
                  spec.cwd.string());
    }
    return Fail("cannot start '{}': {}", spec.argv[0], strerror(error));
  }
  fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);

  Process process;
  process.pid = pid;
  process.pidfd = PidfdOpen(pid);
  process.output_fd = pipe_fds[0];
  process.on_output = std::move(spec.on_output);
  process.kill_grace = spec.kill_grace.value_or(kill_grace_);
  if (process.pidfd < 0) {
    int saved = errno;
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(pipe_fds[0]);
    return Fail("cannot watch process {}: pidfd_open: {}", pid, strerror(saved));
  }
  ProcessId id = next_id_++;
  processes_.emplace(id, std::move(process));
  return id;
}

void LocalProcessRunner::ReadOutput(Process& process) {
  while (process.output_fd >= 0) {
    ssize_t n = read(process.output_fd, buffer_.get(), kReadBufferSize);
    if (n > 0) {
      if (process.on_output) process.on_output(std::string_view(buffer_.get(), static_cast<size_t>(n)));
      if (static_cast<size_t>(n) < kReadBufferSize) return;  // Drained for now.
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    CloseFd(&process.output_fd);  // EOF or a read error.
  }
}

ExitStatus LocalProcessRunner::Reap(Process& process) {
  // The leader is a zombie, so its pid, and with it the process group id,
  // cannot have been reused: killing the group now reaches exactly what the
  // process left running in the background.
  kill(-process.pid, SIGKILL);
  // Output written before the exit is in the pipe; read it all. Output of
  // background processes that outlive the leader is not waited for.
  ReadOutput(process);
  int status = 0;
  while (waitpid(process.pid, &status, 0) < 0 && errno == EINTR) {
  }
  CloseFd(&process.pidfd);
  CloseFd(&process.output_fd);
  ExitStatus exit;
  if (WIFEXITED(status)) {
    exit.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit.signal = WTERMSIG(status);
  }
  return exit;
}

WaitResult LocalProcessRunner::Wait(std::optional<TimePoint> deadline) {
  std::vector<pollfd> fds;
  std::vector<std::pair<ProcessId, bool>> owners;  // Per pollfd after the two eventfds: (id, is_pidfd).
  while (true) {
    TimePoint now = clock_.Now();
    std::optional<TimePoint> wake = deadline;
    for (auto& [id, process] : processes_) {
      if (!process.kill_at) continue;
      if (*process.kill_at <= now) {
        kill(-process.pid, SIGKILL);
        process.kill_at.reset();
      } else if (!wake || *process.kill_at < *wake) {
        wake = process.kill_at;
      }
    }
    fds.clear();
    owners.clear();
    fds.push_back({interrupt_fd_, POLLIN, 0});
    fds.push_back({wake_fd_, POLLIN, 0});
    for (auto& [id, process] : processes_) {
      if (process.output_fd >= 0) {
        fds.push_back({process.output_fd, POLLIN, 0});
        owners.emplace_back(id, false);
      }
      fds.push_back({process.pidfd, POLLIN, 0});
      owners.emplace_back(id, true);
    }
    int timeout_ms = -1;
    if (wake) timeout_ms = static_cast<int>(std::clamp<int64_t>((*wake - now).count(), 0, INT32_MAX));
    int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return {WaitResult::Kind::kDeadline, 0, {}};
    }
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      [[maybe_unused]] ssize_t n = read(interrupt_fd_, &count, sizeof count);
      return {WaitResult::Kind::kInterrupted, 0, {}};
    }
    const bool woken = fds[1].revents & POLLIN;
    if (woken) {
      uint64_t count;
      [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof count);
    }
    std::optional<ProcessId> exited;
    for (size_t i = 2; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      auto [id, is_pidfd] = owners[i - 2];
      if (is_pidfd) {
        if (!exited) exited = id;
      } else {
        ReadOutput(processes_.at(id));
      }
    }
    if (exited) {
      auto it = processes_.find(*exited);
      ExitStatus status = Reap(it->second);
      processes_.erase(it);
      return {WaitResult::Kind::kExited, *exited, status};
    }
    if (woken) return {WaitResult::Kind::kWoken, 0, {}};
    if (deadline && clock_.Now() >= *deadline) return {WaitResult::Kind::kDeadline, 0, {}};
  }
}

void LocalProcessRunner::Terminate(ProcessId id) {
  auto it = processes_.find(id);
  if (it == processes_.end() || it->second.kill_at) return;
  kill(-it->second.pid, SIGTERM);
  kill(-it->second.pid, SIGCONT);  // A stopped process must run to handle SIGTERM.
  it->second.kill_at = clock_.Now() + it->second.kill_grace;
}

void LocalProcessRunner::Kill(ProcessId id) {
  auto it = processes_.find(id);
  if (it != processes_.end()) kill(-it->second.pid, SIGKILL);
}

int LocalProcessRunner::ProcessGroupOf(ProcessId id) const {
  auto it = processes_.find(id);
  return it == processes_.end() ? 0 : it->second.pid;
}

void LocalProcessRunner::Wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void LocalProcessRunner::Interrupt() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(interrupt_fd_, &one, sizeof one);
}

}  // namespace tauon::exec
