// The console's live feed without sockets: bounded queues that drop and count, a wake-up only when
// a queue stops being empty, exchanges never sent twice, and seeds hidden from what it shows.
#include "server/core/observe/live_feed.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace fortisim;
using core::hide_secrets;
using core::journal_entry;
using core::live_feed;

namespace {

journal_entry exchange(std::uint64_t seq, const std::string& request_body = "", const std::string& reply_body = "") {
  journal_entry e;
  e.seq = seq;
  e.stage = "http";
  e.request_body = request_body;
  e.reply_body = reply_body;
  return e;
}

}  // namespace

TEST_SUITE("live feed") {

TEST_CASE("a full queue drops and counts, and never holds up the publisher") {
  live_feed feed;
  int wakes = 0;
  auto sub = feed.subscribe(2, [&] { ++wakes; });
  REQUIRE(sub);
  for (std::uint64_t seq = 1; seq <= 5; ++seq) feed.publish_exchange(exchange(seq));
  CHECK(wakes == 1);  // once, when the queue stopped being empty
  CHECK(feed.dropped() == 3);
  std::string out;
  CHECK(sub->take(out, 0) == 3);  // the subscriber learns how many it missed
  CHECK(out.find("id: 1\nevent: exchange\n") == 0);
  CHECK(out.find("id: 2\n") != std::string::npos);
  CHECK(out.find("id: 3\n") == std::string::npos);
  out.clear();
  CHECK(sub->take(out, 0) == 0);
  CHECK(out.empty());
  feed.publish_exchange(exchange(6));
  CHECK(wakes == 2);
}

TEST_CASE("a queue is bounded in bytes too: large events are dropped and counted long before the count") {
  live_feed feed;
  auto sub = feed.subscribe(1024, [] {});
  REQUIRE(sub);
  std::string body(4096, 'b');  // a journaled body at its cut: each event about 5 KiB
  for (std::uint64_t seq = 1; seq <= 1000; ++seq) feed.publish_exchange(exchange(seq, body, body));
  std::string out;
  auto dropped = sub->take(out, 0);
  CHECK(dropped > 0);
  CHECK(out.size() <= live_feed::subscription::byte_limit);
  std::size_t kept = 0;
  for (auto at = out.find("event: exchange"); at != std::string::npos; at = out.find("event: exchange", at + 1)) ++kept;
  CHECK(kept + dropped == 1000);  // every event delivered or counted
  CHECK(kept < 1024);             // the bytes bound came first
}

TEST_CASE("exchanges sent already from the journal are not sent again, notices always are") {
  live_feed feed;
  auto sub = feed.subscribe(10, [] {});
  feed.publish_exchange(exchange(4));
  feed.publish_notice("clock", {{"now_ms", 5}});
  feed.publish_exchange(exchange(5));
  std::string out;
  sub->take(out, 4);  // the backlog went up to 4
  CHECK(out.find("id: 4\n") == std::string::npos);
  CHECK(out.find("event: notice\ndata: {\"event\":\"clock\",\"now_ms\":5}\n\n") != std::string::npos);
  CHECK(out.find("id: 5\n") != std::string::npos);
}

TEST_CASE("subscribers are bounded, and one that leaves gets nothing more") {
  live_feed feed;
  auto nothing = [] {};
  std::vector<std::shared_ptr<live_feed::subscription>> subs;
  for (int i = 0; i < 3; ++i) subs.push_back(feed.subscribe(4, nothing, 3));
  CHECK(feed.subscribers() == 3);
  CHECK(feed.subscribe(4, nothing, 3) == nullptr);
  feed.unsubscribe(subs[0]);
  CHECK(feed.subscribers() == 2);
  feed.publish_exchange(exchange(1));
  std::string out;
  subs[0]->take(out, 0);
  CHECK(out.empty());
  subs[1]->take(out, 0);
  CHECK_FALSE(out.empty());
}

TEST_CASE("publishers on many threads and a reader: every event is delivered or counted as dropped") {
  live_feed feed;
  auto sub = feed.subscribe(64, [] {});
  constexpr int threads = 4, each = 2000;
  std::vector<std::thread> publishers;
  for (int t = 0; t < threads; ++t)
    publishers.emplace_back([&, t] {
      for (int i = 1; i <= each; ++i) feed.publish_exchange(exchange(static_cast<std::uint64_t>(t * each + i)));
    });
  std::uint64_t delivered = 0, dropped = 0;
  auto drain = [&] {
    std::string out;
    dropped += sub->take(out, 0);
    for (auto at = out.find("event: exchange"); at != std::string::npos; at = out.find("event: exchange", at + 1))
      ++delivered;
  };
  for (int i = 0; i < 200; ++i) drain();
  for (auto& p : publishers) p.join();
  drain();
  CHECK(delivered + dropped == static_cast<std::uint64_t>(threads * each));
  CHECK(feed.dropped() == dropped);
}

TEST_CASE("seeds are hidden from exchanges unless the feed may show them") {
  CHECK(hide_secrets(R"j({"d":{"token":"FTK1","seed":"4A5B","n":1}})j") ==
        R"j({"d":{"token":"FTK1","seed":"(hidden)","n":1}})j");
  CHECK(hide_secrets(R"j({"secret" : "00ff", "tokens":[{"seed":"AB"},{"seed":null}]})j") ==
        R"j({"secret" : "(hidden)", "tokens":[{"seed":"(hidden)"},{"seed":null}]})j");
  // Cut at 4 KiB: still hidden; a key's name inside a string is text.
  CHECK(hide_secrets(R"j({"note":"the \"seed\": \"x\" is text","seed":"12)j") ==
        R"j({"note":"the \"seed\": \"x\" is text","seed":"(hidden)")j");
  // A secret of another type is hidden whole, however deep (null says there is none).
  CHECK(hide_secrets(R"j({"seed": 5, "x": "keep"})j") == R"j({"seed": "(hidden)", "x": "keep"})j");
  CHECK(hide_secrets(R"j({"seed":{"v":"AB","w":["}"]},"secret":["CD",[1]],"x":1})j") ==
        R"j({"seed":"(hidden)","secret":"(hidden)","x":1})j");
  CHECK(hide_secrets(R"j({"seed":[["AB",)j") == R"j({"seed":"(hidden)")j");  // cut inside it
  CHECK(hide_secrets(R"j({"seed":null})j") == R"j({"seed":null})j");
  // An empty seed is none (a hardware token whose lock is consumed): shown as sent, not "(hidden)".
  CHECK(hide_secrets(R"j({"tokens":[{"seed": "","error":{"error_code":903}},{"seed":"AB"}]})j") ==
        R"j({"tokens":[{"seed": "","error":{"error_code":903}},{"seed":"(hidden)"}]})j");
  CHECK(hide_secrets("not json at all") == "not json at all");
  // A key is read as JSON reads it: an escaped "seed" is a seed.
  CHECK(hide_secrets(R"j({"s\u0065ed":"4A5B","\u0073ecret":"00"})j") ==
        R"j({"s\u0065ed":"(hidden)","\u0073ecret":"(hidden)"})j");

  auto e = exchange(1, R"j({"d":{"seed":"ABCD"}})j", R"j({"d":{"tokens":[{"seed":"EF01"}]}})j");
  auto hidden = live_feed(false).exchange_json(e);
  CHECK(hidden["request_body"] == R"j({"d":{"seed":"(hidden)"}})j");
  CHECK(hidden["reply_body"] == R"j({"d":{"tokens":[{"seed":"(hidden)"}]}})j");
  auto shown = live_feed(true).exchange_json(e);
  CHECK(shown["request_body"] == R"j({"d":{"seed":"ABCD"}})j");
  CHECK(shown["reply_body"] == R"j({"d":{"tokens":[{"seed":"EF01"}]}})j");
}

}  // TEST_SUITE
