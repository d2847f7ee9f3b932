#include "server/net/server/scenario_watch.hpp"

#include "server/net/io/config.hpp"
#include "server/net/io/log_failure.hpp"

#include <sys/inotify.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

namespace fortisim::net {

namespace {

/// An inotify descriptor watching `folder` for files written or renamed into it.
int watch_folder(const std::string& folder, const std::string& path) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) throw startup_error("--watch " + path + ": cannot start inotify: " + std::strerror(errno));
  if (::inotify_add_watch(fd, folder.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
    int e = errno;
    ::close(fd);
    throw startup_error("--watch " + path + ": cannot watch its folder " + folder + ": " + std::strerror(e) +
                        (e == ENOSPC ? " (raise fs.inotify.max_user_watches)" : ""));
  }
  return fd;
}

std::string folder_of(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

/// Whether one of the inotify events in `events` names the file `name`. Each event's header is
/// copied out rather than cast in place: the buffer is not aligned for it (GCC 12 drops alignas on
/// a coroutine's locals, and UBSan caught the misaligned access).
bool names(std::string_view events, const std::string& name) {
  bool found = false;
  for (std::size_t at = 0; at + sizeof(inotify_event) <= events.size();) {
    inotify_event ev;
    std::memcpy(&ev, events.data() + at, sizeof ev);
    auto rest = events.substr(at + sizeof ev);
    if (ev.len > 0 && ev.len <= rest.size()) {
      auto field = rest.substr(0, ev.len);  // NUL-padded
      if (field.substr(0, field.find('\0')) == name) found = true;
    }
    at += sizeof ev + ev.len;
  }
  return found;
}

}  // namespace

scenario_watch::scenario_watch(asio::io_context& loop, const std::string& path, std::shared_ptr<core::engine> engine,
                               std::function<void()> reload)
    : loop_(loop),
      inotify_(loop, watch_folder(folder_of(path), path)),
      settle_timer_(loop),
      path_(path),
      name_(std::filesystem::path(path).filename().string()),
      engine_(std::move(engine)),
      reload_(std::move(reload)) {}

void scenario_watch::start() {
  engine_->notice("watch", {{"file", path_}, {"settle_ms", settle.count()}});
  asio::co_spawn(loop_, read_events(), [e = engine_](std::exception_ptr ex) { log_failure(*e, ex, "--watch"); });
}

task<> scenario_watch::read_events() {
  char buffer[4096];  // in the coroutine frame, where GCC 12 ignores alignas: see names()
  for (;;) {
    auto [ec, n] = co_await inotify_.async_read_some(asio::buffer(buffer), use_nothrow);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;  // EINTR and the like; the descriptor stays good
    if (!names(std::string_view(buffer, n), name_)) continue;
    settle_timer_.expires_after(settle);  // a later change restarts the wait
    if (!pending_) {
      pending_ = true;
      asio::co_spawn(loop_, reload_when_settled(),
                     [e = engine_](std::exception_ptr ex) { log_failure(*e, ex, "--watch reload"); });
    }
  }
}

task<> scenario_watch::reload_when_settled() {
  for (;;) {
    auto [ec] = co_await settle_timer_.async_wait(use_nothrow);
    if (!ec) break;
    if (ec != asio::error::operation_aborted) co_return;  // re-armed by a newer change: wait again
  }
  pending_ = false;
  reload_();
}

}  // namespace fortisim::net
