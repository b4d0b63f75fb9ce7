# The install-time build (node-gyp), also used by prebuildify. Sources, per-path flags and
# which kernel paths exist come from native/sources.json (scripts/native-sources.cjs);
# CMakeLists.txt reads the same file. A path whose target type expands to 'none' has no
# kernels yet (or is for another architecture) and is neither built nor linked.
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
        'type': '<!(node scripts/native-sources.cjs type avx2 x64)',
        'sources': ['<!@(node scripts/native-sources.cjs kernels avx2)'],
        'cflags_cc': ['<!@(node scripts/native-sources.cjs flags avx2)'],
      }]],
    },
    {
      'target_name': 'litequant_kernels_avxvnni',
      'type': 'none',
      'conditions': [['target_arch=="x64"', {
        'type': '<!(node scripts/native-sources.cjs type avxvnni x64)',
        'sources': ['<!@(node scripts/native-sources.cjs kernels avxvnni)'],
        'cflags_cc': ['<!@(node scripts/native-sources.cjs flags avxvnni)'],
      }]],
    },
    {
      'target_name': 'litequant_kernels_avx512',
      'type': 'none',
      'conditions': [['target_arch=="x64"', {
        'type': '<!(node scripts/native-sources.cjs type avx512 x64)',
        'sources': ['<!@(node scripts/native-sources.cjs kernels avx512)'],
        'cflags_cc': ['<!@(node scripts/native-sources.cjs flags avx512)'],
        # GCC 12's avx512fintrin.h trips this on its own _mm512_undefined_*.
        'cflags_cc+': ['-Wno-maybe-uninitialized'],
      }]],
    },
    {
      'target_name': 'litequant_kernels_avx512vnni',
      'type': 'none',
      'conditions': [['target_arch=="x64"', {
        'type': '<!(node scripts/native-sources.cjs type avx512vnni x64)',
        'sources': ['<!@(node scripts/native-sources.cjs kernels avx512vnni)'],
        'cflags_cc': ['<!@(node scripts/native-sources.cjs flags avx512vnni)'],
        # GCC 12's avx512fintrin.h trips this on its own _mm512_undefined_*.
        'cflags_cc+': ['-Wno-maybe-uninitialized'],
      }]],
    },
    {
      'target_name': 'litequant_kernels_neon',
      'type': 'none',
      'conditions': [['target_arch=="arm64"', {
        'type': '<!(node scripts/native-sources.cjs type neon arm64)',
        'sources': ['<!@(node scripts/native-sources.cjs kernels neon)'],
        'cflags_cc': ['<!@(node scripts/native-sources.cjs flags neon)'],
      }]],
    },
    {
      'target_name': 'litequant_kernels_neondot',
      'type': 'none',
      'conditions': [['target_arch=="arm64"', {
        'type': '<!(node scripts/native-sources.cjs type neondot arm64)',
        'sources': ['<!@(node scripts/native-sources.cjs kernels neondot)'],
        'cflags_cc': ['<!@(node scripts/native-sources.cjs flags neondot)'],
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
      'libraries': ['-lpthread'],
      'conditions': [
        ['target_arch=="x64"', {
          'defines': ['<!@(node scripts/native-sources.cjs defines x64)'],
          'dependencies': ['<!@(node scripts/native-sources.cjs targets x64)'],
        }],
        ['target_arch=="arm64"', {
          'defines': ['<!@(node scripts/native-sources.cjs defines arm64)'],
          'dependencies': ['<!@(node scripts/native-sources.cjs targets arm64)'],
        }],
      ],
    },
  ],
}
