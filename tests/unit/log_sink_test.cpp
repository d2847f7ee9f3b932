// The exchange log's writer over a real pipe: a line reaches an idle log without a flush, a burst
// is written whole and in order (in batches), lines from several threads keep the order in which
// they were written, and a reader that stops reading makes the log drop and count lines while the
// caller never waits.
#include "server/core/observe/log_sink.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using fortisim::core::log_sink;

namespace {

struct pipe_pair {
  int read_end = -1, write_end = -1;
  pipe_pair() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~pipe_pair() {
    ::close(read_end);
    ::close(write_end);
  }
  /// Fills the pipe to the brim (as a reader that stopped reading leaves it); the bytes written.
  std::size_t fill() {
    REQUIRE(::fcntl(write_end, F_SETFL, O_NONBLOCK) == 0);
    std::size_t filled = 0;
    std::string block(4096, 'x');
    for (ssize_t n; (n = ::write(write_end, block.data(), block.size())) > 0;) filled += static_cast<std::size_t>(n);
    REQUIRE(::fcntl(write_end, F_SETFL, 0) == 0);  // blocking again, as stderr is
    return filled;
  }
  /// Reads until `want` bytes came or `ms` passed with nothing new.
  std::string read(std::size_t want, int ms = 5000) {
    std::string got;
    char buf[4096];
    while (got.size() < want) {
      pollfd p{read_end, POLLIN, 0};
      if (::poll(&p, 1, ms) != 1) break;
      auto n = ::read(read_end, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }
};

}  // namespace

TEST_SUITE("log sink") {
TEST_CASE("a line written to an idle log reaches the descriptor without a flush") {
  pipe_pair p;
  log_sink sink(p.write_end);
  sink.write(R"({"event":"first"})");
  CHECK(p.read(18) == "{\"event\":\"first\"}\n");
  // Well past the writer's pause after that write: it is idle again, and this line must wake it.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  sink.write("second");
  CHECK(p.read(7) == "second\n");
}

TEST_CASE("with room for one, two or three lines a queue still wakes the writer for each line") {
  // At these sizes the first line into a queue is also the one that fills it half: it must wake
  // an idle writer all the same.
  for (std::size_t capacity : {1, 2, 3}) {
    CAPTURE(capacity);
    pipe_pair p;
    log_sink sink(p.write_end, capacity);
    for (int i = 0; i < 20; ++i) {
      std::string line = "line " + std::to_string(i);
      sink.write(line);
      REQUIRE(p.read(line.size() + 1) == line + "\n");
    }
    CHECK(sink.dropped() == 0);
  }
}

TEST_CASE("a burst of lines is written whole and in order") {
  pipe_pair p;
  log_sink sink(p.write_end);
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    std::string line = "line " + std::to_string(i);
    sink.write(line);
    expected += line + "\n";
  }
  CHECK(p.read(expected.size()) == expected);
  sink.flush(5000);
  CHECK(sink.written() == 2000);
  CHECK(sink.dropped() == 0);
}

TEST_CASE("lines written by threads in turn come out in that order, though each thread has its own queue") {
  // Two threads take turns (each waits for the other's line to be written to the sink before it
  // writes its own), so every line is written after the one before it: the log must say so, even
  // when the writer takes the second thread's queue before the first one's.
  pipe_pair p;
  log_sink sink(p.write_end);
  constexpr int turns = 4000;
  std::atomic<int> turn{0};
  auto play = [&](int me) {
    for (int i = me; i < turns; i += 2) {
      for (int t = turn.load(); t != i; t = turn.load()) turn.wait(t);
      sink.write(std::to_string(i));
      turn.store(i + 1);
      turn.notify_all();
    }
  };
  std::string expected;
  for (int i = 0; i < turns; ++i) expected += std::to_string(i) + "\n";
  std::thread even(play, 0), odd(play, 1);
  std::string got = p.read(expected.size());
  even.join();
  odd.join();
  CHECK(got == expected);
}

TEST_CASE("lines from many threads at once all come out, each thread's in its order") {
  pipe_pair p;
  constexpr int threads = 6, each = 3000;
  std::string got;
  std::thread reader([&] { got = p.read(SIZE_MAX, 10000); });  // until the end (closed below)
  {
    log_sink sink(p.write_end, threads * each);
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t)
      writers.emplace_back([&sink, t] {
        for (int i = 0; i < each; ++i) sink.write(std::to_string(t) + " " + std::to_string(i));
      });
    for (auto& w : writers) w.join();
    sink.flush(5000);
    CHECK(sink.written() + sink.dropped() == threads * each);
    CHECK(sink.dropped() == 0);
  }
  ::close(std::exchange(p.write_end, -1));  // the reader sees the end
  reader.join();
  std::vector<int> next(threads, 0);
  std::istringstream in(got);
  int lines = 0;
  for (int t, i; in >> t >> i; ++lines) {
    REQUIRE(t >= 0);
    REQUIRE(t < threads);
    CHECK(i == next[static_cast<std::size_t>(t)]);
    next[static_cast<std::size_t>(t)] = i + 1;
  }
  CHECK(lines == threads * each);
}

TEST_CASE("a reader that stops reading costs lines, counted, never a wait") {
  pipe_pair p;
  std::size_t filled = p.fill();  // the writer blocks on the full pipe
  const std::string line = "a line that cannot go out yet";
  std::uint64_t written = 0, dropped = 0;
  std::size_t received = 0;
  std::thread reader;
  {
    log_sink sink(p.write_end, 8);
    for (int i = 0; i < 100; ++i) sink.write(line);  // returns at once: the pipe is full
    CHECK(sink.dropped() >= 100 - 2 * 8);            // beyond the queue and the batch being written
    // The reader comes back: what was queued is written before the log closes.
    reader = std::thread([&] { received = p.read(SIZE_MAX, 5000).size(); });
    sink.flush(5000);
    written = sink.written();
    dropped = sink.dropped();
  }
  ::close(std::exchange(p.write_end, -1));  // the reader sees the end
  reader.join();
  CHECK(written + dropped == 100);
  CHECK(written >= 1);
  CHECK(received == filled + written * (line.size() + 1));
}

TEST_CASE("a log whose reader never comes back lets its lines go when it closes") {
  pipe_pair p;
  p.fill();
  auto sink = std::make_unique<log_sink>(p.write_end, 64);
  for (int i = 0; i < 100; ++i) sink->write("a line nobody will read");
  // The destructor gives the reader a second, then drops the rest instead of waiting for ever.
  auto closing = std::async(std::launch::async, [&] { sink.reset(); });
  REQUIRE(closing.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}

TEST_CASE("the descriptor it is given stays blocking: other processes share it") {
  pipe_pair p;
  {
    log_sink sink(p.write_end);
    sink.write("a line");
    sink.flush(5000);
    CHECK(p.read(7) == "a line\n");
  }
  CHECK((::fcntl(p.write_end, F_GETFL) & O_NONBLOCK) == 0);
}

TEST_CASE("a socket, which cannot be opened again, is written too") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  std::string got;
  {
    log_sink sink(fds[1]);
    std::string expected;
    for (int i = 0; i < 3000; ++i) {  // more than a socket buffer holds: written as it is read
      std::string line = "line " + std::to_string(i) + std::string(40, '.');
      sink.write(line);
      expected += line + "\n";
    }
    char buf[4096];
    while (got.size() < expected.size()) {
      pollfd pf{fds[0], POLLIN, 0};
      if (::poll(&pf, 1, 5000) != 1) break;
      auto n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    CHECK(got == expected);
    CHECK(sink.dropped() == 0);
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("the queues hold at most 16 MiB: a longer line is dropped and counted, the next one goes") {
  pipe_pair p;
  log_sink sink(p.write_end);
  sink.write(std::string(17 << 20, 'x'));
  sink.write("after");
  CHECK(p.read(6) == "after\n");
  CHECK(sink.dropped() == 1);
}
}
