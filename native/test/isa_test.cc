// Path names, fallback chains and selection rules.
#include <cstdio>
#include <cstring>

#include "check.h"
#include "litequant/isa.h"

using namespace litequant;

TEST_CASE("path names round-trip") {
  for (uint32_t i = 0; i < kPathCount; ++i) {
    const Path p = static_cast<Path>(i);
    Path back;
    CHECK(PathFromName(PathName(p), &back));
    CHECK(back == p);
  }
  Path unused;
  CHECK(!PathFromName("sse2", &unused));
  CHECK(!PathFromName("", &unused));
}

TEST_CASE("every fallback chain ends at reference") {
  for (uint32_t i = 0; i < kPathCount; ++i) {
    Path p = static_cast<Path>(i);
    for (int step = 0; step < 8 && p != Path::kReference; ++step) p = FallbackPath(p);
    CHECK_MSG(p == Path::kReference, "from %s", PathName(static_cast<Path>(i)));
  }
}

TEST_CASE("the automatic choice is built, supported, and the best such path") {
  const CpuFeatures& cpu = DetectCpu();
  const Path selected = SelectedPath();
  CHECK(PathBuilt(selected));
  CHECK(PathSupported(cpu, selected));
  std::printf("  cpu '%s', selected %s\n", cpu.brand, PathName(selected));
  // A path implies everything on its fallback chain.
  for (uint32_t i = 0; i < kPathCount; ++i) {
    const Path p = static_cast<Path>(i);
    if (PathSupported(cpu, p)) CHECK_MSG(PathSupported(cpu, FallbackPath(p)), "%s", PathName(p));
  }
}

TEST_CASE("selecting an unavailable path fails and changes nothing") {
  const Path before = SelectedPath();
  for (uint32_t i = 0; i < kPathCount; ++i) {
    const Path p = static_cast<Path>(i);
    if (PathBuilt(p) && PathSupported(DetectCpu(), p)) continue;
    const char* why = nullptr;
    CHECK_MSG(!SelectPath(p, &why), "%s", PathName(p));
    CHECK(why != nullptr && std::strlen(why) > 0);
    CHECK(SelectedPath() == before);
  }
  const char* why = nullptr;
  CHECK(SelectPath(Path::kReference, &why));
  CHECK(SelectedPath() == Path::kReference);
  CHECK(SelectPath(before, &why));
}

TEST_MAIN()
