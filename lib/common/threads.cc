#include "lib/common/threads.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#if defined(_OPENMP) && defined(__unix__)
#include <pthread.h>
#define CONVKIT_PROBE_THREADS 1
#endif

namespace convkit {
namespace {

#if CONVKIT_PROBE_THREADS
// The stack size the OpenMP runtime gives its threads: OMP_STACKSIZE (or
// GOMP_STACKSIZE) when set, "number[B|K|M|G]" with K the default unit; 0 =
// the pthread default, which the runtime also uses.
size_t RuntimeStackSize() {
  const char* env = std::getenv("OMP_STACKSIZE");
  if (env == nullptr || *env == '\0') env = std::getenv("GOMP_STACKSIZE");
  if (env == nullptr || *env == '\0') return 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(env, &end, 10);
  while (end != nullptr && *end == ' ') ++end;
  unsigned long long unit = 1024;
  switch (end != nullptr ? *end : '\0') {
    case 'b': case 'B': unit = 1; break;
    case 'm': case 'M': unit = 1ull << 20; break;
    case 'g': case 'G': unit = 1ull << 30; break;
    default: break;
  }
  return static_cast<size_t>(v * unit);
}

void* Exit(void*) { return nullptr; }
#endif

}  // namespace

Status EnsureThreads(int threads) {
#if CONVKIT_PROBE_THREADS
  // Per calling thread: each thread that enters OpenMP gets its own team.
  thread_local int verified = 1;
  if (threads <= verified) return Status();
  std::unique_ptr<pthread_t[]> ids(new (std::nothrow) pthread_t[threads - 1]);
  if (!ids) return Status(StatusCode::kOutOfMemory, "threads", "convkit: out of memory");
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  const size_t stack = RuntimeStackSize();
  if (stack > 0) pthread_attr_setstacksize(&attr, stack);
  // All alive at once (joined only at the end), as a team would be.
  int created = 0, err = 0;
  for (; created < threads - 1; ++created) {
    err = pthread_create(&ids[created], &attr, &Exit, nullptr);
    if (err != 0) break;
  }
  for (int i = 0; i < created; ++i) pthread_join(ids[i], nullptr);
  pthread_attr_destroy(&attr);
  if (err != 0) {
    return Status(StatusCode::kOutOfMemory, "threads",
                  "convkit: threads = " + std::to_string(threads) +
                      ": the system could create only " + std::to_string(created + 1) +
                      " threads (pthread_create: " + std::strerror(err) + ")");
  }
  verified = threads;
#else
  (void)threads;
#endif
  return Status();
}

}  // namespace convkit
