/*
 * Request validation (RFC 9113 8.2, 8.3, RFC 8441): a table of header
 * lists, each either accepted (on_request with the expected fields) or
 * malformed (RST_STREAM PROTOCOL_ERROR, no on_request, the connection
 * goes on).  "%00", "%0d", "%0a", "%7f", "%80" in names and values stand
 * for those bytes.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "session_util.h"


#define BASE  ":method", "GET", ":scheme", "https", ":authority", "a", \
              ":path", "/"

typedef struct {
    const char   *kv[24];
    int           ok;
    const char   *expect;    /* ok: "method path authority|fields" */
} row_t;


static const row_t  rows[] = {
    { { BASE }, 1, "GET / a|" },
    { { BASE, "accept", "a b\tc" }, 1, "GET / a|accept: a b\tc\n" },
    { { ":method", "OPTIONS", ":scheme", "https", ":authority", "a",
        ":path", "*" }, 1, "OPTIONS * a|" },
    { { ":method", "CONNECT", ":authority", "a:443" }, 1,
      "CONNECT  a:443|" },
    { { ":method", "GET", ":scheme", "https", ":path", "/",
        "host", "h.example" }, 1, "GET / h.example|host: h.example\n" },
    { { BASE, "host", "A" }, 1, "GET / a|host: A\n" },
    { { BASE, "te", "trailers" }, 1, "GET / a|te: trailers\n" },
    { { BASE, "content-length", "0" }, 1, "GET / a|content-length: 0\n" },
    { { BASE, "cookie", "a=1", "x-y", "z", "cookie", "b=2", "cookie", "c=3" },
      1, "GET / a|cookie: a=1; b=2; c=3\nx-y: z\n" },
    { { BASE, "cookie", "only=1" }, 1, "GET / a|cookie: only=1\n" },
    { { BASE, "x-empty", "" }, 1, "GET / a|x-empty: \n" },
    { { BASE, "x-tok!#$&'*+-.^_`|~09", "v" }, 1,
      "GET / a|x-tok!#$&'*+-.^_`|~09: v\n" },

    /* RFC 9113 8.3.1: required pseudo-headers */
    { { ":scheme", "https", ":authority", "a", ":path", "/" }, 0, NULL },
    { { ":method", "GET", ":authority", "a", ":path", "/" }, 0, NULL },
    { { ":method", "GET", ":scheme", "https", ":authority", "a" }, 0, NULL },
    { { ":method", "GET", ":scheme", "https", ":authority", "a",
        ":path", "" }, 0, NULL },
    { { ":method", "GET", ":scheme", "https", ":authority", "a",
        ":path", "x" }, 0, NULL },
    { { ":method", "GET", ":scheme", "https", ":authority", "a",
        ":path", "*" }, 0, NULL },
    /* RFC 9113 8.3: unknown, duplicate, misplaced pseudo-headers */
    { { BASE, ":foo", "x" }, 0, NULL },
    { { ":method", "GET", ":status", "200", ":scheme", "https",
        ":path", "/" }, 0, NULL },
    { { BASE, ":path", "/again" }, 0, NULL },
    { { ":method", "GET", ":method", "GET", ":scheme", "https",
        ":path", "/" }, 0, NULL },
    { { ":method", "GET", ":scheme", "https", "accept", "x", ":path", "/" },
      0, NULL },
    { { BASE, ":", "x" }, 0, NULL },
    /* RFC 9113 8.2.1: names */
    { { BASE, "Accept", "x" }, 0, NULL },
    { { BASE, "x y", "x" }, 0, NULL },
    { { BASE, "x:y", "x" }, 0, NULL },
    { { BASE, "", "x" }, 0, NULL },
    { { BASE, "x%7f", "x" }, 0, NULL },
    { { BASE, "x%80", "x" }, 0, NULL },
    { { BASE, "x%00", "x" }, 0, NULL },
    { { BASE, "x%0a", "x" }, 0, NULL },
    /* the same in names long enough for the word-at-a-time checks */
    { { BASE, "x-long-Header-name", "x" }, 0, NULL },
    { { BASE, "x-long-header:name", "x" }, 0, NULL },
    { { BASE, "x-long-header name", "x" }, 0, NULL },
    { { BASE, "x-long-header%7fname", "x" }, 0, NULL },
    { { BASE, "x-long-header%ffname", "x" }, 0, NULL },
    { { BASE, "x-long-header-nam%00", "x" }, 0, NULL },
    { { BASE, "x-long-header-name-Z", "x" }, 0, NULL },
    { { BASE, "x-long-header-name-@[`{", "x" }, 1,
      "GET / a|x-long-header-name-@[`{: x\n" },
    { { BASE, "x-long", "0123456789abcdef%00" }, 0, NULL },
    { { BASE, "x-long", "0123456%0d89abcdef" }, 0, NULL },
    { { BASE, "x-long", "01234567%0a9abcdef" }, 0, NULL },
    { { BASE, "x-long", "0123\t5678 abcdef%01%7f%ff" }, 1,
      "GET / a|x-long: 0123\t5678 abcdef\001\177\377\n" },
    /* RFC 9113 8.2.1: values */
    { { BASE, "x", "a%00b" }, 0, NULL },
    { { BASE, "x", "a%0db" }, 0, NULL },
    { { BASE, "x", "a%0ab" }, 0, NULL },
    { { BASE, "x", " a" }, 0, NULL },
    { { BASE, "x", "a\t" }, 0, NULL },
    { { ":method", "GET", ":scheme", "https", ":authority", "a",
        ":path", "/%00" }, 0, NULL },
    /* RFC 9113 8.2.2: connection-specific fields */
    { { BASE, "connection", "close" }, 0, NULL },
    { { BASE, "keep-alive", "5" }, 0, NULL },
    { { BASE, "proxy-connection", "x" }, 0, NULL },
    { { BASE, "transfer-encoding", "chunked" }, 0, NULL },
    { { BASE, "upgrade", "h2c" }, 0, NULL },
    { { BASE, "te", "gzip" }, 0, NULL },
    { { BASE, "te", "trailers, gzip" }, 0, NULL },
    /* content-length */
    { { BASE, "content-length", "abc" }, 0, NULL },
    { { BASE, "content-length", "-1" }, 0, NULL },
    { { BASE, "content-length", "" }, 0, NULL },
    { { BASE, "content-length", "0", "content-length", "1" }, 0, NULL },
    /* RFC 9113 8.3.1: :authority and host */
    { { BASE, "host", "b" }, 0, NULL },
    { { BASE, "host", "a", "host", "a" }, 0, NULL },
    /* RFC 9113 8.5: CONNECT */
    { { ":method", "CONNECT", ":authority", "a:443", ":path", "/" }, 0,
      NULL },
    { { ":method", "CONNECT", ":authority", "a:443", ":scheme", "https" }, 0,
      NULL },
    { { ":method", "CONNECT" }, 0, NULL },
    /* RFC 8441: :protocol needs SETTINGS_ENABLE_CONNECT_PROTOCOL */
    { { ":method", "CONNECT", ":protocol", "websocket", ":scheme", "https",
        ":authority", "a", ":path", "/chat" }, 0, NULL },
};


static size_t
unescape(const char *in, uint8_t *out)
{
    size_t        n;
    unsigned int  v;

    n = 0;
    while (*in) {
        if (in[0] == '%' && in[1] && in[2] && sscanf(in + 1, "%2x", &v) == 1)
        {
            out[n++] = (uint8_t) v;
            in += 3;
        } else {
            out[n++] = (uint8_t) *in++;
        }
    }

    return n;
}


/* A request from the row's fields, escapes decoded. */
static void
send_row(tc_t *tc, uint32_t sid, const char *const *kv, int end_stream)
{
    size_t        n, len, i;
    uint8_t       strs[24][64];
    uint8_t       block[2048], *p;
    h2x_header_t  h[12];

    for (n = 0; kv[2 * n]; n++) {
        h[n].name = strs[2 * n];
        h[n].name_len = unescape(kv[2 * n], strs[2 * n]);
        h[n].value = strs[2 * n + 1];
        h[n].value_len = unescape(kv[2 * n + 1], strs[2 * n + 1]);
        h[n].flags = 0;
    }

    /* names are sent as literals, so uppercase ones reach the server */
    for (i = 0; i < n; i++) {
        h[i].flags = H2X_HEADER_NO_INDEX;
    }

    assert_int_equal(h2x_hpack_encode(&tc->enc, h, n, block, sizeof(block),
                                      &len),
                     H2X_OK);

    p = tc_room(tc, h2x_frame_header_block_size(len, 16384));
    p = h2x_frame_write_header_block(p, sid,
                                     end_stream ? H2X_FLAG_END_STREAM : 0,
                                     block, len, 16384);
    tc->inlen = p - tc->in;
}


static void
test_table(void **state)
{
    tc_t       tc;
    size_t     i;
    treq_t    *r;
    char       got[2048];

    (void) state;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {

        tc_start(&tc, NULL);

        send_row(&tc, 1, rows[i].kv, 1);
        /* the connection survives: a valid request follows */
        tc_get(&tc, 3, 1, "/next");
        assert_true(tc_run(&tc) > 0);

        if (rows[i].ok) {
            if (tc.nreq != 2) {
                fail_msg("row %zu: not accepted: %s", i, tc.trace);
            }
            r = &tc.req[0];
            snprintf(got, sizeof(got), "%s %s %s|%s", r->method, r->path,
                     r->authority, r->fields);
            if (strcmp(got, rows[i].expect) != 0) {
                fail_msg("row %zu: got \"%s\", expected \"%s\"", i, got,
                         rows[i].expect);
            }
            assert_int_equal(tc_count(&tc, H2X_FRAME_RST_STREAM), 0);

        } else {
            if (tc.nreq != 1) {
                fail_msg("row %zu: accepted", i);
            }
            assert_int_equal(tc.req[0].sid, 3);
            tc_expect_rst(&tc, 1, H2X_PROTOCOL_ERROR);
            assert_int_equal(tc_count(&tc, H2X_FRAME_RST_STREAM), 1);
            assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));
            assert_int_equal(strncmp(tc.last_log, "client sent ", 12), 0);
        }

        tc_done(&tc);
    }
}


/*
 * The session remembers field names it found valid lately; a name that
 * differs from a remembered one in a single middle octet must be checked
 * afresh, on the same connection.  The two bad names fall into the same
 * memo set as the good one, so only the full comparison tells them apart.
 */
static void
test_name_memo(void **state)
{
    static const char *const  good[] = { BASE, "x-request-origin", "1",
                                         NULL };
    static const char *const  upper[] = { BASE, "x-request-orWgin", "1",
                                          NULL };
    static const char *const  space[] = { BASE, "x-request-:rigin", "1",
                                          NULL };
    static const char *const  other[] = { BASE, "x-request-orig1n", "2",
                                          NULL };
    tc_t                      tc;

    (void) state;

    tc_start(&tc, NULL);

    send_row(&tc, 1, good, 1);
    send_row(&tc, 3, upper, 1);
    send_row(&tc, 5, good, 1);
    send_row(&tc, 7, space, 1);
    send_row(&tc, 9, other, 1);
    assert_true(tc_run(&tc) > 0);

    assert_int_equal(tc.nreq, 3);
    assert_int_equal(tc.req[0].sid, 1);
    assert_int_equal(tc.req[1].sid, 5);
    assert_int_equal(tc.req[2].sid, 9);
    assert_string_equal(tc.req[2].fields, "x-request-orig1n: 2\n");
    tc_expect_rst(&tc, 3, H2X_PROTOCOL_ERROR);
    tc_expect_rst(&tc, 7, H2X_PROTOCOL_ERROR);
    assert_int_equal(tc_count(&tc, H2X_FRAME_RST_STREAM), 2);
    assert_null(tc_find(&tc, H2X_FRAME_GOAWAY, 0));

    tc_done(&tc);
}


static void
test_extended_connect(void **state)
{
    tc_t               tc;
    h2x_config_t       cfg;
    tframe_t          *f;
    uint32_t           i;
    static const char *ok[] = { ":method", "CONNECT", ":protocol",
                                "websocket", ":scheme", "https",
                                ":authority", "a", ":path", "/chat", NULL };
    static const char *nopath[] = { ":method", "CONNECT", ":protocol",
                                    "websocket", ":scheme", "https",
                                    ":authority", "a", NULL };
    static const char *get[] = { ":method", "GET", ":protocol",
                                 "websocket", ":scheme", "https",
                                 ":authority", "a", ":path", "/", NULL };

    (void) state;

    h2x_config_init(&cfg);
    cfg.enable_connect_protocol = 1;
    tc_init(&tc, &cfg);

    tc_drain(&tc);
    f = &tc.frames[0];
    for (i = 0; i < f->nsettings; i++) {
        if (f->settings[i].id == H2X_SETTINGS_ENABLE_CONNECT_PROTOCOL) {
            break;
        }
    }
    assert_true(i < f->nsettings);
    assert_int_equal(f->settings[i].value, 1);

    tc_preface(&tc, NULL, 0);
    tc_settings_ack(&tc);
    send_row(&tc, 1, ok, 0);
    send_row(&tc, 3, nopath, 0);
    send_row(&tc, 5, get, 0);
    tc_run(&tc);

    assert_int_equal(tc.nreq, 1);
    assert_string_equal(tc.req[0].protocol, "websocket");
    assert_string_equal(tc.req[0].method, "CONNECT");
    assert_string_equal(tc.req[0].path, "/chat");
    tc_expect_rst(&tc, 3, H2X_PROTOCOL_ERROR);
    tc_expect_rst(&tc, 5, H2X_PROTOCOL_ERROR);

    /* a tunnel: data both ways */
    tc_data(&tc, 1, "ping", 4, 0);
    tc_run(&tc);
    assert_int_equal(tc.req[0].body_len, 4);

    tc_done(&tc);
}


static void
test_connect_tunnel(void **state)
{
    tc_t         tc;
    h2x_chunk_t  c;
    treq_t      *r;

    (void) state;

    tc_start(&tc, NULL);
    tc_headers(&tc, 1, 0, ":method", "CONNECT", ":authority", "b:22");
    tc_run(&tc);
    r = tc_req(&tc, 1);
    assert_non_null(r);
    assert_string_equal(r->scheme, "");
    assert_string_equal(r->path, "");
    assert_string_equal(r->authority, "b:22");

    h2x_stream_submit_response(tc.s, r->st, 200, NULL, 0, 0);
    tc_chunk(&c, &c, (const uint8_t *) "SSH-2.0", 0, 7);
    h2x_stream_write(tc.s, r->st, &c, 0);
    tc_data(&tc, 1, "SSH-2.0-client", 14, 0);
    tc_run(&tc);
    assert_int_equal(r->body_len, 14);
    assert_int_equal(tc.body_len[0], 7);
    tc_done(&tc);
}


static void
test_priority_field(void **state)
{
    tc_t  tc;

    (void) state;

    /* a malformed priority field is ignored, not an error */
    tc_start(&tc, NULL);
    tc_headers(&tc, 1, 1, BASE, "priority", "u=9, i=?2, =bad");
    tc_headers(&tc, 3, 1, BASE, "priority", "u=1;x=2, foo=\"bar\", i");
    tc_run(&tc);
    assert_int_equal(tc.nreq, 2);
    assert_int_equal(tc_count(&tc, H2X_FRAME_RST_STREAM), 0);
    tc_done(&tc);
}


/*
 * The host knobs (docs/compat.md): with host_mismatch PASS a "host" that
 * differs from :authority is accepted, :authority stays the authority and
 * the field reaches the adapter; value_ows STRIP removes SP/HTAB around a
 * value (mod_http2), KEEP passes it (nginx); NUL/CR/LF still reset;
 * value_no_ctl (0x100 in a row) rejects other control bytes but HTAB.
 */
typedef struct {
    unsigned      host;
    unsigned      ows;
    row_t         row;
} knob_row_t;


static const knob_row_t  knob_rows[] = {
    { H2X_HOST_PASS, 0, { { BASE, "host", "b" }, 1, "GET / a|host: b\n" } },
    { H2X_HOST_PASS, 0, { { BASE, "host", "A" }, 1, "GET / a|host: A\n" } },
    { H2X_HOST_PASS, 0, { { BASE, "host", "a", "host", "b" }, 0, NULL } },
    { H2X_HOST_PASS, 0, { { BASE, "x", " a" }, 0, NULL } },
    { 0, H2X_OWS_STRIP, { { BASE, "host", "b" }, 0, NULL } },
    { 0, H2X_OWS_STRIP, { { BASE, "x", " a" }, 1, "GET / a|x: a\n" } },
    { 0, H2X_OWS_STRIP, { { BASE, "x", "a b\t \t" }, 1,
                          "GET / a|x: a b\n" } },
    { 0, H2X_OWS_STRIP, { { BASE, "user-agent", " \t" }, 1,
                          "GET / a|user-agent: \n" } },
    { 0, H2X_OWS_STRIP, { { BASE, "x-long-field-name", "  value of it  " },
                          1, "GET / a|x-long-field-name: value of it\n" } },
    { 0, H2X_OWS_STRIP, { { BASE, "x", " a%00 " }, 0, NULL } },
    { 0, H2X_OWS_STRIP, { { BASE, "x", " a%0d" }, 0, NULL } },
    { 0, H2X_OWS_KEEP, { { BASE, "x", " a\t" }, 1, "GET / a|x:  a\t\n" } },
    { 0, H2X_OWS_KEEP, { { BASE, "x", "%0a a" }, 0, NULL } },
    { 0, 0, { { BASE, "x", "a%7fb" }, 1, "GET / a|x: a\177b\n" } },
    { 0, 0, { { BASE, "x", "a%01" }, 1, "GET / a|x: a\001\n" } },
    { 0, 0x100, { { BASE, "x", "a%7fb" }, 0, NULL } },
    { 0, 0x100, { { BASE, "x", "a%01" }, 0, NULL } },
    { 0, 0x100, { { BASE, "x", "a\tb%80" }, 1, "GET / a|x: a\tb\200\n" } },
    { 0, 0x100 | H2X_OWS_STRIP, { { BASE, "x", " a%1f " }, 0, NULL } },
};


static void
test_host_ows_knobs(void **state)
{
    tc_t               tc;
    size_t             i;
    treq_t            *r;
    h2x_config_t       cfg;
    char               got[2048];
    const row_t       *row;

    (void) state;

    for (i = 0; i < sizeof(knob_rows) / sizeof(knob_rows[0]); i++) {

        h2x_config_init(&cfg);
        cfg.host_mismatch = knob_rows[i].host;
        cfg.value_ows = knob_rows[i].ows & 0xff;
        cfg.value_no_ctl = (knob_rows[i].ows & 0x100) ? 1 : 0;
        row = &knob_rows[i].row;

        tc_start(&tc, &cfg);

        send_row(&tc, 1, row->kv, 1);
        tc_get(&tc, 3, 1, "/next");
        assert_true(tc_run(&tc) > 0);

        if (row->ok) {
            if (tc.nreq != 2) {
                fail_msg("knob row %zu: not accepted: %s", i, tc.trace);
            }
            r = &tc.req[0];
            snprintf(got, sizeof(got), "%s %s %s|%s", r->method, r->path,
                     r->authority, r->fields);
            if (strcmp(got, row->expect) != 0) {
                fail_msg("knob row %zu: got \"%s\", expected \"%s\"", i,
                         got, row->expect);
            }
            assert_int_equal(tc_count(&tc, H2X_FRAME_RST_STREAM), 0);

        } else {
            if (tc.nreq != 1) {
                fail_msg("knob row %zu: accepted", i);
            }
            tc_expect_rst(&tc, 1, H2X_PROTOCOL_ERROR);
        }

        tc_done(&tc);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_name_memo),
        cmocka_unit_test(test_extended_connect),
        cmocka_unit_test(test_connect_tunnel),
        cmocka_unit_test(test_priority_field),
        cmocka_unit_test(test_host_ows_knobs),
    };

    return cmocka_run_group_tests_name("session_validate", tests, NULL,
                                       NULL);
}
