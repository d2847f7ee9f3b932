#include "server/core/scenario/matcher.hpp"

#include <re2/re2.h>

#include <algorithm>

namespace fortisim::core {

matcher::matcher(kind how, std::string value) : how_(how), value_(std::move(value)) {}

matcher::matcher(std::vector<std::string> any_of) : how_(kind::any_of), values_(std::move(any_of)) {}

std::variant<matcher, std::string> matcher::pattern(const std::string& re) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(1 << 20);  // patterns are small; a blow-up is refused at load, not at runtime
  auto compiled = std::make_shared<const RE2>(re, options);
  if (!compiled->ok()) return "not a valid regular expression (RE2 syntax): " + compiled->error();
  matcher m(kind::regex, re);
  m.re_ = std::move(compiled);
  return m;
}

bool matcher::matches(std::string_view s) const {
  switch (how_) {
    case kind::equals: return s == value_;
    case kind::prefix: return s.starts_with(value_);
    case kind::suffix: return s.ends_with(value_);
    case kind::contains: return s.find(value_) != std::string_view::npos;
    case kind::regex: {
      s = s.substr(0, max_subject);
      return RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *re_);
    }
    case kind::any_of: return std::find(values_.begin(), values_.end(), s) != values_.end();
  }
  return false;
}

}  // namespace fortisim::core
