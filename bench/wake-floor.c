/*
 * The floor of a wake: N POSIX threads blocked in futex(2) on one word, woken together by one FUTEX_WAKE per
 * round, each acknowledging once. Compiled at run time by bun:ffi's built-in C compiler (bench/wake.ts); no
 * headers, so it builds wherever Bun runs on Linux.
 */
typedef unsigned long pthread_t;
extern int pthread_create(pthread_t *, const void *, void *(*)(void *), void *);
extern int pthread_join(pthread_t, void **);
extern long syscall(long, ...);
extern void *malloc(unsigned long);
extern void free(void *);

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

static long futex_nr, sleep_nr;
static volatile int word;   /* the round number: waiters block while it is what they saw */
static volatile int *acks;  /* per thread, 64 bytes apart: the last round it saw (no atomics: the builtin C compiler has none) */
static volatile int stop;
#define ACK(i) acks[(i) * 16]

static void *waiter(void *arg) {
  long me = (long)arg;
  int seen = 0;
  for (;;) {
    while (word == seen && !stop) syscall(futex_nr, &word, FUTEX_WAIT_PRIVATE, seen, 0, 0, 0);
    if (stop) return 0;
    seen = word;
    ACK(me) = seen;
  }
}

static int all_acked(int threads, int round) {
  int i;
  for (i = 0; i < threads; i++) if (ACK(i) < round) return 0;
  return 1;
}

static void pause_us(long us) {
  long ts[2] = { 0, us * 1000 };
  syscall(sleep_nr, ts, 0);
}

/* Runs `rounds` wake rounds over `threads` threads; returns the rounds every thread acknowledged. */
/* `futex` and `nanosleep` are this architecture's syscall numbers. */
int wake_floor(int threads, int rounds, int futex, int nanosleep) {
  pthread_t *ids = malloc(sizeof(pthread_t) * threads);
  int i, r;
  acks = malloc(sizeof(int) * 16 * threads);
  for (i = 0; i < threads; i++) ACK(i) = 0;
  futex_nr = futex;
  sleep_nr = nanosleep;
  word = 0; stop = 0;
  for (i = 0; i < threads; i++) pthread_create(&ids[i], 0, waiter, (void *)(long)i);
  pause_us(200000);
  for (r = 1; r <= rounds; r++) {
    word = r;
    syscall(futex_nr, &word, FUTEX_WAKE_PRIVATE, 0x7fffffff, 0, 0, 0);
    while (!all_acked(threads, r)) pause_us(100);
    pause_us(2000); /* let every thread block again, so each round's wakes are real wakes */
  }
  stop = 1;
  syscall(futex_nr, &word, FUTEX_WAKE_PRIVATE, 0x7fffffff, 0, 0, 0);
  for (i = 0; i < threads; i++) pthread_join(ids[i], 0);
  free(ids);
  free((void *)acks);
  return r - 1;
}
