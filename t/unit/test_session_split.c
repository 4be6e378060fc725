/*
 * One representative scenario (CONTINUATION, padding, trailers, PING,
 * PRIORITY_UPDATE, resets, a malformed request, unknown frames, responses
 * with bodies) fed whole, byte by byte, and split in two at every point:
 * the events and every byte the server writes must be the same.  Then the
 * same scenario with allocation failure injected at every allocation:
 * no crash, no leak, valid output.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "session_util.h"


static uint8_t  resp[3000];


static void
scenario(tc_t *tc)
{
    h2x_setting_t  set[2];
    uint8_t        pad[1 + 1000 + 10];
    const char    *kv1[] = { ":method", "GET", ":scheme", "https",
                             ":authority", "example.com", ":path",
                             "/continued/over/several/frames",
                             "cookie", "a=1", "cookie", "b=2",
                             "priority", "u=2, i", NULL };

    set[0].id = H2X_SETTINGS_INITIAL_WINDOW_SIZE;
    set[0].value = 100000;
    set[1].id = H2X_SETTINGS_MAX_FRAME_SIZE;
    set[1].value = 20000;
    tc_preface(tc, set, 2);
    tc_settings_ack(tc);
    tc_wu(tc, 0, 200000);

    tc_headers_v(tc, 1, 1, 7, kv1);

    tc_headers(tc, 3, 0, ":method", "POST", ":scheme", "https",
               ":authority", "example.com", ":path", "/upload",
               "content-length", "3000");
    memset(pad, 'p', sizeof(pad));
    pad[0] = 10;
    tc_frame(tc, H2X_FRAME_DATA, H2X_FLAG_PADDED, 3, pad, sizeof(pad));
    tc_data(tc, 3, resp, 2000, 0);
    tc_headers(tc, 3, 1, "x-trailer", "done");

    tc_ping(tc, "scenario", 0);
    tc_prio_update(tc, 5, "u=0");
    tc_get(tc, 5, 1, "/reset");
    tc_rst(tc, 5, H2X_CANCEL);
    tc_headers(tc, 7, 1, ":method", "GET", ":scheme", "https",
               ":path", "/", "Bad", "name");
    tc_frame(tc, 0x42, 0x1, 0, "unknown", 7);
    tc_get(tc, 9, 1, "/nine");
    tc_wu(tc, 9, 1000);
    tc_frame(tc, H2X_FRAME_PRIORITY, 0, 11, "\0\0\0\1\20", 5);
    tc_get(tc, 11, 0, "/eleven");
    tc_data(tc, 11, NULL, 0, 1);
}


static void
setup(tc_t *tc, long fail_at)
{
    tc_init_cfg(tc, NULL, fail_at);
    tc->auto_respond = 1;
    tc->resp_body = resp;
    tc->resp_body_len = sizeof(resp);
}


/* Runs the scenario with input split at "at" (0: whole, 1: by byte). */
static void
run(tc_t *tc, size_t at, size_t split)
{
    size_t  len;
    long    rc;

    scenario(tc);
    len = tc->inlen;

    if (at) {
        tc->inlen = at;
        rc = tc_flush(tc);
        assert_true(rc > 0);
        memmove(tc->in, tc->in + at, len - at);
        tc->inlen = len - at;
        /* tc_flush() reset inlen: the rest was moved to the front */
    }

    tc->split = split;
    rc = tc_flush(tc);
    assert_true(rc > 0);
    tc_drain(tc);
}


static void
test_split(void **state)
{
    static tc_t  ref, tc;
    size_t   len, at;

    (void) state;

    setup(&ref, 0);
    run(&ref, 0, 0);

    /* the scenario does what it says */
    assert_int_equal(ref.nreq, 5);
    assert_string_equal(ref.req[0].fields,
                        "cookie: a=1; b=2\npriority: u=2, i\n");
    assert_int_equal(ref.req[1].body_len, 3000);
    assert_int_equal(ref.req[1].trailers, 1);
    assert_int_equal(ref.req[2].close_code, H2X_CANCEL);
    assert_non_null(tc_find(&ref, H2X_FRAME_PING, 0));
    assert_int_equal(tc_find(&ref, H2X_FRAME_RST_STREAM, 7)->code,
                     H2X_PROTOCOL_ERROR);
    assert_int_equal(ref.body_len[1 / 2], sizeof(resp));
    assert_int_equal(ref.body_len[11 / 2], sizeof(resp));
    assert_int_equal(ref.body_end[11 / 2], 1);
    assert_null(tc_find(&ref, H2X_FRAME_GOAWAY, 0));

    /* byte by byte */
    setup(&tc, 0);
    run(&tc, 0, 1);
    assert_string_equal(tc.trace, ref.trace);
    assert_int_equal(tc.outlen, ref.outlen);
    assert_memory_equal(tc.out, ref.out, ref.outlen);
    tc_done(&tc);

    /* in two at every point */
    setup(&tc, 0);
    scenario(&tc);
    len = tc.inlen;
    tc_done(&tc);
    for (at = 1; at < len; at++) {
        setup(&tc, 0);
        run(&tc, at, 0);
        if (strcmp(tc.trace, ref.trace) != 0 || tc.outlen != ref.outlen
            || memcmp(tc.out, ref.out, ref.outlen) != 0)
        {
            fail_msg("split at %zu differs:\n%s\n---\n%s", at, tc.trace,
                     ref.trace);
        }
        tc_done(&tc);
    }

    /* in odd chunks */
    for (at = 2; at < 40; at += 3) {
        setup(&tc, 0);
        run(&tc, 0, at);
        assert_string_equal(tc.trace, ref.trace);
        assert_memory_equal(tc.out, ref.out, ref.outlen);
        tc_done(&tc);
    }

    tc_done(&ref);
}


static void
test_alloc_failure(void **state)
{
    tc_t   tc;
    long   n, total;

    (void) state;

    /* how many allocations the scenario makes */
    setup(&tc, 0);
    run(&tc, 0, 0);
    total = tc.talloc.calls;
    tc_done(&tc);
    assert_true(total > 5);

    for (n = 1; n <= total + 1; n++) {
        setup(&tc, n);

        if (tc.s == NULL) {
            /* session_new failed cleanly */
            assert_int_equal(tc.talloc.allocs, tc.talloc.frees);
            tc_done(&tc);
            continue;
        }

        scenario(&tc);
        tc.split = 0;
        (void) tc_flush(&tc);
        tc_drain(&tc);

        if (n <= total) {
            assert_int_equal(tc.talloc.failed, 1);
        }

        tc_done(&tc);    /* asserts allocs == frees */
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_alloc_failure),
    };
    size_t  i;

    for (i = 0; i < sizeof(resp); i++) {
        resp[i] = (uint8_t) ('a' + i % 26);
    }

    return cmocka_run_group_tests_name("session_split", tests, NULL, NULL);
}
