#pragma once
// Whether the tests are built with a sanitizer (scripts/sanitize.sh), as the server is: there a
// case compares no size or time, and loops less (CONTRIBUTING.md, "Sanitize").

namespace fortisim::test {

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FORTISIM_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(FORTISIM_TEST_SANITIZED)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif

}  // namespace fortisim::test
