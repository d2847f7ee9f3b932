/* A disk whose flush is slow, for table 3 of bench/run.sh (BENCH_FLUSH_MS): preloaded into a
 * process, it makes each fsync and fdatasync wait BENCH_FLUSH_MS milliseconds before the real one,
 * as a disk without a power-safe write cache or a network volume does. Measurement only: it never
 * changes what is written, and is never part of fortisim.
 *
 *   cc -shared -fPIC -O2 -o slow_flush.so bench/slow_flush.c -ldl
 *   BENCH_FLUSH_MS=2 LD_PRELOAD=$PWD/slow_flush.so COMMAND
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void wait_flush(void) {
  const char* ms = getenv("BENCH_FLUSH_MS");
  long n = ms ? strtol(ms, NULL, 10) : 0;
  if (n <= 0) return;
  struct timespec t = {n / 1000, (n % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  wait_flush();
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  wait_flush();
  return real(fd);
}
