/*
 * libFuzzer target for the frame parser of common/h2x_frame.c.
 *
 * Input: byte 0 options (bit 0: expect the client preface, bit 1: max
 * frame size 20000, bits 2-3: SETTINGS entry cap 32/1/4/0), bytes 1-2 a
 * split point, byte 3 a chunk size, then the bytes to parse.  The bytes
 * are parsed whole, in two calls at the split point, and in chunks of the
 * chunk size; the three callback traces (slices concatenated) must be
 * identical, and the parser must keep its own invariants.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h2x_frame.h"


typedef struct {
    uint8_t   *buf;
    size_t     len;
    size_t     cap;
    int        last;            /* kind of the slice being traced */
    uint32_t   max_frame_size;
    uint32_t   frame_left;      /* payload bytes the slices may still use */
} trace_t;


static void
tr_put(trace_t *t, const void *p, size_t n)
{
    if (t->len + n > t->cap) {
        t->cap = (t->len + n) * 2 + 256;
        t->buf = realloc(t->buf, t->cap);
        if (t->buf == NULL) {
            abort();
        }
    }

    memcpy(t->buf + t->len, p, n);
    t->len += n;
}


static void
tr_event(trace_t *t, int kind, const void *p, size_t n)
{
    uint8_t  k;

    k = (uint8_t) kind;
    t->last = 0;
    tr_put(t, &k, 1);
    tr_put(t, p, n);
}


static int
tr_slice(trace_t *t, int kind, const uint8_t *p, size_t n)
{
    uint8_t  k;

    if (n == 0 || n > t->frame_left) {
        abort();                /* empty slice, or beyond the frame */
    }

    t->frame_left -= (uint32_t) n;

    if (t->last != kind) {
        k = (uint8_t) kind;
        tr_put(t, &k, 1);
        t->last = kind;
    }

    tr_put(t, p, n);

    return 0;
}


static int
on_frame_header(void *data, const h2x_frame_header_t *fh)
{
    trace_t  *t = data;

    if (fh->length > t->max_frame_size || (fh->stream_id >> 31)) {
        abort();
    }

    t->frame_left = fh->length;
    tr_event(t, 'H', fh, sizeof(h2x_frame_header_t));
    return 0;
}


static int
on_data(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    (void) fh;
    return tr_slice(data, 'D', p, len);
}


static int
on_header_block(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    (void) fh;
    return tr_slice(data, 'B', p, len);
}


static int
on_priority(void *data, const h2x_frame_header_t *fh,
    const h2x_priority_t *pri)
{
    uint32_t  v[3];

    if (pri->dependency == fh->stream_id || pri->weight < 1
        || pri->weight > 256)
    {
        abort();
    }

    v[0] = pri->dependency;
    v[1] = pri->weight;
    v[2] = pri->exclusive;
    tr_event(data, 'P', v, sizeof(v));
    return 0;
}


static int
on_push_promise(void *data, const h2x_frame_header_t *fh, uint32_t id)
{
    (void) fh;
    tr_event(data, 'p', &id, sizeof(id));
    return 0;
}


static int
on_rst_stream(void *data, const h2x_frame_header_t *fh, uint32_t code)
{
    (void) fh;
    tr_event(data, 'R', &code, sizeof(code));
    return 0;
}


static int
on_setting(void *data, const h2x_frame_header_t *fh, uint16_t id,
    uint32_t value)
{
    uint32_t  v[2];

    (void) fh;
    v[0] = id;
    v[1] = value;
    tr_event(data, 'S', v, sizeof(v));
    return 0;
}


static int
on_ping(void *data, const h2x_frame_header_t *fh, const uint8_t *opaque)
{
    (void) fh;
    tr_event(data, 'I', opaque, 8);
    return 0;
}


static int
on_goaway(void *data, const h2x_frame_header_t *fh, uint32_t last,
    uint32_t code)
{
    uint32_t  v[2];
    trace_t  *t = data;

    (void) fh;
    v[0] = last;
    v[1] = code;
    t->frame_left -= 8;
    tr_event(t, 'G', v, sizeof(v));
    return 0;
}


static int
on_goaway_debug(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    (void) fh;
    return tr_slice(data, 'g', p, len);
}


static int
on_window_update(void *data, const h2x_frame_header_t *fh, uint32_t inc)
{
    (void) fh;

    if (inc == 0 || inc > H2X_MAX_WINDOW) {
        abort();
    }

    tr_event(data, 'W', &inc, sizeof(inc));
    return 0;
}


static int
on_priority_update(void *data, const h2x_frame_header_t *fh, uint32_t id)
{
    trace_t  *t = data;

    (void) fh;

    if (id == 0) {
        abort();
    }

    t->frame_left -= 4;
    tr_event(t, 'U', &id, sizeof(id));
    return 0;
}


static int
on_priority_field(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    (void) fh;
    return tr_slice(data, 'u', p, len);
}


static int
on_frame_end(void *data, const h2x_frame_header_t *fh)
{
    tr_event(data, 'E', &fh->type, 1);
    return 0;
}


static int
on_stream_error(void *data, const h2x_frame_error_t *err)
{
    uint32_t  v[2];

    if (err->connection || err->reason == NULL || err->stream_id == 0) {
        abort();
    }

    v[0] = err->code;
    v[1] = err->stream_id;
    tr_event(data, 'X', v, sizeof(v));
    return 0;
}


static const h2x_frame_callbacks_t  callbacks = {
    on_frame_header, on_data, on_header_block, on_priority, on_push_promise,
    on_rst_stream, on_setting, on_ping, on_goaway, on_goaway_debug,
    on_window_update, on_priority_update, on_priority_field, on_frame_end,
    on_stream_error
};


static void
parse(trace_t *t, uint8_t opts, const uint8_t *in, size_t len, size_t split,
    size_t chunk)
{
    int                       rc, stopped;
    size_t                    pos, n;
    uint8_t                  *copy;
    h2x_frame_parser_t        p;
    const h2x_frame_error_t  *err;
    static const uint32_t     caps[4] = { 32, 1, 4, 0 };

    memset(t, 0, sizeof(trace_t));
    t->max_frame_size = (opts & 2) ? 20000 : 16384;

    h2x_frame_parser_init(&p, &callbacks, t,
                          (opts & 1) ? H2X_FRAME_EXPECT_PREFACE : 0);

    if (opts & 2) {
        if (h2x_frame_parser_set_max_frame_size(&p, 20000) != H2X_OK) {
            abort();
        }
    }

    h2x_frame_parser_set_max_settings(&p, caps[(opts >> 2) & 3]);

    rc = 0;
    stopped = 0;
    pos = 0;

    while (pos < len) {
        n = chunk ? chunk : len - pos;
        if (split > pos && split < pos + n) {
            n = split - pos;
        }
        if (n > len - pos) {
            n = len - pos;
        }

        /* an exact-size copy, so that a read past it is caught */
        copy = malloc(n);
        if (copy == NULL) {
            abort();
        }
        memcpy(copy, in + pos, n);

        if (stopped) {
            if (h2x_frame_parse(&p, copy, n) != rc) {
                abort();
            }

        } else {
            rc = h2x_frame_parse(&p, copy, n);
            stopped = (rc != 0);
        }

        free(copy);
        pos += n;
    }

    err = h2x_frame_parser_error(&p);

    if ((rc == H2X_ERROR) != (err != NULL)) {
        abort();
    }

    if (err) {
        if (!err->connection || err->reason == NULL) {
            abort();
        }
        tr_event(t, 'C', &err->code, sizeof(err->code));
    }

    tr_event(t, 'Z', &rc, sizeof(rc));
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t   split, chunk, len;
    uint8_t  opts;
    trace_t  whole, two, chunks;

    if (size < 4) {
        return 0;
    }

    opts = data[0];
    split = (size_t) data[1] << 8 | data[2];
    chunk = (size_t) (data[3] % 17) + 1;
    data += 4;
    len = size - 4;
    split = len ? split % (len + 1) : 0;

    parse(&whole, opts, data, len, (size_t) -1, 0);
    parse(&two, opts, data, len, split, 0);
    parse(&chunks, opts, data, len, (size_t) -1, chunk);

    if (whole.len != two.len || memcmp(whole.buf, two.buf, whole.len) != 0
        || whole.len != chunks.len
        || memcmp(whole.buf, chunks.buf, whole.len) != 0)
    {
        abort();
    }

    free(whole.buf);
    free(two.buf);
    free(chunks.buf);

    return 0;
}
