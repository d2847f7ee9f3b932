// server/net/request_arena.hpp: a request's memory from the connection's block, the rest from the
// heap and back to it.
#include "server/net/https/request_arena.hpp"

#include <doctest/doctest.h>

#include <malloc.h>

#include <string>

using fortisim::net::request_arena;

namespace {

/// Bytes the heap has handed out and not had back (small blocks and mapped ones).
std::size_t heap_in_use() {
  auto m = ::mallinfo2();
  return m.uordblks + m.hblkhd;
}

}  // namespace

TEST_SUITE("request arena") {

TEST_CASE("a small request's memory comes from the block, and the block is handed out again") {
  request_arena arena;
  auto before = heap_in_use();
  void* a = arena.allocate(100, 8);
  void* b = arena.allocate(300, 16);
  CHECK(static_cast<char*>(b) >= static_cast<char*>(a) + 100);
  CHECK(reinterpret_cast<std::uintptr_t>(b) % 16 == 0);
  CHECK(heap_in_use() == before);
  arena.deallocate(b, 300, 16);
  arena.deallocate(a, 100, 8);
  arena.reset();
  CHECK(arena.allocate(100, 8) == a);
}

TEST_CASE("what does not fit comes from the heap and goes back: a body grown to 1 MiB holds about 1 MiB") {
  request_arena arena;
  auto before = heap_in_use();
  {
    std::pmr::string body(&arena);
    for (int i = 0; i < 1024; ++i) body.append(1024, 'x');  // grows as a chunked body does
    CHECK(body.size() == 1024 * 1024);
    // Every smaller buffer it outgrew is back: an arena that kept them would hold 2 MiB or more.
    CHECK(heap_in_use() - before < 1536 * 1024);
  }
  CHECK(heap_in_use() <= before + 4096);
}

}  // TEST_SUITE
