// A thread pool in a library built WITHOUT Memscope: its threads call back
// into instrumented code.
#include <pthread.h>
#define POOL_THREADS 4
typedef void (*task_fn)(int);
static task_fn g_task;
static void *pool_thread(void *arg) {
  g_task((int)(long)arg);
  return 0;
}
void pool_run(task_fn task) {
  pthread_t threads[POOL_THREADS];
  g_task = task;
  for (long i = 0; i < POOL_THREADS; ++i)
    pthread_create(&threads[i], 0, pool_thread, (void *)i);
  for (int i = 0; i < POOL_THREADS; ++i)
    pthread_join(threads[i], 0);
}
