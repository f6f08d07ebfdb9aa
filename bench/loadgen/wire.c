// Handshake, framing and the streaming reply parser of the load generator (RFC 6455 §4.1, §5.2, §5.5;
// RFC 7692 §7.2.2 for inflating compressed replies; Engine.IO v4 and Socket.IO v5 packet types for
// MODE_SIO). See wire.h for the interface.
#define _GNU_SOURCE
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

// Deviation: RFC 6455 §5.3 wants a fresh random masking key per frame. A server cannot tell, and a
// fixed key lets every connection send one prebuilt frame, keeping the load generator's CPU low.
static const uint8_t mask_key[4] = {0x37, 0xfa, 0x21, 0x3d};

// The RFC 6455 §1.3 sample key and its accept value: a fixed key keeps the handshake a memcpy.
static const char sample_key[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char sample_accept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

static uint8_t inflate_out[64 * 1024];

size_t wire_handshake_request(char *out, size_t cap, int port, const char *target, int offer_deflate) {
  static const char offer[] = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
  int n = snprintf(out, cap,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                   target, port, sample_key, offer_deflate ? offer : "");
  return n < 0 ? 0 : (size_t)n;
}

size_t wire_small_text(uint8_t *out, const char *text, size_t n) {
  out[0] = 0x81; // FIN, text
  out[1] = 0x80 | (uint8_t)n;
  memcpy(out + 2, mask_key, 4);
  for (size_t i = 0; i < n; i++) out[6 + i] = (uint8_t)text[i] ^ mask_key[i & 3];
  return n + 6;
}

// Finds header `name` in the response head and returns its trimmed value (not NUL-terminated).
static const char *find_header(const char *head, size_t len, const char *name, size_t *value_len) {
  size_t name_len = strlen(name);
  const char *end = head + len;
  const char *line = memmem(head, len, "\r\n", 2);
  while (line != NULL && line + 2 < end) {
    line += 2;
    const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
    if (eol == NULL) eol = end;
    if ((size_t)(eol - line) > name_len && line[name_len] == ':' && strncasecmp(line, name, name_len) == 0) {
      const char *v = line + name_len + 1;
      while (v < eol && (*v == ' ' || *v == '\t')) v++;
      const char *ve = eol;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      *value_len = (size_t)(ve - v);
      return v;
    }
    line = eol;
  }
  return NULL;
}

int wire_handshake_response(const char *buf, size_t len, size_t *header_len, int *deflate) {
  const char *blank = memmem(buf, len, "\r\n\r\n", 4);
  if (blank == NULL) return 0;
  *header_len = (size_t)(blank - buf) + 4;
  if (len < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0) return -1;
  size_t vlen = 0;
  const char *accept = find_header(buf, *header_len, "sec-websocket-accept", &vlen);
  if (accept == NULL || vlen != strlen(sample_accept) || memcmp(accept, sample_accept, vlen) != 0) return -1;
  const char *ext = find_header(buf, *header_len, "sec-websocket-extensions", &vlen);
  *deflate = ext != NULL && memmem(ext, vlen, "permessage-deflate", 18) != NULL;
  return 1;
}

uint8_t *wire_build_message(enum wire_mode mode, const uint8_t *payload, size_t size, size_t *frame_len) {
  uint8_t *f = malloc(size + 14);
  if (f == NULL) return NULL;
  size_t h = 0;
  if (mode == MODE_RAW) {
    for (int i = 0; i < 4; i++) f[i] = (uint8_t)(size >> (24 - 8 * i));
    memcpy(f + 4, payload, size);
    *frame_len = size + 4;
    return f;
  }
  f[h++] = 0x81; // FIN, text
  if (size < 126) {
    f[h++] = 0x80 | (uint8_t)size;
  } else if (size < 65536) {
    f[h++] = 0x80 | 126;
    f[h++] = (uint8_t)(size >> 8), f[h++] = (uint8_t)size;
  } else {
    f[h++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) f[h++] = (uint8_t)((uint64_t)size >> (8 * i));
  }
  memcpy(f + h, mask_key, 4);
  h += 4;
  for (size_t i = 0; i < size; i++) f[h + i] = payload[i] ^ mask_key[i & 3];
  *frame_len = h + size;
  return f;
}

void reader_init(struct reader *r, enum wire_mode mode, const uint8_t *expect, size_t expect_len) {
  memset(r, 0, sizeof *r);
  r->mode = mode;
  r->expect = expect;
  r->expect_len = expect_len;
}

int reader_enable_inflate(struct reader *r) {
  r->z = calloc(1, sizeof *r->z);
  // Raw deflate with the largest window accepts whatever server_max_window_bits the server chose.
  if (r->z == NULL || inflateInit2(r->z, -15) != Z_OK) return -1;
  return 0;
}

void reader_free(struct reader *r) {
  if (r->z != NULL) {
    inflateEnd(r->z);
    free(r->z);
    r->z = NULL;
  }
}

// Compares the next n bytes of the message against the expected echo.
static int check_bytes(struct reader *r, const uint8_t *p, size_t n) {
  if (r->msg_len + n > r->expect_len || memcmp(r->expect + r->msg_len, p, n) != 0) return WIRE_MISMATCH;
  r->msg_len += n;
  return 0;
}

static int inflate_bytes(struct reader *r, const uint8_t *p, size_t n) {
  z_stream *z = r->z;
  z->next_in = (Bytef *)p;
  z->avail_in = (uInt)n;
  do {
    z->next_out = inflate_out;
    z->avail_out = sizeof inflate_out;
    int rc = inflate(z, Z_SYNC_FLUSH);
    if (rc == Z_STREAM_END) inflateReset(z);
    else if (rc != Z_OK && rc != Z_BUF_ERROR) return WIRE_INFLATE;
    int checked = check_bytes(r, inflate_out, sizeof inflate_out - z->avail_out);
    if (checked < 0) return checked;
    if (rc == Z_BUF_ERROR) break;
  } while (z->avail_in > 0 || z->avail_out == 0);
  return 0;
}

// MODE_SIO: an echo is an EVENT or ACK (`42…`, `43…`) once the namespace is joined; every other message is
// an Engine.IO or Socket.IO control packet, of which only the first two bytes and the length matter.
static int consume_sio_payload(struct reader *r, const uint8_t *p, size_t n) {
  if (r->msg_len == 0) r->sio_packet = r->sio_stage != SIO_READY || p[0] != '4';
  if (!r->sio_packet) return check_bytes(r, p, n);
  for (size_t i = 0; i < n && r->msg_len + i < 2; i++) r->sio_head[r->msg_len + i] = p[i];
  r->msg_len += n;
  return 0;
}

static int consume_payload(struct reader *r, const uint8_t *p, size_t n) {
  if (r->opcode >= 0x8) {
    memcpy(r->ctrl + r->ctrl_len, p, n);
    r->ctrl_len += (unsigned)n;
    return 0;
  }
  if (r->mode == MODE_SIO) return consume_sio_payload(r, p, n);
  return r->compressed ? inflate_bytes(r, p, n) : check_bytes(r, p, n);
}

static unsigned header_need(const struct reader *r) {
  if (r->mode == MODE_RAW) return 4;
  if (r->hdr_have < 2) return 2;
  unsigned len7 = r->hdr[1] & 0x7f;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
}

// Validates a complete header and sets up the payload that follows (§5.2, §5.4, §5.5).
static int start_frame(struct reader *r) {
  if (r->mode == MODE_RAW) {
    r->opcode = 0x2, r->fin = 1;
    r->payload_left = 0;
    for (int i = 0; i < 4; i++) r->payload_left = r->payload_left << 8 | r->hdr[i];
    r->in_message = 1, r->compressed = 0, r->msg_len = 0;
    return 0;
  }
  int rsv1 = (r->hdr[0] >> 6) & 1;
  r->fin = r->hdr[0] >> 7;
  r->opcode = r->hdr[0] & 0x0f;
  if ((r->hdr[0] & 0x30) != 0 || (r->hdr[1] & 0x80) != 0) return WIRE_PROTOCOL; // §5.1: servers never mask
  unsigned len7 = r->hdr[1] & 0x7f;
  r->payload_left = len7;
  if (len7 == 126) r->payload_left = (uint64_t)r->hdr[2] << 8 | r->hdr[3];
  if (len7 == 127) {
    r->payload_left = 0;
    for (int i = 2; i < 10; i++) r->payload_left = r->payload_left << 8 | r->hdr[i];
  }
  if (r->opcode >= 0x8) {
    // §5.5: control frames are short and never fragmented
    if (!r->fin || rsv1 || r->payload_left > 125 || r->opcode > 0xa) return WIRE_PROTOCOL;
    r->ctrl_len = 0;
    return 0;
  }
  if (r->opcode == 0x0) return (!r->in_message || rsv1) ? WIRE_PROTOCOL : 0;
  if (r->opcode > 0x2 || r->in_message || (rsv1 && r->z == NULL)) return WIRE_PROTOCOL;
  r->in_message = 1, r->compressed = rsv1, r->msg_len = 0;
  return 0;
}

// Masks a Pong carrying the Ping's payload (§5.5.3) into r->pong for the caller to write.
static void queue_pong(struct reader *r) {
  r->pong[0] = 0x8a;
  r->pong[1] = 0x80 | (uint8_t)r->ctrl_len;
  memcpy(r->pong + 2, mask_key, 4);
  for (unsigned i = 0; i < r->ctrl_len; i++) r->pong[6 + i] = r->ctrl[i] ^ mask_key[i & 3];
  r->pong_len = 6 + r->ctrl_len;
}

static void queue_sio_text(struct reader *r, const char *text) {
  r->pong_len = wire_small_text(r->pong, text, strlen(text));
}

// Answers a complete Engine.IO/Socket.IO control packet: open `0{…}` with CONNECT `40`, the namespace's
// `40{…}` by becoming ready, a ping `2` with a pong `3`. Returns 0 or a wire_error.
static int end_sio_packet(struct reader *r) {
  const uint8_t *h = r->sio_head;
  int two = r->msg_len >= 2;
  if (r->msg_len == 1 && h[0] == '2') return queue_sio_text(r, "3"), 0;
  if (r->msg_len == 1 && h[0] == '6') return 0; // noop
  if (r->msg_len == 1 && h[0] == '1') return WIRE_CLOSED;
  if (r->sio_stage == SIO_OPENING && h[0] == '0') {
    r->sio_stage = SIO_CONNECTING;
    return queue_sio_text(r, "40"), 0;
  }
  if (r->sio_stage == SIO_CONNECTING && two && h[0] == '4' && h[1] == '0') return r->sio_stage = SIO_READY, 0;
  if (two && h[0] == '4' && h[1] == '4') return WIRE_REFUSED;
  return WIRE_PROTOCOL;
}

// Returns 1 when the frame finished a data message, 0 otherwise, or a wire_error.
static int end_frame(struct reader *r) {
  if (r->opcode == 0x8) return WIRE_CLOSED;
  if (r->opcode == 0x9) queue_pong(r);
  if (r->opcode >= 0x8 || !r->fin) return 0;
  if (r->mode == MODE_SIO && (r->sio_packet || r->msg_len == 0)) {
    r->in_message = 0;
    return r->msg_len == 0 ? WIRE_PROTOCOL : end_sio_packet(r);
  }
  if (r->compressed) {
    static const uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff}; // RFC 7692 §7.2.2
    int rc = inflate_bytes(r, tail, sizeof tail);
    if (rc < 0) return rc;
    r->compressed_msgs++;
  }
  r->in_message = 0;
  return r->msg_len == r->expect_len ? 1 : WIRE_MISMATCH;
}

int reader_push(struct reader *r, const uint8_t *p, size_t n) {
  int done = 0;
  const uint8_t *end = p + n;
  while (p < end) {
    if (!r->in_payload) {
      unsigned need;
      while ((need = header_need(r)) > r->hdr_have && p < end) r->hdr[r->hdr_have++] = *p++;
      if (need > r->hdr_have) break;
      int rc = start_frame(r);
      if (rc < 0) return rc;
      r->hdr_have = 0;
      r->in_payload = 1;
    }
    size_t take = (size_t)(end - p) < r->payload_left ? (size_t)(end - p) : (size_t)r->payload_left;
    if (take > 0) {
      int rc = consume_payload(r, p, take);
      if (rc < 0) return rc;
      p += take;
      r->payload_left -= take;
    }
    if (r->payload_left == 0) {
      r->in_payload = 0;
      int rc = end_frame(r);
      if (rc < 0) return rc;
      done += rc;
    }
  }
  return done;
}
