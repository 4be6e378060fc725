/*
 * h2x: the HTTP/2 frame layer (RFC 9113 sections 4 and 6, RFC 9218).
 *
 * A streaming parser and the serialisers of every frame type.  The layer
 * has no session state: it checks every rule that concerns a single frame
 * (sizes, flags, padding, stream 0, setting values) plus the framing rule
 * of RFC 9113 6.10 that a header block is a contiguous run of CONTINUATION
 * frames.  Stream states, flow control, SETTINGS negotiation and limits
 * across frames belong to the session.
 *
 * The parser never buffers a payload: variable-length parts (DATA, header
 * block fragments, GOAWAY debug data, PRIORITY_UPDATE field values) are
 * delivered as slices of the caller's input as they arrive.  It only keeps
 * the bytes of a fixed-size field split between two calls (at most 9).
 */

#ifndef _H2X_FRAME_H_INCLUDED_
#define _H2X_FRAME_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "h2x.h"


/* Frame types: RFC 9113 6, RFC 9218 7.1. */
#define H2X_FRAME_DATA                 0x0
#define H2X_FRAME_HEADERS              0x1
#define H2X_FRAME_PRIORITY             0x2
#define H2X_FRAME_RST_STREAM           0x3
#define H2X_FRAME_SETTINGS             0x4
#define H2X_FRAME_PUSH_PROMISE         0x5
#define H2X_FRAME_PING                 0x6
#define H2X_FRAME_GOAWAY               0x7
#define H2X_FRAME_WINDOW_UPDATE        0x8
#define H2X_FRAME_CONTINUATION         0x9
#define H2X_FRAME_PRIORITY_UPDATE      0x10

/* Flags.  Flags not defined for a type are ignored on receipt. */
#define H2X_FLAG_NONE                  0x00
#define H2X_FLAG_END_STREAM            0x01   /* DATA, HEADERS */
#define H2X_FLAG_ACK                   0x01   /* SETTINGS, PING */
#define H2X_FLAG_END_HEADERS           0x04   /* HEADERS, PUSH_PROMISE,
                                                 CONTINUATION */
#define H2X_FLAG_PADDED                0x08   /* DATA, HEADERS,
                                                 PUSH_PROMISE */
#define H2X_FLAG_PRIORITY              0x20   /* HEADERS */

/* Setting identifiers: RFC 9113 6.5.2, RFC 8441 3, RFC 9218 2.1. */
#define H2X_SETTINGS_HEADER_TABLE_SIZE        0x1
#define H2X_SETTINGS_ENABLE_PUSH              0x2
#define H2X_SETTINGS_MAX_CONCURRENT_STREAMS   0x3
#define H2X_SETTINGS_INITIAL_WINDOW_SIZE      0x4
#define H2X_SETTINGS_MAX_FRAME_SIZE           0x5
#define H2X_SETTINGS_MAX_HEADER_LIST_SIZE     0x6
#define H2X_SETTINGS_ENABLE_CONNECT_PROTOCOL  0x8
#define H2X_SETTINGS_NO_RFC7540_PRIORITIES    0x9

/* Sizes. */
#define H2X_FRAME_HEADER_SIZE          9
#define H2X_FRAME_DEFAULT_MAX_SIZE     16384          /* RFC 9113 4.2 */
#define H2X_FRAME_MAX_SIZE_LIMIT       0xffffff       /* 2^24-1 */
#define H2X_MAX_WINDOW                 0x7fffffff     /* 2^31-1 */
#define H2X_STREAM_ID_MASK             0x7fffffff     /* reserved bit off */
#define H2X_DEFAULT_WEIGHT             16
#define H2X_SETTING_SIZE               6
#define H2X_PING_SIZE                  8
#define H2X_PRIORITY_FIELDS_SIZE       5
#define H2X_FRAME_DEFAULT_MAX_SETTINGS 32    /* entries, CVE-2020-11080 */

/* RFC 9113 3.4: the client connection preface. */
#define H2X_PREFACE                    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2X_PREFACE_SIZE               24


/* Serialised sizes (bytes) of each frame, for the writers below. */
#define H2X_FRAME_PRIORITY_SIZE        (H2X_FRAME_HEADER_SIZE + 5)
#define H2X_FRAME_RST_STREAM_SIZE      (H2X_FRAME_HEADER_SIZE + 4)
#define H2X_FRAME_SETTINGS_SIZE(n)     (H2X_FRAME_HEADER_SIZE + 6 * (n))
#define H2X_FRAME_PING_SIZE            (H2X_FRAME_HEADER_SIZE + 8)
#define H2X_FRAME_GOAWAY_SIZE(dlen)    (H2X_FRAME_HEADER_SIZE + 8 + (dlen))
#define H2X_FRAME_WINDOW_UPDATE_SIZE   (H2X_FRAME_HEADER_SIZE + 4)
#define H2X_FRAME_PRIORITY_UPDATE_SIZE(vlen)                                 \
    (H2X_FRAME_HEADER_SIZE + 4 + (vlen))


/* Frame header as received (reserved bit of the stream id cleared). */
typedef struct {
    uint32_t                   length;      /* payload, padding included */
    uint32_t                   stream_id;
    uint8_t                    type;
    uint8_t                    flags;
} h2x_frame_header_t;


/* RFC 9113 5.3.2 priority fields of HEADERS and PRIORITY. */
typedef struct {
    uint32_t                   dependency;  /* stream id */
    uint16_t                   weight;      /* 1..256 (wire value + 1) */
    uint8_t                    exclusive;   /* 0 or 1 */
} h2x_priority_t;


typedef struct {
    uint16_t                   id;
    uint32_t                   value;
} h2x_setting_t;


/*
 * An error found in a frame.  "connection" is 1 for a connection error
 * (RFC 9113 5.4.1: the session sends GOAWAY with "code" and closes) and
 * 0 for a stream error (5.4.2: RST_STREAM "code" on "stream_id").
 * "reason" is a static string ("client sent ...") for logs and GOAWAY
 * debug data.
 */
typedef struct {
    uint32_t                   code;        /* h2x_error_code_t */
    uint32_t                   stream_id;
    int                        connection;
    const char                *reason;
} h2x_frame_error_t;


/*
 * Callbacks.  Any member may be NULL.  Each gets the callbacks' "data"
 * and the current frame header.  A callback returns 0 to go on, or any
 * other value to stop the parser: h2x_frame_parse() then returns that
 * value, now and on every later call.
 *
 * Order for one frame: on_frame_header once the 9-byte header has passed
 * the checks that need only the header; then the payload callbacks as
 * the bytes arrive; then on_frame_end when the last byte of the frame
 * (padding included) has been consumed.  Slices are never empty and are
 * pointers into the caller's input, valid during the call only.  A frame
 * rejected on its 9-byte header alone (length, stream id, a header block
 * interrupted) gets no on_frame_header.
 *
 *   DATA            on_data slices, padding stripped (fh->length is the
 *                   full length, padding included, for flow control)
 *   HEADERS         on_priority first when the PRIORITY flag is set,
 *                   then on_header_block slices
 *   PUSH_PROMISE    on_push_promise (promised stream id), then
 *                   on_header_block slices
 *   CONTINUATION    on_header_block slices
 *   PRIORITY        on_priority
 *   RST_STREAM      on_rst_stream
 *   SETTINGS        on_setting for each known entry in order; an ACK has
 *                   no entries (on_frame_header and on_frame_end only)
 *   PING            on_ping
 *   GOAWAY          on_goaway, then on_goaway_debug slices
 *   WINDOW_UPDATE   on_window_update
 *   PRIORITY_UPDATE on_priority_update, then on_priority_field slices
 *   unknown type    on_frame_header, payload skipped, on_frame_end
 *
 * SETTINGS entries are checked one by one as they arrive: an invalid
 * entry is a connection error after the entries before it were delivered,
 * so apply a SETTINGS frame at its on_frame_end.
 *
 * A stream error calls on_stream_error and the rest of the frame is
 * skipped (no on_frame_end), parsing goes on with the next frame.  One
 * exception: a HEADERS frame whose stream depends on itself reports the
 * stream error instead of on_priority but still delivers its header block
 * fragments and on_frame_end, because the block must be decoded to keep
 * the HPACK state in sync (RFC 9113 4.3).  With on_stream_error NULL,
 * stream errors are silently skipped.
 *
 * A connection error found by the parser makes h2x_frame_parse() return
 * H2X_ERROR; h2x_frame_parser_error() describes it.
 */
typedef struct {
    int  (*on_frame_header)(void *data, const h2x_frame_header_t *fh);
    int  (*on_data)(void *data, const h2x_frame_header_t *fh,
                    const uint8_t *p, size_t len);
    int  (*on_header_block)(void *data, const h2x_frame_header_t *fh,
                            const uint8_t *p, size_t len);
    int  (*on_priority)(void *data, const h2x_frame_header_t *fh,
                        const h2x_priority_t *pri);
    int  (*on_push_promise)(void *data, const h2x_frame_header_t *fh,
                            uint32_t promised_stream_id);
    int  (*on_rst_stream)(void *data, const h2x_frame_header_t *fh,
                          uint32_t code);
    int  (*on_setting)(void *data, const h2x_frame_header_t *fh,
                       uint16_t id, uint32_t value);
    int  (*on_ping)(void *data, const h2x_frame_header_t *fh,
                    const uint8_t *opaque);            /* 8 bytes */
    int  (*on_goaway)(void *data, const h2x_frame_header_t *fh,
                      uint32_t last_stream_id, uint32_t code);
    int  (*on_goaway_debug)(void *data, const h2x_frame_header_t *fh,
                            const uint8_t *p, size_t len);
    int  (*on_window_update)(void *data, const h2x_frame_header_t *fh,
                             uint32_t increment);
    int  (*on_priority_update)(void *data, const h2x_frame_header_t *fh,
                               uint32_t prioritized_stream_id);
    int  (*on_priority_field)(void *data, const h2x_frame_header_t *fh,
                              const uint8_t *p, size_t len);
    int  (*on_frame_end)(void *data, const h2x_frame_header_t *fh);
    int  (*on_stream_error)(void *data, const h2x_frame_error_t *err);
} h2x_frame_callbacks_t;


/* Parser options for h2x_frame_parser_init(). */
#define H2X_FRAME_EXPECT_PREFACE       0x1   /* first the client preface */


/*
 * The parser.  Embed it (no allocation); the members are private.
 */
typedef struct h2x_frame_parser_s  h2x_frame_parser_t;

struct h2x_frame_parser_s {
    const h2x_frame_callbacks_t   *cb;
    void                          *data;
    h2x_frame_header_t             hd;
    h2x_frame_error_t              err;
    uint32_t                       max_frame_size;
    uint32_t                       max_settings;
    uint32_t                       remaining;   /* payload bytes left */
    uint32_t                       padding;     /* of them, padding */
    uint32_t                       block_stream; /* open header block */
    int                            rc;
    uint8_t                        state;
    uint8_t                        need;        /* fixed field size */
    uint8_t                        have;        /* bytes of it in buf */
    uint8_t                        preface;     /* preface bytes seen */
    uint8_t                        buf[16];
};


/*
 * Prepares a parser: callbacks "cb" (kept by pointer, must outlive the
 * parser), their "data", options H2X_FRAME_EXPECT_PREFACE or 0.  The max
 * frame size starts at 16384 and the SETTINGS entry cap at 32.
 */
void h2x_frame_parser_init(h2x_frame_parser_t *p,
    const h2x_frame_callbacks_t *cb, void *data, unsigned options);

/*
 * Our SETTINGS_MAX_FRAME_SIZE: set it when the peer acknowledged our
 * SETTINGS.  Frames longer are a connection error FRAME_SIZE_ERROR, for
 * every type (DATA included: RFC 9113 4.2 allows either, and a peer that
 * ignores our setting is not worth keeping).  Returns H2X_ERROR if "size"
 * is outside [16384, 2^24-1].
 */
int h2x_frame_parser_set_max_frame_size(h2x_frame_parser_t *p,
    uint32_t size);

/* Max entries in one SETTINGS frame (more: ENHANCE_YOUR_CALM). */
void h2x_frame_parser_set_max_settings(h2x_frame_parser_t *p, uint32_t n);

/*
 * Consumes all "len" bytes, firing callbacks.  Returns H2X_OK, H2X_ERROR
 * on a connection error (see h2x_frame_parser_error()), or the non-zero
 * value a callback returned.  Once stopped, it returns the same value.
 */
int h2x_frame_parse(h2x_frame_parser_t *p, const uint8_t *in, size_t len);

/* The connection error found by the parser, or NULL. */
const h2x_frame_error_t *h2x_frame_parser_error(const h2x_frame_parser_t *p);

/* Whether the parser sits between two frames (no partial frame). */
int h2x_frame_parser_idle(const h2x_frame_parser_t *p);


/*
 * Serialisers.  Each writes into "dst", which must have room for the
 * size given, and returns dst advanced past what it wrote.  Stream ids
 * are written with the reserved bit cleared.
 */

/* 9 bytes. */
uint8_t *h2x_frame_write_header(uint8_t *dst, uint32_t length, uint8_t type,
    uint8_t flags, uint32_t stream_id);

/* 9 bytes: the header of a DATA frame; "length" payload bytes follow. */
uint8_t *h2x_frame_write_data(uint8_t *dst, uint32_t stream_id,
    uint32_t length, int end_stream);

/*
 * HEADERS frame header around an encoded block of "length" bytes that
 * the caller writes after it: 9 bytes, or 14 with "pri" non-NULL
 * (priority fields, counted in the frame length).  "flags": END_STREAM,
 * END_HEADERS.
 */
uint8_t *h2x_frame_write_headers(uint8_t *dst, uint32_t stream_id,
    uint32_t length, uint8_t flags, const h2x_priority_t *pri);

/* 9 bytes. */
uint8_t *h2x_frame_write_continuation(uint8_t *dst, uint32_t stream_id,
    uint32_t length, int end_headers);

/* 13 bytes: header and promised stream id; "length" block bytes follow. */
uint8_t *h2x_frame_write_push_promise(uint8_t *dst, uint32_t stream_id,
    uint32_t promised_stream_id, uint32_t length, int end_headers);

/*
 * A whole header block as HEADERS + CONTINUATION frames of at most
 * "max_frame_size" payload bytes each (the peer's setting).  Needs
 * h2x_frame_header_block_size() bytes.  "block" is either outside dst or
 * exactly at dst + H2X_FRAME_HEADER_SIZE (encode in place, then split:
 * the fragments are moved apart).  "flags" may hold END_STREAM.
 */
size_t h2x_frame_header_block_size(size_t block_len, uint32_t max_frame_size);
uint8_t *h2x_frame_write_header_block(uint8_t *dst, uint32_t stream_id,
    uint8_t flags, const uint8_t *block, size_t block_len,
    uint32_t max_frame_size);

/* H2X_FRAME_PRIORITY_SIZE bytes. */
uint8_t *h2x_frame_write_priority(uint8_t *dst, uint32_t stream_id,
    const h2x_priority_t *pri);

/* H2X_FRAME_RST_STREAM_SIZE bytes. */
uint8_t *h2x_frame_write_rst_stream(uint8_t *dst, uint32_t stream_id,
    uint32_t code);

/* H2X_FRAME_SETTINGS_SIZE(n) bytes. */
uint8_t *h2x_frame_write_settings(uint8_t *dst, const h2x_setting_t *s,
    size_t n);

/* H2X_FRAME_HEADER_SIZE bytes. */
uint8_t *h2x_frame_write_settings_ack(uint8_t *dst);

/* H2X_FRAME_PING_SIZE bytes; "opaque" is 8 bytes. */
uint8_t *h2x_frame_write_ping(uint8_t *dst, const uint8_t *opaque, int ack);

/* H2X_FRAME_GOAWAY_SIZE(debug_len) bytes. */
uint8_t *h2x_frame_write_goaway(uint8_t *dst, uint32_t last_stream_id,
    uint32_t code, const uint8_t *debug, size_t debug_len);

/* H2X_FRAME_WINDOW_UPDATE_SIZE bytes. */
uint8_t *h2x_frame_write_window_update(uint8_t *dst, uint32_t stream_id,
    uint32_t increment);

/* H2X_FRAME_PRIORITY_UPDATE_SIZE(value_len) bytes, on stream 0. */
uint8_t *h2x_frame_write_priority_update(uint8_t *dst,
    uint32_t prioritized_stream_id, const uint8_t *value, size_t value_len);


/* Big-endian helpers. */

static inline uint32_t
h2x_get_u16(const uint8_t *p)
{
    return ((uint32_t) p[0] << 8) | p[1];
}


static inline uint32_t
h2x_get_u24(const uint8_t *p)
{
    return ((uint32_t) p[0] << 16) | ((uint32_t) p[1] << 8) | p[2];
}


static inline uint32_t
h2x_get_u32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


static inline uint8_t *
h2x_put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;

    return p + 2;
}


static inline uint8_t *
h2x_put_u24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 16);
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) v;

    return p + 3;
}


static inline uint8_t *
h2x_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;

    return p + 4;
}


#endif /* _H2X_FRAME_H_INCLUDED_ */
