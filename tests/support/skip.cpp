#include "skip.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>

namespace fortisim::test {

namespace {

int started = 0;  // test cases started in this run
int skipped = 0;  // those that called skip_test
bool skipping = false;

/// Counts the test cases that start and those that skip (a listener: always called, prints nothing).
struct skip_counter : doctest::IReporter {
  explicit skip_counter(const doctest::ContextOptions&) {}
  void test_case_start(const doctest::TestCaseData&) override {
    ++started;
    skipping = false;
  }
  void test_case_end(const doctest::CurrentTestCaseStats&) override { skipped += skipping; }
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("skip_counter", 1, skip_counter);

}  // namespace

bool tools_required() {
  const char* v = std::getenv("FORTISIM_REQUIRE_TOOLS");
  return v && *v && std::string(v) != "0";
}

void skip_test(const std::string& why) {
  if (tools_required()) FAIL("FORTISIM_REQUIRE_TOOLS is set, and " << why);
  skip_test_without_package(why);
}

void skip_test_without_package(const std::string& why) {
  std::cout << "SKIPPED: " << why << std::endl;
  skipping = true;
}

int exit_status(int doctest_status) {
  if (doctest_status != 0) return doctest_status;
  return skipped > 0 && skipped == started ? 77 : 0;
}

}  // namespace fortisim::test
