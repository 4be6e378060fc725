/*
 * Limits and abuse budgets: each attack is reproduced, and the test
 * checks the counter, the frame that went out and the log line.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "session_util.h"


static const h2x_stats_t *
stats(tc_t *tc)
{
    return h2x_session_stats(tc->s);
}


static void
expect_calm(tc_t *tc, uint32_t last, const char *log)
{
    assert_int_equal(tc->feed_rc, H2X_ERROR);
    tc_expect_goaway(tc, last, H2X_ENHANCE_YOUR_CALM);
    assert_string_equal(tc->last_log, log);
    assert_int_equal(h2x_session_want_close(tc->s), 1);
}


static void
test_rapid_reset(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;
    uint32_t      i;

    (void) state;

    h2x_config_init(&cfg);
    cfg.rst_burst = 10;
    cfg.rst_rate = 1000;     /* one token per ms */

    /* CVE-2023-44487: HEADERS + RST_STREAM, as fast as possible */
    tc_start(&tc, &cfg);
    for (i = 0; i < 11; i++) {
        tc_get(&tc, 1 + 2 * i, 1, "/");
        tc_rst(&tc, 1 + 2 * i, H2X_CANCEL);
    }
    tc_run(&tc);
    /* ten tokens, ten requests: the eleventh stream ends it */
    expect_calm(&tc, 19, "client sent too many streams that were reset "
                         "or refused");
    assert_int_equal(stats(&tc)->rapid_reset, 1);
    assert_int_equal(stats(&tc)->resets_in, 10);
    assert_int_equal(tc.nreq, 10);
    tc_done(&tc);

    /* the same, slowly: the bucket refills */
    tc_start(&tc, &cfg);
    for (i = 0; i < 30; i++) {
        tc_get(&tc, 1 + 2 * i, 1, "/");
        tc_rst(&tc, 1 + 2 * i, H2X_CANCEL);
        assert_true(tc_run(&tc) > 0);
        tc.now += 1;
    }
    assert_int_equal(stats(&tc)->rapid_reset, 0);
    tc_done(&tc);

    /* resets of answered streams are free */
    tc_init(&tc, &cfg);
    tc.auto_respond = 1;
    tc.auto_release = 0;
    tc_handshake(&tc);
    for (i = 0; i < 30; i++) {
        tc_get(&tc, 1 + 2 * i, 0, "/");
        tc_run(&tc);
        tc_rst(&tc, 1 + 2 * i, H2X_CANCEL);
        assert_true(tc_run(&tc) > 0);
        h2x_stream_release(tc.s, tc.req[i].st);
    }
    assert_int_equal(stats(&tc)->rapid_reset, 0);
    tc_done(&tc);
}


/*
 * CVE-2023-44487 as nginx-tests' http2_reset_flood: 100k HEADERS +
 * RST_STREAM pairs.  Whatever the read sizes, the same number of
 * requests reaches the adapter (the reset budget), and the session ends
 * with GOAWAY ENHANCE_YOUR_CALM and one log line.
 */
static void
test_rapid_reset_read_sizes(void **state)
{
    tc_t          tc;
    size_t        k;
    uint32_t      i;
    int           reset;
    h2x_config_t  cfg;
    const size_t  sizes[] = { 1, 7, 100, 4096, 65536, 0 };

    (void) state;

    /* the budget, not max_requests, is what stops it */
    h2x_config_init(&cfg);
    cfg.rst_burst = 700;
    cfg.max_requests = 1000000;

    for (reset = 1; reset >= 0; reset--) {
        for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
            tc_init(&tc, &cfg);
            /* without resets: requests hold their slots, then refusals */
            tc.auto_release = reset;
            tc_handshake(&tc);
            tc.logs = 0;

            for (i = 0; i < 100000; i++) {
                tc_get(&tc, 1 + 2 * i, 1, "/");
                if (reset) {
                    tc_rst(&tc, 1 + 2 * i, H2X_CANCEL);
                }
            }

            tc.split = sizes[k];
            tc_run(&tc);

            assert_int_equal(tc.feed_rc, H2X_ERROR);
            assert_non_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
            assert_int_equal(tc_find(&tc, H2X_FRAME_GOAWAY, 0)->code,
                             H2X_ENHANCE_YOUR_CALM);
            assert_int_equal(stats(&tc)->rapid_reset, 1);

            if (reset) {
                /* one token per reset: the documented budget exactly */
                assert_int_equal(tc.nreq, tc.cfg.rst_burst);
                assert_int_equal(tc.logs, 1);

            } else {
                /* the concurrency, then one token per refusal */
                assert_int_equal(tc.nreq, tc.cfg.max_concurrent_streams);
                assert_int_equal(stats(&tc)->streams_refused,
                                 tc.cfg.rst_burst);
                /* the first refusal and the end */
                assert_int_equal(tc.logs, 2);
                for (i = 0; i < tc.nreq; i++) {
                    h2x_stream_release(tc.s, tc.req[i].st);
                }
            }

            assert_string_equal(tc.last_log, "client sent too many streams "
                                             "that were reset or refused");
            tc_done(&tc);
        }
    }
}


/*
 * A browser: 1000 requests, at most 100 at a time, 5% cancelled before
 * their response; the rest answered.  Never charged into a GOAWAY.
 */
static void
test_browser_cancels(void **state)
{
    tc_t       tc;
    size_t     j;
    uint32_t   i, sid;
    treq_t    *r;

    (void) state;

    tc_start(&tc, NULL);

    for (i = 0; i < 1000; i++) {
        sid = 1 + 2 * i;
        tc_get(&tc, sid, 1, "/");
        if (i % 20 == 7) {
            tc_rst(&tc, sid, H2X_CANCEL);
        }

        if (i % 100 == 99) {
            assert_true(tc_run(&tc) > 0);
            for (j = 0; j < tc.nreq; j++) {
                r = &tc.req[j];
                if (!r->closed && r->sid + 200 > sid) {
                    assert_int_equal(h2x_stream_submit_response(tc.s, r->st,
                                         200, NULL, 0, 1),
                                     H2X_OK);
                }
            }
            tc_drain(&tc);
            assert_int_equal(h2x_session_streams(tc.s), 0);
        }
    }

    assert_int_equal(tc.nreq, 1000);
    assert_int_equal(stats(&tc)->rapid_reset, 0);
    assert_int_equal(stats(&tc)->streams_refused, 0);
    assert_int_equal(stats(&tc)->resets_in, 50);
    assert_null(tc_find(&tc, H2X_FRAME_RST_STREAM, -1u));
    /* only the graceful GOAWAY of max_requests */
    assert_int_equal(tc_find(&tc, H2X_FRAME_GOAWAY, 0)->code, H2X_NO_ERROR);
    assert_int_equal(tc.logs, 0);
    tc_done(&tc);
}


static void
test_new_streams_per_feed(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;
    uint32_t      i;

    (void) state;

    h2x_config_init(&cfg);
    cfg.max_new_streams_per_feed = 3;

    tc_start(&tc, &cfg);
    for (i = 0; i < 4; i++) {
        tc_get(&tc, 1 + 2 * i, 1, "/");
    }
    tc_run(&tc);
    assert_int_equal(tc.nreq, 3);
    tc_expect_rst(&tc, 7, H2X_REFUSED_STREAM);
    assert_int_equal(stats(&tc)->streams_refused, 1);
    assert_int_equal(stats(&tc)->rapid_reset, 0);
    assert_string_equal(tc.last_log, "client sent too many streams at once");

    /* the next read is a new budget */
    tc_get(&tc, 9, 1, "/");
    tc_run(&tc);
    assert_int_equal(tc.nreq, 4);
    tc_done(&tc);
}


static void
test_made_you_reset(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;
    uint32_t      i;

    (void) state;

    /* CVE-2025-8671: the server resets, the client provokes */
    h2x_config_init(&cfg);
    cfg.max_stream_errors = 3;
    cfg.max_concurrent_streams = 2;

    tc_start(&tc, &cfg);
    tc.auto_release = 0;

    tc_get(&tc, 1, 1, "/");
    tc_get(&tc, 3, 1, "/");
    tc_wu(&tc, 1, 0x7fffffff);
    tc_wu(&tc, 3, 0x7fffffff);
    tc_run(&tc);
    tc_expect_rst(&tc, 1, H2X_FLOW_CONTROL_ERROR);
    tc_expect_rst(&tc, 3, H2X_FLOW_CONTROL_ERROR);
    assert_int_equal(tc.req[0].closed, 1);

    /* the adapter has not released them: no slot */
    tc_get(&tc, 5, 1, "/");
    tc_run(&tc);
    assert_int_equal(tc.nreq, 2);
    tc_expect_rst(&tc, 5, H2X_REFUSED_STREAM);
    assert_int_equal(h2x_session_streams(tc.s), 2);

    h2x_stream_release(tc.s, tc.req[0].st);
    h2x_stream_release(tc.s, tc.req[1].st);

    tc_get(&tc, 7, 1, "/");
    tc_wu(&tc, 7, 0x7fffffff);
    tc_run(&tc);
    tc_expect_rst(&tc, 7, H2X_FLOW_CONTROL_ERROR);
    assert_int_equal(stats(&tc)->stream_errors, 0);

    tc_get(&tc, 9, 1, "/");
    tc_wu(&tc, 9, 0x7fffffff);
    tc_run(&tc);
    expect_calm(&tc, 9, "client caused too many stream errors");
    assert_int_equal(stats(&tc)->stream_errors, 1);

    for (i = 2; i < tc.nreq; i++) {
        h2x_stream_release(tc.s, tc.req[i].st);
    }
    tc_done(&tc);
}


static void
test_continuation_flood(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;
    uint32_t      i;
    const char   *kv[] = { ":method", "GET", ":scheme", "https",
                           ":authority", "example.com", ":path", "/", NULL };

    (void) state;

    /* CVE-2024-27316 family: more CONTINUATIONs than allowed */
    tc_start(&tc, NULL);
    tc_headers_v(&tc, 1, 1, 1, kv);     /* 1-byte fragments: 13 frames */
    tc_run(&tc);
    expect_calm(&tc, 0, "client sent too many CONTINUATION frames");
    assert_int_equal(stats(&tc)->continuation_flood, 1);
    assert_int_equal(tc.nreq, 0);
    tc_done(&tc);

    /* zero-length CONTINUATIONs: glitches */
    h2x_config_init(&cfg);
    cfg.max_continuations = 100000;
    cfg.glitch_burst = 50;
    tc_start(&tc, &cfg);
    tc_frame(&tc, H2X_FRAME_HEADERS, 0, 1, "\x82", 1);
    for (i = 0; i < 60; i++) {
        tc_frame(&tc, H2X_FRAME_CONTINUATION, 0, 1, NULL, 0);
    }
    tc_run(&tc);
    expect_calm(&tc, 0, "client sent too many empty CONTINUATION frames");
    assert_int_equal(stats(&tc)->continuation_flood, 1);
    tc_done(&tc);
}


/* Slow headers: a header block has header_timeout from its HEADERS. */
static void
test_header_timeout(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;
    uint64_t      t0;
    int           by_feed;
    uint8_t       hdr[H2X_FRAME_HEADER_SIZE];

    (void) state;

    for (by_feed = 0; by_feed < 2; by_feed++) {
        tc_start(&tc, NULL);
        tc.logs = 0;
        t0 = tc.now;

        /* HEADERS without END_HEADERS, CONTINUATIONs dribbling in */
        tc_frame(&tc, H2X_FRAME_HEADERS, H2X_FLAG_END_STREAM, 1,
                 "\x82\x87", 2);
        assert_true(tc_run(&tc) > 0);
        assert_int_equal(h2x_session_next_timeout(tc.s), t0 + 60000);

        tc.now = t0 + 30000;
        tc_frame(&tc, H2X_FRAME_CONTINUATION, 0, 1, "\x84", 1);
        assert_true(tc_run(&tc) > 0);
        tc.now = t0 + 59999;
        tc_frame(&tc, H2X_FRAME_CONTINUATION, 0, 1, "\x41\x01\x61", 3);
        assert_true(tc_run(&tc) > 0);
        /* not extended by them */
        assert_int_equal(h2x_session_next_timeout(tc.s), t0 + 60000);
        h2x_session_tick(tc.s, t0 + 59999);
        tc_drain(&tc);
        assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));

        tc.now = t0 + 60000;

        if (by_feed) {
            /* the block's end comes too late: the read sees it first */
            tc_frame(&tc, H2X_FRAME_CONTINUATION, H2X_FLAG_END_HEADERS, 1,
                     NULL, 0);
            assert_int_equal(tc_run(&tc), H2X_ERROR);

        } else {
            h2x_session_tick(tc.s, tc.now);
            tc_drain(&tc);
        }

        tc_expect_goaway(&tc, 0, H2X_ENHANCE_YOUR_CALM);
        assert_int_equal(stats(&tc)->header_timeout, 1);
        assert_int_equal(tc.logs, 1);
        assert_string_equal(tc.last_log,
                            "client did not complete a header block in "
                            "time");
        assert_int_equal(h2x_session_want_close(tc.s), 1);
        assert_int_equal(h2x_session_next_timeout(tc.s), UINT64_MAX);
        assert_int_equal(tc.nreq, 0);
        tc_done(&tc);
    }

    /* a HEADERS frame whose payload never comes, a shorter deadline */
    h2x_config_init(&cfg);
    cfg.header_timeout = 1000;
    tc_start(&tc, &cfg);
    t0 = tc.now;
    h2x_frame_write_header(hdr, 10, H2X_FRAME_HEADERS,
                           H2X_FLAG_END_HEADERS | H2X_FLAG_END_STREAM, 1);
    tc_raw(&tc, hdr, sizeof(hdr));
    tc_raw(&tc, "\x82", 1);
    assert_true(tc_run(&tc) > 0);
    assert_int_equal(h2x_session_next_timeout(tc.s), t0 + 1000);
    h2x_session_tick(tc.s, t0 + 1000);
    tc_drain(&tc);
    tc_expect_goaway(&tc, 0, H2X_ENHANCE_YOUR_CALM);
    assert_int_equal(stats(&tc)->header_timeout, 1);
    tc_done(&tc);

    /* blocks completed in time, one after another: no deadline left */
    tc_start(&tc, &cfg);
    tc.auto_respond = 1;
    tc_frame(&tc, H2X_FRAME_HEADERS, H2X_FLAG_END_STREAM, 1,
             "\x82\x87", 2);
    tc_run(&tc);
    tc.now += 900;
    tc_frame(&tc, H2X_FRAME_CONTINUATION, H2X_FLAG_END_HEADERS, 1,
             "\x84\x41\x01\x61", 4);
    tc_run(&tc);
    assert_int_equal(tc.nreq, 1);
    tc.now += 900;
    tc_get(&tc, 3, 1, "/");
    tc_run(&tc);
    assert_int_equal(tc.nreq, 2);
    assert_true(h2x_session_next_timeout(tc.s) > tc.now
                || h2x_session_next_timeout(tc.s) == UINT64_MAX);
    tc.now += 5000;
    h2x_session_tick(tc.s, tc.now);
    tc_drain(&tc);
    assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
    assert_int_equal(stats(&tc)->header_timeout, 0);
    tc_done(&tc);

    /* 0: no deadline */
    cfg.header_timeout = 0;
    tc_start(&tc, &cfg);
    tc_frame(&tc, H2X_FRAME_HEADERS, H2X_FLAG_END_STREAM, 1, "\x82", 1);
    tc_run(&tc);
    assert_int_equal(h2x_session_next_timeout(tc.s), UINT64_MAX);
    tc.now += 3600 * 1000;
    h2x_session_tick(tc.s, tc.now);
    tc_drain(&tc);
    assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
    tc_done(&tc);
}


static void
test_header_too_large(void **state)
{
    tc_t          tc;
    static char   big[9000];
    char          name[64][8];
    const char   *kv[2 * 110 + 1];
    uint32_t      i;
    tframe_t     *f;

    (void) state;

    memset(big, 'x', sizeof(big) - 1);

    /* one field over max_field_size: 431, the connection stays */
    tc_start(&tc, NULL);
    tc_headers(&tc, 1, 1, ":method", "GET", ":scheme", "https",
               ":path", "/", "x-big", big);
    tc_headers(&tc, 3, 0, ":method", "POST", ":scheme", "https",
               ":path", "/", "x-big", big);
    tc_get(&tc, 5, 1, "/ok");
    assert_true(tc_run(&tc) > 0);
    assert_int_equal(tc.nreq, 1);
    assert_int_equal(tc.req[0].sid, 5);
    assert_int_equal(stats(&tc)->header_too_large, 2);
    f = tc_find(&tc, H2X_FRAME_HEADERS, 1);
    assert_non_null(f);
    assert_string_equal(f->status, "431");
    assert_int_equal(f->flags, H2X_FLAG_END_HEADERS | H2X_FLAG_END_STREAM);
    f = tc_find(&tc, H2X_FRAME_HEADERS, 3);
    assert_string_equal(f->status, "431");
    /* the request body is not wanted */
    tc_expect_rst(&tc, 3, H2X_NO_ERROR);
    assert_null(tc_find(&tc, H2X_FRAME_RST_STREAM, 1));
    tc_data(&tc, 3, "body", 4, 1);
    assert_true(tc_run(&tc) > 0);
    tc_done(&tc);

    /* more fields than max_header_fields (cookie crumbs count) */
    tc_start(&tc, NULL);
    kv[0] = ":method"; kv[1] = "GET"; kv[2] = ":scheme"; kv[3] = "https";
    kv[4] = ":path"; kv[5] = "/";
    for (i = 0; i < 100; i++) {
        kv[6 + 2 * i] = "cookie";
        snprintf(name[i % 64], 8, "c%u", i);
        kv[7 + 2 * i] = name[i % 64];
    }
    kv[6 + 200] = NULL;
    tc_headers_v(&tc, 1, 1, 0, kv);
    tc_run(&tc);
    assert_int_equal(tc.nreq, 0);
    assert_int_equal(stats(&tc)->header_too_large, 1);
    assert_string_equal(tc_find(&tc, H2X_FRAME_HEADERS, 1)->status, "431");
    tc_done(&tc);
}


static void
test_hpack_bomb(void **state)
{
    tc_t          tc;
    static char   v[3000];
    uint8_t       blk[4096];
    size_t        len, i;
    h2x_header_t  h;

    (void) state;

    memset(v, 'q', sizeof(v) - 1);

    tc_start(&tc, NULL);

    /* one 3 KB entry in the table, then referenced by 1-byte indexes */
    h.name = (const uint8_t *) "x-b";
    h.name_len = 3;
    h.value = (const uint8_t *) v;
    h.value_len = sizeof(v) - 1;
    h.flags = H2X_HEADER_INDEX;
    tc_headers(&tc, 1, 1, ":method", "GET", ":scheme", "https",
               ":path", "/");
    tc_run(&tc);
    assert_int_equal(h2x_hpack_encode(&tc.enc, &h, 1, blk, sizeof(blk), &len),
                     H2X_OK);
    tc_frame(&tc, H2X_FRAME_HEADERS, H2X_FLAG_END_STREAM, 3, blk, len);
    for (i = 0; i < 8; i++) {
        memset(blk, 0x80 | 62, 2000);    /* the dynamic entry, again */
        tc_frame(&tc, H2X_FRAME_CONTINUATION,
                 i == 7 ? H2X_FLAG_END_HEADERS : 0, 3, blk, 2000);
    }
    tc_run(&tc);
    expect_calm(&tc, 1, "client sent too large header block");
    assert_int_equal(stats(&tc)->hpack_bomb, 1);
    tc_done(&tc);
}


static void
flood(tc_t *tc, int type, int n)
{
    int      i;
    uint8_t  pri[5] = { 0, 0, 0, 3, 16 };

    for (i = 0; i < n; i++) {
        switch (type) {
        case H2X_FRAME_SETTINGS:
            tc_settings(tc, NULL, 0);
            break;
        case H2X_FRAME_PING:
            tc_ping(tc, "flooding", 0);
            break;
        case H2X_FRAME_PRIORITY:
            tc_frame(tc, H2X_FRAME_PRIORITY, 0, 5, pri, 5);
            break;
        case H2X_FRAME_DATA:
            tc_data(tc, 1, NULL, 0, 0);
            break;
        case H2X_FRAME_WINDOW_UPDATE:
            tc_wu(tc, 1, 1);
            break;
        default:
            tc_frame(tc, 0x42, 0, 0, "xx", 2);
            break;
        }
    }
}


static void
test_glitch_floods(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;
    size_t        k;
    struct {
        int          type;
        size_t       counter;
        const char  *log;
        int          closed_stream;
    } cases[] = {
        { H2X_FRAME_SETTINGS, offsetof(h2x_stats_t, settings_flood),
          "client sent too many SETTINGS frames", 0 },
        { H2X_FRAME_PING, offsetof(h2x_stats_t, ping_flood),
          "client sent too many PING frames", 0 },
        { H2X_FRAME_PRIORITY, offsetof(h2x_stats_t, priority_flood),
          "client sent too many PRIORITY frames", 0 },
        { H2X_FRAME_DATA, offsetof(h2x_stats_t, empty_frame_flood),
          "client sent too many empty frames", 0 },
        { H2X_FRAME_WINDOW_UPDATE, offsetof(h2x_stats_t, window_update_flood),
          "client sent too many WINDOW_UPDATE frames", 1 },
        { 0x42, offsetof(h2x_stats_t, unknown_frame_flood),
          "client sent too many unknown frames", 0 },
    };

    (void) state;

    h2x_config_init(&cfg);
    cfg.glitch_burst = 20;
    cfg.glitch_rate = 10;

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        tc_init(&tc, &cfg);
        tc.auto_respond = cases[k].closed_stream;
        tc_handshake(&tc);
        tc_headers(&tc, 1, cases[k].closed_stream, ":method", "POST",
                   ":scheme", "https", ":path", "/");
        tc_run(&tc);

        /* within the burst, and refilled over time: fine */
        flood(&tc, cases[k].type, 15);
        assert_true(tc_run(&tc) > 0);
        tc.now += 2000;
        flood(&tc, cases[k].type, 15);
        assert_true(tc_run(&tc) > 0);

        flood(&tc, cases[k].type, 30);
        tc_run(&tc);
        expect_calm(&tc, 1, cases[k].log);
        assert_int_equal(*(const uint64_t *) ((const char *) stats(&tc)
                                              + cases[k].counter),
                         1);
        tc_done(&tc);
    }
}


/*
 * RFC 9113 5.1: frames on a stream closed long ago (beyond the closed
 * streams the engine remembers) from a slow client: WINDOW_UPDATE,
 * RST_STREAM and PRIORITY_UPDATE are ignored, on recent and forgotten
 * streams, and DATA on forgotten ones; the connection goes on.
 */
static void
test_late_frames_on_old_streams(void **state)
{
    tc_t       tc;
    uint32_t   i, sid;
    size_t     nreq;

    (void) state;

    tc_init(&tc, NULL);
    tc.auto_respond = 1;
    tc.resp_body = (const uint8_t *) "hello";
    tc.resp_body_len = 5;
    tc_handshake(&tc);

    for (i = 0; i < 200; i++) {
        tc_get(&tc, 1 + 2 * i, 1, "/");
        if (i % 50 == 49) {
            assert_true(tc_run(&tc) > 0);
        }
    }
    assert_int_equal(tc.nreq, 200);
    assert_int_equal(h2x_session_streams(tc.s), 0);
    tc.nframes = 0;

    /* long closed and forgotten, and recently closed: both ignored */
    for (i = 0; i < 200; i++) {
        sid = 1 + 2 * i;
        tc.now += 100;
        tc_wu(&tc, sid, 1000);
        tc_rst(&tc, sid, H2X_CANCEL);
        if (i % 10 == 0) {
            tc_prio_update(&tc, sid, "u=1");
        }
        if (i % 10 == 0 && i < 100) {
            /* forgotten: ignored (remembered, it is STREAM_CLOSED) */
            tc_data(&tc, sid, "late", 4, 1);
        }
        assert_true(tc_run(&tc) > 0);
    }

    assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
    assert_null(tc_find(&tc, H2X_FRAME_RST_STREAM, -1u));
    assert_int_equal(stats(&tc)->window_update_flood, 0);
    assert_int_equal(stats(&tc)->stream_errors, 0);
    assert_int_equal(stats(&tc)->rapid_reset, 0);

    /* and the connection still serves */
    nreq = tc.nreq;
    tc_get(&tc, 401, 1, "/");
    assert_true(tc_run(&tc) > 0);
    assert_int_equal(tc.nreq, nreq + 1);
    assert_non_null(tc_find(&tc, H2X_FRAME_HEADERS, 401));
    tc_done(&tc);
}


static void
test_control_queue(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;

    (void) state;

    /* CVE-2019-9512: PINGs from a peer that does not read */
    h2x_config_init(&cfg);
    cfg.max_control_queue = 10;
    tc_start(&tc, &cfg);
    flood(&tc, H2X_FRAME_PING, 10);
    assert_true(tc_flush(&tc) > 0);
    flood(&tc, H2X_FRAME_PING, 1);
    tc_run(&tc);
    expect_calm(&tc, 0, "client sent too many PING frames without reading");
    assert_int_equal(stats(&tc)->control_queue_flood, 1);
    assert_int_equal(tc_count(&tc, H2X_FRAME_PING), 10);
    tc_done(&tc);

    /* CVE-2019-9515: SETTINGS from a peer that does not read the ACKs */
    cfg.glitch_burst = 100;
    tc_start(&tc, &cfg);
    flood(&tc, H2X_FRAME_SETTINGS, 10);
    assert_true(tc_flush(&tc) > 0);
    flood(&tc, H2X_FRAME_SETTINGS, 1);
    tc_run(&tc);
    expect_calm(&tc, 0,
                "client sent too many SETTINGS frames without reading");
    assert_int_equal(stats(&tc)->control_queue_flood, 1);
    assert_int_equal(stats(&tc)->settings_flood, 1);
    tc_done(&tc);
    cfg.glitch_burst = 1000;

    /* the same with SETTINGS, but read in between: fine */
    cfg.glitch_burst = 100;
    tc_start(&tc, &cfg);
    flood(&tc, H2X_FRAME_SETTINGS, 10);
    assert_true(tc_run(&tc) > 0);
    flood(&tc, H2X_FRAME_SETTINGS, 10);
    assert_true(tc_run(&tc) > 0);
    flood(&tc, H2X_FRAME_SETTINGS, 11);
    tc_run(&tc);
    expect_calm(&tc, 0, "client sent too many SETTINGS frames without "
                        "reading");
    tc_done(&tc);
}


static void
test_priority_update_idle(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;

    (void) state;

    h2x_config_init(&cfg);
    cfg.max_priority_updates = 3;
    tc_start(&tc, &cfg);
    tc_prio_update(&tc, 101, "u=1");
    tc_prio_update(&tc, 103, "u=1");
    tc_prio_update(&tc, 103, "u=2");
    tc_prio_update(&tc, 105, "u=1");
    assert_true(tc_run(&tc) > 0);
    tc_prio_update(&tc, 107, "u=1");
    tc_run(&tc);
    expect_calm(&tc, 0, "client sent too many PRIORITY_UPDATE frames for "
                        "idle streams");
    assert_int_equal(stats(&tc)->priority_flood, 1);
    tc_done(&tc);
}


static void
test_settings_entries(void **state)
{
    tc_t           tc;
    h2x_config_t   cfg;
    h2x_setting_t  set[5];
    int            i;

    (void) state;

    /* CVE-2020-11080 */
    h2x_config_init(&cfg);
    cfg.max_settings_entries = 4;
    for (i = 0; i < 5; i++) {
        set[i].id = H2X_SETTINGS_HEADER_TABLE_SIZE;
        set[i].value = 4096;
    }
    tc_init(&tc, &cfg);
    tc_preface(&tc, set, 4);
    assert_true(tc_run(&tc) > 0);
    tc_settings(&tc, set, 5);
    assert_int_equal(tc_run(&tc), H2X_ERROR);
    tc_expect_goaway(&tc, 0, H2X_ENHANCE_YOUR_CALM);
    assert_int_equal(h2x_session_stats(tc.s)->settings_flood, 1);
    assert_string_equal(tc.last_log,
                        "client sent SETTINGS frame with too many entries");
    tc_done(&tc);
}


static void
test_max_requests(void **state)
{
    tc_t          tc;
    h2x_config_t  cfg;
    tframe_t     *f;

    (void) state;

    h2x_config_init(&cfg);
    cfg.max_requests = 3;
    tc_start(&tc, &cfg);
    tc.auto_respond = 1;
    tc_get(&tc, 1, 1, "/");
    tc_get(&tc, 3, 1, "/");
    tc_run(&tc);
    assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
    tc_get(&tc, 5, 1, "/");
    tc_get(&tc, 7, 1, "/");
    tc_run(&tc);
    assert_int_equal(tc.nreq, 3);
    f = tc_find(&tc, H2X_FRAME_GOAWAY, 0);
    assert_non_null(f);
    assert_int_equal(f->last_id, 0x7fffffff);
    tc_expect_rst(&tc, 7, H2X_REFUSED_STREAM);
    tc_ping(&tc, "h2xgaway", 1);
    tc_run(&tc);
    tc_expect_goaway(&tc, 5, H2X_NO_ERROR);
    assert_int_equal(h2x_session_want_close(tc.s), 1);
    tc_done(&tc);
}


static void
test_stream_id_exhaustion(void **state)
{
    tc_t       tc;
    tframe_t  *f;

    (void) state;

    tc_start(&tc, NULL);
    tc.auto_respond = 1;
    tc_get(&tc, 0x7fffff01, 1, "/");
    tc_run(&tc);
    assert_int_equal(tc.nreq, 1);
    assert_int_equal(stats(&tc)->stream_id_exhausted, 1);
    f = tc_find(&tc, H2X_FRAME_GOAWAY, 0);
    assert_non_null(f);
    assert_int_equal(f->last_id, 0x7fffffff);
    tc_done(&tc);
}


static void
test_memory(void **state)
{
    tc_t    tc;
    size_t  idle, busy;
    uint32_t i;

    (void) state;

    tc_start(&tc, NULL);
    tc.auto_respond = 1;
    idle = h2x_session_memory(tc.s);
    assert_true(idle > sizeof(void *));
    assert_true(idle < 32768);

    for (i = 0; i < 50; i++) {
        tc_get(&tc, 1 + 2 * i, 1, "/");
    }
    tc_run(&tc);
    busy = h2x_session_memory(tc.s);
    assert_true(busy > idle);
    /* bounded whatever happened: decode buffers, free lists */
    assert_true(busy < 256 * 1024);
    tc_done(&tc);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_rapid_reset),
        cmocka_unit_test(test_rapid_reset_read_sizes),
        cmocka_unit_test(test_browser_cancels),
        cmocka_unit_test(test_new_streams_per_feed),
        cmocka_unit_test(test_made_you_reset),
        cmocka_unit_test(test_continuation_flood),
        cmocka_unit_test(test_header_timeout),
        cmocka_unit_test(test_header_too_large),
        cmocka_unit_test(test_hpack_bomb),
        cmocka_unit_test(test_glitch_floods),
        cmocka_unit_test(test_late_frames_on_old_streams),
        cmocka_unit_test(test_control_queue),
        cmocka_unit_test(test_priority_update_idle),
        cmocka_unit_test(test_settings_entries),
        cmocka_unit_test(test_max_requests),
        cmocka_unit_test(test_stream_id_exhaustion),
        cmocka_unit_test(test_memory),
    };

    return cmocka_run_group_tests_name("session_limits", tests, NULL, NULL);
}
