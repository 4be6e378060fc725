/*
 * Unit tests of the session: handshake, stream states, flow control,
 * SETTINGS/PING/GOAWAY, output framing and scheduling.  Each test feeds
 * client frames and checks the exact frames the server wrote.
 */

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "session_util.h"


static uint8_t  body[1 << 20];


static void
fill_body(void)
{
    size_t  i;

    for (i = 0; i < sizeof(body); i++) {
        body[i] = (uint8_t) (i * 7 + (i >> 8));
    }
}


static uint32_t
setting(tframe_t *f, uint16_t id)
{
    uint32_t  i;

    for (i = 0; i < f->nsettings; i++) {
        if (f->settings[i].id == id) {
            return f->settings[i].value;
        }
    }

    return 0xffffffff;
}


static void
test_handshake(void **state)
{
    tc_t       tc;
    tframe_t  *f;

    (void) state;

    tc_init(&tc, NULL);

    /* the server preface goes out before the client says anything */
    assert_int_equal(tc_drain(&tc), 2);
    f = &tc.frames[0];
    assert_int_equal(f->type, H2X_FRAME_SETTINGS);
    assert_int_equal(f->flags, 0);
    assert_int_equal(setting(f, H2X_SETTINGS_MAX_CONCURRENT_STREAMS), 128);
    assert_int_equal(setting(f, H2X_SETTINGS_ENABLE_PUSH), 0);
    assert_int_equal(setting(f, H2X_SETTINGS_INITIAL_WINDOW_SIZE), 65536);
    assert_int_equal(setting(f, H2X_SETTINGS_MAX_HEADER_LIST_SIZE), 32768);
    assert_int_equal(setting(f, H2X_SETTINGS_NO_RFC7540_PRIORITIES), 1);
    assert_int_equal(setting(f, H2X_SETTINGS_ENABLE_CONNECT_PROTOCOL),
                     0xffffffff);
    f = &tc.frames[1];
    assert_int_equal(f->type, H2X_FRAME_WINDOW_UPDATE);
    assert_int_equal(f->sid, 0);
    assert_int_equal(f->inc, 1024 * 1024 - 65535);

    tc_preface(&tc, NULL, 0);
    assert_int_equal(tc_flush(&tc),
                     H2X_PREFACE_SIZE + H2X_FRAME_SETTINGS_SIZE(0));
    assert_int_equal(tc_drain(&tc), 1);
    assert_int_equal(tc.frames[2].type, H2X_FRAME_SETTINGS);
    assert_int_equal(tc.frames[2].flags, H2X_FLAG_ACK);

    assert_int_equal(h2x_session_want_read(tc.s), 1);
    assert_int_equal(h2x_session_want_close(tc.s), 0);
    assert_int_equal(h2x_session_next_timeout(tc.s), 1000 + 10000);

    tc_settings_ack(&tc);
    tc_run(&tc);
    assert_int_equal(h2x_session_next_timeout(tc.s), UINT64_MAX);

    tc_done(&tc);
}


static void
test_bad_preface(void **state)
{
    tc_t  tc;

    (void) state;

    tc_init(&tc, NULL);
    tc_raw(&tc, "GET / HTTP/1.1\r\n\r\n", 18);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 0, H2X_PROTOCOL_ERROR);
    assert_int_equal(h2x_session_want_close(tc.s), 1);
    assert_int_equal(h2x_session_want_read(tc.s), 0);
    tc_done(&tc);

    /* RFC 9113 3.4: SETTINGS first */
    tc_init(&tc, NULL);
    tc_raw(&tc, H2X_PREFACE, H2X_PREFACE_SIZE);
    tc_ping(&tc, "12345678", 0);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 0, H2X_PROTOCOL_ERROR);
    assert_null(tc_find(&tc, H2X_FRAME_PING, 0));
    tc_done(&tc);
}


/* nginx's builtin takes frames before the client's SETTINGS: the knob */
static void
test_lenient_preface(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;
    treq_t       *r;

    (void) state;

    tc_cfg(&cfg);
    cfg.lenient_preface = 1;

    /* nginx-tests' client: the preface, then only an ACK of ours */
    tc_init(&tc, &cfg);
    tc_raw(&tc, H2X_PREFACE, H2X_PREFACE_SIZE);
    tc_settings_ack(&tc);
    tc_ping(&tc, "12345678", 0);
    assert_true(tc_run(&tc) >= 0);
    assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
    assert_non_null(tc_find(&tc, H2X_FRAME_PING, 0));

    r = tc_open(&tc, 1, "/");
    assert_non_null(r);
    assert_int_equal(h2x_session_want_close(tc.s), 0);

    /* its SETTINGS may still come later, once, as the first */
    tc_settings(&tc, NULL, 0);
    assert_true(tc_run(&tc) >= 0);
    assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
    tc_done(&tc);
}


/* a stream's own DATA payload size (nginx: http2_chunk_size per location) */
static void
test_stream_chunk_size(void **state)
{
    tc_t          tc;
    treq_t       *r;
    size_t        i, n;
    h2x_chunk_t   c;

    (void) state;

    tc_start(&tc, NULL);
    r = tc_open(&tc, 1, "/");
    assert_non_null(r);

    h2x_stream_set_chunk_size(r->st, 100);
    tc_respond(&tc, r, &c, body, 1000);
    tc_run(&tc);

    n = 0;
    for (i = 0; i < tc.nframes; i++) {
        if (tc.frames[i].type == H2X_FRAME_DATA) {
            assert_int_equal(tc.frames[i].len, 100);
            n++;
        }
    }
    assert_int_equal(n, 10);
    assert_int_equal(tc.body_len[0], 1000);

    /* the others keep the session's */
    r = tc_open(&tc, 3, "/");
    tc.nframes = 0;
    tc_respond(&tc, r, &c, body, 1000);
    tc_run(&tc);
    assert_int_equal(tc_count(&tc, H2X_FRAME_DATA), 1);
    tc_done(&tc);
}


/* self-dependency: a stream error, or with the knob a connection error */
static void
test_self_dependency_knob(void **state)
{
    tc_t           tc;
    h2x_config_t   cfg;
    const uint8_t  pri[5] = { 0, 0, 0, 1, 16 };    /* depends on 1 */

    (void) state;

    tc_start(&tc, NULL);
    tc_open(&tc, 1, "/");
    tc_frame(&tc, H2X_FRAME_PRIORITY, 0, 1, pri, sizeof(pri));
    tc_run(&tc);
    tc_expect_rst(&tc, 1, H2X_PROTOCOL_ERROR);
    assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
    tc_done(&tc);

    tc_cfg(&cfg);
    cfg.self_dependency_conn_error = 1;
    tc_start(&tc, &cfg);
    tc_open(&tc, 1, "/");
    tc_frame(&tc, H2X_FRAME_PRIORITY, 0, 1, pri, sizeof(pri));
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 1, H2X_PROTOCOL_ERROR);
    tc_done(&tc);

    /* on another stream's PRIORITY it is not self-dependency */
    tc_start(&tc, &cfg);
    tc_frame(&tc, H2X_FRAME_PRIORITY, 0, 3, pri, sizeof(pri));
    assert_true(tc_run(&tc) >= 0);
    assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
    tc_done(&tc);
}


/* goaway_one_step: a graceful GOAWAY names the last stream at once */
static void
test_goaway_one_step(void **state)
{
    tc_t           tc;
    h2x_config_t   cfg;
    treq_t        *r;

    (void) state;

    tc_cfg(&cfg);
    cfg.goaway_one_step = 1;
    tc_start(&tc, &cfg);
    r = tc_open(&tc, 1, "/");
    assert_non_null(r);

    assert_int_equal(h2x_session_goaway(tc.s, H2X_NO_ERROR, 1), H2X_OK);
    tc_run(&tc);
    assert_int_equal(tc_count(&tc, H2X_FRAME_GOAWAY), 1);
    tc_expect_goaway(&tc, 1, H2X_NO_ERROR);
    assert_null(tc_find(&tc, H2X_FRAME_PING, 0));

    /* the open stream still completes; then the session may close */
    assert_int_equal(h2x_session_want_close(tc.s), 0);
    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 200, NULL, 0,
                                                 1),
                     H2X_OK);
    tc_run(&tc);
    assert_non_null(tc_find(&tc, H2X_FRAME_HEADERS, 1));
    tc_done(&tc);
}


static void
test_simple_get(void **state)
{
    tc_t       tc;
    treq_t    *r;
    tframe_t  *f;

    (void) state;

    tc_init(&tc, NULL);
    tc.auto_respond = 1;
    tc.resp_body = body;
    tc.resp_body_len = 100;
    tc_handshake(&tc);

    tc_headers(&tc, 1, 1, ":method", "GET", ":scheme", "https",
               ":authority", "example.com", ":path", "/index.html",
               "user-agent", "test", "accept", "*/*");
    tc_run(&tc);

    assert_int_equal(tc.nreq, 1);
    r = &tc.req[0];
    assert_string_equal(r->method, "GET");
    assert_string_equal(r->path, "/index.html");
    assert_string_equal(r->authority, "example.com");
    assert_string_equal(r->scheme, "https");
    assert_string_equal(r->fields, "user-agent: test\naccept: */*\n");
    assert_int_equal(r->end_stream, 1);
    assert_int_equal(r->content_length, -1);

    assert_int_equal(tc.nframes, 2);
    f = &tc.frames[0];
    assert_int_equal(f->type, H2X_FRAME_HEADERS);
    assert_int_equal(f->sid, 1);
    assert_int_equal(f->flags, H2X_FLAG_END_HEADERS);
    assert_string_equal(f->status, "200");
    f = &tc.frames[1];
    assert_int_equal(f->type, H2X_FRAME_DATA);
    assert_int_equal(f->sid, 1);
    assert_int_equal(f->len, 100);
    assert_int_equal(f->flags, H2X_FLAG_END_STREAM);
    assert_int_equal(tc.body_len[0], 100);
    assert_memory_equal(tc.body[0], body, 100);

    /* closed after the END_STREAM was written, chunk handed back */
    assert_int_equal(r->closed, 1);
    assert_int_equal(r->close_code, H2X_NO_ERROR);
    assert_int_equal(tc.releases, 1);
    assert_ptr_equal(tc.last_ref, r);
    assert_int_equal(h2x_session_streams(tc.s), 0);
    assert_int_equal(h2x_session_stats(tc.s)->streams, 1);

    tc_done(&tc);
}


static void
test_post_body_and_window_updates(void **state)
{
    tc_t       tc;
    treq_t    *r;
    size_t     i;
    tframe_t  *f;

    (void) state;

    tc_start(&tc, NULL);

    tc_post(&tc, 1, 0, "/up", "content-length", "60000");
    for (i = 0; i < 4; i++) {
        tc_data(&tc, 1, body, 15000, i == 3);
    }
    tc_run(&tc);

    r = tc_req(&tc, 1);
    assert_non_null(r);
    assert_int_equal(r->content_length, 60000);
    assert_int_equal(r->body_len, 60000);
    assert_int_equal(r->body_end, 1);
    assert_int_equal(r->end_stream, 0);

    /*
     * Batched: one stream WINDOW_UPDATE when half of 65536 was consumed
     * (after 45000 bytes), none after END_STREAM; the connection's
     * threshold (512 KiB) is not reached.
     */
    assert_int_equal(tc_count(&tc, H2X_FRAME_WINDOW_UPDATE), 1);
    f = tc_find(&tc, H2X_FRAME_WINDOW_UPDATE, 1);
    assert_non_null(f);
    assert_int_equal(f->inc, 45000);

    h2x_stream_submit_response(tc.s, r->st, 204, NULL, 0, 1);
    tc_drain(&tc);
    assert_int_equal(r->closed, 1);
    assert_int_equal(r->close_code, H2X_NO_ERROR);

    tc_done(&tc);
}


static void
test_connection_window_update(void **state)
{
    tc_t       tc;
    size_t     i;
    uint32_t   sid;
    tframe_t  *f;

    (void) state;

    tc_start(&tc, NULL);

    /* 10 streams x 60000 bytes: the connection credit goes at 512 KiB */
    for (i = 0; i < 10; i++) {
        sid = 1 + 2 * (uint32_t) i;
        tc_headers(&tc, sid, 0, ":method", "POST", ":scheme", "https",
                   ":authority", "a", ":path", "/");
        tc_data(&tc, sid, body, 15000, 0);
        tc_data(&tc, sid, body, 15000, 0);
        tc_data(&tc, sid, body, 15000, 0);
        tc_data(&tc, sid, body, 15000, 1);
    }
    tc_run(&tc);

    f = tc_find(&tc, H2X_FRAME_WINDOW_UPDATE, 0);
    assert_non_null(f);
    assert_int_equal(f->inc, 525000);   /* first multiple of 15000 >= 2^19 */
    assert_int_equal(tc_count(&tc, H2X_FRAME_WINDOW_UPDATE), 11);

    tc_done(&tc);
}


static void
test_content_length_mismatch(void **state)
{
    tc_t     tc;
    treq_t  *r;

    (void) state;

    /* more DATA than announced */
    tc_start(&tc, NULL);
    tc_post(&tc, 1, 0, "/", "content-length", "10");
    tc_data(&tc, 1, body, 11, 0);
    tc_data(&tc, 1, body, 5, 1);
    tc_run(&tc);
    tc_expect_rst(&tc, 1, H2X_PROTOCOL_ERROR);
    assert_int_equal(tc_count(&tc, H2X_FRAME_RST_STREAM), 1);
    r = tc_req(&tc, 1);
    assert_int_equal(r->closed, 1);
    assert_int_equal(r->close_code, H2X_PROTOCOL_ERROR);
    assert_int_equal(r->body_len, 0);
    assert_int_equal(h2x_session_want_read(tc.s), 1);
    tc_done(&tc);

    /* END_STREAM short of it */
    tc_start(&tc, NULL);
    tc_post(&tc, 1, 0, "/", "content-length", "10");
    tc_data(&tc, 1, body, 9, 1);
    tc_run(&tc);
    tc_expect_rst(&tc, 1, H2X_PROTOCOL_ERROR);
    assert_int_equal(tc_req(&tc, 1)->body_end, 0);
    tc_done(&tc);

    /* END_STREAM on HEADERS with a positive content-length */
    tc_start(&tc, NULL);
    tc_post(&tc, 1, 1, "/", "content-length", "10");
    tc_run(&tc);
    tc_expect_rst(&tc, 1, H2X_PROTOCOL_ERROR);
    assert_int_equal(tc.nreq, 0);
    tc_done(&tc);
}


static void
test_request_trailers(void **state)
{
    tc_t     tc;
    treq_t  *r;

    (void) state;

    tc_start(&tc, NULL);
    tc_post(&tc, 1, 0, "/");
    tc_data(&tc, 1, "hello", 5, 0);
    tc_headers(&tc, 1, 1, "x-checksum", "abc");
    tc_run(&tc);

    r = tc_req(&tc, 1);
    assert_int_equal(r->body_len, 5);
    assert_int_equal(r->trailers, 1);
    assert_int_equal(r->body_end, 1);
    assert_non_null(strstr(tc.trace, "trailers 1 1 x-checksum"));
    assert_int_equal(tc_count(&tc, H2X_FRAME_RST_STREAM), 0);
    tc_done(&tc);

    /* trailers without END_STREAM: malformed (RFC 9113 8.1) */
    tc_start(&tc, NULL);
    tc_post(&tc, 1, 0, "/");
    tc_headers(&tc, 1, 0, "x-checksum", "abc");
    tc_run(&tc);
    tc_expect_rst(&tc, 1, H2X_PROTOCOL_ERROR);
    assert_int_equal(tc_req(&tc, 1)->trailers, 0);
    tc_done(&tc);

    /* pseudo-header in trailers */
    tc_start(&tc, NULL);
    tc_post(&tc, 1, 0, "/");
    tc_headers(&tc, 1, 1, ":path", "/x");
    tc_run(&tc);
    tc_expect_rst(&tc, 1, H2X_PROTOCOL_ERROR);
    tc_done(&tc);
}


static void
test_response_trailers_and_interim(void **state)
{
    tc_t          tc;
    treq_t       *r;
    h2x_chunk_t   c;
    h2x_header_t  h[2];

    (void) state;

    tc_start(&tc, NULL);
    tc_post(&tc, 1, 0, "/", "expect", "100-continue");
    tc_run(&tc);
    r = tc_req(&tc, 1);

    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 100, NULL, 0,
                                                0),
                     H2X_OK);
    h[0].name = (const uint8_t *) "link";
    h[0].name_len = 4;
    h[0].value = (const uint8_t *) "</s.css>; rel=preload";
    h[0].value_len = 21;
    h[0].flags = 0;
    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 103, h, 1, 0),
                     H2X_OK);
    /* an interim response cannot end the stream; 101 does not exist */
    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 100, NULL, 0,
                                                1),
                     H2X_ERROR);
    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 101, NULL, 0,
                                                0),
                     H2X_ERROR);
    tc_drain(&tc);
    assert_int_equal(tc.nframes, 2);
    assert_string_equal(tc.frames[0].status, "100");
    assert_string_equal(tc.frames[1].status, "103");
    assert_string_equal(tc.frames[1].fields, "link: </s.css>; rel=preload\n");
    assert_int_equal(tc.frames[1].flags, H2X_FLAG_END_HEADERS);

    tc_data(&tc, 1, "abc", 3, 1);
    tc_run(&tc);

    h[0].name = (const uint8_t *) "content-type";
    h[0].name_len = 12;
    h[0].value = (const uint8_t *) "text/plain";
    h[0].value_len = 10;
    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 200, h, 1, 0),
                     H2X_OK);
    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 200, h, 1, 0),
                     H2X_ERROR);

    tc_chunk(&c, &c, body, 0, 10);
    assert_int_equal(h2x_stream_write(tc.s, r->st, &c, 0), H2X_OK);

    h[0].name = (const uint8_t *) "grpc-status";
    h[0].name_len = 11;
    h[0].value = (const uint8_t *) "0";
    h[0].value_len = 1;
    assert_int_equal(h2x_stream_submit_trailers(tc.s, r->st, h, 1), H2X_OK);
    assert_int_equal(h2x_stream_write(tc.s, r->st, &c, 0), H2X_ERROR);

    tc.nframes = 0;
    tc_drain(&tc);
    assert_int_equal(tc.nframes, 3);
    assert_int_equal(tc.frames[0].type, H2X_FRAME_HEADERS);
    assert_string_equal(tc.frames[0].status, "200");
    assert_string_equal(tc.frames[0].fields, "content-type: text/plain\n");
    assert_int_equal(tc.frames[1].type, H2X_FRAME_DATA);
    assert_int_equal(tc.frames[1].flags, 0);
    assert_int_equal(tc.frames[1].len, 10);
    assert_int_equal(tc.frames[2].type, H2X_FRAME_HEADERS);
    assert_int_equal(tc.frames[2].flags,
                     H2X_FLAG_END_HEADERS | H2X_FLAG_END_STREAM);
    assert_string_equal(tc.frames[2].status, "");
    assert_string_equal(tc.frames[2].fields, "grpc-status: 0\n");
    assert_int_equal(r->closed, 1);
    assert_int_equal(r->close_code, H2X_NO_ERROR);
    assert_int_equal(tc.releases, 1);

    tc_done(&tc);
}


static void
test_response_header_checks(void **state)
{
    tc_t          tc;
    size_t        i;
    treq_t       *r;
    h2x_header_t  h;
    h2x_config_t  cfg;

    /* never sendable whatever the policy: refused with REFUSE */
    static const char  *bad[] = {
        ":status", "Content-Type", "", "a b", "x\r", "x(y)"
    };

    (void) state;

    tc_cfg(&cfg);
    cfg.bad_response_field = H2X_BAD_FIELD_REFUSE;
    tc_start(&tc, &cfg);
    r = tc_open(&tc, 1, "/");

    h.flags = 0;
    h.value = (const uint8_t *) "x";
    h.value_len = 1;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        h.name = (const uint8_t *) bad[i];
        h.name_len = strlen(bad[i]);
        assert_int_equal(
            h2x_stream_submit_response(tc.s, r->st, 200, &h, 1, 1), H2X_ERROR);
    }

    h.name = (const uint8_t *) "x";
    h.name_len = 1;
    h.value = (const uint8_t *) "a\nb";
    h.value_len = 3;
    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 200, &h, 1, 1),
                     H2X_ERROR);

    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 99, NULL, 0, 1),
                     H2X_ERROR);
    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 600, NULL, 0, 1),
                     H2X_ERROR);
    tc_drain(&tc);
    assert_int_equal(tc.nframes, 0);

    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 404, NULL, 0, 1),
                     H2X_OK);
    tc_drain(&tc);
    assert_string_equal(tc.frames[0].status, "404");
    assert_int_equal(tc.frames[0].flags,
                     H2X_FLAG_END_HEADERS | H2X_FLAG_END_STREAM);

    tc_done(&tc);
}


/*
 * Issue 12: connection-specific response fields (te among them) are left
 * out, as the builtins leave them out, and the response goes out; fields
 * with an invalid name or value are dropped with a log line (the
 * default), values are trimmed.
 */
static void
test_response_fields_dropped(void **state)
{
    tc_t          tc;
    size_t        i;
    treq_t       *r;
    h2x_header_t  h[16];

    static const char  *f[][2] = {
        { "connection", "close" },
        { "keep-alive", "timeout=5" },
        { "proxy-connection", "keep-alive" },
        { "transfer-encoding", "chunked" },
        { "upgrade", "h2c" },
        { "te", "trailers" },
        { "TE", "trailers" },
        { "http2-settings", "AAA" },
        { "x-ok", "  padded\t" },
        { "x-nul", "a\0b" },
        { "x-cr", "a\rb" },
        { "x-lf", "a\nb" },
        { "x-ctl", "a\001b" },
        { "", "empty name" },
        { "X-Upper", "u" },
        { "x-tab", "a\tb" }
    };

    (void) state;

    tc_start(&tc, NULL);
    r = tc_open(&tc, 1, "/");

    for (i = 0; i < 16; i++) {
        h[i].name = (const uint8_t *) f[i][0];
        h[i].name_len = strlen(f[i][0]);
        h[i].value = (const uint8_t *) f[i][1];
        h[i].value_len = strlen(f[i][1]) + (i == 9 ? 2 : 0);
        h[i].flags = 0;
    }

    assert_int_equal(h2x_response_field(&h[0]), H2X_FIELD_HOP);
    assert_int_equal(h2x_response_field(&h[5]), H2X_FIELD_HOP);
    assert_int_equal(h2x_response_field(&h[6]), H2X_FIELD_HOP);
    assert_int_equal(h2x_response_field(&h[8]), H2X_FIELD_OK);
    assert_int_equal(h2x_response_field(&h[9]), H2X_FIELD_BAD_VALUE);
    assert_int_equal(h2x_response_field(&h[11]), H2X_FIELD_BAD_VALUE);
    assert_int_equal(h2x_response_field(&h[13]), H2X_FIELD_BAD_NAME);
    assert_int_equal(h2x_response_field(&h[14]), H2X_FIELD_BAD_NAME);
    assert_int_equal(h2x_response_field(&h[15]), H2X_FIELD_OK);

    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 200, h, 16, 1),
                     H2X_OK);
    tc_drain(&tc);
    assert_int_equal(tc.nframes, 1);
    assert_string_equal(tc.frames[0].status, "200");
    assert_string_equal(tc.frames[0].fields, "x-ok: padded\nx-tab: a\tb\n");
    assert_int_equal(h2x_session_stats(tc.s)->response_fields_dropped, 6);

    tc_done(&tc);

    /* trailers: the same rules */
    tc_start(&tc, NULL);
    r = tc_open(&tc, 1, "/");
    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 200, NULL, 0, 0),
                     H2X_OK);
    assert_int_equal(h2x_stream_submit_trailers(tc.s, r->st, h, 16), H2X_OK);
    tc_drain(&tc);
    assert_int_equal(tc.nframes, 2);
    assert_int_equal(tc.frames[1].type, H2X_FRAME_HEADERS);
    assert_true(tc.frames[1].flags & H2X_FLAG_END_STREAM);
    assert_string_equal(tc.frames[1].fields, "x-ok: padded\nx-tab: a\tb\n");
    tc_done(&tc);
}


/*
 * Issue 12: a response header block of any size up to the bound goes out
 * as HEADERS + CONTINUATION at the peer's max frame size; above it the
 * call says H2X_TOO_LARGE, nothing is sent, and a 500 can follow.
 */
static void
test_response_header_size(void **state)
{
    tc_t          tc;
    size_t        i, nc;
    treq_t       *r;
    h2x_header_t  h[2];
    h2x_config_t  cfg;
    static char   big[40000];

    (void) state;

    memset(big, 'v', sizeof(big));

    h[0].name = (const uint8_t *) "x-big";
    h[0].name_len = 5;
    h[0].value = (const uint8_t *) big;
    h[0].value_len = sizeof(big);
    h[0].flags = 0;
    h[1] = h[0];
    h[1].name = (const uint8_t *) "x-small";
    h[1].name_len = 7;
    h[1].value_len = 10;

    tc_start(&tc, NULL);
    r = tc_open(&tc, 1, "/");
    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 200, h, 2, 1),
                     H2X_OK);
    tc_drain(&tc);
    assert_true(tc.nframes >= 3);
    assert_int_equal(tc.frames[0].type, H2X_FRAME_HEADERS);
    assert_int_equal(tc.frames[0].flags, H2X_FLAG_END_STREAM);
    nc = 0;
    for (i = 1; i < tc.nframes; i++) {
        assert_int_equal(tc.frames[i].type, H2X_FRAME_CONTINUATION);
        assert_true(tc.frames[i].len <= 16384);
        nc++;
    }
    assert_true(tc.frames[tc.nframes - 1].flags & H2X_FLAG_END_HEADERS);
    assert_true(nc >= 2);
    assert_string_equal(tc.frames[0].status, "200");
    tc_done(&tc);

    tc_cfg(&cfg);
    cfg.max_response_header_size = 20000;
    tc_start(&tc, &cfg);
    r = tc_open(&tc, 1, "/");
    assert_int_equal(h2x_response_header_size(h, 2),
                     5 + 7 + sizeof(big) + 10 + 64);
    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 200, h, 2, 1),
                     H2X_TOO_LARGE);
    tc_drain(&tc);
    assert_int_equal(tc.nframes, 0);
    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 500, &h[1], 1,
                                                0),
                     H2X_OK);
    /* trailers are bounded the same way */
    assert_int_equal(h2x_stream_submit_trailers(tc.s, r->st, h, 1),
                     H2X_TOO_LARGE);
    assert_int_equal(h2x_stream_submit_trailers(tc.s, r->st, &h[1], 1),
                     H2X_OK);
    tc_drain(&tc);
    assert_int_equal(tc.nframes, 2);
    assert_string_equal(tc.frames[0].status, "500");
    assert_true(tc.frames[1].flags & H2X_FLAG_END_STREAM);
    tc_done(&tc);
}


static void
test_stream_id_rules(void **state)
{
    tc_t  tc;

    (void) state;

    /* even id */
    tc_start(&tc, NULL);
    tc_get(&tc, 2, 1, "/");
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 0, H2X_PROTOCOL_ERROR);
    assert_int_equal(tc.nreq, 0);
    tc_done(&tc);

    /* decreasing id */
    tc_start(&tc, NULL);
    tc_get(&tc, 5, 1, "/");
    tc_get(&tc, 3, 1, "/");
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 5, H2X_PROTOCOL_ERROR);
    assert_int_equal(tc.nreq, 1);
    /* the stream was closed with the connection */
    assert_int_equal(tc.req[0].closed, 1);
    assert_int_equal(tc.req[0].close_code, H2X_PROTOCOL_ERROR);
    tc_done(&tc);

    /* HEADERS on a stream closed normally: STREAM_CLOSED */
    tc_start(&tc, NULL);
    tc.auto_respond = 1;
    tc_get(&tc, 1, 1, "/");
    tc_run(&tc);
    assert_int_equal(tc.req[0].closed, 1);
    tc_get(&tc, 1, 1, "/");
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 1, H2X_STREAM_CLOSED);
    tc_done(&tc);
}


static void
test_idle_stream_frames(void **state)
{
    tc_t  tc;

    (void) state;

    tc_start(&tc, NULL);
    tc_data(&tc, 1, "x", 1, 0);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 0, H2X_PROTOCOL_ERROR);
    tc_done(&tc);

    tc_start(&tc, NULL);
    tc_wu(&tc, 3, 100);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 0, H2X_PROTOCOL_ERROR);
    tc_done(&tc);

    tc_start(&tc, NULL);
    tc_rst(&tc, 3, H2X_CANCEL);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 0, H2X_PROTOCOL_ERROR);
    tc_done(&tc);

    /* PRIORITY on an idle stream is fine */
    tc_start(&tc, NULL);
    tc_frame(&tc, H2X_FRAME_PRIORITY, 0, 7, "\0\0\0\1\20", 5);
    assert_true(tc_run(&tc) > 0);
    assert_int_equal(tc.nframes, 0);
    tc_get(&tc, 1, 1, "/");
    assert_true(tc_run(&tc) > 0);
    assert_int_equal(tc.nreq, 1);
    tc_done(&tc);
}


/*
 * Issue 12, RFC 9113 5.1: DATA after the peer's RST_STREAM is a stream
 * error STREAM_CLOSED also when our own RST_STREAM crossed it: the
 * server's RST_STREAM NO_ERROR after a complete response to a request
 * whose body had not ended (the race seen on both servers, 4 runs of 6),
 * our reset of a stream the adapter still holds, a stream already
 * released and freed (the closed-stream memory).
 */
static void
test_data_after_crossed_resets(void **state)
{
    int      round;
    tc_t     tc;
    treq_t  *r;

    (void) state;

    for (round = 0; round < 3; round++) {
        tc_start(&tc, NULL);
        tc_post(&tc, 1, 0, "/");
        tc_run(&tc);
        r = tc_req(&tc, 1);

        if (round == 1) {
            assert_int_equal(h2x_stream_reset(tc.s, r->st, H2X_CANCEL),
                             H2X_OK);
            tc_drain(&tc);
            tc_expect_rst(&tc, 1, H2X_CANCEL);

        } else {
            assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 200,
                                                        NULL, 0, 1),
                             H2X_OK);
            tc_drain(&tc);
            h2x_stream_release(tc.s, r->st);
            tc_drain(&tc);
            /* the body had not ended: RFC 9113 8.1 */
            tc_expect_rst(&tc, 1, H2X_NO_ERROR);
        }

        if (round == 2) {
            /* other streams come and go: stream 1 is freed */
            tc_get(&tc, 3, 1, "/");
            tc_run(&tc);
            h2x_stream_release(tc.s, tc_req(&tc, 3)->st);
            tc_drain(&tc);
        }

        tc.nframes = 0;
        /* the client's RST_STREAM crossed ours, then it sends DATA */
        tc_rst(&tc, 1, H2X_CANCEL);
        tc_data(&tc, 1, body, 10, 0);
        assert_true(tc_run(&tc) > 0);
        tc_expect_rst(&tc, 1, H2X_STREAM_CLOSED);
        assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
        tc_done(&tc);
    }

    /* without a reset of the peer: still ignored after ours (5.1) */
    tc_start(&tc, NULL);
    tc_post(&tc, 1, 0, "/");
    tc_run(&tc);
    r = tc_req(&tc, 1);
    assert_int_equal(h2x_stream_reset(tc.s, r->st, H2X_CANCEL), H2X_OK);
    tc_drain(&tc);
    tc.nframes = 0;
    tc_data(&tc, 1, body, 10, 0);
    assert_true(tc_run(&tc) > 0);
    assert_int_equal(tc.nframes, 0);
    tc_done(&tc);

    /* DATA on an idle stream: connection error PROTOCOL_ERROR */
    tc_start(&tc, NULL);
    tc_data(&tc, 5, body, 10, 0);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 0, H2X_PROTOCOL_ERROR);
    tc_done(&tc);
}


static void
test_closed_stream_frames(void **state)
{
    tc_t     tc;
    treq_t  *r;

    (void) state;

    /* DATA after our RST_STREAM: ignored, but counted for the window */
    tc_start(&tc, NULL);
    tc_post(&tc, 1, 0, "/");
    tc_run(&tc);
    r = tc_req(&tc, 1);
    assert_int_equal(h2x_stream_reset(tc.s, r->st, H2X_CANCEL), H2X_OK);
    assert_int_equal(r->closed, 1);
    assert_int_equal(r->close_code, H2X_CANCEL);
    tc_drain(&tc);
    tc_expect_rst(&tc, 1, H2X_CANCEL);
    tc.nframes = 0;
    tc_data(&tc, 1, body, 1000, 0);
    tc_data(&tc, 1, body, 1000, 1);
    assert_true(tc_run(&tc) > 0);
    assert_int_equal(tc.nframes, 0);
    assert_int_equal(r->body_len, 0);
    /* WINDOW_UPDATE and RST_STREAM after close are fine */
    tc_wu(&tc, 1, 100);
    tc_rst(&tc, 1, H2X_CANCEL);
    assert_true(tc_run(&tc) > 0);
    assert_int_equal(tc.nframes, 0);
    tc_done(&tc);

    /* DATA after the peer's RST_STREAM: STREAM_CLOSED */
    tc_start(&tc, NULL);
    tc_post(&tc, 1, 0, "/");
    tc_rst(&tc, 1, H2X_CANCEL);
    tc_run(&tc);
    r = tc_req(&tc, 1);
    assert_int_equal(r->closed, 1);
    assert_int_equal(r->close_code, H2X_CANCEL);
    tc_data(&tc, 1, body, 10, 0);
    assert_true(tc_run(&tc) > 0);
    tc_expect_rst(&tc, 1, H2X_STREAM_CLOSED);
    tc_done(&tc);

    /* DATA after END_STREAM (half-closed remote): STREAM_CLOSED */
    tc_start(&tc, NULL);
    tc_get(&tc, 1, 1, "/");
    tc_data(&tc, 1, body, 10, 0);
    assert_true(tc_run(&tc) > 0);
    tc_expect_rst(&tc, 1, H2X_STREAM_CLOSED);
    assert_int_equal(tc.req[0].close_code, H2X_STREAM_CLOSED);
    tc_done(&tc);

    /* DATA on a stream closed normally: connection STREAM_CLOSED */
    tc_start(&tc, NULL);
    tc.auto_respond = 1;
    tc_get(&tc, 1, 1, "/");
    tc_run(&tc);
    tc_data(&tc, 1, body, 10, 0);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 1, H2X_STREAM_CLOSED);
    tc_done(&tc);
}


static void
test_continuation_rules(void **state)
{
    tc_t         tc;
    const char  *kv[] = { ":method", "GET", ":scheme", "https",
                          ":authority", "example.com", ":path",
                          "/a/long/path/to/split/into/frames", NULL };
    uint8_t     *p;

    (void) state;

    /* a block in 5-byte fragments */
    tc_start(&tc, NULL);
    tc_headers_v(&tc, 1, 1, 5, kv);
    assert_true(tc_run(&tc) > 0);
    assert_int_equal(tc.nreq, 1);
    assert_string_equal(tc.req[0].path, "/a/long/path/to/split/into/frames");
    tc_done(&tc);

    /* anything else inside a block */
    tc_start(&tc, NULL);
    p = tc.in;
    tc_headers_v(&tc, 1, 1, 5, kv);
    tc.inlen = (p - tc.in) + 9 + 5;   /* HEADERS only */
    tc_ping(&tc, "12345678", 0);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 0, H2X_PROTOCOL_ERROR);
    tc_done(&tc);

    /* CONTINUATION of another stream */
    tc_start(&tc, NULL);
    tc_headers_v(&tc, 1, 1, 5, kv);
    tc.in[9 + 5 + 8] = 3;   /* first CONTINUATION's stream id: 3 */
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 0, H2X_PROTOCOL_ERROR);
    tc_done(&tc);

    /* a client PUSH_PROMISE */
    tc_start(&tc, NULL);
    tc_get(&tc, 1, 0, "/");
    tc_frame(&tc, H2X_FRAME_PUSH_PROMISE, H2X_FLAG_END_HEADERS, 1,
             "\0\0\0\2\x82", 5);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 1, H2X_PROTOCOL_ERROR);
    tc_done(&tc);
}


static void
test_priority_self_dependency(void **state)
{
    tc_t     tc;
    uint8_t  pri[5] = { 0, 0, 0, 1, 16 };
    uint8_t  blk[256];
    size_t   len;
    h2x_header_t  h[4];

    (void) state;

    /* PRIORITY on an open stream depending on itself */
    tc_start(&tc, NULL);
    tc_post(&tc, 1, 0, "/");
    tc_frame(&tc, H2X_FRAME_PRIORITY, 0, 1, pri, 5);
    assert_true(tc_run(&tc) > 0);
    tc_expect_rst(&tc, 1, H2X_PROTOCOL_ERROR);
    assert_int_equal(tc.req[0].close_code, H2X_PROTOCOL_ERROR);
    tc_done(&tc);

    /* HEADERS depending on itself: reset, never announced, HPACK kept */
    tc_start(&tc, NULL);
    h[0].name = (const uint8_t *) ":method"; h[0].name_len = 7;
    h[0].value = (const uint8_t *) "GET"; h[0].value_len = 3;
    h[1].name = (const uint8_t *) ":scheme"; h[1].name_len = 7;
    h[1].value = (const uint8_t *) "https"; h[1].value_len = 5;
    h[2].name = (const uint8_t *) ":path"; h[2].name_len = 5;
    h[2].value = (const uint8_t *) "/"; h[2].value_len = 1;
    h[3].name = (const uint8_t *) "x-indexed"; h[3].name_len = 9;
    h[3].value = (const uint8_t *) "yes"; h[3].value_len = 3;
    h[0].flags = h[1].flags = h[2].flags = 0;
    h[3].flags = H2X_HEADER_INDEX;
    assert_int_equal(h2x_hpack_encode(&tc.enc, h, 4, blk, sizeof(blk), &len),
                     H2X_OK);
    h2x_frame_write_headers(tc_room(&tc, 14 + len), 1, (uint32_t) len,
                            H2X_FLAG_END_HEADERS | H2X_FLAG_END_STREAM,
                            &(h2x_priority_t) { 1, 16, 0 });
    memcpy(tc.in + tc.inlen + 14, blk, len);
    tc.inlen += 14 + len;
    /* the next request refers to the dynamic entry */
    tc_headers(&tc, 3, 1, ":method", "GET", ":scheme", "https", ":path", "/",
               "x-indexed", "yes");
    assert_true(tc_run(&tc) > 0);
    tc_expect_rst(&tc, 1, H2X_PROTOCOL_ERROR);
    assert_int_equal(tc.nreq, 1);
    assert_int_equal(tc.req[0].sid, 3);
    assert_string_equal(tc.req[0].fields, "x-indexed: yes\n");
    tc_done(&tc);
}


static void
test_max_concurrent_streams(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;
    uint32_t      i;

    (void) state;

    h2x_config_init(&cfg);
    cfg.max_concurrent_streams = 3;

    tc_start(&tc, &cfg);
    tc.auto_release = 0;

    for (i = 0; i < 4; i++) {
        tc_get(&tc, 1 + 2 * i, 1, "/");
    }
    tc_run(&tc);
    assert_int_equal(tc.nreq, 3);
    tc_expect_rst(&tc, 7, H2X_REFUSED_STREAM);
    assert_int_equal(h2x_session_stats(tc.s)->streams_refused, 1);
    assert_int_equal(h2x_session_streams(tc.s), 3);
    assert_string_equal(tc.last_log,
                        "client exceeded the concurrent streams limit");
    assert_int_equal(tc.last_log_code, H2X_REFUSED_STREAM);

    /* a reset stream keeps its slot until released (MadeYouReset) */
    tc_rst(&tc, 1, H2X_CANCEL);
    tc_get(&tc, 9, 1, "/");
    tc_run(&tc);
    assert_int_equal(tc.nreq, 3);
    tc_expect_rst(&tc, 9, H2X_REFUSED_STREAM);

    h2x_stream_release(tc.s, tc.req[0].st);
    assert_int_equal(h2x_session_streams(tc.s), 2);
    tc_get(&tc, 11, 1, "/");
    tc_run(&tc);
    assert_int_equal(tc.nreq, 4);
    assert_int_equal(tc.req[3].sid, 11);

    for (i = 1; i < 4; i++) {
        h2x_stream_release(tc.s, tc.req[i].st);
    }
    tc_drain(&tc);
    /* released before the response: reset INTERNAL_ERROR */
    tc_expect_rst(&tc, 11, H2X_INTERNAL_ERROR);
    assert_int_equal(h2x_session_streams(tc.s), 0);

    tc_done(&tc);

    /*
     * A complete exchange frees its slot at once, as the peer counts it,
     * even before the adapter releases the stream: a client that opens
     * the next stream on END_STREAM is not refused.
     */
    tc_start(&tc, &cfg);
    tc.auto_release = 0;

    for (i = 0; i < 3; i++) {
        tc_get(&tc, 1 + 2 * i, 1, "/");
    }
    tc_run(&tc);
    assert_int_equal(tc.nreq, 3);

    assert_int_equal(h2x_stream_submit_response(tc.s, tc.req[0].st, 204,
                                                NULL, 0, 1),
                     H2X_OK);
    tc_drain(&tc);
    assert_int_equal(tc.req[0].closed, 1);
    assert_int_equal(h2x_session_streams(tc.s), 3);

    tc_get(&tc, 7, 1, "/");
    tc_run(&tc);
    assert_int_equal(tc.nreq, 4);
    assert_int_equal(tc_count(&tc, H2X_FRAME_RST_STREAM), 0);

    /* the slot of a reset stream stays held until release */
    tc_rst(&tc, 3, H2X_CANCEL);
    tc_get(&tc, 9, 1, "/");
    tc_run(&tc);
    assert_int_equal(tc.nreq, 4);
    tc_expect_rst(&tc, 9, H2X_REFUSED_STREAM);

    for (i = 0; i < 4; i++) {
        h2x_stream_release(tc.s, tc.req[i].st);
    }
    tc_drain(&tc);
    assert_int_equal(h2x_session_streams(tc.s), 0);

    tc_done(&tc);
}


static void
test_ping(void **state)
{
    tc_t       tc;
    tframe_t  *f;

    (void) state;

    tc_start(&tc, NULL);
    tc_ping(&tc, "abcdefgh", 0);
    tc_ping(&tc, "ACKACKAC", 1);   /* an ACK nobody asked for: ignored */
    tc_run(&tc);
    assert_int_equal(tc.nframes, 1);
    f = &tc.frames[0];
    assert_int_equal(f->type, H2X_FRAME_PING);
    assert_int_equal(f->flags, H2X_FLAG_ACK);
    assert_memory_equal(f->opaque, "abcdefgh", 8);
    tc_done(&tc);
}


static void
test_settings_timeout(void **state)
{
    tc_t  tc;

    (void) state;

    tc_init(&tc, NULL);
    tc_preface(&tc, NULL, 0);
    tc_run(&tc);
    assert_int_equal(h2x_session_next_timeout(tc.s), 11000);
    h2x_session_tick(tc.s, 10999);
    tc_drain(&tc);
    assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
    h2x_session_tick(tc.s, 11000);
    tc_drain(&tc);
    tc_expect_goaway(&tc, 0, H2X_SETTINGS_TIMEOUT);
    assert_int_equal(h2x_session_want_close(tc.s), 1);
    tc_done(&tc);
}


static void
test_settings_apply(void **state)
{
    tc_t           tc;
    treq_t        *r;
    h2x_chunk_t    c;
    h2x_setting_t  set[2];

    (void) state;

    tc_start(&tc, NULL);
    r = tc_open(&tc, 1, "/");

    /* the peer's window: 65535 until it says otherwise */
    tc_respond(&tc, r, &c, body, 100000);
    tc_drain(&tc);
    assert_int_equal(tc_count(&tc, H2X_FRAME_DATA), 4);
    assert_int_equal(tc.frames[1].len, 16384);
    assert_int_equal(tc.frames[4].len, 65535 - 3 * 16384);
    assert_int_equal(h2x_stream_queued(r->st), 100000 - 65535);

    /* RFC 9113 6.9.2: shrinking the window makes it negative */
    set[0].id = H2X_SETTINGS_INITIAL_WINDOW_SIZE;
    set[0].value = 1000;
    tc_settings(&tc, set, 1);
    tc_wu(&tc, 1, 64000);    /* stream window: 1000 - 65535 + 64000 */
    tc_wu(&tc, 0, 100000);
    tc.nframes = 0;
    tc_run(&tc);
    assert_int_equal(tc.nframes, 1);
    assert_int_equal(tc.frames[0].type, H2X_FRAME_SETTINGS);
    assert_int_equal(tc.frames[0].flags, H2X_FLAG_ACK);

    tc_wu(&tc, 1, 1000);     /* now 465 */
    tc_run(&tc);
    assert_int_equal(tc.nframes, 2);
    assert_int_equal(tc.frames[1].type, H2X_FRAME_DATA);
    assert_int_equal(tc.frames[1].len, 465);

    /* a larger max frame size and window let the rest go at once */
    set[0].id = H2X_SETTINGS_MAX_FRAME_SIZE;
    set[0].value = 1 << 20;
    set[1].id = H2X_SETTINGS_INITIAL_WINDOW_SIZE;
    set[1].value = 1000000;
    tc_settings(&tc, set, 2);
    tc.nframes = 0;
    tc_run(&tc);
    /* chunk_size still caps a frame at 16384 */
    assert_int_equal(tc.frames[0].type, H2X_FRAME_SETTINGS);
    assert_int_equal(tc_count(&tc, H2X_FRAME_DATA), 3);
    assert_int_equal(tc.frames[3].flags, H2X_FLAG_END_STREAM);
    assert_int_equal(tc.body_len[0], 100000);
    assert_memory_equal(tc.body[0], body, 100000);
    assert_int_equal(tc.releases, 1);

    tc_done(&tc);
}


static void
test_flow_control_errors(void **state)
{
    tc_t           tc;
    h2x_config_t   cfg;
    h2x_setting_t  set;

    (void) state;

    /* stream window overflow */
    tc_start(&tc, NULL);
    tc_get(&tc, 1, 1, "/");
    tc_wu(&tc, 1, 0x7fffffff);
    tc_run(&tc);
    tc_expect_rst(&tc, 1, H2X_FLOW_CONTROL_ERROR);
    assert_int_equal(tc.req[0].close_code, H2X_FLOW_CONTROL_ERROR);
    tc_done(&tc);

    /* connection window overflow */
    tc_start(&tc, NULL);
    tc_wu(&tc, 0, 0x7fffffff);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 0, H2X_FLOW_CONTROL_ERROR);
    tc_done(&tc);

    /* WINDOW_UPDATE 0 on a stream / on the connection */
    tc_start(&tc, NULL);
    tc_get(&tc, 1, 1, "/");
    tc_wu(&tc, 1, 0);
    tc_run(&tc);
    tc_expect_rst(&tc, 1, H2X_PROTOCOL_ERROR);
    tc_wu(&tc, 0, 0);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 1, H2X_PROTOCOL_ERROR);
    tc_done(&tc);

    /* SETTINGS_INITIAL_WINDOW_SIZE overflowing an open stream's window */
    tc_start(&tc, NULL);
    tc_get(&tc, 1, 1, "/");
    tc_wu(&tc, 1, 0x7fffffff - 65535);
    set.id = H2X_SETTINGS_INITIAL_WINDOW_SIZE;
    set.value = 65536;
    tc_settings(&tc, &set, 1);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 1, H2X_FLOW_CONTROL_ERROR);
    tc_done(&tc);

    /* DATA beyond the stream window (16384 after our SETTINGS ACK) */
    h2x_config_init(&cfg);
    cfg.initial_window_size = 16384;
    tc_start(&tc, &cfg);
    tc.auto_consume = 0;
    tc_post(&tc, 1, 0, "/");
    tc_data(&tc, 1, body, 16384, 0);
    tc_data(&tc, 1, body, 1, 0);
    tc_run(&tc);
    tc_expect_rst(&tc, 1, H2X_FLOW_CONTROL_ERROR);
    assert_int_equal(tc.req[0].body_len, 16384);
    tc_done(&tc);

    /* DATA beyond the connection window */
    h2x_config_init(&cfg);
    cfg.connection_window_size = 65535;
    cfg.initial_window_size = 1 << 20;
    tc_start(&tc, &cfg);
    tc.auto_consume = 0;
    tc_post(&tc, 1, 0, "/");
    tc_data(&tc, 1, body, 16384, 0);
    tc_data(&tc, 1, body, 16384, 0);
    tc_data(&tc, 1, body, 16384, 0);
    tc_data(&tc, 1, body, 16384, 0);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 1, H2X_FLOW_CONTROL_ERROR);
    tc_done(&tc);
}


static void
test_graceful_goaway(void **state)
{
    tc_t       tc;
    treq_t    *r;
    tframe_t  *f;

    (void) state;

    tc_start(&tc, NULL);
    tc.auto_release = 0;
    r = tc_open(&tc, 1, "/");

    assert_int_equal(h2x_session_goaway(tc.s, H2X_NO_ERROR, 1), H2X_OK);
    tc_drain(&tc);
    assert_int_equal(tc.nframes, 2);
    assert_int_equal(tc.frames[0].type, H2X_FRAME_GOAWAY);
    assert_int_equal(tc.frames[0].last_id, 0x7fffffff);
    assert_int_equal(tc.frames[1].type, H2X_FRAME_PING);
    assert_int_equal(tc.frames[1].flags, 0);
    assert_int_equal(h2x_session_want_close(tc.s), 0);

    /* streams opened before the PING ACK still count */
    tc_get(&tc, 3, 1, "/");
    tc_ping(&tc, (const char *) tc.frames[1].opaque, 1);
    tc_get(&tc, 5, 1, "/");
    tc_run(&tc);
    assert_int_equal(tc.nreq, 2);
    f = &tc.frames[tc.nframes - 1];
    assert_int_equal(f->type, H2X_FRAME_GOAWAY);
    assert_int_equal(f->last_id, 3);
    assert_int_equal(f->code, H2X_NO_ERROR);
    assert_int_equal(tc_count(&tc, H2X_FRAME_GOAWAY), 2);

    /* open streams finish, then the connection closes */
    h2x_stream_submit_response(tc.s, r->st, 200, NULL, 0, 1);
    h2x_stream_release(tc.s, r->st);
    assert_int_equal(h2x_session_want_close(tc.s), 0);
    h2x_stream_submit_response(tc.s, tc.req[1].st, 200, NULL, 0, 1);
    tc_drain(&tc);
    h2x_stream_release(tc.s, tc.req[1].st);
    assert_int_equal(h2x_session_want_close(tc.s), 1);
    assert_int_equal(h2x_session_want_write(tc.s), 0);

    tc_done(&tc);

    /* without the PING ACK, step 2 comes at the timeout */
    tc_start(&tc, NULL);
    tc_get(&tc, 1, 1, "/");
    tc_run(&tc);
    h2x_session_goaway(tc.s, H2X_NO_ERROR, 1);
    /*
     * The connection has been quiet since t=1000: the PING deadline
     * counts from the next clock reading, not from that old one.
     */
    assert_int_equal(h2x_session_next_timeout(tc.s), 0);
    h2x_session_tick(tc.s, 5000);
    assert_int_equal(h2x_session_next_timeout(tc.s), 5000 + 1000);
    tc_drain(&tc);
    assert_int_equal(tc_count(&tc, H2X_FRAME_GOAWAY), 1);
    h2x_session_tick(tc.s, 5999);
    tc_drain(&tc);
    assert_int_equal(tc_count(&tc, H2X_FRAME_GOAWAY), 1);
    h2x_session_tick(tc.s, 6000);
    tc_drain(&tc);
    tc_expect_goaway(&tc, 1, H2X_NO_ERROR);
    assert_int_equal(tc_count(&tc, H2X_FRAME_GOAWAY), 2);
    tc_done(&tc);

    /* immediate, with an error: streams close */
    tc_start(&tc, NULL);
    tc_get(&tc, 1, 1, "/");
    tc_run(&tc);
    h2x_session_goaway(tc.s, H2X_INTERNAL_ERROR, 0);
    tc_drain(&tc);
    tc_expect_goaway(&tc, 1, H2X_INTERNAL_ERROR);
    assert_int_equal(tc.req[0].close_code, H2X_INTERNAL_ERROR);
    assert_int_equal(h2x_session_want_close(tc.s), 1);
    tc_done(&tc);
}


static void
test_peer_goaway(void **state)
{
    tc_t  tc;

    (void) state;

    tc_start(&tc, NULL);
    tc.auto_release = 0;
    tc_get(&tc, 1, 1, "/");
    tc_goaway(&tc, 0, H2X_NO_ERROR);
    tc_run(&tc);
    assert_int_equal(tc.goaways, 1);
    assert_int_equal(h2x_session_want_close(tc.s), 0);
    h2x_stream_submit_response(tc.s, tc.req[0].st, 200, NULL, 0, 1);
    tc_drain(&tc);
    h2x_stream_release(tc.s, tc.req[0].st);
    assert_int_equal(h2x_session_want_close(tc.s), 1);
    assert_int_equal(h2x_session_stats(tc.s)->goaways_in, 1);
    tc_done(&tc);
}


/*
 * A DATA frame that arrives in two reads: credit given while its second
 * part is still on the way must not cover that part, or the peer could
 * have more in flight than the window while the adapter still holds the
 * part unconsumed.
 */
static void
test_credit_split_data_frame(void **state)
{
    tc_t            tc;
    h2x_config_t    cfg;
    size_t          i, cut, granted, sent, unconsumed;
    static uint8_t  buf[16384];

    (void) state;

    h2x_config_init(&cfg);
    cfg.initial_window_size = 32768;

    tc_start(&tc, &cfg);
    tc_get(&tc, 1, 0, "/upload");
    tc_run(&tc);

    tc_data(&tc, 1, buf, sizeof(buf), 0);
    tc_data(&tc, 1, buf, sizeof(buf), 0);

    /* the first frame and half of the second, consumed at once */
    cut = 2 * 9 + sizeof(buf) + sizeof(buf) / 2;
    assert_int_equal(h2x_session_feed(tc.s, tc.in, cut, tc.now), (long) cut);

    /* the rest stays with the adapter */
    tc.auto_consume = 0;
    assert_int_equal(h2x_session_feed(tc.s, tc.in + cut, tc.inlen - cut,
                                      tc.now),
                     (long) (tc.inlen - cut));
    tc.inlen = 0;
    tc_drain(&tc);

    granted = 0;
    for (i = 0; i < tc.nframes; i++) {
        if (tc.frames[i].type == H2X_FRAME_WINDOW_UPDATE
            && tc.frames[i].sid == 1)
        {
            granted += tc.frames[i].inc;
        }
    }

    sent = 2 * sizeof(buf);
    unconsumed = sizeof(buf) / 2;

    /* what the peer may still send plus what we hold: within the window */
    assert_true(32768 - sent + granted + unconsumed <= 32768);
    assert_true(granted > 0);

    tc_done(&tc);
}


/* Freeing a session hands every chunk it still holds back to the caller:
 * one half written into the output, one still queued behind it. */
static void
test_free_releases_chunks(void **state)
{
    tc_t          tc;
    treq_t       *r;
    h2x_chunk_t   c[2];
    size_t        n;
    h2x_segment_t seg[8];
    static uint8_t  body[2][1000];

    (void) state;

    tc_start(&tc, NULL);
    tc.auto_release = 0;
    r = tc_open(&tc, 1, "/");

    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 200, NULL, 0, 0),
                     H2X_OK);
    for (n = 0; n < 2; n++) {
        tc_chunk(&c[n], &c[n], body[n], 0, sizeof(body[n]));
    }
    assert_int_equal(h2x_stream_write(tc.s, r->st, &c[0], 0), H2X_OK);

    n = h2x_session_pending(tc.s, seg, 8);
    assert_true(n >= 2);
    assert_int_equal(h2x_stream_write(tc.s, r->st, &c[1], 1), H2X_OK);
    assert_int_equal(tc.releases, 0);

    /* tc_done() frees the session and checks every allocation was freed */
    h2x_session_free(tc.s);
    tc.s = NULL;
    assert_int_equal(tc.releases, 2);
    assert_int_equal(tc.talloc.allocs, tc.talloc.frees);
    tc_done(&tc);
}


static void
test_peer_reset_releases_chunks(void **state)
{
    tc_t          tc;
    treq_t       *r;
    h2x_chunk_t   c[3];
    int           i;

    (void) state;

    tc_start(&tc, NULL);
    tc.auto_release = 0;
    r = tc_open(&tc, 1, "/");

    h2x_stream_submit_response(tc.s, r->st, 200, NULL, 0, 0);
    for (i = 0; i < 3; i++) {
        tc_chunk(&c[i], &c[i], body, 0, 40000);
        assert_int_equal(h2x_stream_write(tc.s, r->st, &c[i], i == 2),
                         H2X_OK);
    }
    assert_int_equal(h2x_stream_queued(r->st), 120000);

    /* 65535 bytes go (window): chunk 0 whole, chunk 1 partly */
    tc_drain(&tc);
    assert_int_equal(tc.releases, 1);
    assert_ptr_equal(tc.last_ref, &c[0]);
    assert_int_equal(h2x_stream_queued(r->st), 120000 - 65535);

    tc_rst(&tc, 1, H2X_CANCEL);
    tc_run(&tc);
    assert_int_equal(tc.releases, 3);
    assert_int_equal(r->closed, 1);
    assert_int_equal(r->close_code, H2X_CANCEL);
    assert_int_equal(h2x_stream_write(tc.s, r->st, &c[0], 0), H2X_ERROR);
    h2x_stream_release(tc.s, r->st);
    assert_int_equal(h2x_session_streams(tc.s), 0);

    tc_done(&tc);
}


static void
test_adapter_reset_with_inflight(void **state)
{
    tc_t          tc;
    treq_t       *r;
    h2x_chunk_t   c;
    size_t        n;
    h2x_segment_t seg[8];

    (void) state;

    tc_start(&tc, NULL);
    tc.auto_release = 0;
    r = tc_open(&tc, 1, "/");

    h2x_stream_submit_response(tc.s, r->st, 200, NULL, 0, 0);
    tc_chunk(&c, &c, body, 0, 1000);
    h2x_stream_write(tc.s, r->st, &c, 0);

    /* the DATA frame is in the output: the chunk stays until written */
    n = h2x_session_pending(tc.s, seg, 8);
    assert_true(n >= 2);
    h2x_stream_reset(tc.s, r->st, H2X_CANCEL);
    assert_int_equal(tc.releases, 0);
    h2x_stream_release(tc.s, r->st);
    tc_drain(&tc);
    assert_int_equal(tc.releases, 1);
    assert_int_equal(tc.frames[1].type, H2X_FRAME_DATA);
    assert_int_equal(tc.frames[1].len, 1000);
    tc_expect_rst(&tc, 1, H2X_CANCEL);

    tc_done(&tc);
}


static void
test_zero_copy_segments(void **state)
{
    tc_t           tc;
    treq_t        *r;
    h2x_chunk_t    c[2];
    tfile_t        file;
    size_t         n;
    h2x_segment_t  seg[16];

    (void) state;

    tc_start(&tc, NULL);
    r = tc_open(&tc, 1, "/");

    file.base = body;
    h2x_stream_submit_response(tc.s, r->st, 200, NULL, 0, 0);
    tc_chunk(&c[0], &c[0], body + 5, 0, 100);
    tc_chunk(&c[1], &file, NULL, 20000, 30000);
    h2x_stream_write(tc.s, r->st, &c[0], 0);
    h2x_stream_write(tc.s, r->st, &c[1], 1);

    n = h2x_session_pending(tc.s, seg, 16);
    /* HEADERS+DATA header, 100 memory bytes, file, DATA header, file */
    assert_int_equal(n, 5);
    assert_null(seg[0].ref);
    assert_int_equal(seg[0].len, 1 + 9 + 9);   /* :status 200 indexed */
    assert_ptr_equal(seg[1].ref, &c[0]);
    assert_ptr_equal(seg[1].data, body + 5);
    assert_int_equal(seg[1].len, 100);
    assert_ptr_equal(seg[2].ref, &file);
    assert_null(seg[2].data);
    assert_int_equal(seg[2].offset, 20000);
    assert_int_equal(seg[2].len, 16384 - 100);
    assert_null(seg[3].ref);
    assert_int_equal(seg[3].len, 9);
    assert_ptr_equal(seg[4].ref, &file);
    assert_int_equal(seg[4].offset, 20000 + 16284);
    assert_int_equal(seg[4].len, 30000 - 16284);

    /* partial writes, in odd sizes */
    tc.max_write = 777;
    while (h2x_session_want_write(tc.s)) {
        tc_drain(&tc);
    }
    assert_int_equal(tc.body_len[0], 30100);
    assert_memory_equal(tc.body[0], body + 5, 100);
    assert_memory_equal(tc.body[0] + 100, body + 20000, 30000);
    assert_int_equal(tc.releases, 2);
    assert_int_equal(tc.body_end[0], 1);

    tc_done(&tc);
}


static void
test_headers_continuation_out(void **state)
{
    tc_t          tc;
    treq_t       *r;
    h2x_header_t  h[3];
    static char   big[3][12000];
    int           i;

    (void) state;

    tc_start(&tc, NULL);
    r = tc_open(&tc, 1, "/");

    for (i = 0; i < 3; i++) {
        memset(big[i], '{' + i, sizeof(big[i]));
        h[i].name = (const uint8_t *) "x-big";
        h[i].name_len = 5;
        h[i].value = (const uint8_t *) big[i];
        h[i].value_len = sizeof(big[i]);
        h[i].flags = 0;
    }

    assert_int_equal(h2x_stream_submit_response(tc.s, r->st, 200, h, 3, 1),
                     H2X_OK);
    tc_drain(&tc);
    assert_int_equal(tc.frames[0].type, H2X_FRAME_HEADERS);
    assert_int_equal(tc.frames[0].flags, H2X_FLAG_END_STREAM);
    assert_int_equal(tc.frames[0].len, 16384);
    assert_int_equal(tc.frames[1].type, H2X_FRAME_CONTINUATION);
    assert_int_equal(tc.frames[1].flags, 0);
    assert_int_equal(tc.frames[2].type, H2X_FRAME_CONTINUATION);
    assert_int_equal(tc.frames[2].flags, H2X_FLAG_END_HEADERS);
    assert_string_equal(tc.frames[0].status, "200");
    assert_int_equal(r->closed, 1);

    tc_done(&tc);
}


static int  order_sid[64];
static int  norder;


static void
respond_big(tc_t *tc, treq_t *r)
{
    h2x_chunk_t  c;

    h2x_stream_submit_response(tc->s, r->st, 200, NULL, 0, 0);
    tc_chunk(&c, r, body, 0, 40000);
    h2x_stream_write(tc->s, r->st, &c, 1);
}


static void
data_order(tc_t *tc)
{
    size_t  i;

    norder = 0;
    for (i = 0; i < tc->nframes && norder < 64; i++) {
        if (tc->frames[i].type == H2X_FRAME_DATA) {
            order_sid[norder++] = (int) tc->frames[i].sid;
        }
    }
}


static void
test_scheduler(void **state)
{
    tc_t  tc;
    int   i;

    (void) state;

    /* no priority signal: round robin, frame by frame */
    tc_init(&tc, NULL);
    tc.on_request_hook = respond_big;
    tc_preface_wide(&tc, 1 << 20);
    tc_get(&tc, 1, 1, "/a");
    tc_get(&tc, 3, 1, "/b");
    tc_run(&tc);
    data_order(&tc);
    assert_int_equal(norder, 6);
    for (i = 0; i < 6; i++) {
        assert_int_equal(order_sid[i], i % 2 ? 3 : 1);
    }
    tc_done(&tc);

    /* urgency first; non-incremental one at a time (RFC 9218) */
    tc_init(&tc, NULL);
    tc.on_request_hook = respond_big;
    tc_preface_wide(&tc, 1 << 20);
    tc_headers(&tc, 1, 1, ":method", "GET", ":scheme", "https",
               ":path", "/low", "priority", "u=5");
    tc_headers(&tc, 3, 1, ":method", "GET", ":scheme", "https",
               ":path", "/seq", "priority", "u=1");
    tc_headers(&tc, 5, 1, ":method", "GET", ":scheme", "https",
               ":path", "/seq2", "priority", "u=1");
    tc_headers(&tc, 7, 1, ":method", "GET", ":scheme", "https",
               ":path", "/inc", "priority", "u=2, i");
    tc_headers(&tc, 9, 1, ":method", "GET", ":scheme", "https",
               ":path", "/inc2", "priority", "u=2,i=?1");
    tc_run(&tc);
    data_order(&tc);
    assert_int_equal(norder, 15);
    assert_int_equal(order_sid[0], 3);
    assert_int_equal(order_sid[1], 3);
    assert_int_equal(order_sid[2], 3);
    assert_int_equal(order_sid[3], 5);
    assert_int_equal(order_sid[4], 5);
    assert_int_equal(order_sid[5], 5);
    assert_int_equal(order_sid[6], 7);
    assert_int_equal(order_sid[7], 9);
    assert_int_equal(order_sid[8], 7);
    assert_int_equal(order_sid[9], 9);
    assert_int_equal(order_sid[10], 7);
    assert_int_equal(order_sid[11], 9);
    assert_int_equal(order_sid[12], 1);
    tc_done(&tc);

    /* PRIORITY_UPDATE, also before the stream opens */
    tc_init(&tc, NULL);
    tc.on_request_hook = respond_big;
    tc_preface_wide(&tc, 1 << 20);
    tc_prio_update(&tc, 3, "u=0");
    tc_get(&tc, 1, 1, "/a");
    tc_get(&tc, 3, 1, "/b");
    tc_run(&tc);
    data_order(&tc);
    assert_int_equal(norder, 6);
    assert_int_equal(order_sid[0], 3);
    assert_int_equal(order_sid[2], 3);
    assert_int_equal(order_sid[3], 1);
    tc_prio_update(&tc, 2, "u=0");
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 3, H2X_PROTOCOL_ERROR);
    tc_done(&tc);
}


static void
test_backpressure(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;
    treq_t       *r;
    h2x_chunk_t   c;

    (void) state;

    h2x_config_init(&cfg);
    cfg.max_unsent_output = 64 * 1024;
    cfg.max_control_queue = 100000;
    cfg.glitch_burst = 100000;
    tc_init(&tc, &cfg);
    tc_preface_wide(&tc, 1 << 24);
    r = tc_open(&tc, 1, "/");

    tc_respond(&tc, r, &c, body, sizeof(body));

    /* the scheduler stays a batch ahead: output bounded */
    tc.max_write = 1000;
    tc_drain(&tc);
    assert_true(h2x_stream_queued(r->st) > sizeof(body) - 20000);
    assert_int_equal(h2x_session_want_read(tc.s), 1);

    /* PINGs answered but not read: reading stops above the ceiling */
    while (h2x_session_want_read(tc.s)) {
        tc_ping(&tc, "pingpong", 0);
        assert_true(tc_flush(&tc) > 0);
        if (tc.now++ > 100000) {
            break;
        }
    }
    assert_int_equal(h2x_session_want_read(tc.s), 0);

    tc.max_write = 0;
    tc_drain(&tc);
    assert_int_equal(h2x_session_want_read(tc.s), 1);
    assert_int_equal(tc.body_len[0], sizeof(body));
    assert_memory_equal(tc.body[0], body, sizeof(body));
    assert_int_equal(h2x_stream_queued(r->st), 0);
    tc_done(&tc);
}


/* A session whose adapter reads bodies with h2x_stream_read(). */
static h2x_session_t *
read_session(tc_t *tc)
{
    h2x_callbacks_t  cb;

    tc_init(tc, NULL);
    memset(&cb, 0, sizeof(cb));
    cb.on_request = tc_on_request;
    cb.on_stream_close = tc_on_stream_close;
    tc_renew(tc, &cb);
    tc->auto_release = 0;
    tc_handshake(tc);

    return tc->s;
}


static void
test_read_api(void **state)
{
    tc_t            tc;
    h2x_session_t  *s;
    treq_t         *r;
    uint8_t         buf[256];
    long            n;

    (void) state;

    /* without on_data: h2x_stream_read(), plain and chunked */
    s = read_session(&tc);

    tc_post(&tc, 1, 0, "/");
    tc_post(&tc, 3, 0, "/");
    tc_run(&tc);
    r = tc_req(&tc, 1);
    assert_int_equal(h2x_stream_read(s, r->st, buf, sizeof(buf), 0),
                     H2X_AGAIN);
    tc_data(&tc, 1, "hello ", 6, 0);
    tc_data(&tc, 1, "world", 5, 1);
    tc_data(&tc, 3, "0123456789abcdefghij", 20, 1);
    tc_run(&tc);
    n = h2x_stream_read(s, r->st, buf, 4, 0);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "hell", 4);
    n = h2x_stream_read(s, r->st, buf, sizeof(buf), 0);
    assert_int_equal(n, 7);
    assert_memory_equal(buf, "o world", 7);
    assert_int_equal(h2x_stream_read(s, r->st, buf, sizeof(buf), 0), 0);

    r = tc_req(&tc, 3);
    n = h2x_stream_read(s, r->st, buf, sizeof(buf), H2X_READ_CHUNKED);
    assert_int_equal(n, 31);
    assert_memory_equal(buf, "14\r\n0123456789abcdefghij\r\n0\r\n\r\n", 31);
    assert_int_equal(h2x_stream_read(s, r->st, buf, sizeof(buf),
                                     H2X_READ_CHUNKED),
                     0);

    h2x_stream_release(s, tc.req[0].st);
    h2x_stream_release(s, tc.req[1].st);

    /* a body larger than the buffer's first size, read as it comes */
    {
        static uint8_t  got[200000];
        size_t          have, i;

        tc_post(&tc, 5, 0, "/big");
        tc_run(&tc);
        r = tc_req(&tc, 5);
        have = 0;

        for (i = 0; i < 12; i++) {
            tc_data(&tc, 5, body + 15000 * i, 15000, i == 11);
            tc_run(&tc);
            /* the window stays within 65536 unread bytes */
            while ((n = h2x_stream_read(s, r->st, got + have,
                                        1000 + 7 * i, 0)) > 0)
            {
                have += (size_t) n;
            }
        }

        assert_int_equal(have, 180000);
        assert_memory_equal(got, body, 180000);
        assert_null(tc_find(&tc, H2X_FRAME_RST_STREAM, 5));
        assert_non_null(tc_find(&tc, H2X_FRAME_WINDOW_UPDATE, 5));
        assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
        h2x_stream_release(s, r->st);
    }

    tc_done(&tc);
}


/* Reads with buffers of size k until H2X_AGAIN or the end. */
static long
read_all(h2x_session_t *s, h2x_stream_t *st, size_t k, uint8_t *got,
    size_t *have, size_t max)
{
    long  n;

    for ( ;; ) {
        assert_true(*have + k <= max);
        n = h2x_stream_read(s, st, got + *have, k, H2X_READ_CHUNKED);
        if (n <= 0) {
            return n;
        }
        assert_true((size_t) n <= k);
        *have += (size_t) n;
    }
}


/* Decodes chunked framing strictly; returns the trailer section. */
static const char *
unchunk(const uint8_t *p, size_t len, uint8_t *body, size_t *blen)
{
    size_t       i, size;
    const char  *end;

    i = 0;
    *blen = 0;

    for ( ;; ) {
        size = 0;
        assert_true(i < len);
        assert_true(isxdigit(p[i]));
        while (i < len && isxdigit(p[i])) {
            size = size * 16 + (isdigit(p[i]) ? p[i] - '0'
                                              : (p[i] | 0x20) - 'a' + 10);
            i++;
        }
        assert_true(i + 2 <= len);
        assert_memory_equal(p + i, "\r\n", 2);
        i += 2;

        if (size == 0) {
            break;
        }

        assert_true(i + size + 2 <= len);
        memcpy(body + *blen, p + i, size);
        *blen += size;
        i += size;
        assert_memory_equal(p + i, "\r\n", 2);
        i += 2;
    }

    /* the trailer section ends with an empty line, at the very end */
    end = (const char *) p + len;
    assert_true(len - i >= 2);
    assert_memory_equal(end - 2, "\r\n", 2);
    if (len - i > 2) {
        assert_memory_equal(end - 4, "\r\n\r\n", 4);
    }

    return (const char *) p + i;
}


static void
test_read_chunked_sizes(void **state)
{
    tc_t            tc;
    h2x_session_t  *s;
    treq_t         *r;
    size_t          k, have, blen;
    long            n;
    int             mode;
    const char     *tr;
    uint8_t         got[512], body[256];
    static const char  part1[] = "hello ";
    static const char  part2[] = "world, a body in two DATA frames";
    static const char  expect[] =
        "6\r\nhello \r\n"
        "20\r\nworld, a body in two DATA frames\r\n"
        "0\r\nx-checksum: abc\r\nx-more: t2\r\n\r\n";

    (void) state;

    /*
     * nginx reads 3 bytes at a time: every size must give the same
     * framing, with the chunk size line, CRLFs, the last chunk and the
     * trailers carried over between calls.
     */
    for (mode = 0; mode < 2; mode++) {
        for (k = 1; k <= 40; k++) {
            s = read_session(&tc);
            tc_post(&tc, 1, 0, "/");
            tc_data(&tc, 1, part1, 6, 0);
            tc_run(&tc);
            r = tc_req(&tc, 1);
            have = 0;

            if (mode == 0) {
                /* all of the first part, then the rest */
                n = read_all(s, r->st, k, got, &have, sizeof(got));
                assert_int_equal(n, H2X_AGAIN);
                assert_int_equal(have, 11);

            } else {
                /* one read, then the rest arrives mid-chunk */
                n = h2x_stream_read(s, r->st, got, k, H2X_READ_CHUNKED);
                assert_true(n > 0 && (size_t) n <= k);
                have = (size_t) n;
            }

            tc_data(&tc, 1, part2, sizeof(part2) - 1, 0);
            tc_headers(&tc, 1, 1, "x-checksum", "abc", "x-more", "t2");
            tc_run(&tc);

            n = read_all(s, r->st, k, got, &have, sizeof(got));
            assert_int_equal(n, 0);
            assert_int_equal(h2x_stream_read(s, r->st, got, k,
                                             H2X_READ_CHUNKED),
                             0);

            if (mode == 0) {
                assert_int_equal(have, sizeof(expect) - 1);
                assert_memory_equal(got, expect, have);
            }

            tr = unchunk(got, have, body, &blen);
            assert_int_equal(blen, 38);
            assert_memory_equal(body, "hello world, a body in two DATA "
                                      "frames", 38);
            assert_int_equal((const char *) got + have - tr,
                             sizeof("x-checksum: abc\r\nx-more: t2\r\n\r\n")
                             - 1);
            assert_memory_equal(tr, "x-checksum: abc\r\nx-more: t2\r\n\r\n",
                                (const char *) got + have - tr);

            assert_null(tc_find(&tc, H2X_FRAME_RST_STREAM, 1));
            h2x_stream_release(s, r->st);
            tc_done(&tc);
        }
    }

    /* no trailers, empty body */
    for (k = 1; k <= 6; k++) {
        s = read_session(&tc);
        tc_post(&tc, 1, 0, "/");
        tc_data(&tc, 1, NULL, 0, 1);
        tc_run(&tc);
        r = tc_req(&tc, 1);
        have = 0;
        assert_int_equal(read_all(s, r->st, k, got, &have, sizeof(got)), 0);
        assert_int_equal(have, 5);
        assert_memory_equal(got, "0\r\n\r\n", 5);
        h2x_stream_release(s, r->st);
        tc_done(&tc);
    }
}


/* The framing on its own, as adapters use it. */
static void
test_chunked_frame(void **state)
{
    h2x_chunked_t   c;
    h2x_header_t    tr[1];
    uint8_t         out[64];
    size_t          w, n;

    (void) state;

    tr[0].name = (const uint8_t *) "a";
    tr[0].name_len = 1;
    tr[0].value = (const uint8_t *) "b";
    tr[0].value_len = 1;
    tr[0].flags = 0;

    h2x_chunked_init(&c);

    /* nothing yet */
    n = 0;
    assert_int_equal(h2x_chunked_frame(&c, out, 64, NULL, &n, 0, NULL, 0),
                     0);
    assert_false(h2x_chunked_done(&c));

    /* a chunk of 17 bytes: "11" CRLF, then only 2 bytes of it fit */
    n = 17;
    w = h2x_chunked_frame(&c, out, 6, (const uint8_t *) "0123456789abcdefg",
                          &n, 0, NULL, 0);
    assert_int_equal(w, 6);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "11\r\n01", 6);

    /* more arrived: the chunk ends first, then a new one */
    n = 18;
    w = h2x_chunked_frame(&c, out, 64, (const uint8_t *) "23456789abcdefgXYZ",
                          &n, 1, tr, 1);
    assert_int_equal(n, 18);
    assert_int_equal(w, 15 + 2 + 3 + 3 + 2 + 3 + 6 + 2);
    assert_memory_equal(out, "23456789abcdefg\r\n3\r\nXYZ\r\n0\r\na: b\r\n\r\n",
                        w);
    assert_true(h2x_chunked_done(&c));

    n = 0;
    assert_int_equal(h2x_chunked_frame(&c, out, 64, NULL, &n, 1, tr, 1), 0);
}


static void
test_local_settings_on_ack(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;
    tframe_t     *f;
    uint32_t      i;

    (void) state;

    h2x_config_init(&cfg);
    cfg.max_frame_size = 32768;
    cfg.initial_window_size = 100000;

    /* before the ACK: 16384 is the limit (RFC 9113 4.2, 6.5.3) */
    tc_init(&tc, &cfg);
    tc_drain(&tc);
    f = &tc.frames[0];
    for (i = 0; i < f->nsettings; i++) {
        if (f->settings[i].id == H2X_SETTINGS_MAX_FRAME_SIZE) {
            assert_int_equal(f->settings[i].value, 32768);
        }
    }
    tc_preface(&tc, NULL, 0);
    tc_post(&tc, 1, 0, "/");
    tc_data(&tc, 1, body, 20000, 1);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 1, H2X_FRAME_SIZE_ERROR);
    tc_done(&tc);

    /* after it: accepted, up to our window */
    tc_start(&tc, &cfg);
    tc_post(&tc, 1, 0, "/");
    tc_data(&tc, 1, body, 20000, 0);
    tc_data(&tc, 1, body, 32768, 1);
    assert_true(tc_run(&tc) > 0);
    assert_int_equal(tc.req[0].body_len, 52768);
    assert_int_equal(tc.req[0].body_end, 1);
    tc_data(&tc, 3, body, 32769, 1);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 1, H2X_FRAME_SIZE_ERROR);
    tc_done(&tc);
}


static unsigned  writable;


static void
on_writable(h2x_session_t *s, h2x_stream_t *st, void *user)
{
    (void) s;
    (void) st;
    (void) user;

    writable++;
}


static void
test_writable_and_stats(void **state)
{
    tc_t             tc;
    treq_t          *r;
    h2x_chunk_t      c;
    h2x_callbacks_t  cb;
    const h2x_stats_t  *st;

    (void) state;

    tc_init(&tc, NULL);
    memset(&cb, 0, sizeof(cb));
    cb.on_request = tc_on_request;
    cb.on_data = tc_on_data;
    cb.on_stream_close = tc_on_stream_close;
    cb.on_chunk_release = tc_on_chunk_release;
    cb.on_writable = on_writable;
    tc_renew(&tc, &cb);
    tc_handshake(&tc);

    r = tc_open(&tc, 1, "/");
    tc_respond(&tc, r, &c, body, 70000);
    tc_drain(&tc);
    assert_int_equal(h2x_stream_queued(r->st), 70000 - 65535);
    assert_int_equal(writable, 0);

    /* the connection window opens: not the stream's, no wake-up */
    tc_wu(&tc, 0, 10000);
    tc_run(&tc);
    assert_int_equal(writable, 0);
    tc_wu(&tc, 1, 10000);
    tc_run(&tc);
    assert_int_equal(writable, 1);
    assert_int_equal(h2x_stream_queued(r->st), 0);
    assert_int_equal(r->closed, 1);

    st = h2x_session_stats(tc.s);
    assert_int_equal(st->frames_in[H2X_FRAME_HEADERS], 1);
    assert_int_equal(st->frames_in[H2X_FRAME_WINDOW_UPDATE], 2);
    assert_int_equal(st->frames_in[H2X_FRAME_SETTINGS], 2);
    assert_int_equal(st->frames_out[H2X_FRAME_DATA], 5);
    assert_int_equal(st->frames_out[H2X_FRAME_HEADERS], 1);
    assert_int_equal(st->frames_out[H2X_FRAME_SETTINGS], 2);
    assert_int_equal(st->streams, 1);
    assert_int_equal(st->bytes_out, tc.outlen);
    assert_int_equal(h2x_session_memory(tc.s) > 0, 1);

    tc_done(&tc);
}


static void
idle_respond(tc_t *tc, treq_t *r)
{
    h2x_header_t  h[2];

    memset(h, 0, sizeof(h));
    h[0].name = (const uint8_t *) "server";
    h[0].name_len = 6;
    h[0].value = (const uint8_t *) "h2x-unit";
    h[0].value_len = 8;
    h[1].name = (const uint8_t *) "x-idle";
    h[1].name_len = 6;
    h[1].value = (const uint8_t *) "the same value every time";
    h[1].value_len = 25;

    assert_int_equal(h2x_stream_submit_response(tc->s, r->st, 200, h, 2, 1),
                     H2X_OK);
}


/*
 * A second after the last stream the HPACK tables go: ours always (the
 * next block starts with size updates 0 and 4096, so the peer drops its
 * copy), the peer's only when empty.  Requests and responses after that
 * decode as before.
 */
static void
test_idle_frees_hpack(void **state)
{
    tc_t      tc;
    size_t    full, idle;
    tframe_t  *f;

    (void) state;

    tc_init(&tc, NULL);
    tc.on_request_hook = idle_respond;
    tc_handshake(&tc);

    /* GET https /, :authority without indexing: the server's decoder
     * table stays empty */
    tc_frame(&tc, H2X_FRAME_HEADERS,
             H2X_FLAG_END_HEADERS | H2X_FLAG_END_STREAM, 1,
             "\x82\x87\x84\x01\x0b" "example.com", 16);
    tc_run(&tc);
    tc_frame(&tc, H2X_FRAME_HEADERS,
             H2X_FLAG_END_HEADERS | H2X_FLAG_END_STREAM, 3,
             "\x82\x87\x84\x01\x0b" "example.com", 16);
    tc_run(&tc);
    assert_int_equal(tc.nreq, 2);
    f = tc_find(&tc, H2X_FRAME_HEADERS, 3);
    assert_non_null(f);
    assert_string_equal(f->fields, "server: h2x-unit\n"
                        "x-idle: the same value every time\n");

    full = h2x_session_memory(tc.s);
    assert_true(h2x_session_next_timeout(tc.s) != UINT64_MAX);

    tc.now += 5000;
    h2x_session_tick(tc.s, tc.now);
    idle = h2x_session_memory(tc.s);
    assert_true(idle + 20000 < full);
    assert_true(idle < 2048);
    assert_int_equal(h2x_session_next_timeout(tc.s), UINT64_MAX);

    /* the peer learns that our old entries are gone */
    tc_frame(&tc, H2X_FRAME_HEADERS,
             H2X_FLAG_END_HEADERS | H2X_FLAG_END_STREAM, 5,
             "\x82\x87\x84\x01\x0b" "example.com", 16);
    tc_run(&tc);
    f = tc_find(&tc, H2X_FRAME_HEADERS, 5);
    assert_non_null(f);
    assert_true(tc.hblen > 4);
    assert_memory_equal(tc.hb, "\x20\x3f\xe1\x1f", 4);
    assert_string_equal(f->status, "200");
    assert_string_equal(f->fields, "server: h2x-unit\n"
                        "x-idle: the same value every time\n");

    /* a table with entries is the peer's state: it stays */
    tc.enc.mode = H2X_HPACK_ENC_INDEX_ALL;
    tc_headers(&tc, 7, 1, ":method", "GET", ":scheme", "https",
               ":authority", "example.com", ":path", "/d",
               "user-agent", "unit-test-agent");
    tc_run(&tc);
    tc.now += 5000;
    h2x_session_tick(tc.s, tc.now);
    assert_true(h2x_session_memory(tc.s) > 4096 + 4096);

    tc_headers(&tc, 9, 1, ":method", "GET", ":scheme", "https",
               ":authority", "example.com", ":path", "/e",
               "user-agent", "unit-test-agent");
    tc_run(&tc);
    assert_int_equal(tc.nreq, 5);
    assert_string_equal(tc.req[4].path, "/e");
    assert_string_equal(tc.req[0].authority, "example.com");
    assert_string_equal(tc.req[4].authority, "example.com");
    assert_string_equal(tc.req[4].fields, "user-agent: unit-test-agent\n");
    f = tc_find(&tc, H2X_FRAME_HEADERS, 9);
    assert_non_null(f);
    assert_string_equal(f->fields, "server: h2x-unit\n"
                        "x-idle: the same value every time\n");

    assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, (uint32_t) -1));

    tc_done(&tc);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_bad_preface),
        cmocka_unit_test(test_lenient_preface),
        cmocka_unit_test(test_goaway_one_step),
        cmocka_unit_test(test_self_dependency_knob),
        cmocka_unit_test(test_stream_chunk_size),
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_idle_frees_hpack),
        cmocka_unit_test(test_post_body_and_window_updates),
        cmocka_unit_test(test_connection_window_update),
        cmocka_unit_test(test_content_length_mismatch),
        cmocka_unit_test(test_request_trailers),
        cmocka_unit_test(test_response_trailers_and_interim),
        cmocka_unit_test(test_response_header_checks),
        cmocka_unit_test(test_response_fields_dropped),
        cmocka_unit_test(test_response_header_size),
        cmocka_unit_test(test_stream_id_rules),
        cmocka_unit_test(test_idle_stream_frames),
        cmocka_unit_test(test_closed_stream_frames),
        cmocka_unit_test(test_data_after_crossed_resets),
        cmocka_unit_test(test_continuation_rules),
        cmocka_unit_test(test_priority_self_dependency),
        cmocka_unit_test(test_max_concurrent_streams),
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_settings_timeout),
        cmocka_unit_test(test_settings_apply),
        cmocka_unit_test(test_flow_control_errors),
        cmocka_unit_test(test_graceful_goaway),
        cmocka_unit_test(test_peer_goaway),
        cmocka_unit_test(test_peer_reset_releases_chunks),
        cmocka_unit_test(test_free_releases_chunks),
        cmocka_unit_test(test_credit_split_data_frame),
        cmocka_unit_test(test_adapter_reset_with_inflight),
        cmocka_unit_test(test_zero_copy_segments),
        cmocka_unit_test(test_headers_continuation_out),
        cmocka_unit_test(test_scheduler),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_read_api),
        cmocka_unit_test(test_read_chunked_sizes),
        cmocka_unit_test(test_chunked_frame),
        cmocka_unit_test(test_writable_and_stats),
        cmocka_unit_test(test_local_settings_on_ack),
    };

    fill_body();

    return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
