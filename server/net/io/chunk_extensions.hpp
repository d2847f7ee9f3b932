#pragma once
// A request's chunk extensions, counted against a bound. Beast reads and drops each one (within
// its read buffer), but a body of many chunks could carry them without limit: the control API read
// 40 chunks of a 1,000-byte extension each, and more.

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include <cstddef>
#include <cstdint>

namespace fortisim::net {

class chunk_extension_bound {
 public:
  explicit chunk_extension_bound(std::size_t limit) : limit_(limit) {}
  /// Counts `parser`'s request from zero; past the bound it fails as a header past its limit does.
  template <class Parser>
  void watch(Parser& parser) {
    seen_ = 0;
    parser.on_chunk_header(*this);
  }
  void operator()(std::uint64_t, boost::beast::string_view extensions, boost::system::error_code& ec) {
    seen_ += extensions.size();
    if (seen_ > limit_) ec = boost::beast::http::error::header_limit;
  }

 private:
  std::size_t limit_;
  std::size_t seen_ = 0;
};

}  // namespace fortisim::net
