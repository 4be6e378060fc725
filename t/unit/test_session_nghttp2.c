/*
 * Interop: an in-memory libnghttp2 client drives an h2x server session
 * through seeded random scenarios: hundreds of streams, request bodies,
 * response bodies of random sizes from memory and file-range chunks,
 * window size changes by SETTINGS, client resets, and random read/write
 * interleaving (bytes move between the two sides in random amounts).
 * Both sides must end satisfied: every stream not reset by the client
 * completes with the exact bodies on both sides, and neither side sees a
 * protocol error.
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

#include "h2x_session.h"


#define PAT_SIZE     (2 << 20)
#define MAX_STREAMS  1024
#define PIPE_SIZE    (8 << 20)

static uint8_t  pat[PAT_SIZE];


typedef struct {
    const uint8_t  *base;
} file_ref_t;


typedef struct {
    /* client view */
    int32_t         sid;
    size_t          req_len;
    size_t          req_sent;
    size_t          resp_len;      /* asked for */
    size_t          resp_got;
    int             status;
    int             reset;         /* by the client */
    int             closed;
    uint32_t        close_err;
    int             bad;

    /* server view */
    h2x_stream_t   *st;
    size_t          body_got;
    int             body_end;
    int             sbad;
    int             responded;
    int             sclosed;
    uint32_t        sclose_code;
    unsigned        chunks;
    unsigned        released;
    file_ref_t      refs[8];
} xs_t;


typedef struct {
    uint8_t        *buf;
    size_t          head;
    size_t          tail;
} pipe_t;


typedef struct {
    uint64_t         rng;
    nghttp2_session *c;
    h2x_session_t   *s;
    xs_t            *xs;
    size_t           nxs;
    pipe_t           c2s;
    pipe_t           s2c;
    unsigned         errors;
    char             err[256];
    size_t           done;
    uint64_t         now;
} world_t;


static uint32_t
rnd(world_t *w, uint32_t n)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;

    return n ? (uint32_t) (w->rng % n) : 0;
}


static size_t
req_off(int32_t sid)
{
    return ((size_t) sid * 7) % 4096;
}


static size_t
resp_off(int32_t sid)
{
    return ((size_t) sid * 13) % 4096;
}


static xs_t *
find(world_t *w, int32_t sid)
{
    size_t  i;

    for (i = 0; i < w->nxs; i++) {
        if (w->xs[i].sid == sid) {
            return &w->xs[i];
        }
    }

    return NULL;
}


static void
error(world_t *w, const char *what)
{
    if (w->errors++ == 0) {
        snprintf(w->err, sizeof(w->err), "%s", what);
    }
}


/* --- client (nghttp2) ----------------------------------------------- */

static ssize_t
c_read_body(nghttp2_session *c, int32_t sid, uint8_t *buf, size_t length,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
    xs_t    *x = src->ptr;
    size_t   n;

    (void) c;
    (void) sid;
    (void) user;

    n = x->req_len - x->req_sent;
    if (n > length) {
        n = length;
    }

    memcpy(buf, pat + req_off(x->sid) + x->req_sent, n);
    x->req_sent += n;

    if (x->req_sent == x->req_len) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    }

    return (ssize_t) n;
}


static int
c_on_header(nghttp2_session *c, const nghttp2_frame *f, const uint8_t *name,
    size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
    void *user)
{
    world_t  *w = user;
    xs_t     *x;

    (void) c;
    (void) flags;

    x = find(w, f->hd.stream_id);
    if (x == NULL) {
        return 0;
    }

    if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
        x->status = atoi((const char *) value);
    }

    if (namelen == 5 && memcmp(name, "x-len", 5) == 0
        && (size_t) atol((const char *) value) != x->resp_len)
    {
        x->bad = 1;
    }

    (void) valuelen;

    return 0;
}


static int
c_on_data(nghttp2_session *c, uint8_t flags, int32_t sid,
    const uint8_t *data, size_t len, void *user)
{
    world_t  *w = user;
    xs_t     *x;

    (void) c;
    (void) flags;

    x = find(w, sid);
    if (x == NULL) {
        return 0;
    }

    if (x->resp_got + len > x->resp_len
        || memcmp(data, pat + resp_off(sid) + x->resp_got, len) != 0)
    {
        x->bad = 1;
    }

    x->resp_got += len;

    return 0;
}


static int
c_on_close(nghttp2_session *c, int32_t sid, uint32_t err, void *user)
{
    world_t  *w = user;
    xs_t     *x;

    (void) c;

    x = find(w, sid);
    if (x) {
        x->closed = 1;
        x->close_err = err;
        w->done++;
    }

    return 0;
}


static int
c_on_invalid(nghttp2_session *c, const nghttp2_frame *f, int code,
    void *user)
{
    (void) c;
    (void) f;
    (void) code;

    error(user, "client: invalid frame received");

    return 0;
}


static int
c_on_frame_recv(nghttp2_session *c, const nghttp2_frame *f, void *user)
{
    (void) c;

    if (f->hd.type == NGHTTP2_GOAWAY) {
        error(user, "client: GOAWAY received");
    }

    if (f->hd.type == NGHTTP2_RST_STREAM
        && f->rst_stream.error_code != NGHTTP2_NO_ERROR)
    {
        error(user, "client: RST_STREAM received");
    }

    return 0;
}


/* --- server (h2x) --------------------------------------------------- */

static void
s_respond(world_t *w, xs_t *x)
{
    h2x_header_t  h;
    h2x_chunk_t   ch;
    char          len[32];
    size_t        off, left, n;
    unsigned      k;

    x->responded = 1;

    snprintf(len, sizeof(len), "%zu", x->resp_len);
    h.name = (const uint8_t *) "x-len";
    h.name_len = 5;
    h.value = (const uint8_t *) len;
    h.value_len = strlen(len);
    h.flags = 0;

    if (h2x_stream_submit_response(w->s, x->st, 200, &h, 1,
                                   x->resp_len == 0)
        != H2X_OK)
    {
        error(w, "server: submit_response failed");
        return;
    }

    off = 0;
    left = x->resp_len;

    for (k = 0; left; k++) {
        n = (k == 7) ? left : 1 + rnd(w, (uint32_t) left);
        x->refs[k].base = pat;
        ch.ref = &x->refs[k];
        ch.len = n;
        if (rnd(w, 2)) {
            ch.data = NULL;          /* a file range */
            ch.offset = resp_off(x->sid) + off;
        } else {
            ch.data = pat + resp_off(x->sid) + off;
            ch.offset = 0;
        }
        off += n;
        left -= n;
        x->chunks++;
        if (h2x_stream_write(w->s, x->st, &ch, left == 0) != H2X_OK) {
            error(w, "server: write failed");
        }
    }
}


static int
s_on_request(h2x_session_t *s, h2x_stream_t *st, const h2x_request_t *req,
    void *user)
{
    world_t  *w = user;
    xs_t     *x;
    size_t    i;

    (void) s;

    x = find(w, (int32_t) h2x_stream_id(st));
    if (x == NULL) {
        error(w, "server: unknown stream");
        return H2X_ERROR;
    }

    x->st = st;
    h2x_stream_set_data(st, x);

    for (i = 0; i < req->nheaders; i++) {
        if (req->headers[i].name_len == 10
            && memcmp(req->headers[i].name, "x-resp-len", 10) == 0)
        {
            x->resp_len = (size_t) atol((const char *)
                                        req->headers[i].value);
        }
    }

    if (req->end_stream) {
        x->body_end = 1;
        s_respond(w, x);
    }

    return H2X_OK;
}


static int
s_on_data(h2x_session_t *s, h2x_stream_t *st, const uint8_t *data,
    size_t len, unsigned flags, void *user)
{
    world_t  *w = user;
    xs_t     *x = h2x_stream_get_data(st);

    if (len) {
        if (x->body_got + len > x->req_len
            || memcmp(data, pat + req_off(x->sid) + x->body_got, len) != 0)
        {
            x->sbad = 1;
        }
        x->body_got += len;

        /* consume now or a little later */
        h2x_stream_consumed(s, st, len);
    }

    if (flags & H2X_DATA_END_STREAM) {
        x->body_end = 1;
        s_respond(w, x);
    }

    return H2X_OK;
}


static void
s_on_close(h2x_session_t *s, h2x_stream_t *st, uint32_t code, void *user)
{
    xs_t  *x = h2x_stream_get_data(st);

    (void) user;

    x->sclosed = 1;
    x->sclose_code = code;
    h2x_stream_release(s, st);
}


static void
s_on_release(h2x_session_t *s, h2x_stream_t *st, void *ref, void *user)
{
    xs_t  *x = h2x_stream_get_data(st);

    (void) s;
    (void) ref;
    (void) user;

    x->released++;
}


static void
s_on_log(h2x_session_t *s, uint32_t sid, uint32_t code, const char *reason,
    void *user)
{
    world_t  *w = user;
    char      buf[200];

    (void) s;

    snprintf(buf, sizeof(buf), "server: stream %u %s: %s", sid,
             h2x_error_code_name(code), reason);
    error(w, buf);
}


static void
s_on_goaway(h2x_session_t *s, uint32_t last, uint32_t code, void *user)
{
    (void) s;
    (void) last;
    (void) code;

    error(user, "server: GOAWAY received");
}


/* --- moving bytes --------------------------------------------------- */

static void
pipe_put(world_t *w, pipe_t *p, const uint8_t *data, size_t len)
{
    if (p->tail + len > PIPE_SIZE) {
        memmove(p->buf, p->buf + p->head, p->tail - p->head);
        p->tail -= p->head;
        p->head = 0;
    }

    if (p->tail + len > PIPE_SIZE) {
        error(w, "pipe overflow");
        return;
    }

    memcpy(p->buf + p->tail, data, len);
    p->tail += len;
}


static void
client_send(world_t *w)
{
    const uint8_t  *data;
    ssize_t         n;

    for ( ;; ) {
        n = nghttp2_session_mem_send(w->c, &data);
        if (n < 0) {
            error(w, "client: mem_send failed");
            return;
        }
        if (n == 0) {
            return;
        }
        pipe_put(w, &w->c2s, data, (size_t) n);
    }
}


static void
server_read(world_t *w)
{
    size_t  avail, n, k;
    long    rc;

    avail = w->c2s.tail - w->c2s.head;
    if (avail == 0 || !h2x_session_want_read(w->s)) {
        return;
    }

    n = rnd(w, 4) == 0 ? avail : 1 + rnd(w, (uint32_t) avail);

    while (n) {
        k = rnd(w, 3) == 0 ? 1 + rnd(w, 64) : n;
        if (k > n) {
            k = n;
        }
        rc = h2x_session_feed(w->s, w->c2s.buf + w->c2s.head, k, w->now);
        if (rc != (long) k) {
            error(w, "server: feed failed");
            return;
        }
        w->c2s.head += k;
        n -= k;
    }
}


static void
server_write(world_t *w)
{
    size_t          cnt, i, total, want, k;
    const uint8_t  *p;
    h2x_segment_t   seg[32];

    cnt = h2x_session_pending(w->s, seg, 1 + rnd(w, 32));
    if (cnt == 0) {
        return;
    }

    want = rnd(w, 3) == 0 ? 1 + rnd(w, 20000) : (size_t) -1;
    total = 0;

    for (i = 0; i < cnt && total < want; i++) {
        p = seg[i].data;
        if (p == NULL) {
            p = ((file_ref_t *) seg[i].ref)->base + seg[i].offset;
        }
        k = seg[i].len < want - total ? seg[i].len : want - total;
        pipe_put(w, &w->s2c, p, k);
        total += k;
    }

    h2x_session_sent(w->s, total);
}


static void
client_read(world_t *w)
{
    size_t   avail, n;
    ssize_t  rc;

    avail = w->s2c.tail - w->s2c.head;
    if (avail == 0) {
        return;
    }

    n = rnd(w, 4) == 0 ? avail : 1 + rnd(w, (uint32_t) avail);
    rc = nghttp2_session_mem_recv(w->c, w->s2c.buf + w->s2c.head, n);
    if (rc != (ssize_t) n) {
        error(w, "client: mem_recv failed");
        return;
    }
    w->s2c.head += n;
}


static void
submit(world_t *w)
{
    xs_t                  *x;
    nghttp2_nv             nv[6];
    nghttp2_data_provider  prd;
    char                   rl[32];
    int32_t                sid;
    uint32_t               r;

    x = &w->xs[w->nxs];
    memset(x, 0, sizeof(xs_t));

    r = rnd(w, 10);
    x->req_len = r < 5 ? 0 : (r < 8 ? rnd(w, 3000) : rnd(w, 200000));
    r = rnd(w, 10);
    x->resp_len = r < 2 ? 0 : (r < 7 ? rnd(w, 5000)
                                     : (r < 9 ? rnd(w, 300000)
                                              : rnd(w, 1 << 20)));
    snprintf(rl, sizeof(rl), "%zu", x->resp_len);

#define NV(n, v)  { (uint8_t *) n, (uint8_t *) v, sizeof(n) - 1,             \
                    strlen(v), NGHTTP2_NV_FLAG_NONE }
    nghttp2_nv  tmp[5] = {
        NV(":method", "POST"), NV(":scheme", "https"),
        NV(":authority", "example.com"), NV(":path", "/x"),
        NV("x-resp-len", rl)
    };
#undef NV

    memcpy(nv, tmp, sizeof(tmp));

    prd.source.ptr = x;
    prd.read_callback = c_read_body;

    sid = nghttp2_submit_request(w->c, NULL, nv, 5,
                                 x->req_len ? &prd : NULL, x);
    if (sid < 0) {
        error(w, "client: submit_request failed");
        return;
    }

    x->sid = sid;
    w->nxs++;
}


static void
run_seed(uint64_t seed, size_t total, size_t conc)
{
    world_t                    w;
    nghttp2_session_callbacks *cbs;
    h2x_callbacks_t            scb;
    h2x_config_t               cfg;
    nghttp2_settings_entry     iv[2];
    size_t                     i, active, idle, resets;
    xs_t                      *x;

    memset(&w, 0, sizeof(w));
    w.rng = seed * 2654435761u + 1;
    w.xs = calloc(MAX_STREAMS, sizeof(xs_t));
    w.c2s.buf = malloc(PIPE_SIZE);
    w.s2c.buf = malloc(PIPE_SIZE);
    w.now = 1;

    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, c_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
                                                              c_on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, c_on_close);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs,
                                                                 c_on_invalid);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs,
                                                         c_on_frame_recv);
    assert_int_equal(nghttp2_session_client_new(&w.c, cbs, &w), 0);
    nghttp2_session_callbacks_del(cbs);

    memset(&scb, 0, sizeof(scb));
    scb.on_request = s_on_request;
    scb.on_data = s_on_data;
    scb.on_stream_close = s_on_close;
    scb.on_chunk_release = s_on_release;
    scb.on_log = s_on_log;
    scb.on_goaway = s_on_goaway;

    h2x_config_init(&cfg);
    cfg.max_requests = 100000;
    if (seed & 1) {
        cfg.initial_window_size = 16384 + rnd(&w, 100000);
        cfg.max_unsent_output = 32768;
        cfg.chunk_size = 4096 + rnd(&w, 16384);
    }
    w.s = h2x_session_new(&cfg, &scb, &w, NULL);
    assert_non_null(w.s);

    iv[0].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
    iv[0].value = 1000 + rnd(&w, 200000);
    iv[1].settings_id = NGHTTP2_SETTINGS_MAX_FRAME_SIZE;
    iv[1].value = 16384 + rnd(&w, 100000);
    nghttp2_submit_settings(w.c, NGHTTP2_FLAG_NONE, iv, 2);

    idle = 0;
    resets = 0;

    while (w.done < total && w.errors == 0) {

        active = w.nxs - w.done;

        while (active < conc && w.nxs < total && rnd(&w, 3)) {
            submit(&w);
            active++;
        }

        /* a client reset, now and then */
        if (rnd(&w, 40) == 0 && active) {
            x = &w.xs[w.done + rnd(&w, (uint32_t) (w.nxs - w.done))];
            if (!x->closed && !x->reset) {
                x->reset = 1;
                resets++;
                nghttp2_submit_rst_stream(w.c, NGHTTP2_FLAG_NONE, x->sid,
                                          NGHTTP2_CANCEL);
            }
        }

        /* the client changes its window */
        if (rnd(&w, 200) == 0) {
            iv[0].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
            iv[0].value = rnd(&w, 4) ? 1 + rnd(&w, 300000) : 0;
            nghttp2_submit_settings(w.c, NGHTTP2_FLAG_NONE, iv, 1);
        }

        client_send(&w);

        switch (rnd(&w, 4)) {
        case 0:
            server_read(&w);
            server_write(&w);
            break;
        case 1:
            server_write(&w);
            client_read(&w);
            break;
        case 2:
            server_read(&w);
            client_read(&w);
            break;
        default:
            server_read(&w);
            server_write(&w);
            client_read(&w);
            break;
        }

        w.now += rnd(&w, 3);

        if (w.c2s.head == w.c2s.tail && w.s2c.head == w.s2c.tail
            && !h2x_session_want_write(w.s)
            && !nghttp2_session_want_write(w.c))
        {
            /* a zero window must not stay zero forever */
            if (++idle > 1000) {
                iv[0].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
                iv[0].value = 65535;
                nghttp2_submit_settings(w.c, NGHTTP2_FLAG_NONE, iv, 1);
            }
            if (idle > 100000) {
                error(&w, "no progress");
            }
        } else {
            idle = 0;
        }

        /* streams done on the client: gone on the server after a while */
    }

    if (w.errors) {
        fail_msg("seed %llu: %s (%u errors)", (unsigned long long) seed,
                 w.err, w.errors);
    }

    /* let the last frames through */
    for (i = 0; i < 100; i++) {
        client_send(&w);
        server_read(&w);
        server_write(&w);
        client_read(&w);
    }

    for (i = 0; i < w.nxs; i++) {
        x = &w.xs[i];
        assert_true(x->closed);
        if (x->reset) {
            continue;
        }
        if (x->close_err != 0 || x->status != 200 || x->bad || x->sbad
            || x->resp_got != x->resp_len || x->body_got != x->req_len
            || !x->sclosed || x->sclose_code != 0
            || x->released != x->chunks)
        {
            fail_msg("seed %llu stream %d: err %u status %d bad %d/%d "
                     "resp %zu/%zu req %zu/%zu sclosed %d code %u "
                     "chunks %u/%u", (unsigned long long) seed, x->sid,
                     x->close_err, x->status, x->bad, x->sbad, x->resp_got,
                     x->resp_len, x->body_got, x->req_len, x->sclosed,
                     x->sclose_code, x->released, x->chunks);
        }
    }

    {
        size_t  bytes = 0, up = 0, nreset = 0;
        for (i = 0; i < w.nxs; i++) {
            bytes += w.xs[i].resp_got;
            up += w.xs[i].body_got;
            nreset += w.xs[i].reset;
        }
        print_message("seed %llu: %zu streams, %zu reset, %zu bytes down, "
                      "%zu up\n", (unsigned long long) seed, w.nxs, nreset,
                      bytes, up);
        assert_true(w.nxs == total);
    }

    assert_int_equal(h2x_session_streams(w.s), 0);
    assert_true(h2x_session_stats(w.s)->streams <= w.nxs);
    (void) resets;

    nghttp2_session_del(w.c);
    h2x_session_free(w.s);
    free(w.xs);
    free(w.c2s.buf);
    free(w.s2c.buf);
}


static void
test_random_scenarios(void **state)
{
    uint64_t  seed;

    (void) state;

    for (seed = 1; seed <= 40; seed++) {
        run_seed(seed, 300, 1 + seed * 8 % 100);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_random_scenarios),
    };
    size_t  i;

    for (i = 0; i < PAT_SIZE; i++) {
        pat[i] = (uint8_t) (i * 31 + (i >> 9) * 7);
    }

    return cmocka_run_group_tests_name("session_nghttp2", tests, NULL, NULL);
}
