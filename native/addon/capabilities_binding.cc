// capabilities() and selectIsa(name).
#include "bindings.h"

#include <string>

#include "args.h"
#include "litequant/isa.h"

namespace litequant {
namespace {

Napi::Array PathList(Napi::Env env, bool (*keep)(Path)) {
  Napi::Array list = Napi::Array::New(env);
  uint32_t n = 0;
  for (uint32_t i = 0; i < kPathCount; ++i) {
    const Path p = static_cast<Path>(i);
    if (keep(p)) list.Set(n++, Napi::String::New(env, PathName(p)));
  }
  return list;
}

}  // namespace

Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CpuFeatures& cpu = DetectCpu();
  Napi::Object features = Napi::Object::New(env);
  const std::pair<const char*, bool> flags[] = {
      {"avx2", cpu.avx2},         {"fma", cpu.fma},           {"f16c", cpu.f16c},
      {"avx512f", cpu.avx512f},   {"avx512bw", cpu.avx512bw}, {"avx512vl", cpu.avx512vl},
      {"avx512dq", cpu.avx512dq}, {"avx512vnni", cpu.avx512vnni},
      {"avxvnni", cpu.avxvnni},   {"amxTile", cpu.amx_tile},  {"amxInt8", cpu.amx_int8},
      {"amxPermitted", cpu.amx_permitted}, {"neon", cpu.neon}, {"neonDot", cpu.neon_dot}};
  for (const auto& [name, on] : flags) features.Set(name, Napi::Boolean::New(env, on));

  Napi::Object out = Napi::Object::New(env);
  out.Set("cpu", Napi::String::New(env, cpu.brand));
  out.Set("features", features);
  out.Set("supported", PathList(env, [](Path p) { return PathSupported(DetectCpu(), p); }));
  out.Set("built", PathList(env, PathBuilt));
  out.Set("selected", Napi::String::New(env, PathName(SelectedPath())));
  return out;
}

Napi::Value SelectIsa(const Napi::CallbackInfo& info) {
  CheckArgCount(info, 1);
  const std::string name = ArgString(info, 0, "isa");
  Path path;
  if (!PathFromName(name.c_str(), &path)) {
    std::string known;
    for (uint32_t i = 0; i < kPathCount; ++i) {
      known += (i ? ", " : "") + std::string(PathName(static_cast<Path>(i)));
    }
    ThrowExpected(info.Env(), "one of " + known, "isa", info[0]);
  }
  const char* why = nullptr;
  if (!SelectPath(path, &why)) {
    ThrowWithCode(info.Env(), "Instruction-set path '" + name + "' is unavailable: " + why,
                  kErrIsaUnavailable);
  }
  return Napi::String::New(info.Env(), PathName(SelectedPath()));
}

}  // namespace litequant
