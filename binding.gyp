# The install-time build (node-gyp), also used by prebuildify. Sources and
# per-path flags come from native/sources.json; CMakeLists.txt reads the same file.
{
  'target_defaults': {
    'cflags_cc': ['-std=c++17', '-O2', '-ffp-contract=off', '-fPIC', '-fvisibility=hidden'],
    'cflags_cc!': ['-fno-exceptions', '-std=gnu++17', '-std=gnu++20'],
    'include_dirs': ['native/include'],
    'defines': ['NDEBUG'],
  },
  'targets': [
    {
      'target_name': 'litequant_kernels_reference',
      'type': 'static_library',
      'sources': ['<!@(node scripts/native-sources.cjs kernels reference)'],
    },
    {
      'target_name': 'litequant_kernels_avx2',
      'type': 'none',
      'conditions': [['target_arch=="x64"', {
        'type': 'static_library',
        'sources': ['<!@(node scripts/native-sources.cjs kernels avx2)'],
        'cflags_cc': ['<!@(node scripts/native-sources.cjs flags avx2)'],
      }]],
    },
    {
      'target_name': 'litequant_kernels_avx512',
      'type': 'none',
      'conditions': [['target_arch=="x64"', {
        'type': 'static_library',
        'sources': ['<!@(node scripts/native-sources.cjs kernels avx512)'],
        'cflags_cc': ['<!@(node scripts/native-sources.cjs flags avx512)',
                      # GCC 12's avx512fintrin.h trips this on its own _mm512_undefined_*.
                      '-Wno-maybe-uninitialized'],
      }]],
    },
    {
      'target_name': 'litequant_kernels_neon',
      'type': 'none',
      'conditions': [['target_arch=="arm64"', {
        'type': 'static_library',
        'sources': ['<!@(node scripts/native-sources.cjs kernels neon)'],
        'cflags_cc': ['<!@(node scripts/native-sources.cjs flags neon)'],
      }]],
    },
    {
      'target_name': 'litequant',
      'sources': [
        '<!@(node scripts/native-sources.cjs core)',
        '<!@(node scripts/native-sources.cjs addon)',
      ],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS'],
      'dependencies': ['litequant_kernels_reference'],
      'conditions': [
        ['target_arch=="x64"', {
          'defines': ['LITEQUANT_BUILT_AVX2', 'LITEQUANT_BUILT_AVX512'],
          'dependencies': ['litequant_kernels_avx2', 'litequant_kernels_avx512'],
        }],
        ['target_arch=="arm64"', {
          'defines': ['LITEQUANT_BUILT_NEON'],
          'dependencies': ['litequant_kernels_neon'],
        }],
      ],
    },
  ],
}
