// The journal's rings: workers record into rings of their own, readers see every entry once, in
// sequence order and without gaps, however the threads interleave; the last `capacity` are kept.
#include "server/core/observe/journal.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using fortisim::core::journal;
using fortisim::core::journal_entry;
using fortisim::core::journal_filter;

namespace {

void record(journal& j, const std::string& who) {
  j.record([&](journal_entry& e) {
    e.stage.assign("http");
    e.client_address.assign(who);
  });
}

}  // namespace

TEST_SUITE("journal") {
TEST_CASE("entries from several threads come back once each, in seq order") {
  journal j(10000);
  constexpr int threads = 4, each = 2000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&j, t] {
      for (int i = 0; i < each; ++i) record(j, "thread " + std::to_string(t));
    });
  for (auto& w : workers) w.join();
  auto all = j.since(0);
  REQUIRE(all.size() == threads * each);
  std::size_t in_order = 0;
  while (in_order < all.size() && all[in_order].seq == in_order + 1) ++in_order;
  CHECK(in_order == all.size());
  journal_filter f;
  f.after = 100;
  f.limit = 5;
  auto some = j.select(f);
  REQUIRE(some.size() == 5);
  CHECK(some[0]["seq"] == 101);
  CHECK(j.count(journal_filter{}) == threads * each);
}

TEST_CASE("a reader polling while workers record never sees a gap: ?after=N never misses N+1") {
  journal j(10000);
  std::atomic<bool> done{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t)
    workers.emplace_back([&j] {
      for (int i = 0; i < 3000; ++i) record(j, "worker");
    });
  std::thread stopper([&] {
    for (auto& w : workers) w.join();
    done = true;
  });
  std::uint64_t seen = 0;
  bool gap = false;
  for (bool last = false; !last;) {
    last = done.load();
    for (const auto& e : j.since(seen)) {
      if (e.seq != seen + 1) gap = true;
      seen = e.seq;
    }
  }
  stopper.join();
  CHECK_FALSE(gap);
  CHECK(seen == 9000);
}

TEST_CASE("the last `capacity` entries are kept, whichever thread recorded them") {
  journal j(10);
  std::thread busy([&] {
    for (int i = 0; i < 25; ++i) record(j, "busy");
  });
  busy.join();
  std::thread quiet([&] {
    for (int i = 0; i < 3; ++i) record(j, "quiet");
  });
  quiet.join();
  auto kept = j.since(0);
  REQUIRE(kept.size() == 10);
  CHECK(kept.front().seq == 19);
  CHECK(kept.back().seq == 28);
  CHECK(kept.back().client_address == "quiet");
  j.clear([] { return 0; });  // no request counted yet
  CHECK(j.since(0).empty());
  record(j, "after clear");
  REQUIRE(j.since(0).size() == 1);
  CHECK(j.since(0).front().seq == 29);
}

TEST_CASE("an exchange begun before a clear is observed with seq 0, not kept, and takes no seq from the next") {
  journal j(10);
  std::vector<std::uint64_t> observed;
  j.add_observer([&](const journal_entry& e) { observed.push_back(e.seq); });
  record(j, "before");
  auto begun = j.epoch();                    // a connection-stage event under way ...
  j.clear([] { return std::uint64_t{3}; });  // ... when a reset counted three requests
  j.record([](journal_entry& e) { e.stage.assign("connection"); }, begun);
  j.record([](journal_entry& e) {
    e.stage.assign("http");
    e.request = 3;  // answered after the reset, counted before it
  });
  record(j, "after");
  CHECK(observed == std::vector<std::uint64_t>{1, 0, 0, 2});
  REQUIRE(j.since(0).size() == 1);
  CHECK(j.since(0).front().client_address == "after");
}

TEST_CASE("a ring holds at most its bytes: the oldest go first, the newest is always kept") {
  journal j(1000, 256 * 1024);
  for (int i = 0; i < 200; ++i)
    j.record([&](journal_entry& e) {
      e.stage.assign("http");
      e.request_body.assign(std::string(100 * 1024, 'x'));  // cut to 4 KiB as it is recorded
      e.serials.assign(std::string(5000, 's'));             // cut to 1 KiB
    });
  auto kept = j.since(0);
  REQUIRE_FALSE(kept.empty());
  CHECK(kept.size() < 200);
  CHECK(kept.size() * (4096 + 1024) <= 256 * 1024);
  CHECK(kept.back().seq == 200);                                                            // the newest
  for (std::size_t i = 1; i < kept.size(); ++i) CHECK(kept[i].seq == kept[i - 1].seq + 1);  // no gap inside
  journal tiny(1000, 1);  // smaller than one entry: the newest is still kept
  record(tiny, "one");
  record(tiny, "two");
  REQUIRE(tiny.since(0).size() == 1);
  CHECK(tiny.since(0).front().client_address == "two");
}
}
