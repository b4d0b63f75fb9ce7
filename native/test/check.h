// A minimal test harness for the native tests: no dependencies, so the same
// binaries build for the host and for AArch64 under qemu.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace litequant::test {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& Registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& Failures() {
  static int failures = 0;
  return failures;
}

struct Register {
  Register(const char* name, std::function<void()> fn) { Registry().push_back({name, fn}); }
};

inline int RunAll() {
  for (const Case& c : Registry()) {
    const int before = Failures();
    c.fn();
    std::printf("%s %s\n", Failures() == before ? "ok  " : "FAIL", c.name);
  }
  std::printf("%zu cases, %d failed checks\n", Registry().size(), Failures());
  return Failures() == 0 ? 0 : 1;
}

}  // namespace litequant::test

#define LQ_CONCAT_(a, b) a##b
#define LQ_CONCAT(a, b) LQ_CONCAT_(a, b)
#define TEST_CASE(name)                                                              \
  static void LQ_CONCAT(test_fn_, __LINE__)();                                       \
  static ::litequant::test::Register LQ_CONCAT(test_reg_, __LINE__)(name,            \
                                                                    LQ_CONCAT(test_fn_, __LINE__)); \
  static void LQ_CONCAT(test_fn_, __LINE__)()

// Reports and counts a failure; returns from the enclosing function after too many.
#define CHECK_MSG(cond, ...)                                                 \
  do {                                                                       \
    if (!(cond)) {                                                           \
      ++::litequant::test::Failures();                                       \
      if (::litequant::test::Failures() <= 20) {                             \
        std::printf("  %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
        std::printf(__VA_ARGS__);                                            \
        std::printf("\n");                                                   \
      }                                                                      \
    }                                                                        \
  } while (0)
#define CHECK(cond) CHECK_MSG(cond, "%s", "")

#define TEST_MAIN() \
  int main() { return ::litequant::test::RunAll(); }
