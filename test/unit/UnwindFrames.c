/* A library for UnwindTest's dlclose case: built twice, with a small and a
   large frame (-DFRAME_BYTES), without frame pointers. The index comes from
   a global so that the whole array stays on the stack. */
typedef void (*Callback)(void *);

volatile unsigned frame_index;

__attribute__((noinline)) void callThrough(Callback callback, void *arg) {
  volatile char buffer[FRAME_BYTES];
  buffer[frame_index % FRAME_BYTES] = 1;
  callback(arg);
  buffer[(frame_index + 1) % FRAME_BYTES] = 2;
}
