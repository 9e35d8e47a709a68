{
  'targets': [
    {
      'target_name': 'xfsguard_native',
      'sources': ['native/src/addon.cc', 'native/src/race.cc', 'native/src/peercred.cc'],
      'dependencies': ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_maybe"],
      'defines': ['NAPI_VERSION=8', 'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS'],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++1y', '-std=gnu++17'],
      'cflags': ['-Wall', '-Wextra', '-fvisibility=hidden', '-include', '<(module_root_dir)/native/src/glibc-compat.h'],
      'cflags_cc': ['-std=c++17', '-Wall', '-Wextra', '-fvisibility=hidden', '-fno-exceptions'],
    },
  ],
}
