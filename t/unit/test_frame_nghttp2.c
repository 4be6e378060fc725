/*
 * Interop of common/h2x_frame.c with libnghttp2: what an nghttp2 client
 * sends is parsed by h2x (fed whole and byte by byte), and what the h2x
 * serialisers write is accepted by an nghttp2 client session.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <nghttp2/nghttp2.h>

#include "h2x_frame.h"
#include "unit_util.h"


#define BIG_VALUE  20000


/* h2x side: a compact trace of what the parser saw ------------------------ */

typedef struct {
    tu_text_t  out;          /* first: callback data is also the trace */
    size_t     block_bytes;
    size_t     data_bytes;
    int        first;        /* no slice of this frame traced yet */
} h2x_rec_t;


static int
h_header(void *data, const h2x_frame_header_t *fh)
{
    h2x_rec_t  *r = data;

    tu_textf(&r->out, "[%u f=%x s=%u", fh->type, fh->flags, fh->stream_id);
    r->first = 1;
    return 0;
}


static int
h_block(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    h2x_rec_t  *r = data;

    (void) fh;
    (void) p;
    r->block_bytes += len;
    return 0;
}


/* DATA, PRIORITY_UPDATE field values and GOAWAY debug data */

static int
h_slice(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    h2x_rec_t  *r = data;

    (void) fh;
    tu_textf(&r->out, "%s%.*s", r->first ? " " : "", (int) len,
             (const char *) p);
    r->first = 0;
    return 0;
}


static int
h_data(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    h2x_rec_t  *r = data;

    r->data_bytes += len;
    return h_slice(data, fh, p, len);
}


static int
h_setting(void *data, const h2x_frame_header_t *fh, uint16_t id,
    uint32_t value)
{
    (void) fh;
    tu_textf(data, " %u=%u", id, value);
    return 0;
}


static int
h_ping(void *data, const h2x_frame_header_t *fh, const uint8_t *opaque)
{
    (void) fh;
    tu_textf(data, " %.8s", (const char *) opaque);
    return 0;
}


static int
h_goaway(void *data, const h2x_frame_header_t *fh, uint32_t last,
    uint32_t code)
{
    (void) fh;
    tu_textf(data, " last=%u code=%u", last, code);
    return 0;
}


static int
h_window_update(void *data, const h2x_frame_header_t *fh, uint32_t inc)
{
    (void) fh;
    tu_textf(data, " +%u", inc);
    return 0;
}


static int
h_priority_update(void *data, const h2x_frame_header_t *fh, uint32_t id)
{
    (void) fh;
    tu_textf(data, " for=%u", id);
    return 0;
}


static int
h_rst_stream(void *data, const h2x_frame_header_t *fh, uint32_t code)
{
    (void) fh;
    tu_textf(data, " code=%u", code);
    return 0;
}


static int
h_end(void *data, const h2x_frame_header_t *fh)
{
    (void) fh;
    tu_textf(data, "]");
    return 0;
}


static int
h_stream_error(void *data, const h2x_frame_error_t *err)
{
    (void) data;
    fail_msg("stream error %u: %s", err->code, err->reason);
    return -1;
}


static const h2x_frame_callbacks_t  h2x_cb = {
    h_header, h_data, h_block, NULL, NULL, h_rst_stream, h_setting, h_ping,
    h_goaway, h_slice, h_window_update, h_priority_update,
    h_slice, h_end, h_stream_error
};


/* Parses "in" whole and byte by byte; both traces must be "expected". */

static void
h2x_parse_both(h2x_frame_parser_t *whole, h2x_rec_t *rw,
    h2x_frame_parser_t *bytes, h2x_rec_t *rb, const uint8_t *in, size_t len,
    const char *expected)
{
    size_t  i;

    rw->out.len = 0;
    rb->out.len = 0;

    assert_int_equal(h2x_frame_parse(whole, in, len), H2X_OK);

    for (i = 0; i < len; i++) {
        assert_int_equal(h2x_frame_parse(bytes, in + i, 1), H2X_OK);
    }

    assert_string_equal(rw->out.text, expected);
    assert_string_equal(rb->out.text, expected);
    assert_true(h2x_frame_parser_idle(whole));
}


/* nghttp2 side ------------------------------------------------------------ */

typedef struct {
    tu_text_t  out;          /* first, as in h2x_rec_t */
    size_t     big_value;
    int        status_200;
    int        invalid;
} ng_rec_t;


static int
ng_on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *data)
{
    ng_rec_t  *r = data;

    (void) s;

    tu_textf(&r->out, "[%u f=%x s=%d", frame->hd.type, frame->hd.flags,
             frame->hd.stream_id);

    switch (frame->hd.type) {

    case NGHTTP2_GOAWAY:
        tu_textf(&r->out, " last=%d code=%u %.*s",
                 frame->goaway.last_stream_id, frame->goaway.error_code,
                 (int) frame->goaway.opaque_data_len,
                 (const char *) frame->goaway.opaque_data);
        break;

    case NGHTTP2_WINDOW_UPDATE:
        tu_textf(&r->out, " +%d", frame->window_update.window_size_increment);
        break;

    case NGHTTP2_PING:
        tu_textf(&r->out, " %.8s", (const char *) frame->ping.opaque_data);
        break;

    case NGHTTP2_SETTINGS:
        {
            size_t  i;

            for (i = 0; i < frame->settings.niv; i++) {
                tu_textf(&r->out, " %d=%u",
                         frame->settings.iv[i].settings_id,
                         frame->settings.iv[i].value);
            }
        }
        break;

    default:
        break;
    }

    tu_textf(&r->out, "]");

    return 0;
}


static int
ng_on_header(nghttp2_session *s, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *data)
{
    size_t     i;
    ng_rec_t  *r = data;

    (void) s;
    (void) frame;
    (void) flags;

    if (namelen == 7 && memcmp(name, ":status", 7) == 0
        && valuelen == 3 && memcmp(value, "200", 3) == 0)
    {
        r->status_200 = 1;
    }

    if (namelen == 5 && memcmp(name, "x-big", 5) == 0) {
        for (i = 0; i < valuelen; i++) {
            assert_int_equal(value[i], '~');
        }
        r->big_value = valuelen;
    }

    return 0;
}


static int
ng_on_data(nghttp2_session *s, uint8_t flags, int32_t stream_id,
    const uint8_t *p, size_t len, void *data)
{
    (void) s;
    (void) flags;
    tu_textf(data, "<%d %.*s>", stream_id, (int) len, (const char *) p);
    return 0;
}


static int
ng_on_invalid(nghttp2_session *s, const nghttp2_frame *frame, int code,
    void *data)
{
    ng_rec_t  *r = data;

    (void) s;
    (void) frame;
    (void) code;
    r->invalid++;
    return 0;
}


static ssize_t
ng_read_body(nghttp2_session *s, int32_t stream_id, uint8_t *buf,
    size_t length, uint32_t *flags, nghttp2_data_source *src, void *data)
{
    (void) s;
    (void) stream_id;
    (void) src;
    (void) data;

    assert_true(length >= 5);
    memcpy(buf, "hello", 5);
    *flags |= NGHTTP2_DATA_FLAG_EOF;

    return 5;
}


/* Everything nghttp2 wants to send, into one buffer. */

static size_t
ng_drain(nghttp2_session *s, uint8_t *out, size_t cap)
{
    size_t          len;
    ssize_t         n;
    const uint8_t  *p;

    len = 0;

    for ( ;; ) {
        n = nghttp2_session_mem_send(s, &p);
        assert_true(n >= 0);

        if (n == 0) {
            break;
        }

        assert_true(len + (size_t) n <= cap);
        memcpy(out + len, p, (size_t) n);
        len += (size_t) n;
    }

    return len;
}


static void
test_interop(void **state)
{
    size_t                      len, n;
    uint8_t                    *wire, *p, *block;
    ng_rec_t                    ng;
    h2x_rec_t                   rw, rb;
    nghttp2_nv                  nv[5];
    nghttp2_session            *client;
    h2x_setting_t               s[2];
    nghttp2_data_provider       body;
    nghttp2_settings_entry      iv[4];
    h2x_frame_parser_t          pw, pb;
    nghttp2_session_callbacks  *cbs;
    static char                 big[BIG_VALUE];

    (void) state;

    wire = malloc(128 * 1024);
    block = malloc(64 * 1024);
    assert_non_null(wire);
    assert_non_null(block);

    memset(&ng, 0, sizeof(ng));
    memset(&rw, 0, sizeof(rw));
    memset(&rb, 0, sizeof(rb));
    memset(big, '~', sizeof(big));  /* Huffman would not shrink it */

    assert_int_equal(nghttp2_session_callbacks_new(&cbs), 0);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs,
                                                         ng_on_frame_recv);
    nghttp2_session_callbacks_set_on_header_callback(cbs, ng_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
                                                              ng_on_data);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs,
                                                                ng_on_invalid);
    assert_int_equal(nghttp2_session_client_new(&client, cbs, &ng), 0);
    nghttp2_session_callbacks_del(cbs);

    /* 1. the client's preface, SETTINGS, a request with a big header */

    iv[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
    iv[0].value = 100;
    iv[1].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
    iv[1].value = 1 << 20;
    iv[2].settings_id = NGHTTP2_SETTINGS_ENABLE_PUSH;
    iv[2].value = 0;
    iv[3].settings_id = NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES;
    iv[3].value = 1;
    assert_int_equal(nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, iv,
                                             4), 0);

#define NV(n, v)  { (uint8_t *) n, (uint8_t *) v, sizeof(n) - 1,             \
                    sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE }
    {
        nghttp2_nv  base[4] = {
            NV(":method", "POST"), NV(":scheme", "https"),
            NV(":path", "/"), NV(":authority", "localhost")
        };

        memcpy(nv, base, sizeof(base));
    }
#undef NV

    nv[4].name = (uint8_t *) "x-big";
    nv[4].namelen = 5;
    nv[4].value = (uint8_t *) big;
    nv[4].valuelen = BIG_VALUE;
    nv[4].flags = NGHTTP2_NV_FLAG_NO_INDEX;

    body.read_callback = ng_read_body;
    body.source.ptr = NULL;
    assert_int_equal(nghttp2_submit_request(client, NULL, nv, 5, &body,
                                            NULL), 1);

    len = ng_drain(client, wire, 128 * 1024);

    h2x_frame_parser_init(&pw, &h2x_cb, &rw, H2X_FRAME_EXPECT_PREFACE);
    h2x_frame_parser_init(&pb, &h2x_cb, &rb, H2X_FRAME_EXPECT_PREFACE);

    /* the block is more than 16384 bytes: HEADERS + CONTINUATION */
    h2x_parse_both(&pw, &rw, &pb, &rb, wire, len,
                   "[4 f=0 s=0 3=100 4=1048576 2=0 9=1]"
                   "[1 f=0 s=1]"
                   "[9 f=4 s=1]"
                   "[0 f=1 s=1 hello]");
    assert_true(rw.block_bytes > 16384);
    assert_int_equal(rw.block_bytes, rb.block_bytes);
    assert_int_equal(rw.data_bytes, 5);

    /* 2. h2x writes a server's answer, nghttp2 reads it */

    p = wire;
    s[0].id = H2X_SETTINGS_MAX_CONCURRENT_STREAMS;
    s[0].value = 128;
    s[1].id = H2X_SETTINGS_NO_RFC7540_PRIORITIES;
    s[1].value = 1;
    p = h2x_frame_write_settings(p, s, 2);
    p = h2x_frame_write_settings_ack(p);

    /* ":status: 200", then "x-big" literal never indexed, 20000 bytes */
    n = 0;
    block[n++] = 0x88;
    block[n++] = 0x10;
    block[n++] = 5;
    memcpy(block + n, "x-big", 5);
    n += 5;
    block[n++] = 0x7f;            /* 20000 = 127 + 19873 */
    block[n++] = 0xa1;
    block[n++] = 0x9b;
    block[n++] = 0x01;
    memset(block + n, '~', BIG_VALUE);
    n += BIG_VALUE;

    assert_int_equal(h2x_frame_header_block_size(n, 16384), n + 18);
    p = h2x_frame_write_header_block(p, 1, 0, block, n, 16384);

    p = h2x_frame_write_data(p, 1, 5, 1);
    memcpy(p, "world", 5);
    p += 5;
    p = h2x_frame_write_ping(p, (const uint8_t *) "pingpong", 0);
    p = h2x_frame_write_window_update(p, 0, 1000);
    p = h2x_frame_write_goaway(p, 0, H2X_NO_ERROR,
                               (const uint8_t *) "bye", 3);

    len = (size_t) (p - wire);
    assert_int_equal(nghttp2_session_mem_recv(client, wire, len),
                     (ssize_t) len);

    assert_int_equal(ng.invalid, 0);
    assert_true(ng.status_200);
    assert_int_equal(ng.big_value, BIG_VALUE);
    assert_string_equal(ng.out.text,
                        "[4 f=0 s=0 3=128 9=1]"
                        "[4 f=1 s=0]"
                        "[1 f=4 s=1]"
                        "<1 world>[0 f=1 s=1]"
                        "[6 f=0 s=0 pingpong]"
                        "[8 f=0 s=0 +1000]"
                        "[7 f=0 s=0 last=0 code=0 bye]");

    /* 3. what nghttp2 answers, and more client frames, back to h2x */

    assert_int_equal(nghttp2_submit_ping(client, NGHTTP2_FLAG_NONE,
                                         (const uint8_t *) "12345678"), 0);
    assert_int_equal(nghttp2_submit_priority_update(client,
                                                    NGHTTP2_FLAG_NONE, 3,
                                                    (const uint8_t *) "u=2",
                                                    3), 0);
    assert_int_equal(nghttp2_submit_window_update(client, NGHTTP2_FLAG_NONE,
                                                  0, 5000), 0);
    assert_int_equal(nghttp2_submit_rst_stream(client, NGHTTP2_FLAG_NONE, 1,
                                               NGHTTP2_CANCEL), 0);
    assert_int_equal(nghttp2_submit_goaway(client, NGHTTP2_FLAG_NONE, 0,
                                           NGHTTP2_ENHANCE_YOUR_CALM,
                                           (const uint8_t *) "calm", 4), 0);

    len = ng_drain(client, wire, 128 * 1024);

    h2x_parse_both(&pw, &rw, &pb, &rb, wire, len,
                   "[4 f=1 s=0]"
                   "[6 f=1 s=0 pingpong]"
                   "[6 f=0 s=0 12345678]"
                   "[16 f=0 s=0 for=3 u=2]"
                   "[8 f=0 s=0 +5000]"
                   "[3 f=0 s=1 code=8]"
                   "[7 f=0 s=0 last=0 code=11 calm]");

    nghttp2_session_del(client);
    free(wire);
    free(block);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_interop),
    };

    return cmocka_run_group_tests_name("frame_nghttp2", tests, NULL, NULL);
}
