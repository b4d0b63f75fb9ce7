// Per-thread scratch memory for kernels that run a whole sequence in one call (the LSTMs):
// reserved once per run, grown when a run needs more, carved into 64-byte-aligned pieces, so
// nothing is allocated inside the sequence. Core only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace litequant {

class ScratchArena {
 public:
  // Makes room for `bytes` (plus alignment slack) and forgets earlier pieces.
  void Reserve(size_t bytes) {
    if (bytes + 64 > storage_.size()) storage_.assign(bytes + 64, 0);
    used_ = 0;
  }
  template <typename T>
  T* Take(size_t count) {
    const auto base = reinterpret_cast<uintptr_t>(storage_.data());
    const size_t aligned = ((base + used_ + 63) & ~uintptr_t{63}) - base;
    used_ = aligned + count * sizeof(T);
    return reinterpret_cast<T*>(storage_.data() + aligned);
  }

 private:
  std::vector<unsigned char> storage_;
  size_t used_ = 0;
};

// This thread's arena (runs on one thread never nest, so the LSTM kinds share it).
inline ScratchArena& ThreadScratch() {
  thread_local ScratchArena arena;
  return arena;
}

}  // namespace litequant
