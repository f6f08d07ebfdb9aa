// Echo load generator for bench/run.ts and bench/socketio.ts: one thread, epoll, N closed-loop connections
// that each keep K messages in flight; or, with --idle, M connections that finish their handshake and then
// sit still. With --mode sio each message is a Socket.IO event `42["echo","<payload>"]` echoed back as the
// same event, or with --ack `421["echo","<payload>"]` answered by the ack `431["<payload>"]`.
// Written in C so that the client costs far less CPU than the servers it measures.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

// C_JOINING: a Socket.IO connection past its 101, not yet in the main namespace (see enum sio_stage).
enum conn_state { C_CONNECTING, C_HANDSHAKE, C_JOINING, C_OPEN, C_DEAD };

struct conn {
  int fd;
  enum conn_state state;
  char *hs;        // the handshake response collected so far
  size_t hs_len;
  size_t hs_sent;  // bytes of the upgrade request written
  struct reader rd;
  unsigned queued; // messages waiting to be written, the first maybe partly
  size_t out_off;  // bytes of the first queued message already written
  int want_out;    // EPOLLOUT is registered
  uint64_t *sent_ns; // ring of send times, one slot per message in flight
  unsigned ring_head, ring_count;
};

static struct {
  int port, conns, inflight, deflate, idle, ack;
  size_t size;
  double warmup_s, duration_s, setup_s;
  enum wire_mode mode;
} opt = {0, 100, 1, 0, 0, 0, 32, 1.0, 5.0, 60.0, MODE_WS};

static int epfd;
static struct conn *conns;
static uint8_t *payload, *frame;
static size_t frame_len;
// What each reply must be, byte for byte: the payload itself, or in MODE_SIO the packet the server answers.
static uint8_t *expect;
static size_t expect_len;
static char request[512];
static size_t request_len;
static int started, pending, open_count, errors;
static int measuring;
static uint64_t measured_msgs, compressed_base;
static uint64_t *samples;
static size_t nsamples, samples_cap;
static volatile sig_atomic_t stop_requested;
static uint8_t rbuf[256 * 1024];

// At most this many connections are connecting or handshaking at once, so a 10,000-connection idle
// run never overflows the server's listen backlog (a dropped SYN costs a 1 s retransmit).
#define RAMP 256

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec);
  return s + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void fail(struct conn *c, const char *why) {
  static int reported;
  if (reported++ < 5) fprintf(stderr, "loadgen: connection %ld: %s\n", (long)(c - conns), why);
  if (c->state == C_OPEN) open_count--;
  else pending--;
  c->state = C_DEAD;
  errors++;
  close(c->fd);
  reader_free(&c->rd);
  free(c->hs);
  c->hs = NULL;
  free(c->sent_ns);
  c->sent_ns = NULL;
}

static void want_out(struct conn *c, int on) {
  if (c->want_out == on) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->want_out = on;
}

static int write_some(struct conn *c, const void *p, size_t n, size_t *written) {
  ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
  if (w < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
  *written = (size_t)w;
  return 0;
}

// Writes queued messages until done or the socket is full; a Pong goes out between two messages.
static void flush(struct conn *c) {
  if (c->rd.pong_len > 0 && c->out_off == 0) {
    size_t w = 0;
    // A 131-byte Pong into an empty-enough socket: a short write here is not worth a second queue.
    int rc = write_some(c, c->rd.pong, c->rd.pong_len, &w);
    if (rc < 0 || w != c->rd.pong_len) return fail(c, "pong write");
    c->rd.pong_len = 0;
  }
  while (c->queued > 0) {
    size_t w = 0;
    if (write_some(c, frame + c->out_off, frame_len - c->out_off, &w) < 0) return fail(c, "write");
    c->out_off += w;
    if (c->out_off < frame_len) return want_out(c, 1);
    c->out_off = 0;
    c->queued--;
  }
  want_out(c, 0);
}

static void send_message(struct conn *c, uint64_t t) {
  c->sent_ns[(c->ring_head + c->ring_count) % opt.inflight] = t;
  c->ring_count++;
  c->queued++;
}

static void record(uint64_t latency_ns) {
  if (nsamples == samples_cap) {
    samples_cap = samples_cap ? samples_cap * 2 : 1 << 16;
    samples = realloc(samples, samples_cap * sizeof *samples);
    if (samples == NULL) abort();
  }
  samples[nsamples++] = latency_ns;
  measured_msgs++;
}

static void on_echoes(struct conn *c, int n) {
  uint64_t t = now_ns();
  for (int i = 0; i < n; i++) {
    if (c->ring_count == 0) return fail(c, "echo nobody asked for");
    uint64_t sent = c->sent_ns[c->ring_head];
    c->ring_head = (c->ring_head + 1) % opt.inflight;
    c->ring_count--;
    if (measuring) record(t - sent);
    if (!opt.idle) send_message(c, t);
  }
  flush(c);
}

static void start_conn(struct conn *c) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  c->state = C_CONNECTING;
  pending++;
  started++;
  if (c->fd < 0) return fail(c, strerror(errno));
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  reader_init(&c->rd, opt.mode, expect, expect_len);
  c->sent_ns = calloc((size_t)opt.inflight, sizeof *c->sent_ns);
  if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS)
    return fail(c, strerror(errno));
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
  c->want_out = 1;
}

static void become_open(struct conn *c) {
  c->state = C_OPEN;
  pending--;
  open_count++;
}

static const char *const why[] = {"", "protocol violation", "echo differs", "close frame", "inflate failed",
                                  "namespace refused the connection"};

// Feeds an open (or joining) connection's bytes to its reader; a joining one opens once it is in the
// namespace. Whatever the reader queued (a Pong, `3`, `40`) goes out with the next write.
static void on_frames(struct conn *c, const uint8_t *p, size_t n) {
  int done = reader_push(&c->rd, p, n);
  if (done < 0) return fail(c, why[-done]);
  if (c->state == C_JOINING) {
    if (done > 0) return fail(c, "data before any message was sent");
    if (c->rd.sio_stage == SIO_READY) become_open(c);
    if (c->rd.pong_len > 0) flush(c);
    return;
  }
  if (done > 0 || c->rd.pong_len > 0) on_echoes(c, done);
}

static void on_handshake_bytes(struct conn *c, const uint8_t *p, size_t n) {
  c->hs = realloc(c->hs, c->hs_len + n);
  memcpy(c->hs + c->hs_len, p, n);
  c->hs_len += n;
  size_t head = 0;
  int deflate = 0;
  int rc = wire_handshake_response(c->hs, c->hs_len, &head, &deflate);
  if (rc == 0) return c->hs_len > 16384 ? fail(c, "handshake response too long") : (void)0;
  if (rc < 0) return fail(c, "handshake refused");
  if (deflate && (!opt.deflate || reader_enable_inflate(&c->rd) < 0)) return fail(c, "unexpected deflate");
  if (opt.deflate && !deflate) return fail(c, "server declined permessage-deflate");
  char *hs = c->hs;
  size_t len = c->hs_len;
  c->hs = NULL;
  // Socket.IO's opening (open packet, CONNECT, its answer) still lies ahead; WebSocket is open now.
  if (opt.mode == MODE_SIO) c->state = C_JOINING;
  else become_open(c);
  // Frames right behind the 101 could only be Pings or the opening; an echo there is an echo of nothing.
  if (head < len) on_frames(c, (uint8_t *)hs + head, len - head);
  free(hs);
}

static void on_writable(struct conn *c) {
  if (c->state == C_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(c, strerror(err));
    if (opt.mode == MODE_RAW) {
      become_open(c);
      return want_out(c, 0);
    }
    c->state = C_HANDSHAKE;
  }
  if (c->state == C_HANDSHAKE) {
    size_t w = 0;
    if (write_some(c, request + c->hs_sent, request_len - c->hs_sent, &w) < 0)
      return fail(c, "handshake write");
    c->hs_sent += w;
    if (c->hs_sent == request_len) want_out(c, 0);
    return;
  }
  flush(c);
}

static void on_readable(struct conn *c) {
  ssize_t n = read(c->fd, rbuf, sizeof rbuf);
  if (n == 0) return fail(c, "closed by server");
  if (n < 0) return (errno == EAGAIN || errno == EINTR) ? (void)0 : fail(c, strerror(errno));
  if (c->state == C_HANDSHAKE || c->state == C_CONNECTING) return on_handshake_bytes(c, rbuf, (size_t)n);
  on_frames(c, rbuf, (size_t)n);
}

// Runs the event loop until `until_ns` (0 = no deadline) or until `done()` says so.
static void loop(uint64_t until_ns, int (*done)(void)) {
  struct epoll_event evs[256];
  while (!stop_requested) {
    while (pending < RAMP && started < (opt.idle ? opt.idle : opt.conns)) start_conn(&conns[started]);
    if (done != NULL && done()) return;
    int timeout = -1;
    if (until_ns != 0) {
      uint64_t t = now_ns();
      if (t >= until_ns) return;
      timeout = (int)((until_ns - t + 999999) / 1000000);
    }
    int n = epoll_wait(epfd, evs, 256, timeout);
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (c == NULL) { // stdin: the harness closed it, idle mode ends
        stop_requested = 1;
        continue;
      }
      if (c->state == C_DEAD) continue;
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
      if (c->state != C_DEAD && (evs[i].events & EPOLLOUT)) on_writable(c);
    }
  }
}

static int setup_done(void) {
  return pending == 0 && started == (opt.idle ? opt.idle : opt.conns);
}

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static int compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double percentile_us(double p) {
  if (nsamples == 0) return 0;
  size_t rank = (size_t)(p * (double)nsamples + 0.999999);
  return (double)samples[(rank ? rank : 1) - 1] / 1000.0;
}

static uint64_t compressed_total(void) {
  uint64_t sum = 0;
  for (int i = 0; i < opt.conns; i++) sum += conns[i].rd.compressed_msgs;
  return sum;
}

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen --port P [--mode ws|raw|sio] [--conns N] [--size BYTES] [--inflight K]\n"
          "               [--warmup S] [--duration S] [--deflate] [--ack] [--idle M]\n");
  exit(2);
}

static void parse_args(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--deflate") == 0) opt.deflate = 1;
    else if (strcmp(a, "--ack") == 0) opt.ack = 1;
    else if (v == NULL) usage();
    else if (strcmp(a, "--port") == 0) opt.port = atoi(v), i++;
    else if (strcmp(a, "--mode") == 0)
      opt.mode = strcmp(v, "raw") == 0 ? MODE_RAW : strcmp(v, "sio") == 0 ? MODE_SIO : MODE_WS, i++;
    else if (strcmp(a, "--conns") == 0) opt.conns = atoi(v), i++;
    else if (strcmp(a, "--size") == 0) opt.size = (size_t)atol(v), i++;
    else if (strcmp(a, "--inflight") == 0) opt.inflight = atoi(v), i++;
    else if (strcmp(a, "--warmup") == 0) opt.warmup_s = atof(v), i++;
    else if (strcmp(a, "--duration") == 0) opt.duration_s = atof(v), i++;
    else if (strcmp(a, "--idle") == 0) opt.idle = atoi(v), i++;
    else usage();
  }
  if (opt.port <= 0 || opt.conns <= 0 || opt.inflight <= 0 || opt.idle < 0 || opt.duration_s <= 0) usage();
  if ((opt.mode != MODE_WS && opt.deflate) || (opt.mode != MODE_SIO && opt.ack)) usage();
}

// Lifts the soft descriptor limit to what the run needs, and the hard one too when we are root.
static void raise_fd_limit(rlim_t need) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need) return;
  if (rl.rlim_max < need) rl.rlim_max = need;
  rl.rlim_cur = need;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    fprintf(stderr, "loadgen: descriptor limit is %lu, below the %lu this run needs\n",
            (unsigned long)rl.rlim_cur, (unsigned long)need);
  }
}

// ASCII prose: compressible like chat text, and valid UTF-8 for a text frame.
static uint8_t *make_payload(size_t size) {
  static const char lorem[] = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
                              "tempor "
                              "incididunt ut labore et dolore magna aliqua. ";
  uint8_t *p = malloc(size + 1);
  for (size_t i = 0; i < size; i++) p[i] = (uint8_t)lorem[i % (sizeof lorem - 1)];
  return p;
}

// Wraps the payload in the Socket.IO packets of one echo: what is sent, and what must come back. The payload
// is JSON-safe text, so a JSON string of it is the payload between quotes.
static void make_sio_packets(uint8_t **sent, size_t *sent_len) {
  const char *send_head = opt.ack ? "421[\"echo\",\"" : "42[\"echo\",\"";
  const char *reply_head = opt.ack ? "431[\"" : send_head;
  *sent = malloc(opt.size + 32);
  expect = malloc(opt.size + 32);
  if (*sent == NULL || expect == NULL) abort();
  *sent_len = (size_t)sprintf((char *)*sent, "%s", send_head);
  expect_len = (size_t)sprintf((char *)expect, "%s", reply_head);
  memcpy(*sent + *sent_len, payload, opt.size);
  memcpy(expect + expect_len, payload, opt.size);
  memcpy(*sent + *sent_len + opt.size, "\"]", 2);
  memcpy(expect + expect_len + opt.size, "\"]", 2);
  *sent_len += opt.size + 2;
  expect_len += opt.size + 2;
}

static void run_idle(void) {
  printf("ready %d %d\n", open_count, errors);
  fflush(stdout);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) != 0)
    fprintf(stderr, "loadgen: stdin is not a pipe; holding until a signal\n");
  loop(0, NULL);
  printf("done %d %d\n", open_count, errors);
}

static void run_echo(void) {
  uint64_t t = now_ns();
  for (int i = 0; i < opt.conns; i++) {
    if (conns[i].state != C_OPEN) continue;
    for (int k = 0; k < opt.inflight; k++) send_message(&conns[i], t);
    flush(&conns[i]);
  }
  loop(t + (uint64_t)(opt.warmup_s * 1e9), NULL);
  measuring = 1;
  compressed_base = compressed_total();
  printf("measuring\n");
  fflush(stdout);
  double cpu0 = cpu_seconds();
  uint64_t t0 = now_ns();
  loop(t0 + (uint64_t)(opt.duration_s * 1e9), NULL);
  uint64_t t1 = now_ns();
  double cpu1 = cpu_seconds();
  measuring = 0;
  printf("measured\n");
  fflush(stdout);
  double wall = (double)(t1 - t0) / 1e9;
  qsort(samples, nsamples, sizeof *samples, compare_u64);
  printf("{\"msgs_per_s\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"cpu_share\":%.4f,\"errors\":%d,"
         "\"msgs\":%llu,\"seconds\":%.3f,\"open\":%d,\"compressed_replies\":%llu}\n",
         (double)measured_msgs / wall, percentile_us(0.50), percentile_us(0.99), (cpu1 - cpu0) / wall, errors,
         (unsigned long long)measured_msgs, wall, open_count,
         (unsigned long long)(compressed_total() - compressed_base));
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  int total = opt.idle ? opt.idle : opt.conns;
  if (opt.idle) opt.conns = opt.idle;
  raise_fd_limit((rlim_t)total + 64);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal}; // no SA_RESTART: epoll_wait must return on a signal
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  payload = make_payload(opt.size);
  uint8_t *sent = payload;
  size_t sent_len = opt.size;
  expect = payload, expect_len = opt.size;
  if (opt.mode == MODE_SIO) make_sio_packets(&sent, &sent_len);
  frame = wire_build_message(opt.mode, sent, sent_len, &frame_len);
  const char *target = opt.mode == MODE_SIO ? WIRE_SIO_TARGET : "/";
  request_len = wire_handshake_request(request, sizeof request, opt.port, target, opt.deflate);
  conns = calloc((size_t)total, sizeof *conns);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (frame == NULL || conns == NULL || epfd < 0) return perror("loadgen"), 1;

  loop(now_ns() + (uint64_t)(opt.setup_s * 1e9), setup_done);
  if (stop_requested) return 1;
  for (int i = 0; i < started; i++)
    if (conns[i].state == C_CONNECTING || conns[i].state == C_HANDSHAKE || conns[i].state == C_JOINING)
      fail(&conns[i], "setup timed out");
  errors += total - started;
  if (opt.idle) return run_idle(), 0;
  if (open_count == 0) {
    printf("{\"msgs_per_s\":0,\"p50_us\":0,\"p99_us\":0,\"cpu_share\":0,\"errors\":%d,\"open\":0}\n", errors);
    return 1;
  }
  run_echo();
  return 0;
}
