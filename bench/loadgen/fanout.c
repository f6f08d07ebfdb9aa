// Fan-out load generator for bench/fanout.ts: S subscribers and one publisher on one thread (epoll).
// It measures publish-to-receive latency at a fixed offered rate, then deliveries/s with K publishes in
// flight. Payloads carry their CLOCK_MONOTONIC send time, so latency needs no per-message bookkeeping.
// Wire formats: RFC 6455 §5.2 frames (masked from us, §5.3), or 4-byte big-endian length prefixes; with
// --kind sio the frames carry Engine.IO v4 / Socket.IO v5 text packets (bench/SOCKETIO.md).
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

// ours: switchboard serve (plain subscribers, a switchboard.v1 publisher); ws: any server that relays
// each text message to every other connection and acks its sender; raw: the same with length prefixes;
// sio: a Socket.IO server that puts every socket in one room and answers `421["publish",P]` by emitting
// `42["message",P]` to the room but the sender and acking `431[…]`.
enum server_kind { KIND_OURS, KIND_WS, KIND_RAW, KIND_SIO };
// C_JOINING: a Socket.IO connection past its 101 that has not yet had the main namespace's `40{…}`.
enum conn_state { C_CONNECTING, C_HANDSHAKE, C_JOINING, C_OPEN, C_DEAD };
// idle: nothing; prime: one publish at a time until every subscriber has one; rate: open loop at a
// fixed rate; saturate: K acks outstanding.
enum pub_mode { PUB_IDLE, PUB_PRIME, PUB_RATE, PUB_SATURATE };

// A payload is '@', a 10-digit sequence number, ' ', a 20-digit send time in ns, ' ', then 'x' padding.
#define PAYLOAD_BYTES 64
// Bytes of a message kept for parsing; a bench message is at most ~70, anything longer is not ours.
#define MSG_CAP 192
// At most this many connections handshake at once, below the servers' listen backlog of 511.
#define RAMP 256
// Delivery counts per sequence number, a ring far larger than any lag the publisher allows.
#define RING (1u << 16)

struct conn {
  int fd;
  int index; // subscribers 0..S-1; the publisher is S
  enum conn_state state;
  char *hs; // the handshake response collected so far
  size_t hs_len, hs_sent;
  uint8_t hdr[14];
  unsigned hdr_have;
  int in_payload, opcode, fin;
  uint64_t payload_left;
  size_t msg_len; // bytes of the current data message; the first MSG_CAP are kept
  uint8_t msg[MSG_CAP];
  uint8_t ctrl[125];
  unsigned ctrl_len;
  uint64_t got; // bench payloads received
};

static struct {
  int port, subs, distinct_nicks, max_lag_given;
  int inflight, max_lag; // of the current throughput window
  int inflights[8], ninflights;
  enum server_kind kind;
  double rate, lat_warmup_s, lat_s, warmup_s, duration_s, setup_s;
} opt = {.subs = 1000, .inflights = {8}, .ninflights = 1, .kind = KIND_OURS, .rate = 20000,
       .lat_warmup_s = 1, .lat_s = 5, .warmup_s = 1, .duration_s = 3, .setup_s = 120};

static int epfd;
static struct conn *conns, *pub;
static int started, pending, subs_open, subs_primed, errors, pub_started;
static volatile sig_atomic_t stop_requested;
static uint8_t rbuf[256 * 1024];

// The publisher's state and its outbound bytes (whole frames only).
static enum pub_mode mode;
static uint8_t *pout;
static size_t pout_len, pout_off, pout_cap;
static int pub_want_out;
static uint64_t next_seq = 1, base_seq, fully_seq, next_pub_ns, interval_ns;
static int inflight;
static uint64_t acks, ack_errors;
static uint32_t ring[RING];

// Measurement windows.
static int counting;
static uint64_t window_deliveries, lat_t0, lat_t1;
static uint64_t *samples;
static size_t nsamples, samples_cap;
static uint64_t blocked_ns, last_pump_ns;
static int was_blocked;
// While measuring, the loop polls instead of sleeping: on loopback a sleeping reader makes every server
// write pay for waking it (an IPI, costly in a VM), which a remote client never charges the server.
// Runs of polls that find nothing are timed on the CPU clock, so the work share excludes them.
static int busy_poll;
static uint64_t idle_poll_ns, idle_since_ns;

static const uint8_t mask_key[4] = {0x37, 0xfa, 0x21, 0x3d};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// CPU time spent in polls that found nothing so far, the current run of them included.
static uint64_t idle_total_ns(void) {
  if (idle_since_ns != 0) {
    uint64_t t = thread_cpu_ns();
    idle_poll_ns += t - idle_since_ns;
    idle_since_ns = t;
  }
  return idle_poll_ns;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec);
  return s + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void fail(struct conn *c, const char *why) {
  static int reported;
  if (c->state == C_DEAD) return;
  if (reported++ < 5 || c == pub) fprintf(stderr, "fanout: connection %d: %s\n", c->index, why);
  if (c->state == C_OPEN && c != pub) subs_open--;
  if (c->state != C_OPEN) pending--;
  if (c == pub) stop_requested = 1; // nothing to measure without a publisher
  c->state = C_DEAD;
  errors++;
  close(c->fd);
  free(c->hs);
  c->hs = NULL;
}

// --- publishing ---

static void put_digits(uint8_t *p, int n, uint64_t v) {
  for (int i = n - 1; i >= 0; i--, v /= 10) p[i] = (uint8_t)('0' + v % 10);
}

static uint64_t get_digits(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = v * 10 + (uint64_t)(p[i] - '0');
  return v;
}

static void make_payload(uint8_t *p, uint64_t seq, uint64_t t) {
  memset(p, 'x', PAYLOAD_BYTES);
  p[0] = '@';
  put_digits(p + 1, 10, seq);
  p[11] = ' ';
  put_digits(p + 12, 20, t);
  p[32] = ' ';
}

static uint8_t *pout_reserve(size_t n) {
  if (pout_off == pout_len) pout_off = pout_len = 0;
  if (pout_len + n > pout_cap) {
    pout_cap = (pout_len + n) * 2;
    pout = realloc(pout, pout_cap);
    if (pout == NULL) abort();
  }
  uint8_t *p = pout + pout_len;
  pout_len += n;
  return p;
}

// Appends a masked frame (§5.2, §5.3) carrying `data` to the publisher's outbound bytes.
static void pout_ws_frame(int opcode, const uint8_t *data, size_t n) {
  size_t h = n < 126 ? 2 : 4;
  uint8_t *f = pout_reserve(h + 4 + n);
  f[0] = (uint8_t)(0x80 | opcode);
  if (n < 126) f[1] = (uint8_t)(0x80 | n);
  else f[1] = 0x80 | 126, f[2] = (uint8_t)(n >> 8), f[3] = (uint8_t)n;
  memcpy(f + h, mask_key, 4);
  for (size_t i = 0; i < n; i++) f[h + 4 + i] = data[i] ^ mask_key[i & 3];
}

static void pub_want(int on) {
  if (pub_want_out == on) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = pub};
  epoll_ctl(epfd, EPOLL_CTL_MOD, pub->fd, &ev);
  pub_want_out = on;
}

static void pub_flush(void) {
  while (pout_off < pout_len) {
    ssize_t w = send(pub->fd, pout + pout_off, pout_len - pout_off, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return pub_want(1);
    if (w < 0) return fail(pub, "publisher write");
    pout_off += (size_t)w;
  }
  pub_want(0);
}

static void publish(void) {
  uint8_t payload[PAYLOAD_BYTES];
  make_payload(payload, next_seq, now_ns());
  if (opt.kind == KIND_OURS) {
    char json[256];
    int n = snprintf(json, sizeof json,
                     "{\"op\":\"publish\",\"room\":\"bench\",\"data\":\"%.*s\",\"echo\":false,\"id\":%llu}",
                     PAYLOAD_BYTES, (const char *)payload, (unsigned long long)next_seq);
    pout_ws_frame(0x1, (const uint8_t *)json, (size_t)n);
  } else if (opt.kind == KIND_WS) {
    pout_ws_frame(0x1, payload, PAYLOAD_BYTES);
  } else if (opt.kind == KIND_SIO) {
    // The payload is JSON-safe, so it goes between quotes as it is. One ack id for all: replies come in order.
    char packet[128];
    int n = snprintf(packet, sizeof packet, "421[\"publish\",\"%.*s\"]", PAYLOAD_BYTES, (const char *)payload);
    pout_ws_frame(0x1, (const uint8_t *)packet, (size_t)n);
  } else {
    uint8_t *f = pout_reserve(4 + PAYLOAD_BYTES);
    f[0] = f[1] = f[2] = 0, f[3] = PAYLOAD_BYTES;
    memcpy(f + 4, payload, PAYLOAD_BYTES);
  }
  next_seq++;
  inflight++;
}

// Queues the publishes the current mode allows at time t; returns the next scheduled send, or 0.
static uint64_t queue_publishes(uint64_t t) {
  switch (mode) {
  case PUB_IDLE:
    return 0;
  case PUB_PRIME:
    if (inflight == 0 && t >= next_pub_ns) {
      publish();
      next_pub_ns = t + 20 * 1000000u; // a gap, so joins still in progress are not starved
    }
    return inflight == 0 ? next_pub_ns : 0;
  case PUB_RATE:
    // Open loop: a slow server does not slow the schedule, so its queueing shows in the latency.
    while (t >= next_pub_ns) {
      publish();
      next_pub_ns += interval_ns;
    }
    return next_pub_ns;
  case PUB_SATURATE: {
    int lagging = 0;
    while (inflight < opt.inflight) {
      // Acks say the server has written a message, not that it arrived: the lag bound keeps a load
      // generator that reads too slowly from letting the server's queues grow without end.
      if (next_seq - fully_seq >= (uint64_t)opt.max_lag) {
        lagging = 1;
        break;
      }
      publish();
    }
    if (was_blocked) blocked_ns += t - last_pump_ns;
    was_blocked = lagging;
    last_pump_ns = t;
    return 0;
  }
  }
  return 0;
}

// Sends whatever the current mode allows now, in one write; returns the time of the next scheduled
// send, or 0.
static uint64_t pump(uint64_t t) {
  if (pub == NULL || pub->state != C_OPEN) return 0;
  size_t before = pout_len - pout_off;
  uint64_t next = queue_publishes(t);
  if (pout_len - pout_off != before && !pub_want_out) pub_flush();
  return next;
}

// --- receiving ---

static void record(uint64_t latency_ns) {
  if (nsamples == samples_cap) {
    samples_cap = samples_cap ? samples_cap * 2 : 1 << 18;
    samples = realloc(samples, samples_cap * sizeof *samples);
    if (samples == NULL) abort();
  }
  samples[nsamples++] = latency_ns;
}

// Counts one subscriber's copy of message `seq` and moves `fully_seq` past messages everyone has.
static void count_delivery(uint64_t seq) {
  if (base_seq == 0 || seq < fully_seq) return;
  ring[seq % RING]++;
  while (fully_seq < next_seq && ring[fully_seq % RING] >= (uint32_t)subs_open) ring[fully_seq++ % RING] = 0;
}

static void on_subscriber_message(struct conn *c, uint64_t t) {
  // Ours prefixes the sender (`pub: `), Socket.IO wraps it in `42["message","…"]`; the payload is the
  // message's last 64 bytes before the Socket.IO packet's closing `"]`.
  size_t tail = opt.kind == KIND_SIO ? 2 : 0;
  if (c->msg_len < PAYLOAD_BYTES + tail || c->msg_len > MSG_CAP) return;
  const uint8_t *p = c->msg + c->msg_len - tail - PAYLOAD_BYTES;
  if (p[0] != '@') return;
  uint64_t seq = get_digits(p + 1, 10), sent = get_digits(p + 12, 20);
  if (c->got++ == 0) subs_primed++;
  if (counting) window_deliveries++;
  if (sent >= lat_t0 && sent < lat_t1) record(t - sent);
  count_delivery(seq);
}

static void on_publisher_message(struct conn *c) {
  size_t n = c->msg_len < MSG_CAP ? c->msg_len : MSG_CAP;
  if (opt.kind == KIND_OURS) {
    // Replies are `{"id":N,"ok":true,…}`; events (`{"type":…}`) need no answer.
    int ok = memmem(c->msg, n, "\"ok\":true", 9) != NULL;
    if (!ok && memmem(c->msg, n, "\"ok\":false", 10) == NULL) return;
    if (!ok && ack_errors++ < 3) fprintf(stderr, "fanout: publish refused: %.*s\n", (int)n, c->msg);
  }
  acks++;
  if (inflight > 0) inflight--;
}

// Sends a masked frame of at most 125 bytes: a Pong, or a Socket.IO pong `3` or CONNECT `40`.
static void send_small(struct conn *c, int opcode, const uint8_t *data, unsigned n) {
  if (c == pub) return pout_ws_frame(opcode, data, n), pub_flush();
  uint8_t f[6 + 125];
  f[0] = (uint8_t)(0x80 | opcode);
  f[1] = (uint8_t)(0x80 | n);
  memcpy(f + 2, mask_key, 4);
  for (unsigned i = 0; i < n; i++) f[6 + i] = data[i] ^ mask_key[i & 3];
  // At most 131 bytes into a socket we write nothing else to: it fits.
  if (send(c->fd, f, 6 + n, MSG_NOSIGNAL) != (ssize_t)(6 + n)) fail(c, "small frame write");
}

// Answers a Ping with a masked Pong carrying its payload (§5.5.3).
static void pong(struct conn *c) { send_small(c, 0xa, c->ctrl, c->ctrl_len); }

static unsigned header_need(const struct conn *c) {
  if (opt.kind == KIND_RAW) return 4;
  if (c->hdr_have < 2) return 2;
  unsigned len7 = c->hdr[1] & 0x7f;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
}

// Checks a complete header and sets up its payload (§5.2, §5.4, §5.5); -1 for a frame no server sends.
static int start_frame(struct conn *c) {
  if (opt.kind == KIND_RAW) {
    c->opcode = 0x2, c->fin = 1, c->msg_len = 0;
    c->payload_left = (uint64_t)c->hdr[0] << 24 | c->hdr[1] << 16 | c->hdr[2] << 8 | c->hdr[3];
    return 0;
  }
  c->fin = c->hdr[0] >> 7;
  c->opcode = c->hdr[0] & 0x0f;
  if ((c->hdr[0] & 0x70) != 0 || (c->hdr[1] & 0x80) != 0) return -1; // §5.1: servers never mask
  unsigned len7 = c->hdr[1] & 0x7f;
  c->payload_left = len7;
  if (len7 == 126) c->payload_left = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
  if (len7 == 127) {
    c->payload_left = 0;
    for (int i = 2; i < 10; i++) c->payload_left = c->payload_left << 8 | c->hdr[i];
  }
  if (c->opcode >= 0x8) {
    c->ctrl_len = 0;
    return (!c->fin || c->payload_left > 125 || c->opcode > 0xa) ? -1 : 0; // §5.5
  }
  if (c->opcode > 0x2) return -1;
  if (c->opcode != 0x0) c->msg_len = 0; // a new message; 0x0 continues the current one
  return 0;
}

static void take_payload(struct conn *c, const uint8_t *p, size_t n) {
  if (c->opcode >= 0x8) {
    memcpy(c->ctrl + c->ctrl_len, p, n);
    c->ctrl_len += (unsigned)n;
    return;
  }
  if (c->msg_len < MSG_CAP) memcpy(c->msg + c->msg_len, p, n < MSG_CAP - c->msg_len ? n : MSG_CAP - c->msg_len);
  c->msg_len += n;
}

static void become_open(struct conn *c);

// A Socket.IO packet: the opening (open `0{…}` answered with CONNECT `40`, then the namespace's `40{…}`),
// pings `2` answered with `3`, and once open the EVENTs and ACKs of the benchmark. Returns -1 to drop c.
static int on_sio_message(struct conn *c, uint64_t t) {
  const uint8_t *m = c->msg;
  size_t n = c->msg_len;
  if (n == 1 && m[0] == '2') return send_small(c, 0x1, (const uint8_t *)"3", 1), 0;
  if (c->state == C_JOINING && n >= 1 && m[0] == '0') return send_small(c, 0x1, (const uint8_t *)"40", 2), 0;
  if (c->state == C_JOINING && n >= 2 && m[0] == '4' && m[1] == '0') return become_open(c), 0;
  if (c->state == C_OPEN && n >= 2 && m[0] == '4' && m[1] == '2' && c != pub) on_subscriber_message(c, t);
  else if (c->state == C_OPEN && n >= 2 && m[0] == '4' && m[1] == '3' && c == pub) on_publisher_message(c);
  else if (!(n == 1 && m[0] == '6')) { // anything but a noop: a CONNECT_ERROR `44{…}`, a DISCONNECT `41`…
    static int reported;
    if (reported++ < 5) fprintf(stderr, "fanout: connection %d: unexpected packet %.*s\n", c->index, (int)n, m);
    return -1;
  }
  return 0;
}

// Returns -1 when the server closed the connection with a Close frame, or sent what no server of its kind may.
static int end_frame(struct conn *c, uint64_t t) {
  if (c->opcode == 0x8) return -1;
  if (c->opcode == 0x9) pong(c);
  if (c->opcode >= 0x8 || !c->fin) return 0;
  if (opt.kind == KIND_SIO) return on_sio_message(c, t);
  if (c == pub) on_publisher_message(c);
  else on_subscriber_message(c, t);
  return 0;
}

static void on_bytes(struct conn *c, const uint8_t *p, size_t n, uint64_t t) {
  const uint8_t *end = p + n;
  while (p < end && (c->state == C_OPEN || c->state == C_JOINING)) {
    if (!c->in_payload) {
      unsigned need;
      while ((need = header_need(c)) > c->hdr_have && p < end) c->hdr[c->hdr_have++] = *p++;
      if (need > c->hdr_have) return;
      if (start_frame(c) < 0) return fail(c, "protocol violation");
      c->hdr_have = 0;
      c->in_payload = 1;
    }
    size_t take = (size_t)(end - p) < c->payload_left ? (size_t)(end - p) : (size_t)c->payload_left;
    take_payload(c, p, take);
    p += take;
    c->payload_left -= take;
    if (c->payload_left == 0) {
      c->in_payload = 0;
      if (end_frame(c, t) < 0) return fail(c, "closed by server (Close frame) or an unexpected packet");
    }
  }
}

// --- connections ---

static const char sample_key[] = "dGhlIHNhbXBsZSBub25jZQ=="; // RFC 6455 §1.3; wire.c checks its accept value

static size_t handshake_request(const struct conn *c, char *out, size_t cap) {
  char target[128];
  const char *protocol = "";
  if (opt.kind == KIND_SIO) snprintf(target, sizeof target, "/socket.io/?EIO=4&transport=websocket");
  else if (opt.kind != KIND_OURS) snprintf(target, sizeof target, c == pub ? "/pub" : "/");
  else if (c == pub) {
    snprintf(target, sizeof target, "/ws?room=bench&nick=pub");
    protocol = "Sec-WebSocket-Protocol: switchboard.v1\r\n";
  } else if (opt.distinct_nicks) snprintf(target, sizeof target, "/ws?room=bench&nick=s%d", c->index);
  // One nickname shared by key: presence is per nickname, so 10,000 joins announce one join, not
  // 10,000 joins to up to 10,000 members each (see bench/FANOUT.md).
  else snprintf(target, sizeof target, "/ws?room=bench&nick=sub&key=fanout-bench");
  int n = snprintf(out, cap,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                   target, opt.port, sample_key, protocol);
  return n < 0 ? 0 : (size_t)n;
}

static void become_open(struct conn *c) {
  c->state = C_OPEN;
  pending--;
  if (c != pub) subs_open++;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void start_conn(struct conn *c) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  c->state = C_CONNECTING;
  pending++;
  if (c != pub) started++;
  if (c->fd < 0) return fail(c, strerror(errno));
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS)
    return fail(c, strerror(errno));
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

// The raw server's handshake: an empty frame once it has accepted the connection. Counting a connection as
// open as soon as the kernel completes it would let thousands queue in the listen backlog and overflow it.
static void on_raw_hello(struct conn *c, const uint8_t *p, size_t n, uint64_t t) {
  static const uint8_t hello[4] = {0, 0, 0, 0};
  size_t take = n < 4 - c->hs_len ? n : 4 - c->hs_len;
  if (memcmp(p, hello + c->hs_len, take) != 0) return fail(c, "no empty frame from the raw server");
  c->hs_len += take;
  if (c->hs_len < 4) return;
  become_open(c);
  if (take < n) on_bytes(c, p + take, n - take, t);
}

static void on_handshake_bytes(struct conn *c, const uint8_t *p, size_t n, uint64_t t) {
  if (opt.kind == KIND_RAW) return on_raw_hello(c, p, n, t);
  c->hs = realloc(c->hs, c->hs_len + n);
  memcpy(c->hs + c->hs_len, p, n);
  c->hs_len += n;
  size_t head = 0;
  int deflate = 0;
  int rc = wire_handshake_response(c->hs, c->hs_len, &head, &deflate);
  if (rc == 0) return c->hs_len > 16384 ? fail(c, "handshake response too long") : (void)0;
  if (rc < 0 || deflate) return fail(c, "handshake refused");
  if (c == pub && opt.kind == KIND_OURS && memmem(c->hs, head, "switchboard.v1", 14) == NULL)
    return fail(c, "server did not select switchboard.v1");
  char *hs = c->hs;
  size_t len = c->hs_len;
  c->hs = NULL;
  if (opt.kind == KIND_SIO) c->state = C_JOINING; // open once in the namespace (on_sio_message)
  else become_open(c);
  if (head < len) on_bytes(c, (uint8_t *)hs + head, len - head, t);
  free(hs);
}

static void on_writable(struct conn *c) {
  if (c == pub && (c->state == C_OPEN || c->state == C_JOINING)) return pub_flush();
  if (c->state == C_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(c, strerror(err));
    c->state = C_HANDSHAKE;
    if (opt.kind == KIND_RAW) { // nothing to send: the server's empty frame says it has accepted us
      struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
      epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
  }
  if (c->state != C_HANDSHAKE || opt.kind == KIND_RAW) return;
  char request[512];
  size_t request_len = handshake_request(c, request, sizeof request);
  ssize_t w = send(c->fd, request + c->hs_sent, request_len - c->hs_sent, MSG_NOSIGNAL);
  if (w < 0) return (errno == EAGAIN) ? (void)0 : fail(c, "handshake write");
  c->hs_sent += (size_t)w;
  if (c->hs_sent == request_len) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
  }
}

static void on_readable(struct conn *c) {
  ssize_t n = read(c->fd, rbuf, sizeof rbuf);
  uint64_t t = now_ns(); // receipt time: when the bytes reached us
  if (n == 0) return fail(c, "closed by server");
  if (n < 0) return (errno == EAGAIN || errno == EINTR) ? (void)0 : fail(c, strerror(errno));
  if (c->state == C_OPEN || c->state == C_JOINING) on_bytes(c, rbuf, (size_t)n, t);
  else on_handshake_bytes(c, rbuf, (size_t)n, t);
}

// Runs the event loop until `until_ns` (0 = none) or until `done()` says so.
static void loop(uint64_t until_ns, int (*done)(void)) {
  struct epoll_event evs[512];
  while (!stop_requested) {
    while (pending < RAMP && started < opt.subs) start_conn(&conns[started]);
    if (started == opt.subs && pending == 0 && !pub_started) pub_started = 1, start_conn(pub);
    uint64_t t = now_ns();
    if (until_ns != 0 && t >= until_ns) return;
    if (done != NULL && done()) return;
    uint64_t next = pump(t);
    uint64_t wake = until_ns;
    if (next != 0 && (wake == 0 || next < wake)) wake = next;
    int timeout = wake == 0 ? -1 : wake <= t ? 0 : (int)((wake - t + 999999) / 1000000);
    int n = epoll_wait(epfd, evs, 512, busy_poll ? 0 : timeout);
    if (busy_poll && n == 0 && idle_since_ns == 0) idle_since_ns = thread_cpu_ns();
    if (n > 0 && idle_since_ns != 0) idle_poll_ns += thread_cpu_ns() - idle_since_ns, idle_since_ns = 0;
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (c->state == C_DEAD) continue;
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
      if (c->state != C_DEAD && (evs[i].events & EPOLLOUT)) on_writable(c);
    }
  }
}

static int setup_done(void) {
  return pub_started && pub->state != C_CONNECTING && pub->state != C_HANDSHAKE && pub->state != C_JOINING;
}
static int primed(void) { return subs_primed >= subs_open && inflight == 0; }
static int drained(void) { return inflight == 0 && fully_seq == next_seq; }

// --- phases ---

static int compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double percentile_us(double p) {
  if (nsamples == 0) return 0;
  size_t rank = (size_t)(p * (double)nsamples + 0.999999);
  return (double)samples[(rank ? rank : 1) - 1] / 1000.0;
}

static void say(const char *line) {
  printf("%s\n", line);
  fflush(stdout);
}

// Open loop at `opt.rate` deliveries/s; every copy of every message sent in the window is one sample.
static void run_latency(void) {
  interval_ns = (uint64_t)(1e9 * opt.subs / opt.rate);
  next_pub_ns = now_ns();
  mode = PUB_RATE;
  loop(now_ns() + (uint64_t)(opt.lat_warmup_s * 1e9), NULL);
  // The window opens halfway between two sends and spans whole intervals, so it holds exactly the sends
  // the rate asks for, however its length and the interval divide.
  uint64_t periods = (uint64_t)(opt.lat_s * 1e9 / (double)interval_ns + 0.5);
  uint64_t open_at = next_pub_ns - interval_ns / 2;
  loop(open_at > now_ns() ? open_at : open_at + interval_ns, NULL);
  say("measuring");
  double cpu0 = cpu_seconds();
  uint64_t idle0 = idle_total_ns(), seq0 = next_seq;
  lat_t0 = now_ns();
  lat_t1 = lat_t0 + (periods > 0 ? periods : 1) * interval_ns;
  loop(lat_t1, NULL);
  double cpu1 = cpu_seconds();
  double idle = (double)(idle_total_ns() - idle0) / 1e9;
  say("measured");
  uint64_t sent = next_seq - seq0, last = next_seq;
  // Stragglers of the window's messages still count; the schedule keeps running meanwhile.
  uint64_t grace = now_ns() + 5000000000u;
  while (!stop_requested && fully_seq < last && now_ns() < grace) loop(now_ns() + 10000000u, NULL);
  double wall = (double)(lat_t1 - lat_t0) / 1e9;
  qsort(samples, nsamples, sizeof *samples, compare_u64);
  printf("{\"phase\":\"latency\",\"offered_per_s\":%.1f,\"publishes\":%llu,\"expected\":%llu,\"received\":%zu,"
         "\"achieved_per_s\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,\"cpu_share\":%.4f,"
         "\"work_share\":%.4f,\"errors\":%d,\"open\":%d,\"seconds\":%.3f}\n",
         opt.rate, (unsigned long long)sent, (unsigned long long)(sent * (uint64_t)subs_open), nsamples,
         (double)nsamples / wall, percentile_us(0.50), percentile_us(0.99), percentile_us(1.0),
         (cpu1 - cpu0) / wall, (cpu1 - cpu0 - idle) / wall, errors, subs_open, wall);
  fflush(stdout);
  lat_t0 = lat_t1 = 0;
}

// Closed loop: K publishes in flight, every copy that arrives in the window counts.
static void run_saturation(int k) {
  opt.inflight = k;
  // Unless given: about 256k copies in transit, and never below two windows of K.
  opt.max_lag = opt.max_lag_given > 0 ? opt.max_lag_given : 262144 / opt.subs;
  if (opt.max_lag < 2 * k) opt.max_lag = 2 * k;
  if (opt.max_lag > (int)RING / 2) opt.max_lag = RING / 2;
  mode = PUB_SATURATE;
  last_pump_ns = now_ns();
  loop(now_ns() + (uint64_t)(opt.warmup_s * 1e9), NULL);
  say("measuring");
  double cpu0 = cpu_seconds();
  uint64_t acks0 = acks, idle0 = idle_total_ns();
  blocked_ns = 0;
  window_deliveries = 0;
  counting = 1;
  uint64_t t0 = now_ns();
  loop(t0 + (uint64_t)(opt.duration_s * 1e9), NULL);
  uint64_t t1 = now_ns();
  counting = 0;
  double cpu1 = cpu_seconds();
  double idle = (double)(idle_total_ns() - idle0) / 1e9;
  say("measured");
  double wall = (double)(t1 - t0) / 1e9;
  printf("{\"phase\":\"saturation\",\"deliveries_per_s\":%.1f,\"publishes_per_s\":%.1f,\"cpu_share\":%.4f,"
         "\"work_share\":%.4f,\"lag_blocked_share\":%.4f,\"inflight\":%d,\"max_lag\":%d,\"errors\":%d,\"open\":%d,"
         "\"ack_errors\":%llu,\"seconds\":%.3f}\n",
         (double)window_deliveries / wall, (double)(acks - acks0) / wall, (cpu1 - cpu0) / wall,
         (cpu1 - cpu0 - idle) / wall, (double)blocked_ns / 1e9 / wall, opt.inflight, opt.max_lag, errors, subs_open,
         (unsigned long long)ack_errors, wall);
  fflush(stdout);
}

static void usage(void) {
  fprintf(stderr, "usage: fanout --port P [--kind ours|ws|raw|sio] [--subs S] [--inflight K[,K…]] [--max-lag M]\n"
                  "              [--rate DELIVERIES_PER_S] [--lat-warmup S] [--lat-duration S]\n"
                  "              [--warmup S] [--duration S] [--distinct-nicks]\n");
  exit(2);
}

// `--inflight 4,16`: one throughput window per K, in order, on the same connections.
static void parse_inflights(const char *list) {
  opt.ninflights = 0;
  for (const char *p = list; *p != '\0';) {
    char *end;
    long k = strtol(p, &end, 10);
    if (k <= 0 || (*end != ',' && *end != '\0') || opt.ninflights == 8) usage();
    opt.inflights[opt.ninflights++] = (int)k;
    p = *end == ',' ? end + 1 : end;
  }
}

static enum server_kind parse_kind(const char *v) {
  if (strcmp(v, "raw") == 0) return KIND_RAW;
  if (strcmp(v, "ws") == 0) return KIND_WS;
  if (strcmp(v, "sio") == 0) return KIND_SIO;
  if (strcmp(v, "ours") != 0) usage();
  return KIND_OURS;
}

static void parse_args(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--distinct-nicks") == 0) opt.distinct_nicks = 1;
    else if (v == NULL) usage();
    else if (strcmp(a, "--port") == 0) opt.port = atoi(v), i++;
    else if (strcmp(a, "--kind") == 0) opt.kind = parse_kind(v), i++;
    else if (strcmp(a, "--subs") == 0) opt.subs = atoi(v), i++;
    else if (strcmp(a, "--inflight") == 0) parse_inflights(v), i++;
    else if (strcmp(a, "--max-lag") == 0) opt.max_lag_given = atoi(v), i++;
    else if (strcmp(a, "--rate") == 0) opt.rate = atof(v), i++;
    else if (strcmp(a, "--lat-warmup") == 0) opt.lat_warmup_s = atof(v), i++;
    else if (strcmp(a, "--lat-duration") == 0) opt.lat_s = atof(v), i++;
    else if (strcmp(a, "--warmup") == 0) opt.warmup_s = atof(v), i++;
    else if (strcmp(a, "--duration") == 0) opt.duration_s = atof(v), i++;
    else usage();
  }
  if (opt.port <= 0 || opt.subs <= 0 || opt.ninflights == 0 || opt.rate <= 0 || opt.duration_s <= 0) usage();
}

// Lifts the descriptor limit to what the run needs (the hard one too when we are root).
static void raise_fd_limit(rlim_t need) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need) return;
  if (rl.rlim_max < need) rl.rlim_max = need;
  rl.rlim_cur = need;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) fprintf(stderr, "fanout: cannot raise the descriptor limit\n");
}

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  raise_fd_limit((rlim_t)opt.subs + 64);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal}; // no SA_RESTART: epoll_wait returns on a signal
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  conns = calloc((size_t)opt.subs + 1, sizeof *conns);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (conns == NULL || epfd < 0) return perror("fanout"), 1;
  for (int i = 0; i <= opt.subs; i++) conns[i].index = i;
  pub = &conns[opt.subs];

  uint64_t t = now_ns();
  loop(t + (uint64_t)(opt.setup_s * 1e9), setup_done);
  for (int i = 0; i <= opt.subs; i++)
    if (conns[i].state == C_CONNECTING || conns[i].state == C_HANDSHAKE || conns[i].state == C_JOINING)
      fail(&conns[i], "setup timed out");
  printf("connected %d %d %.3f\n", subs_open, errors, (double)(now_ns() - t) / 1e9);
  fflush(stdout);
  if (stop_requested || pub->state != C_OPEN || subs_open == 0) return 1;

  // Every subscriber is in the room once it has had one message; from then on each message counts.
  t = now_ns();
  mode = PUB_PRIME;
  loop(t + 60 * 1000000000ull, primed);
  printf("primed %d %.3f\n", subs_primed, (double)(now_ns() - t) / 1e9);
  fflush(stdout);
  if (stop_requested || subs_primed < subs_open) return 1;
  base_seq = fully_seq = next_seq;
  busy_poll = 1;

  run_latency();
  mode = PUB_IDLE;
  loop(now_ns() + 5000000000ull, drained);
  for (int i = 0; i < opt.ninflights && !stop_requested; i++) run_saturation(opt.inflights[i]);
  return stop_requested ? 1 : 0;
}
