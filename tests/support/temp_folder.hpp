#pragma once
// A temporary folder that is always removed: a test that fails half-way (a REQUIRE throws) leaves
// nothing behind under the temporary directory.

#include <string>

namespace fortisim::test {

/// A new empty folder under the system's temporary directory, named fortisim-NAME-XXXXXX (unique),
/// removed with everything in it by the destructor, however the test ends.
class temp_folder {
 public:
  /// Makes the folder; the test fails if it cannot.
  explicit temp_folder(const std::string& name);
  ~temp_folder();
  temp_folder(const temp_folder&) = delete;
  temp_folder& operator=(const temp_folder&) = delete;
  /// The folder's absolute path.
  const std::string& path() const { return path_; }
  /// The path of `name` inside the folder (which need not exist yet).
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  /// Writes `text` to the file `name` inside the folder, replacing it: the file's path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

}  // namespace fortisim::test
