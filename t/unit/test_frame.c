/*
 * Unit tests of common/h2x_frame.c: the parser.
 *
 * Every input is fed whole, one byte per call, and in two calls split at
 * every point; each run records its callbacks into a text trace and the
 * traces must be identical to the expected one.  Slices (DATA, header
 * block fragments, GOAWAY debug data, PRIORITY_UPDATE values) are traced
 * concatenated, so the trace does not depend on the split.  Each chunk
 * is copied into a buffer of its exact size, so that a read past the
 * input shows under a memory checker.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h2x_frame.h"
#include "unit_util.h"


/* trace ------------------------------------------------------------------ */

typedef struct {
    char      *buf;
    size_t     len;
    size_t     cap;
    int        last;       /* kind of the slice being traced, or 0 */
    int        events;
    int        stop_at;    /* event number that returns stop_rc, or 0 */
    int        stop_rc;
} trace_t;


static void
tr_append(trace_t *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        assert_non_null(t->buf);
    }

    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}


static void
tr_printf(trace_t *t, const char *fmt, ...)
{
    char     line[256];
    int      n;
    va_list  ap;

    if (t->last) {
        tr_append(t, "\n", 1);
        t->last = 0;
    }

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);

    assert_true(n > 0 && (size_t) n < sizeof(line));
    tr_append(t, line, (size_t) n);
    tr_append(t, "\n", 1);
}


static void
tr_slice(trace_t *t, int kind, const uint8_t *p, size_t n)
{
    char    hex[3];
    char    head[3];
    size_t  i;

    /* slices are never empty */
    assert_true(n > 0);

    if (t->last != kind) {
        if (t->last) {
            tr_append(t, "\n", 1);
        }

        head[0] = (char) kind;
        head[1] = ':';
        tr_append(t, head, 2);
        t->last = kind;
    }

    for (i = 0; i < n; i++) {
        snprintf(hex, sizeof(hex), "%02x", p[i]);
        tr_append(t, hex, 2);
    }
}


static int
tr_event(trace_t *t)
{
    t->events++;

    return (t->stop_at && t->events == t->stop_at) ? t->stop_rc : 0;
}


static int
cb_frame_header(void *data, const h2x_frame_header_t *fh)
{
    trace_t  *t = data;

    tr_printf(t, "H t=%u f=%x l=%u s=%u", fh->type, fh->flags, fh->length,
              fh->stream_id);
    return tr_event(t);
}


static int
cb_data(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    trace_t  *t = data;

    assert_int_equal(fh->type, H2X_FRAME_DATA);
    tr_slice(t, 'D', p, len);
    return tr_event(t);
}


static int
cb_header_block(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    trace_t  *t = data;

    assert_true(fh->type == H2X_FRAME_HEADERS
                || fh->type == H2X_FRAME_PUSH_PROMISE
                || fh->type == H2X_FRAME_CONTINUATION);
    tr_slice(t, 'B', p, len);
    return tr_event(t);
}


static int
cb_priority(void *data, const h2x_frame_header_t *fh,
    const h2x_priority_t *pri)
{
    trace_t  *t = data;

    tr_printf(t, "PRI t=%u s=%u dep=%u w=%u x=%u", fh->type, fh->stream_id,
              pri->dependency, pri->weight, pri->exclusive);
    return tr_event(t);
}


static int
cb_push_promise(void *data, const h2x_frame_header_t *fh, uint32_t id)
{
    trace_t  *t = data;

    assert_int_equal(fh->type, H2X_FRAME_PUSH_PROMISE);
    tr_printf(t, "PP %u", id);
    return tr_event(t);
}


static int
cb_rst_stream(void *data, const h2x_frame_header_t *fh, uint32_t code)
{
    trace_t  *t = data;

    assert_int_equal(fh->type, H2X_FRAME_RST_STREAM);
    tr_printf(t, "RST s=%u %u", fh->stream_id, code);
    return tr_event(t);
}


static int
cb_setting(void *data, const h2x_frame_header_t *fh, uint16_t id,
    uint32_t value)
{
    trace_t  *t = data;

    assert_int_equal(fh->type, H2X_FRAME_SETTINGS);
    tr_printf(t, "SET %u=%u", id, value);
    return tr_event(t);
}


static int
cb_ping(void *data, const h2x_frame_header_t *fh, const uint8_t *opaque)
{
    trace_t  *t = data;

    tr_printf(t, "PING f=%x %02x%02x%02x%02x%02x%02x%02x%02x", fh->flags,
              opaque[0], opaque[1], opaque[2], opaque[3], opaque[4],
              opaque[5], opaque[6], opaque[7]);
    return tr_event(t);
}


static int
cb_goaway(void *data, const h2x_frame_header_t *fh, uint32_t last,
    uint32_t code)
{
    trace_t  *t = data;

    assert_int_equal(fh->type, H2X_FRAME_GOAWAY);
    tr_printf(t, "GOAWAY last=%u code=%u", last, code);
    return tr_event(t);
}


static int
cb_goaway_debug(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    trace_t  *t = data;

    assert_int_equal(fh->type, H2X_FRAME_GOAWAY);
    tr_slice(t, 'g', p, len);
    return tr_event(t);
}


static int
cb_window_update(void *data, const h2x_frame_header_t *fh, uint32_t inc)
{
    trace_t  *t = data;

    tr_printf(t, "WU s=%u %u", fh->stream_id, inc);
    return tr_event(t);
}


static int
cb_priority_update(void *data, const h2x_frame_header_t *fh, uint32_t id)
{
    trace_t  *t = data;

    assert_int_equal(fh->type, H2X_FRAME_PRIORITY_UPDATE);
    tr_printf(t, "PU %u", id);
    return tr_event(t);
}


static int
cb_priority_field(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    trace_t  *t = data;

    assert_int_equal(fh->type, H2X_FRAME_PRIORITY_UPDATE);
    tr_slice(t, 'u', p, len);
    return tr_event(t);
}


static int
cb_frame_end(void *data, const h2x_frame_header_t *fh)
{
    trace_t  *t = data;

    tr_printf(t, "END t=%u s=%u", fh->type, fh->stream_id);
    return tr_event(t);
}


static int
cb_stream_error(void *data, const h2x_frame_error_t *err)
{
    trace_t  *t = data;

    assert_int_equal(err->connection, 0);
    assert_non_null(err->reason);
    assert_memory_equal(err->reason, "client sent ", 12);
    tr_printf(t, "SERR %s s=%u", h2x_error_code_name(err->code),
              err->stream_id);
    return tr_event(t);
}


static const h2x_frame_callbacks_t  all_callbacks = {
    cb_frame_header,
    cb_data,
    cb_header_block,
    cb_priority,
    cb_push_promise,
    cb_rst_stream,
    cb_setting,
    cb_ping,
    cb_goaway,
    cb_goaway_debug,
    cb_window_update,
    cb_priority_update,
    cb_priority_field,
    cb_frame_end,
    cb_stream_error
};


/* input builder ---------------------------------------------------------- */

#define IN_MAX  (3 * 16384 + 4096)

static uint8_t   in[IN_MAX];
static size_t    in_len;

static unsigned  opt_options;
static uint32_t  opt_max_frame;
static uint32_t  opt_max_settings;
static int       opt_stop_at;
static int       opt_stop_rc;


static int
setup(void **state)
{
    (void) state;

    in_len = 0;
    opt_options = 0;
    opt_max_frame = 0;
    opt_max_settings = 0;
    opt_stop_at = 0;
    opt_stop_rc = 0;

    return 0;
}


static void
in_bytes(const uint8_t *p, size_t n)
{
    assert_true(in_len + n <= IN_MAX);
    memcpy(in + in_len, p, n);
    in_len += n;
}


/* Appends hex digits ("0a 1b2c"); spaces are ignored. */

static size_t
in_hex(const char *hex)
{
    size_t  n;

    n = tu_hex(in + in_len, IN_MAX - in_len, hex);
    in_len += n;

    return n;
}


static void
in_head(uint32_t len, uint8_t type, uint8_t flags, uint32_t sid)
{
    uint8_t  h[H2X_FRAME_HEADER_SIZE];

    h[0] = (uint8_t) (len >> 16);
    h[1] = (uint8_t) (len >> 8);
    h[2] = (uint8_t) len;
    h[3] = type;
    h[4] = flags;
    h[5] = (uint8_t) (sid >> 24);
    h[6] = (uint8_t) (sid >> 16);
    h[7] = (uint8_t) (sid >> 8);
    h[8] = (uint8_t) sid;

    in_bytes(h, sizeof(h));
}


/* A frame whose length is that of the hex payload. */

static void
in_frame(uint8_t type, uint8_t flags, uint32_t sid, const char *hex)
{
    size_t  at, n;

    at = in_len;
    in_head(0, type, flags, sid);
    n = in_hex(hex);

    in[at] = (uint8_t) (n >> 16);
    in[at + 1] = (uint8_t) (n >> 8);
    in[at + 2] = (uint8_t) n;
}


static void
in_frame_fill(uint8_t type, uint8_t flags, uint32_t sid, uint32_t len,
    uint8_t byte)
{
    in_head(len, type, flags, sid);
    assert_true(in_len + len <= IN_MAX);
    memset(in + in_len, byte, len);
    in_len += len;
}


/* runs ------------------------------------------------------------------- */

/*
 * Parses in[] cut at the given points, each chunk in a heap buffer of its
 * exact size.  Once the parser stopped, later calls must return the same
 * value and fire nothing.
 */

static void
run(trace_t *t, const size_t *cuts, size_t ncuts)
{
    int                       rc, stopped;
    size_t                    i, from, to;
    uint8_t                  *chunk;
    h2x_frame_parser_t        p;
    const h2x_frame_error_t  *err;

    memset(t, 0, sizeof(trace_t));
    t->stop_at = opt_stop_at;
    t->stop_rc = opt_stop_rc;

    h2x_frame_parser_init(&p, &all_callbacks, t, opt_options);

    if (opt_max_frame) {
        assert_int_equal(h2x_frame_parser_set_max_frame_size(&p,
                                                             opt_max_frame),
                         H2X_OK);
    }

    if (opt_max_settings) {
        h2x_frame_parser_set_max_settings(&p, opt_max_settings);
    }

    rc = 0;
    stopped = 0;
    from = 0;

    for (i = 0; i <= ncuts; i++) {
        to = (i < ncuts) ? cuts[i] : in_len;

        if (to == from) {
            continue;
        }

        chunk = malloc(to - from);
        assert_non_null(chunk);
        memcpy(chunk, in + from, to - from);

        if (stopped) {
            size_t  before = t->len;

            assert_int_equal(h2x_frame_parse(&p, chunk, to - from), rc);
            assert_int_equal(t->len, before);

        } else {
            rc = h2x_frame_parse(&p, chunk, to - from);
            stopped = (rc != 0);
        }

        free(chunk);
        from = to;
    }

    /* an empty call changes nothing */
    assert_int_equal(h2x_frame_parse(&p, in, 0), rc);

    tr_printf(t, "RC %d", rc);

    err = h2x_frame_parser_error(&p);

    if (rc == H2X_ERROR) {
        assert_non_null(err);
        assert_int_equal(err->connection, 1);
        assert_non_null(err->reason);
        assert_memory_equal(err->reason, "client sent ", 12);
        tr_printf(t, "CERR %s s=%u", h2x_error_code_name(err->code),
                  err->stream_id);

    } else {
        assert_null(err);
    }
}


/* Whole, byte by byte, and split in two at every point. */

static void
check(const char *expected)
{
    size_t    i, *cuts, step;
    trace_t   t;

    run(&t, NULL, 0);
    if (strcmp(t.buf, expected) != 0) {
        print_error("whole input:\n%s\nexpected:\n%s\n", t.buf, expected);
    }
    assert_string_equal(t.buf, expected);
    free(t.buf);

    cuts = malloc(sizeof(size_t) * (in_len + 1));
    assert_non_null(cuts);

    for (i = 0; i < in_len; i++) {
        cuts[i] = i + 1;
    }

    run(&t, cuts, in_len ? in_len - 1 : 0);
    if (strcmp(t.buf, expected) != 0) {
        print_error("byte by byte:\n%s\n", t.buf);
    }
    assert_string_equal(t.buf, expected);
    free(t.buf);

    /* every split point; a sample of them for the long inputs */
    step = in_len > 4096 ? 61 : 1;

    for (i = 1; i < in_len; i++) {
        if (step > 1 && i > 64 && i < in_len - 64 && i % step) {
            continue;
        }

        cuts[0] = i;
        run(&t, cuts, 1);
        if (strcmp(t.buf, expected) != 0) {
            print_error("split at %zu:\n%s\n", i, t.buf);
        }
        assert_string_equal(t.buf, expected);
        free(t.buf);
    }

    free(cuts);
}


/* valid frames ----------------------------------------------------------- */

static void
test_data(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_DATA, 0, 1, "68656c6c6f");
    in_frame(H2X_FRAME_DATA, H2X_FLAG_END_STREAM, 3, "21");
    check("H t=0 f=0 l=5 s=1\n"
          "D:68656c6c6f\n"
          "END t=0 s=1\n"
          "H t=0 f=1 l=1 s=3\n"
          "D:21\n"
          "END t=0 s=3\n"
          "RC 0\n");
}


static void
test_data_empty(void **state)
{
    (void) state;

    /* zero-length DATA ends as soon as its header is in */
    in_frame(H2X_FRAME_DATA, H2X_FLAG_END_STREAM, 1, "");
    check("H t=0 f=1 l=0 s=1\n"
          "END t=0 s=1\n"
          "RC 0\n");
}


static void
test_data_padded(void **state)
{
    (void) state;

    /* pad length 0 */
    in_frame(H2X_FRAME_DATA, H2X_FLAG_PADDED, 1, "00 6162");
    /* pad length 3 */
    in_frame(H2X_FRAME_DATA, H2X_FLAG_PADDED, 1, "03 636465 000000");
    /* pad length = payload - 1: no data at all */
    in_frame(H2X_FRAME_DATA, H2X_FLAG_PADDED | H2X_FLAG_END_STREAM, 1,
             "04 00000000");
    /* only the pad length */
    in_frame(H2X_FRAME_DATA, H2X_FLAG_PADDED, 3, "00");
    /* non-zero padding is not checked (RFC 9113 6.1: MAY) */
    in_frame(H2X_FRAME_DATA, H2X_FLAG_PADDED, 5, "02 ff 0102");

    check("H t=0 f=8 l=3 s=1\n"
          "D:6162\n"
          "END t=0 s=1\n"
          "H t=0 f=8 l=7 s=1\n"
          "D:636465\n"
          "END t=0 s=1\n"
          "H t=0 f=9 l=5 s=1\n"
          "END t=0 s=1\n"
          "H t=0 f=8 l=1 s=3\n"
          "END t=0 s=3\n"
          "H t=0 f=8 l=4 s=5\n"
          "D:ff\n"
          "END t=0 s=5\n"
          "RC 0\n");
}


static void
test_headers(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_HEADERS, H2X_FLAG_END_HEADERS | H2X_FLAG_END_STREAM,
             1, "828684");
    check("H t=1 f=5 l=3 s=1\n"
          "B:828684\n"
          "END t=1 s=1\n"
          "RC 0\n");
}


static void
test_headers_priority(void **state)
{
    (void) state;

    /* exclusive on 3, weight 256 */
    in_frame(H2X_FRAME_HEADERS, H2X_FLAG_END_HEADERS | H2X_FLAG_PRIORITY, 5,
             "80000003 ff 8286");
    /* weight 1, no block */
    in_frame(H2X_FRAME_HEADERS, H2X_FLAG_END_HEADERS | H2X_FLAG_PRIORITY, 7,
             "00000000 00");
    check("H t=1 f=24 l=7 s=5\n"
          "PRI t=1 s=5 dep=3 w=256 x=1\n"
          "B:8286\n"
          "END t=1 s=5\n"
          "H t=1 f=24 l=5 s=7\n"
          "PRI t=1 s=7 dep=0 w=1 x=0\n"
          "END t=1 s=7\n"
          "RC 0\n");
}


static void
test_headers_padded(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_HEADERS, H2X_FLAG_END_HEADERS | H2X_FLAG_PADDED, 1,
             "02 8286 0000");
    /* padded with priority, pad = what is left after the fields */
    in_frame(H2X_FRAME_HEADERS,
             H2X_FLAG_END_HEADERS | H2X_FLAG_PADDED | H2X_FLAG_PRIORITY, 3,
             "02 00000001 0f 0000");
    /* padded with priority and a block */
    in_frame(H2X_FRAME_HEADERS,
             H2X_FLAG_END_HEADERS | H2X_FLAG_PADDED | H2X_FLAG_PRIORITY, 5,
             "01 00000003 0f 84 00");
    check("H t=1 f=c l=5 s=1\n"
          "B:8286\n"
          "END t=1 s=1\n"
          "H t=1 f=2c l=8 s=3\n"
          "PRI t=1 s=3 dep=1 w=16 x=0\n"
          "END t=1 s=3\n"
          "H t=1 f=2c l=8 s=5\n"
          "PRI t=1 s=5 dep=3 w=16 x=0\n"
          "B:84\n"
          "END t=1 s=5\n"
          "RC 0\n");
}


static void
test_headers_continuation(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_HEADERS, H2X_FLAG_END_STREAM, 1, "8286");
    in_frame(H2X_FRAME_CONTINUATION, 0, 1, "");
    in_frame(H2X_FRAME_CONTINUATION, 0, 1, "84");
    in_frame(H2X_FRAME_CONTINUATION, H2X_FLAG_END_HEADERS, 1, "4188");
    in_frame(H2X_FRAME_DATA, 0, 1, "00");
    check("H t=1 f=1 l=2 s=1\n"
          "B:8286\n"
          "END t=1 s=1\n"
          "H t=9 f=0 l=0 s=1\n"
          "END t=9 s=1\n"
          "H t=9 f=0 l=1 s=1\n"
          "B:84\n"
          "END t=9 s=1\n"
          "H t=9 f=4 l=2 s=1\n"
          "B:4188\n"
          "END t=9 s=1\n"
          "H t=0 f=0 l=1 s=1\n"
          "D:00\n"
          "END t=0 s=1\n"
          "RC 0\n");
}


static void
test_priority(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_PRIORITY, 0, 3, "80000001 07");
    /* reserved bit of the stream id is ignored */
    in_frame(H2X_FRAME_PRIORITY, 0xff, 0x80000005, "00000003 ff");
    check("H t=2 f=0 l=5 s=3\n"
          "PRI t=2 s=3 dep=1 w=8 x=1\n"
          "END t=2 s=3\n"
          "H t=2 f=ff l=5 s=5\n"
          "PRI t=2 s=5 dep=3 w=256 x=0\n"
          "END t=2 s=5\n"
          "RC 0\n");
}


static void
test_rst_stream(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_RST_STREAM, 0, 1, "00000008");
    in_frame(H2X_FRAME_RST_STREAM, 0, 3, "ffffffff");
    check("H t=3 f=0 l=4 s=1\n"
          "RST s=1 8\n"
          "END t=3 s=1\n"
          "H t=3 f=0 l=4 s=3\n"
          "RST s=3 4294967295\n"
          "END t=3 s=3\n"
          "RC 0\n");
}


static void
test_settings(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_SETTINGS, 0, 0,
             "0001 00001000"      /* HEADER_TABLE_SIZE 4096 */
             "0002 00000000"      /* ENABLE_PUSH 0 */
             "0003 00000064"      /* MAX_CONCURRENT_STREAMS 100 */
             "0004 7fffffff"      /* INITIAL_WINDOW_SIZE max */
             "0005 00004000"      /* MAX_FRAME_SIZE min */
             "0006 ffffffff"      /* MAX_HEADER_LIST_SIZE */
             "0007 ffffffff"      /* unknown: ignored */
             "0008 00000001"      /* ENABLE_CONNECT_PROTOCOL */
             "0009 00000001"      /* NO_RFC7540_PRIORITIES */
             "ffff 00000005"      /* unknown: ignored */
             "0005 00ffffff"      /* MAX_FRAME_SIZE max */
             "0002 00000001");    /* ENABLE_PUSH 1 */
    in_frame(H2X_FRAME_SETTINGS, H2X_FLAG_ACK, 0, "");
    in_frame(H2X_FRAME_SETTINGS, 0, 0, "");
    in_frame(H2X_FRAME_SETTINGS, 0, 0, "0008 00000000 0009 00000000");
    check("H t=4 f=0 l=72 s=0\n"
          "SET 1=4096\n"
          "SET 2=0\n"
          "SET 3=100\n"
          "SET 4=2147483647\n"
          "SET 5=16384\n"
          "SET 6=4294967295\n"
          "SET 8=1\n"
          "SET 9=1\n"
          "SET 5=16777215\n"
          "SET 2=1\n"
          "END t=4 s=0\n"
          "H t=4 f=1 l=0 s=0\n"
          "END t=4 s=0\n"
          "H t=4 f=0 l=0 s=0\n"
          "END t=4 s=0\n"
          "H t=4 f=0 l=12 s=0\n"
          "SET 8=0\n"
          "SET 9=0\n"
          "END t=4 s=0\n"
          "RC 0\n");
}


static void
test_settings_cap(void **state)
{
    int  i;

    (void) state;

    /* 32 entries pass by default */
    in_head(32 * 6, H2X_FRAME_SETTINGS, 0, 0);
    for (i = 0; i < 32; i++) {
        in_hex("0003 00000001");
    }

    {
        char  exp[2048];
        int   n;

        n = snprintf(exp, sizeof(exp), "H t=4 f=0 l=192 s=0\n");
        for (i = 0; i < 32; i++) {
            n += snprintf(exp + n, sizeof(exp) - n, "SET 3=1\n");
        }
        snprintf(exp + n, sizeof(exp) - n, "END t=4 s=0\nRC 0\n");
        check(exp);
    }

    /* 33: CVE-2020-11080 */
    in_len = 0;
    in_head(33 * 6, H2X_FRAME_SETTINGS, 0, 0);
    for (i = 0; i < 33; i++) {
        in_hex("0003 00000001");
    }
    check("RC -1\n"
          "CERR ENHANCE_YOUR_CALM s=0\n");

    /* a configured cap */
    opt_max_settings = 2;
    in_len = 0;
    in_frame(H2X_FRAME_SETTINGS, 0, 0, "0003 00000001 0003 00000002");
    in_frame(H2X_FRAME_SETTINGS, 0, 0, "0003 00000001 0003 00000002"
                                       "0003 00000003");
    check("H t=4 f=0 l=12 s=0\n"
          "SET 3=1\n"
          "SET 3=2\n"
          "END t=4 s=0\n"
          "RC -1\n"
          "CERR ENHANCE_YOUR_CALM s=0\n");
}


static void
test_push_promise(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_PUSH_PROMISE, 0, 1, "80000002 8286");
    in_frame(H2X_FRAME_CONTINUATION, H2X_FLAG_END_HEADERS, 1, "84");
    in_frame(H2X_FRAME_PUSH_PROMISE, H2X_FLAG_PADDED | H2X_FLAG_END_HEADERS,
             3, "02 00000004 41 0000");
    /* pad = what is left after the promised id */
    in_frame(H2X_FRAME_PUSH_PROMISE, H2X_FLAG_PADDED | H2X_FLAG_END_HEADERS,
             3, "01 00000006 00");
    check("H t=5 f=0 l=6 s=1\n"
          "PP 2\n"
          "B:8286\n"
          "END t=5 s=1\n"
          "H t=9 f=4 l=1 s=1\n"
          "B:84\n"
          "END t=9 s=1\n"
          "H t=5 f=c l=8 s=3\n"
          "PP 4\n"
          "B:41\n"
          "END t=5 s=3\n"
          "H t=5 f=c l=6 s=3\n"
          "PP 6\n"
          "END t=5 s=3\n"
          "RC 0\n");
}


static void
test_ping(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_PING, 0, 0, "0102030405060708");
    in_frame(H2X_FRAME_PING, H2X_FLAG_ACK, 0, "ffffffffffffff00");
    check("H t=6 f=0 l=8 s=0\n"
          "PING f=0 0102030405060708\n"
          "END t=6 s=0\n"
          "H t=6 f=1 l=8 s=0\n"
          "PING f=1 ffffffffffffff00\n"
          "END t=6 s=0\n"
          "RC 0\n");
}


static void
test_goaway(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_GOAWAY, 0, 0, "00000007 00000000");
    /* reserved bit of the last stream id is ignored */
    in_frame(H2X_FRAME_GOAWAY, 0, 0, "80000009 0000000b 6f6f7073");
    check("H t=7 f=0 l=8 s=0\n"
          "GOAWAY last=7 code=0\n"
          "END t=7 s=0\n"
          "H t=7 f=0 l=12 s=0\n"
          "GOAWAY last=9 code=11\n"
          "g:6f6f7073\n"
          "END t=7 s=0\n"
          "RC 0\n");
}


static void
test_window_update(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_WINDOW_UPDATE, 0, 0, "00010000");
    /* reserved bit ignored, max increment */
    in_frame(H2X_FRAME_WINDOW_UPDATE, 0, 3, "ffffffff");
    in_frame(H2X_FRAME_WINDOW_UPDATE, 0, 5, "00000001");
    check("H t=8 f=0 l=4 s=0\n"
          "WU s=0 65536\n"
          "END t=8 s=0\n"
          "H t=8 f=0 l=4 s=3\n"
          "WU s=3 2147483647\n"
          "END t=8 s=3\n"
          "H t=8 f=0 l=4 s=5\n"
          "WU s=5 1\n"
          "END t=8 s=5\n"
          "RC 0\n");
}


static void
test_priority_update(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_PRIORITY_UPDATE, 0, 0, "00000001 753d312c2069");
    in_frame(H2X_FRAME_PRIORITY_UPDATE, 0, 0, "80000003");
    check("H t=16 f=0 l=10 s=0\n"
          "PU 1\n"
          "u:753d312c2069\n"
          "END t=16 s=0\n"
          "H t=16 f=0 l=4 s=0\n"
          "PU 3\n"
          "END t=16 s=0\n"
          "RC 0\n");
}


static void
test_unknown(void **state)
{
    (void) state;

    in_frame(0xfa, 0xff, 7, "0102030405060708090a");
    in_frame(0x0b, 0, 0, "");
    in_frame(H2X_FRAME_PING, 0, 0, "0000000000000001");
    check("H t=250 f=ff l=10 s=7\n"
          "END t=250 s=7\n"
          "H t=11 f=0 l=0 s=0\n"
          "END t=11 s=0\n"
          "H t=6 f=0 l=8 s=0\n"
          "PING f=0 0000000000000001\n"
          "END t=6 s=0\n"
          "RC 0\n");
}


static void
test_flags_and_reserved_bit(void **state)
{
    (void) state;

    /* undefined flags are ignored, the reserved bit is cleared */
    in_frame(H2X_FRAME_DATA, 0xf6, 0x80000001, "61");
    in_frame(H2X_FRAME_RST_STREAM, 0xff, 0x80000001, "00000000");
    in_frame(H2X_FRAME_PING, 0xfe, 0, "0000000000000000");
    in_frame(H2X_FRAME_WINDOW_UPDATE, 0xff, 0x80000000, "00000001");
    check("H t=0 f=f6 l=1 s=1\n"
          "D:61\n"
          "END t=0 s=1\n"
          "H t=3 f=ff l=4 s=1\n"
          "RST s=1 0\n"
          "END t=3 s=1\n"
          "H t=6 f=fe l=8 s=0\n"
          "PING f=fe 0000000000000000\n"
          "END t=6 s=0\n"
          "H t=8 f=ff l=4 s=0\n"
          "WU s=0 1\n"
          "END t=8 s=0\n"
          "RC 0\n");
}


static void
test_max_frame_size(void **state)
{
    h2x_frame_parser_t  p;

    (void) state;

    h2x_frame_parser_init(&p, &all_callbacks, NULL, 0);
    assert_int_equal(h2x_frame_parser_set_max_frame_size(&p, 16383),
                     H2X_ERROR);
    assert_int_equal(h2x_frame_parser_set_max_frame_size(&p, 0x1000000),
                     H2X_ERROR);
    assert_int_equal(h2x_frame_parser_set_max_frame_size(&p, 0xffffff),
                     H2X_OK);
    assert_int_equal(h2x_frame_parser_set_max_frame_size(&p, 16384),
                     H2X_OK);

    /* the default: 16384 passes */
    in_frame_fill(H2X_FRAME_DATA, 0, 1, 16384, 0x5a);
    {
        trace_t  t;

        run(&t, NULL, 0);
        assert_int_equal(t.len, strlen("H t=0 f=0 l=16384 s=1\nD:")
                                + 2 * 16384
                                + strlen("\nEND t=0 s=1\nRC 0\n"));
        assert_memory_equal(t.buf, "H t=0 f=0 l=16384 s=1\nD:5a5a", 28);
        free(t.buf);
    }

    /* 16385 does not, for any type; found at the header */
    in_len = 0;
    in_head(16385, H2X_FRAME_DATA, 0, 1);
    check("RC -1\n"
          "CERR FRAME_SIZE_ERROR s=1\n");

    in_len = 0;
    in_head(16385, H2X_FRAME_HEADERS, 0, 1);
    check("RC -1\n"
          "CERR FRAME_SIZE_ERROR s=1\n");

    in_len = 0;
    in_head(0xffffff, 0xee, 0, 0);
    check("RC -1\n"
          "CERR FRAME_SIZE_ERROR s=0\n");

    /* a larger setting */
    opt_max_frame = 20000;
    in_len = 0;
    in_frame_fill(0xee, 0, 0, 20000, 0);
    in_head(20001, H2X_FRAME_SETTINGS, 0, 0);
    check("H t=238 f=0 l=20000 s=0\n"
          "END t=238 s=0\n"
          "RC -1\n"
          "CERR FRAME_SIZE_ERROR s=0\n");
}


static void
test_preface(void **state)
{
    (void) state;

    opt_options = H2X_FRAME_EXPECT_PREFACE;
    in_bytes((const uint8_t *) H2X_PREFACE, H2X_PREFACE_SIZE);
    in_frame(H2X_FRAME_SETTINGS, 0, 0, "0003 00000064");
    check("H t=4 f=0 l=6 s=0\n"
          "SET 3=100\n"
          "END t=4 s=0\n"
          "RC 0\n");

    /* only a part of it: nothing yet */
    in_len = 0;
    in_bytes((const uint8_t *) H2X_PREFACE, 23);
    check("RC 0\n");
}


static void
test_preface_mismatch(void **state)
{
    size_t  i;

    (void) state;

    opt_options = H2X_FRAME_EXPECT_PREFACE;

    /* a wrong byte at each position */
    for (i = 0; i < H2X_PREFACE_SIZE; i++) {
        in_len = 0;
        in_bytes((const uint8_t *) H2X_PREFACE, H2X_PREFACE_SIZE);
        in[i] ^= 0x20;
        in_frame(H2X_FRAME_SETTINGS, 0, 0, "");
        check("RC -1\n"
              "CERR PROTOCOL_ERROR s=0\n");
    }

    /* an HTTP/1.1 request */
    in_len = 0;
    in_bytes((const uint8_t *) "GET / HTTP/1.1\r\n", 16);
    check("RC -1\n"
          "CERR PROTOCOL_ERROR s=0\n");

    /* no preface expected: the preface is a frame header of type 0x20 */
    opt_options = 0;
    in_len = 0;
    in_bytes((const uint8_t *) H2X_PREFACE, H2X_PREFACE_SIZE);
    check("RC -1\n"
          "CERR FRAME_SIZE_ERROR s=541611092\n");
}


/* invalid frames --------------------------------------------------------- */

typedef struct {
    uint8_t      type;
    uint8_t      flags;
    uint32_t     sid;
    const char  *payload;
    const char  *code;
    uint32_t     err_sid;
} conn_case_t;


static void
test_connection_errors(void **state)
{
    int      n;
    char     exp[256];
    size_t   i;

    static const conn_case_t  cases[] = {

        /* stream 0 where a stream is needed */
        { H2X_FRAME_DATA, 0, 0, "00", "PROTOCOL_ERROR", 0 },
        { H2X_FRAME_HEADERS, 4, 0, "82", "PROTOCOL_ERROR", 0 },
        { H2X_FRAME_PRIORITY, 0, 0, "0000000110", "PROTOCOL_ERROR", 0 },
        { H2X_FRAME_RST_STREAM, 0, 0, "00000000", "PROTOCOL_ERROR", 0 },
        { H2X_FRAME_PUSH_PROMISE, 4, 0, "00000002", "PROTOCOL_ERROR", 0 },
        { H2X_FRAME_CONTINUATION, 4, 0, "82", "PROTOCOL_ERROR", 0 },
        { H2X_FRAME_PRIORITY, 0, 0, "00", "PROTOCOL_ERROR", 0 },

        /* a stream where stream 0 is needed */
        { H2X_FRAME_SETTINGS, 0, 1, "", "PROTOCOL_ERROR", 1 },
        { H2X_FRAME_SETTINGS, 1, 3, "", "PROTOCOL_ERROR", 3 },
        { H2X_FRAME_PING, 0, 1, "0000000000000000", "PROTOCOL_ERROR", 1 },
        { H2X_FRAME_GOAWAY, 0, 1, "0000000000000000", "PROTOCOL_ERROR", 1 },
        { H2X_FRAME_PRIORITY_UPDATE, 0, 1, "00000001", "PROTOCOL_ERROR", 1 },

        /* exact and minimal lengths */
        { H2X_FRAME_RST_STREAM, 0, 1, "000000", "FRAME_SIZE_ERROR", 1 },
        { H2X_FRAME_RST_STREAM, 0, 1, "0000000000", "FRAME_SIZE_ERROR", 1 },
        { H2X_FRAME_PING, 0, 0, "00000000000000", "FRAME_SIZE_ERROR", 0 },
        { H2X_FRAME_PING, 1, 0, "000000000000000000", "FRAME_SIZE_ERROR",
          0 },
        { H2X_FRAME_PING, 0, 0, "", "FRAME_SIZE_ERROR", 0 },
        { H2X_FRAME_WINDOW_UPDATE, 0, 0, "000001", "FRAME_SIZE_ERROR", 0 },
        { H2X_FRAME_WINDOW_UPDATE, 0, 1, "0000000001", "FRAME_SIZE_ERROR",
          1 },
        { H2X_FRAME_SETTINGS, 0, 0, "00030000", "FRAME_SIZE_ERROR", 0 },
        { H2X_FRAME_SETTINGS, 0, 0, "000300000064 00", "FRAME_SIZE_ERROR",
          0 },
        { H2X_FRAME_SETTINGS, 1, 0, "000300000064", "FRAME_SIZE_ERROR", 0 },
        { H2X_FRAME_GOAWAY, 0, 0, "00000000000000", "FRAME_SIZE_ERROR", 0 },
        { H2X_FRAME_GOAWAY, 0, 0, "", "FRAME_SIZE_ERROR", 0 },
        { H2X_FRAME_PRIORITY_UPDATE, 0, 0, "000001", "FRAME_SIZE_ERROR",
          0 },
        { H2X_FRAME_PRIORITY_UPDATE, 0, 0, "", "FRAME_SIZE_ERROR", 0 },
        { H2X_FRAME_DATA, 8, 1, "", "FRAME_SIZE_ERROR", 1 },
        { H2X_FRAME_HEADERS, 0x0c, 1, "", "FRAME_SIZE_ERROR", 1 },
        { H2X_FRAME_HEADERS, 0x24, 1, "00000000", "FRAME_SIZE_ERROR", 1 },
        { H2X_FRAME_HEADERS, 0x2c, 1, "0000000000", "FRAME_SIZE_ERROR", 1 },
        { H2X_FRAME_PUSH_PROMISE, 4, 1, "000000", "FRAME_SIZE_ERROR", 1 },
        { H2X_FRAME_PUSH_PROMISE, 0x0c, 1, "00000000", "FRAME_SIZE_ERROR",
          1 },

        /* CONTINUATION with no header block open */
        { H2X_FRAME_CONTINUATION, 4, 1, "82", "PROTOCOL_ERROR", 1 },

        /* PRIORITY_UPDATE for stream 0 */
        { H2X_FRAME_PRIORITY_UPDATE, 0, 0, "00000000 753d31",
          "PROTOCOL_ERROR", 0 },
        { H2X_FRAME_PRIORITY_UPDATE, 0, 0, "80000000", "PROTOCOL_ERROR", 0 },

        /* WINDOW_UPDATE of 0 on the connection */
        { H2X_FRAME_WINDOW_UPDATE, 0, 0, "00000000", "PROTOCOL_ERROR", 0 },
        { H2X_FRAME_WINDOW_UPDATE, 0, 0, "80000000", "PROTOCOL_ERROR", 0 },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        in_len = 0;
        in_frame(cases[i].type, cases[i].flags, cases[i].sid,
                 cases[i].payload);
        /* nothing after a connection error */
        in_frame(H2X_FRAME_PING, 0, 0, "0000000000000000");

        n = 0;

        /* errors found in the payload come after the header callback */
        if ((cases[i].type == H2X_FRAME_PRIORITY_UPDATE && cases[i].sid == 0
             && in[2] >= 4)
            || (cases[i].type == H2X_FRAME_WINDOW_UPDATE && in[2] == 4))
        {
            n = snprintf(exp, sizeof(exp), "H t=%u f=%x l=%u s=%u\n",
                         cases[i].type, cases[i].flags, in[2], cases[i].sid);
        }

        snprintf(exp + n, sizeof(exp) - n, "RC -1\nCERR %s s=%u\n",
                 cases[i].code, cases[i].err_sid);

        print_message("case %zu\n", i);
        check(exp);
    }
}


static void
test_padding_errors(void **state)
{
    (void) state;

    /* pad length = payload length */
    in_frame(H2X_FRAME_DATA, H2X_FLAG_PADDED, 1, "02 00");
    check("H t=0 f=8 l=2 s=1\n"
          "RC -1\n"
          "CERR PROTOCOL_ERROR s=1\n");

    in_len = 0;
    in_frame(H2X_FRAME_DATA, H2X_FLAG_PADDED, 1, "ff 6162");
    check("H t=0 f=8 l=3 s=1\n"
          "RC -1\n"
          "CERR PROTOCOL_ERROR s=1\n");

    in_len = 0;
    in_frame(H2X_FRAME_HEADERS, H2X_FLAG_PADDED | H2X_FLAG_END_HEADERS, 1,
             "03 8200");
    check("H t=1 f=c l=3 s=1\n"
          "RC -1\n"
          "CERR PROTOCOL_ERROR s=1\n");

    /* padding overlapping the priority fields */
    in_len = 0;
    in_frame(H2X_FRAME_HEADERS,
             H2X_FLAG_PADDED | H2X_FLAG_PRIORITY | H2X_FLAG_END_HEADERS, 3,
             "01 00000001 0f");
    check("H t=1 f=2c l=6 s=3\n"
          "RC -1\n"
          "CERR PROTOCOL_ERROR s=3\n");

    /* padding overlapping the promised stream id */
    in_len = 0;
    in_frame(H2X_FRAME_PUSH_PROMISE, H2X_FLAG_PADDED | H2X_FLAG_END_HEADERS,
             1, "02 00000002 00");
    check("H t=5 f=c l=6 s=1\n"
          "RC -1\n"
          "CERR PROTOCOL_ERROR s=1\n");
}


static void
test_settings_errors(void **state)
{
    size_t  i;

    static const struct {
        const char  *entry;
        const char  *code;
    } cases[] = {
        { "0002 00000002", "PROTOCOL_ERROR" },
        { "0002 ffffffff", "PROTOCOL_ERROR" },
        { "0004 80000000", "FLOW_CONTROL_ERROR" },
        { "0004 ffffffff", "FLOW_CONTROL_ERROR" },
        { "0005 00003fff", "PROTOCOL_ERROR" },
        { "0005 00000000", "PROTOCOL_ERROR" },
        { "0005 01000000", "PROTOCOL_ERROR" },
        { "0008 00000002", "PROTOCOL_ERROR" },
        { "0009 00000002", "PROTOCOL_ERROR" },
        { "0009 80000000", "PROTOCOL_ERROR" },
    };

    char  exp[256];

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        in_len = 0;
        in_head(18, H2X_FRAME_SETTINGS, 0, 0);
        in_hex("0003 00000010");
        in_hex(cases[i].entry);
        in_hex("0001 00000000");
        in_frame(H2X_FRAME_PING, 0, 0, "0000000000000000");

        /* the entries before the bad one are delivered */
        snprintf(exp, sizeof(exp),
                 "H t=4 f=0 l=18 s=0\nSET 3=16\nRC -1\nCERR %s s=0\n",
                 cases[i].code);
        check(exp);
    }
}


static void
test_header_block_interleaved(void **state)
{
    (void) state;

    /* another type inside a header block */
    in_frame(H2X_FRAME_HEADERS, 0, 1, "82");
    in_frame(H2X_FRAME_DATA, 0, 1, "00");
    check("H t=1 f=0 l=1 s=1\n"
          "B:82\n"
          "END t=1 s=1\n"
          "RC -1\n"
          "CERR PROTOCOL_ERROR s=1\n");

    /* CONTINUATION of another stream */
    in_len = 0;
    in_frame(H2X_FRAME_HEADERS, 0, 1, "82");
    in_frame(H2X_FRAME_CONTINUATION, H2X_FLAG_END_HEADERS, 3, "84");
    check("H t=1 f=0 l=1 s=1\n"
          "B:82\n"
          "END t=1 s=1\n"
          "RC -1\n"
          "CERR PROTOCOL_ERROR s=3\n");

    /* an unknown type (RFC 9113 5.5) */
    in_len = 0;
    in_frame(H2X_FRAME_PUSH_PROMISE, 0, 1, "00000002");
    in_frame(0xfa, 0, 0, "");
    check("H t=5 f=0 l=4 s=1\n"
          "PP 2\n"
          "END t=5 s=1\n"
          "RC -1\n"
          "CERR PROTOCOL_ERROR s=0\n");

    /* the block ends with END_HEADERS: CONTINUATION after it is wrong */
    in_len = 0;
    in_frame(H2X_FRAME_HEADERS, 0, 1, "82");
    in_frame(H2X_FRAME_CONTINUATION, H2X_FLAG_END_HEADERS, 1, "84");
    in_frame(H2X_FRAME_CONTINUATION, H2X_FLAG_END_HEADERS, 1, "86");
    check("H t=1 f=0 l=1 s=1\n"
          "B:82\n"
          "END t=1 s=1\n"
          "H t=9 f=4 l=1 s=1\n"
          "B:84\n"
          "END t=9 s=1\n"
          "RC -1\n"
          "CERR PROTOCOL_ERROR s=1\n");
}


static void
test_stream_errors(void **state)
{
    (void) state;

    /* PRIORITY of a wrong length: skipped, parsing goes on */
    in_frame(H2X_FRAME_PRIORITY, 0, 3, "00000001");
    in_frame(H2X_FRAME_PRIORITY, 0, 5, "000000010f00");
    in_frame(H2X_FRAME_PRIORITY, 0, 7, "");
    /* depends on itself */
    in_frame(H2X_FRAME_PRIORITY, 0, 9, "00000009 0f");
    in_frame(H2X_FRAME_PRIORITY, 0, 11, "8000000b 0f");
    /* WINDOW_UPDATE of 0 on a stream */
    in_frame(H2X_FRAME_WINDOW_UPDATE, 0, 13, "00000000");
    in_frame(H2X_FRAME_WINDOW_UPDATE, 0, 15, "80000000");
    in_frame(H2X_FRAME_RST_STREAM, 0, 1, "00000000");

    check("SERR FRAME_SIZE_ERROR s=3\n"
          "SERR FRAME_SIZE_ERROR s=5\n"
          "SERR FRAME_SIZE_ERROR s=7\n"
          "H t=2 f=0 l=5 s=9\n"
          "SERR PROTOCOL_ERROR s=9\n"
          "H t=2 f=0 l=5 s=11\n"
          "SERR PROTOCOL_ERROR s=11\n"
          "H t=8 f=0 l=4 s=13\n"
          "SERR PROTOCOL_ERROR s=13\n"
          "H t=8 f=0 l=4 s=15\n"
          "SERR PROTOCOL_ERROR s=15\n"
          "H t=3 f=0 l=4 s=1\n"
          "RST s=1 0\n"
          "END t=3 s=1\n"
          "RC 0\n");
}


static void
test_headers_self_dependency(void **state)
{
    (void) state;

    /* the stream error, and the block still goes to HPACK */
    in_frame(H2X_FRAME_HEADERS, H2X_FLAG_PRIORITY, 3, "00000003 0f 8286");
    in_frame(H2X_FRAME_CONTINUATION, H2X_FLAG_END_HEADERS, 3, "84");
    in_frame(H2X_FRAME_HEADERS,
             H2X_FLAG_PRIORITY | H2X_FLAG_PADDED | H2X_FLAG_END_HEADERS, 5,
             "01 80000005 0f 41 00");
    check("H t=1 f=20 l=7 s=3\n"
          "SERR PROTOCOL_ERROR s=3\n"
          "B:8286\n"
          "END t=1 s=3\n"
          "H t=9 f=4 l=1 s=3\n"
          "B:84\n"
          "END t=9 s=3\n"
          "H t=1 f=2c l=8 s=5\n"
          "SERR PROTOCOL_ERROR s=5\n"
          "B:41\n"
          "END t=1 s=5\n"
          "RC 0\n");
}


/* round trips ----------------------------------------------------------- */

static void
test_round_trip(void **state)
{
    uint8_t         *p;
    h2x_priority_t   pri;
    h2x_setting_t    s[2];
    const uint8_t    opaque[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };

    (void) state;

    p = in;
    p = h2x_frame_write_settings(p, NULL, 0);
    s[0].id = H2X_SETTINGS_MAX_FRAME_SIZE;
    s[0].value = 32768;
    s[1].id = H2X_SETTINGS_ENABLE_PUSH;
    s[1].value = 0;
    p = h2x_frame_write_settings(p, s, 2);
    p = h2x_frame_write_settings_ack(p);

    pri.dependency = 1;
    pri.weight = 42;
    pri.exclusive = 1;
    p = h2x_frame_write_headers(p, 3, 2, H2X_FLAG_END_STREAM, &pri);
    *p++ = 0x82;
    *p++ = 0x86;
    p = h2x_frame_write_continuation(p, 3, 1, 1);
    *p++ = 0x84;
    p = h2x_frame_write_data(p, 3, 3, 1);
    memcpy(p, "abc", 3);
    p += 3;
    p = h2x_frame_write_priority(p, 5, &pri);
    p = h2x_frame_write_rst_stream(p, 5, H2X_REFUSED_STREAM);
    p = h2x_frame_write_push_promise(p, 3, 2, 1, 1);
    *p++ = 0x88;
    p = h2x_frame_write_ping(p, opaque, 1);
    p = h2x_frame_write_window_update(p, 0, 1000);
    p = h2x_frame_write_window_update(p, 3, 0x7fffffff);
    p = h2x_frame_write_priority_update(p, 7, (const uint8_t *) "u=0, i",
                                        6);
    p = h2x_frame_write_goaway(p, 3, H2X_PROTOCOL_ERROR,
                               (const uint8_t *) "bye", 3);
    in_len = (size_t) (p - in);

    check("H t=4 f=0 l=0 s=0\n"
          "END t=4 s=0\n"
          "H t=4 f=0 l=12 s=0\n"
          "SET 5=32768\n"
          "SET 2=0\n"
          "END t=4 s=0\n"
          "H t=4 f=1 l=0 s=0\n"
          "END t=4 s=0\n"
          "H t=1 f=21 l=7 s=3\n"
          "PRI t=1 s=3 dep=1 w=42 x=1\n"
          "B:8286\n"
          "END t=1 s=3\n"
          "H t=9 f=4 l=1 s=3\n"
          "B:84\n"
          "END t=9 s=3\n"
          "H t=0 f=1 l=3 s=3\n"
          "D:616263\n"
          "END t=0 s=3\n"
          "H t=2 f=0 l=5 s=5\n"
          "PRI t=2 s=5 dep=1 w=42 x=1\n"
          "END t=2 s=5\n"
          "H t=3 f=0 l=4 s=5\n"
          "RST s=5 7\n"
          "END t=3 s=5\n"
          "H t=5 f=4 l=5 s=3\n"
          "PP 2\n"
          "B:88\n"
          "END t=5 s=3\n"
          "H t=6 f=1 l=8 s=0\n"
          "PING f=1 0807060504030201\n"
          "END t=6 s=0\n"
          "H t=8 f=0 l=4 s=0\n"
          "WU s=0 1000\n"
          "END t=8 s=0\n"
          "H t=8 f=0 l=4 s=3\n"
          "WU s=3 2147483647\n"
          "END t=8 s=3\n"
          "H t=16 f=0 l=10 s=0\n"
          "PU 7\n"
          "u:753d302c2069\n"
          "END t=16 s=0\n"
          "H t=7 f=0 l=11 s=0\n"
          "GOAWAY last=3 code=1\n"
          "g:627965\n"
          "END t=7 s=0\n"
          "RC 0\n");
}


static void
test_round_trip_header_block(void **state)
{
    size_t    i, n;
    uint8_t  *end;
    trace_t   t;
    char     *exp;

    (void) state;

    /* a 40000-byte block split at 16384, parsed back */
    for (i = 0; i < 40000; i++) {
        in[H2X_FRAME_HEADER_SIZE + i] = (uint8_t) (i * 13);
    }

    end = h2x_frame_write_header_block(in, 1, H2X_FLAG_END_STREAM,
                                       in + H2X_FRAME_HEADER_SIZE, 40000,
                                       16384);
    in_len = (size_t) (end - in);
    assert_int_equal(in_len, 40027);

    exp = malloc(2 * 40000 + 512);
    assert_non_null(exp);

    n = (size_t) sprintf(exp, "H t=1 f=1 l=16384 s=1\nB:");
    for (i = 0; i < 40000; i++) {
        if (i == 16384) {
            n += (size_t) sprintf(exp + n, "\nEND t=1 s=1\n"
                                  "H t=9 f=0 l=16384 s=1\nB:");
        } else if (i == 32768) {
            n += (size_t) sprintf(exp + n, "\nEND t=9 s=1\n"
                                  "H t=9 f=4 l=7232 s=1\nB:");
        }
        n += (size_t) sprintf(exp + n, "%02x", (uint8_t) (i * 13));
    }
    sprintf(exp + n, "\nEND t=9 s=1\nRC 0\n");

    check(exp);

    /* and across three calls at odd places */
    {
        size_t  cuts[2] = { 5, 16390 };

        run(&t, cuts, 2);
        assert_string_equal(t.buf, exp);
        free(t.buf);
    }

    free(exp);
}


/* callbacks ------------------------------------------------------------- */

static void
test_callback_stops(void **state)
{
    (void) state;

    in_frame(H2X_FRAME_DATA, 0, 1, "61626364");
    in_frame(H2X_FRAME_PING, 0, 0, "0000000000000000");

    /* stop at the frame header */
    opt_stop_at = 1;
    opt_stop_rc = 42;
    check("H t=0 f=0 l=4 s=1\n"
          "RC 42\n");

    /* stop at the frame end */
    opt_stop_at = 3;
    opt_stop_rc = -7;
    in_len = 0;
    in_frame(H2X_FRAME_DATA, 0, 1, "");
    in_frame(H2X_FRAME_DATA, 0, 1, "61");
    in_frame(H2X_FRAME_PING, 0, 0, "0000000000000000");
    check("H t=0 f=0 l=0 s=1\n"
          "END t=0 s=1\n"
          "H t=0 f=0 l=1 s=1\n"
          "RC -7\n");

    /* a stream error callback may stop too */
    opt_stop_at = 1;
    opt_stop_rc = 5;
    in_len = 0;
    in_frame(H2X_FRAME_PRIORITY, 0, 3, "00");
    in_frame(H2X_FRAME_PING, 0, 0, "0000000000000000");
    check("SERR FRAME_SIZE_ERROR s=3\n"
          "RC 5\n");
}


static void
test_null_callbacks(void **state)
{
    int                     rc;
    h2x_frame_parser_t      p;
    h2x_frame_callbacks_t   none;

    (void) state;

    memset(&none, 0, sizeof(none));

    in_frame(H2X_FRAME_HEADERS, H2X_FLAG_PRIORITY, 3, "00000003 0f 8286");
    in_frame(H2X_FRAME_CONTINUATION, H2X_FLAG_END_HEADERS, 3, "84");
    in_frame(H2X_FRAME_DATA, H2X_FLAG_PADDED, 1, "01 61 00");
    in_frame(H2X_FRAME_PRIORITY, 0, 3, "00");
    in_frame(H2X_FRAME_SETTINGS, 0, 0, "000300000001");
    in_frame(H2X_FRAME_GOAWAY, 0, 0, "0000000000000000 61");
    in_frame(H2X_FRAME_PRIORITY_UPDATE, 0, 0, "00000001 61");
    in_frame(0xfa, 0, 0, "00");

    h2x_frame_parser_init(&p, &none, NULL, 0);
    assert_int_equal(h2x_frame_parse(&p, NULL, 0), H2X_OK);
    rc = h2x_frame_parse(&p, in, in_len);
    assert_int_equal(rc, H2X_OK);
    assert_true(h2x_frame_parser_idle(&p));
    assert_null(h2x_frame_parser_error(&p));
}


static void
test_idle(void **state)
{
    h2x_frame_parser_t  p;

    (void) state;

    in_frame(H2X_FRAME_HEADERS, 0, 1, "82");
    in_frame(H2X_FRAME_CONTINUATION, H2X_FLAG_END_HEADERS, 1, "84");

    h2x_frame_parser_init(&p, &all_callbacks, NULL, 0);
    assert_true(h2x_frame_parser_idle(&p));

    {
        trace_t  t;

        memset(&t, 0, sizeof(t));
        h2x_frame_parser_init(&p, &all_callbacks, &t, 0);

        assert_int_equal(h2x_frame_parse(&p, in, 5), H2X_OK);
        assert_false(h2x_frame_parser_idle(&p));
        /* the header block is open */
        assert_int_equal(h2x_frame_parse(&p, in + 5, 5), H2X_OK);
        assert_false(h2x_frame_parser_idle(&p));
        assert_int_equal(h2x_frame_parse(&p, in + 10, in_len - 10), H2X_OK);
        assert_true(h2x_frame_parser_idle(&p));
        free(t.buf);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup(test_data, setup),
        cmocka_unit_test_setup(test_data_empty, setup),
        cmocka_unit_test_setup(test_data_padded, setup),
        cmocka_unit_test_setup(test_headers, setup),
        cmocka_unit_test_setup(test_headers_priority, setup),
        cmocka_unit_test_setup(test_headers_padded, setup),
        cmocka_unit_test_setup(test_headers_continuation, setup),
        cmocka_unit_test_setup(test_priority, setup),
        cmocka_unit_test_setup(test_rst_stream, setup),
        cmocka_unit_test_setup(test_settings, setup),
        cmocka_unit_test_setup(test_settings_cap, setup),
        cmocka_unit_test_setup(test_push_promise, setup),
        cmocka_unit_test_setup(test_ping, setup),
        cmocka_unit_test_setup(test_goaway, setup),
        cmocka_unit_test_setup(test_window_update, setup),
        cmocka_unit_test_setup(test_priority_update, setup),
        cmocka_unit_test_setup(test_unknown, setup),
        cmocka_unit_test_setup(test_flags_and_reserved_bit, setup),
        cmocka_unit_test_setup(test_max_frame_size, setup),
        cmocka_unit_test_setup(test_preface, setup),
        cmocka_unit_test_setup(test_preface_mismatch, setup),
        cmocka_unit_test_setup(test_connection_errors, setup),
        cmocka_unit_test_setup(test_padding_errors, setup),
        cmocka_unit_test_setup(test_settings_errors, setup),
        cmocka_unit_test_setup(test_header_block_interleaved, setup),
        cmocka_unit_test_setup(test_stream_errors, setup),
        cmocka_unit_test_setup(test_headers_self_dependency, setup),
        cmocka_unit_test_setup(test_round_trip, setup),
        cmocka_unit_test_setup(test_round_trip_header_block, setup),
        cmocka_unit_test_setup(test_callback_stops, setup),
        cmocka_unit_test_setup(test_null_callbacks, setup),
        cmocka_unit_test_setup(test_idle, setup),
    };

    return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
