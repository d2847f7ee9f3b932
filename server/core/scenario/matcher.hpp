#pragma once
// The tests a rule's `when` is made of: a string matcher and an ordinal range. Patterns run in
// RE2 (linear time, no recursion), never std::regex, and read at most `max_subject` bytes of
// client data.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace re2 {
class RE2;
}

namespace fortisim::core {

/// A string test: "exact", {"prefix": "FG"}, {"suffix": "-0010"}, {"contains": ".."},
/// {"regex": "^FG4H"}, or {"any_of": ["a", "b"]}.
class matcher {
 public:
  enum class kind { equals, prefix, suffix, contains, regex, any_of };
  /// The most bytes of a subject a pattern reads: a longer subject is cut to this first.
  static constexpr std::size_t max_subject = 4096;

  static matcher equals(std::string value) { return matcher(kind::equals, std::move(value)); }
  matcher(kind how, std::string value);
  explicit matcher(std::vector<std::string> any_of);
  /// A pattern matcher, or the reason the pattern is not valid RE2 syntax.
  static std::variant<matcher, std::string> pattern(const std::string& re);

  bool matches(std::string_view s) const;
  kind how() const { return how_; }
  const std::string& value() const { return value_; }
  /// Prefixes an exact value (a `type` "ActivationLicenseRequest" means "SoftToken.…").
  void set_value(std::string v) { value_ = std::move(v); }

 private:
  kind how_ = kind::equals;
  std::string value_;
  std::vector<std::string> values_;
  std::shared_ptr<const re2::RE2> re_;
};

/// An ordinal test, 1-based: 3, or {"min": 1, "max": 2}, or {"every": 3} (3rd, 6th, ...).
struct ordinal_range {
  std::uint64_t min = 1;
  std::uint64_t max = UINT64_MAX;
  std::uint64_t every = 0;
  bool contains(std::uint64_t n) const {
    if (n < min || n > max) return false;
    return every == 0 || n % every == 0;
  }
};

}  // namespace fortisim::core
