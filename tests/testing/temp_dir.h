// A fresh directory under $TEST_TMPDIR (or /tmp) for one test, removed with its contents when
// the object is destroyed. Not thread-safe; one per test.
#ifndef DOGSEARCH_TESTS_TESTING_TEMP_DIR_H_
#define DOGSEARCH_TESTS_TESTING_TEMP_DIR_H_

#include <string>

namespace dogsearch::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

// Bytes of a file, or "" if it cannot be read.
std::string ReadAll(const std::string& path);
// Overwrites a file with `data` (no durability: tests only).
void WriteAll(const std::string& path, const std::string& data);

}  // namespace dogsearch::testing

#endif  // DOGSEARCH_TESTS_TESTING_TEMP_DIR_H_
