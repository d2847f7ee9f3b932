#pragma once
// Private to server/net: --watch, the scenario file reloaded when it changes, without polling.
// inotify watches the file's folder, not the file: editors and `sed -i` save by renaming a new
// file over the old one, which a watch on the old file's inode would never report. A
// CLOSE_WRITE or MOVED_TO of the file's name arms a 100 ms timer (a save that writes several
// times reloads once), then the reload SIGHUP does runs: a bad edit is logged and the last good
// scenario stays live. On worker 0's loop, through Asio's posix::stream_descriptor.

#include "server/core/engine/engine.hpp"
#include "server/net/io/asio.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace fortisim::net {

class scenario_watch {
 public:
  /// Watches the folder of `path`; `reload` runs on `loop` after each change. Throws
  /// startup_error naming --watch when inotify cannot watch it.
  scenario_watch(asio::io_context& loop, const std::string& path, std::shared_ptr<core::engine> engine,
                 std::function<void()> reload);
  scenario_watch(const scenario_watch&) = delete;
  scenario_watch& operator=(const scenario_watch&) = delete;
  /// Starts reading events (before the loop's thread runs) and logs {"event": "watch", "file": …}.
  void start();

  /// How long the file must be quiet before it is reloaded.
  static constexpr std::chrono::milliseconds settle{100};

 private:
  task<> read_events();
  task<> reload_when_settled();
  asio::io_context& loop_;
  asio::posix::stream_descriptor inotify_;
  asio::steady_timer settle_timer_;
  std::string path_;                      ///< the scenario file, as given
  std::string name_;                      ///< its name in its folder
  std::shared_ptr<core::engine> engine_;  ///< where a bug is logged
  std::function<void()> reload_;
  bool pending_ = false;  ///< a change is waiting for the timer
};

}  // namespace fortisim::net
