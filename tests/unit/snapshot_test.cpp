// The value workers read while it is replaced (the scenario in force, the runtime rules): a read
// sees the last store, a pin keeps what it read alive, a thread keeps at most one old value, and a
// number taken with a read belongs to the value whose count it falls in, however close a store.
#include "server/core/engine/snapshot.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using fortisim::core::snapshot;

namespace {

/// A value that says when it is gone.
struct named {
  std::string name;
  std::shared_ptr<std::atomic<bool>> gone = std::make_shared<std::atomic<bool>>(false);
  explicit named(std::string n) : name(std::move(n)) {}
  ~named() { *gone = true; }
};

}  // namespace

TEST_SUITE("snapshot") {

TEST_CASE("a read sees the last store, a pin keeps its value alive, and a read within it sees the next") {
  auto a = std::make_shared<named>("a");
  auto a_gone = a->gone;
  snapshot<named> s(std::move(a));
  auto first = s.read();
  CHECK(first->name == "a");
  s.store(std::make_shared<named>("b"));
  CHECK(first->name == "a");
  CHECK_FALSE(*a_gone);
  {
    auto second = s.read();  // the thread's kept value is pinned: this read holds its own
    CHECK(second->name == "b");
    auto third = s.read();
    CHECK(third->name == "b");
  }
  CHECK(s.load()->name == "b");
  first = {};
  CHECK_FALSE(*a_gone);  // the thread keeps the value it read last
  CHECK(s.read()->name == "b");
  CHECK(*a_gone);  // until it reads again: one old value per thread at most
}

TEST_CASE("a thread's kept value goes with the thread") {
  auto a = std::make_shared<named>("a");
  auto a_gone = a->gone;
  snapshot<named> s(std::move(a));
  std::thread([&] { CHECK(s.read()->name == "a"); }).join();
  s.store(std::make_shared<named>("b"));
  CHECK(*a_gone);
}

TEST_CASE("a pin moved from holds nothing") {
  snapshot<named> s(std::make_shared<named>("a"));
  auto first = s.read();
  auto second = std::move(first);
  CHECK_FALSE(first);  // NOLINT(bugprone-use-after-move): what a moved-from pin says is the point
  CHECK(second->name == "a");
}

TEST_CASE("a stored null reads as null") {
  snapshot<named> s;
  CHECK_FALSE(s.read());
  s.store(std::make_shared<named>("a"));
  CHECK(s.read()->name == "a");
  s.store(nullptr);
  CHECK_FALSE(s.read());
}

namespace {

/// As the engine numbers requests: a book counts the ids issued after it was stored.
struct book {
  std::uint64_t serial = 0;  // the order of its store
  std::uint64_t first = 0;   // ids issued before it
};
bool owns(const book& b, std::uint64_t id) { return id > b.first; }

}  // namespace

TEST_CASE("a number taken while a store comes between goes to the book that counts it, each way") {
  // The step itself stores, on the reading thread, so each way of racing is met every run.
  std::atomic<std::uint64_t> ids{0};
  snapshot<book> s(std::make_shared<book>());
  std::uint64_t serial = 0;
  auto store = [&] {
    s.store_with(std::make_shared<book>(), [&](book& b) {
      b.serial = ++serial;
      b.first = ids.load();
    });
  };
  auto take = [&] { return ids.fetch_add(1) + 1; };
  s.read();  // the thread keeps book 0: the fast path runs
  SUBCASE("the store counted from before the number: the new book's") {
    auto taken = s.read_with(
        [&] {
          store();
          return take();
        },
        owns);
    CHECK(taken.first->serial == 1);
    CHECK(taken.second == 1);
  }
  SUBCASE("the store counted the number: the old book's, the one read") {
    auto taken = s.read_with(
        [&] {
          auto id = take();
          store();
          return id;
        },
        owns);
    CHECK(taken.first->serial == 0);
    CHECK(taken.second == 1);
    CHECK(s.read_with(take, owns).first->serial == 1);  // the next number, the new book's
  }
  SUBCASE("two stores counted it: the number of a book already replaced is dropped, another taken") {
    auto taken = s.read_with(
        [&] {
          auto id = take();
          if (id == 1) store(), store();
          return id;
        },
        owns);
    CHECK(taken.first->serial == 2);
    CHECK(taken.second == 2);  // 1 is a gap, never given
  }
}

TEST_CASE("numbers taken with read_with belong to the value that counts them, while stores race") {
  std::atomic<std::uint64_t> ids{0};
  std::vector<std::shared_ptr<book>> books{std::make_shared<book>()};
  snapshot<book> s(books.front());
  constexpr std::uint64_t stores = 2000;
  std::atomic<bool> storing{true};
  std::latch stored(1);  // the readers start once the writer has: they race it from their first read
  std::thread writer([&] {
    for (std::uint64_t serial = 1; serial <= stores; ++serial) {
      auto next = std::make_shared<book>();
      s.store_with(next, [&](book& b) {
        b.serial = serial;
        b.first = ids.load();
      });
      books.push_back(next);
      if (serial == 1) stored.count_down();
      std::this_thread::yield();
    }
    storing = false;
  });
  struct seen {
    std::uint64_t serial, first, id;
  };
  std::vector<seen> taken[2];
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r)
    readers.emplace_back([&, r] {
      stored.wait();
      for (int i = 0; storing && i < 2'000'000; ++i) {
        auto [b, id] = s.read_with([&] { return ids.fetch_add(1) + 1; }, owns);
        taken[r].push_back({b->serial, b->first, id});
      }
    });
  for (auto& t : readers) t.join();
  writer.join();
  INFO(books.size(), " stores");
  std::vector<bool> issued(ids.load() + 1);
  for (const auto& list : taken)
    for (const auto& t : list) {
      CAPTURE(t.serial);
      CAPTURE(t.id);
      REQUIRE(t.id > t.first);                                                       // issued after its book was stored
      if (t.serial + 1 < books.size()) REQUIRE(t.id <= books[t.serial + 1]->first);  // and before the next
      REQUIRE_FALSE(issued[t.id]);
      issued[t.id] = true;
    }
}

}  // TEST_SUITE
