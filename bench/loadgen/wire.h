// The client side of the wire formats the load generator speaks: WebSocket (RFC 6455 §4.1, §5.2, with
// RFC 7692 §7.2 inflate of compressed replies), raw 4-byte big-endian length prefixes, and Socket.IO v5 over
// Engine.IO v4 on the WebSocket transport (text packets only: open, ping/pong, CONNECT, EVENT, ACK).
#ifndef LOADGEN_WIRE_H
#define LOADGEN_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

enum wire_mode { MODE_WS, MODE_RAW, MODE_SIO };

// Where a MODE_SIO connection goes: straight to the WebSocket transport, no polling first.
#define WIRE_SIO_TARGET "/socket.io/?EIO=4&transport=websocket"

// How far a MODE_SIO connection has come: waiting for the Engine.IO open packet `0{…}`, then (having sent
// CONNECT `40`) for the namespace's answer `40{"sid":…}`; ready once that arrived.
enum sio_stage { SIO_OPENING, SIO_CONNECTING, SIO_READY };

// Negative results of reader_push; the connection is dropped and counted as an error.
enum wire_error {
  WIRE_PROTOCOL = -1, // a frame no server may send (masked, bad opcode, bad fragmentation)
  WIRE_MISMATCH = -2, // the echo differs from what was sent
  WIRE_CLOSED = -3,   // the server sent a Close frame
  WIRE_INFLATE = -4,  // a compressed reply did not inflate
  WIRE_REFUSED = -5,  // MODE_SIO: the namespace answered CONNECT with CONNECT_ERROR `44`
};

// Streaming parser of one connection's replies. It never buffers a whole message: payload bytes are
// compared against the expected echo as they arrive, so 16 KiB replies cost no copies.
struct reader {
  enum wire_mode mode;
  const uint8_t *expect;
  size_t expect_len;
  uint8_t hdr[14];
  unsigned hdr_have;
  uint64_t payload_left;
  int in_payload;
  int opcode;      // of the frame being read
  int fin;         // of the frame being read
  int in_message;  // a data frame without FIN was seen
  int compressed;  // RSV1 on the message's first frame
  size_t msg_len;  // bytes of the current message checked so far
  uint8_t ctrl[125];
  unsigned ctrl_len;
  z_stream *z;     // set once permessage-deflate is negotiated
  // A short masked frame waiting to be written, 0 when none: a Pong, or in MODE_SIO the text `3` answering
  // an Engine.IO ping `2` or the CONNECT `40` answering the open packet.
  uint8_t pong[131];
  size_t pong_len;
  enum sio_stage sio_stage;
  int sio_packet;     // MODE_SIO: the current message is an Engine.IO/Socket.IO packet, not an echo
  uint8_t sio_head[2]; // its first two bytes, all that tells those packets apart
  uint64_t compressed_msgs;
};

// Writes the upgrade request for `target` ("/", or WIRE_SIO_TARGET) into out; returns its length.
size_t wire_handshake_request(char *out, size_t cap, int port, const char *target, int offer_deflate);

// Writes a masked text frame of n < 126 bytes into out (n + 6 bytes); returns its length.
size_t wire_small_text(uint8_t *out, const char *text, size_t n);

// Checks the server's answer. Returns 1 when complete and valid (header_len = bytes up to and including
// the blank line, deflate = permessage-deflate accepted), 0 when more bytes are needed, -1 when refused.
int wire_handshake_response(const char *buf, size_t len, size_t *header_len, int *deflate);

// A complete frame carrying payload: a masked text frame for MODE_WS and MODE_SIO (whose payload is the
// whole Socket.IO packet), a length-prefixed one for MODE_RAW.
uint8_t *wire_build_message(enum wire_mode mode, const uint8_t *payload, size_t size, size_t *frame_len);

void reader_init(struct reader *r, enum wire_mode mode, const uint8_t *expect, size_t expect_len);
int reader_enable_inflate(struct reader *r);
void reader_free(struct reader *r);

// Feeds received bytes; returns how many complete, verified echoes they finished, or a wire_error. In
// MODE_SIO it also answers the opening and pings (through the pong slot) and moves sio_stage along.
int reader_push(struct reader *r, const uint8_t *p, size_t n);

#endif
