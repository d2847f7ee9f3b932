#include "temp_folder.hpp"

#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace fortisim::test {

temp_folder::temp_folder(const std::string& name) {
  std::string pattern = (std::filesystem::temp_directory_path() / ("fortisim-" + name + "-XXXXXX")).string();
  REQUIRE_MESSAGE(::mkdtemp(pattern.data()) != nullptr, "cannot make a folder like " << pattern);
  path_ = pattern;
}

temp_folder::~temp_folder() {
  std::error_code ignored;  // a destructor must not throw: what cannot be removed stays
  std::filesystem::remove_all(path_, ignored);
}

std::string temp_folder::write(const std::string& name, const std::string& text) const {
  auto path = file(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  REQUIRE_MESSAGE(!out.fail(), "cannot write " << path);
  return path;
}

}  // namespace fortisim::test
