#pragma once
// Memory for one request at a time: a block a connection keeps and hands out again for every
// request, so reading a device's request (its start line, fields and body) allocates nothing.
// What does not fit in what is left of the block comes from the heap and goes back to it when
// freed, so a large body that grows as its chunks come costs what it would without the arena.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <new>

namespace fortisim::net {

class request_arena final : public std::pmr::memory_resource {
 public:
  static constexpr std::size_t block_size = 2048;

  /// Hands the whole block out again; everything taken from it must be gone.
  void reset() { used_ = 0; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    std::size_t start = (used_ + alignment - 1) & ~(alignment - 1);
    if (alignment <= alignof(std::max_align_t) && start + bytes <= block_.size()) {
      used_ = start + bytes;
      return block_.data() + start;
    }
    return ::operator new(bytes, std::align_val_t(alignment));
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    auto at = reinterpret_cast<std::uintptr_t>(p), from = reinterpret_cast<std::uintptr_t>(block_.data());
    if (at >= from && at < from + block_.size()) return;  // the block is reused whole
    (void)bytes;  // the unsized form: clang declares the sized one only with -fsized-deallocation
    ::operator delete(p, std::align_val_t(alignment));
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  alignas(std::max_align_t) std::array<std::byte, block_size> block_;
  std::size_t used_ = 0;
};

}  // namespace fortisim::net
