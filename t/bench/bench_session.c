/*
 * Benchmark: the same recorded client byte stream through an nghttp2
 * server session and an h2x server session in one process, each
 * answering after every client write as an event loop would.
 *
 *   small: rounds of 100 concurrent browser-like GETs, 100-byte bodies
 *   1m:    rounds of 10 concurrent GETs, 1 MiB bodies
 *
 * Output is "written" without copying on both sides: nghttp2 uses
 * NGHTTP2_DATA_FLAG_NO_COPY with a send_data callback that records the
 * frame header and the body pointer (what a writev-based server does),
 * h2x hands out segments.  Neither copies body bytes; both are charged
 * the same loop of summing the lengths.  Median of repeated runs.
 * Memory: both sessions after the handshake with no stream, counted
 * through their allocator hooks (requested bytes).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <nghttp2/nghttp2.h>

#include "h2x_session.h"
#include "h2x_frame.h"


#define RUNS         15
#define MAX_WRITES   4096

static uint8_t   body[1 << 20];


/* --- the recorded client -------------------------------------------- */

typedef struct {
    uint8_t    *buf;
    size_t      len;
    size_t      size;
    size_t      writes[MAX_WRITES];   /* end offset of each write */
    size_t      nwrites;
    size_t      requests;
} rec_t;


static void
rec_room(rec_t *r, size_t n)
{
    if (r->len + n > r->size) {
        r->size = (r->len + n) * 2;
        r->buf = realloc(r->buf, r->size);
        if (r->buf == NULL) {
            abort();
        }
    }
}


static void
rec_write_end(rec_t *r)
{
    r->writes[r->nwrites++] = r->len;
}


#define NV(n, v)  { (uint8_t *) (n), (uint8_t *) (v), sizeof(n) - 1,         \
                    strlen(v), NGHTTP2_NV_FLAG_NONE }


static void
record(rec_t *r, size_t rounds, size_t conc)
{
    size_t                   i, k, n;
    uint32_t                 sid;
    char                     path[64];
    uint8_t                  block[4096], *p;
    ssize_t                  blen;
    nghttp2_hd_deflater     *def;
    h2x_setting_t            set[2];

    memset(r, 0, sizeof(rec_t));
    nghttp2_hd_deflate_new(&def, 4096);

    /* preface, SETTINGS, windows wide open, ACK of the server's */
    rec_room(r, 256);
    p = r->buf;
    memcpy(p, H2X_PREFACE, H2X_PREFACE_SIZE);
    p += H2X_PREFACE_SIZE;
    set[0].id = H2X_SETTINGS_INITIAL_WINDOW_SIZE;
    set[0].value = 0x7fffffff;
    set[1].id = H2X_SETTINGS_HEADER_TABLE_SIZE;
    set[1].value = 4096;
    p = h2x_frame_write_settings(p, set, 2);
    p = h2x_frame_write_window_update(p, 0, 0x7fffffff - 65535);
    p = h2x_frame_write_settings_ack(p);
    r->len = p - r->buf;
    rec_write_end(r);

    sid = 1;

    for (i = 0; i < rounds; i++) {
        for (k = 0; k < conc; k++) {
            snprintf(path, sizeof(path), "/static/js/app-%zu.js",
                     r->requests++);
            nghttp2_nv  nv[] = {
                NV(":method", "GET"),
                NV(":scheme", "https"),
                NV(":authority", "www.example.com"),
                NV(":path", path),
                NV("user-agent", "Mozilla/5.0 (X11; Linux x86_64) "
                   "AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/120.0.0.0 Safari/537.36"),
                NV("accept", "*/*"),
                NV("accept-encoding", "gzip, deflate, br"),
                NV("accept-language", "en-US,en;q=0.9"),
                NV("referer", "https://www.example.com/"),
                NV("cookie", "session=abcdef0123456789"),
                NV("cookie", "prefs=dark"),
                NV("sec-fetch-dest", "script"),
                NV("sec-fetch-mode", "no-cors"),
                NV("sec-fetch-site", "same-origin"),
                NV("priority", "u=1"),
            };

            n = sizeof(nv) / sizeof(nv[0]);
            blen = nghttp2_hd_deflate_hd(def, block, sizeof(block), nv, n);
            if (blen < 0) {
                abort();
            }

            rec_room(r, H2X_FRAME_HEADER_SIZE + (size_t) blen);
            p = r->buf + r->len;
            p = h2x_frame_write_headers(p, sid, (uint32_t) blen,
                                        H2X_FLAG_END_HEADERS
                                        | H2X_FLAG_END_STREAM, NULL);
            memcpy(p, block, (size_t) blen);
            r->len += H2X_FRAME_HEADER_SIZE + (size_t) blen;
            sid += 2;
        }

        rec_write_end(r);
    }

    nghttp2_hd_deflate_del(def);
}


/* --- counting allocators -------------------------------------------- */

typedef struct {
    size_t   cur;
    size_t   peak;
} count_t;


static void *
cnt_malloc(size_t size, void *ud)
{
    count_t  *c = ud;
    size_t   *p;

    p = malloc(size + 16);
    if (p == NULL) {
        return NULL;
    }
    p[0] = size;
    c->cur += size;
    if (c->cur > c->peak) {
        c->peak = c->cur;
    }

    return (uint8_t *) p + 16;
}


static void
cnt_free(void *ptr, void *ud)
{
    count_t  *c = ud;
    size_t   *p;

    if (ptr == NULL) {
        return;
    }

    p = (size_t *) ((uint8_t *) ptr - 16);
    c->cur -= p[0];
    free(p);
}


static void *
cnt_calloc(size_t nmemb, size_t size, void *ud)
{
    void  *p;

    p = cnt_malloc(nmemb * size, ud);
    if (p) {
        memset(p, 0, nmemb * size);
    }

    return p;
}


static void *
cnt_realloc(void *ptr, size_t size, void *ud)
{
    void    *p;
    size_t   old;

    p = cnt_malloc(size, ud);
    if (p && ptr) {
        old = *(size_t *) ((uint8_t *) ptr - 16);
        memcpy(p, ptr, old < size ? old : size);
        cnt_free(ptr, ud);
    }

    return p;
}


static void *
h2x_cnt_alloc(size_t size, void *ctx)
{
    return cnt_malloc(size, ctx);
}


static void
h2x_cnt_free(void *ptr, void *ctx)
{
    cnt_free(ptr, ctx);
}


/* --- nghttp2 server ------------------------------------------------- */

typedef struct {
    size_t          body_len;
    size_t          out;        /* bytes "written" */
    size_t          responses;
    char            cl[32];
    size_t          cl_len;
} ng_t;


static ssize_t
ng_read(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t length,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
    size_t  left;

    (void) s;
    (void) sid;
    (void) buf;
    (void) user;

    left = (size_t) src->ptr;

    if (length >= left) {
        length = left;
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    }

    *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    src->ptr = (void *) (left - length);

    return (ssize_t) length;
}


static int
ng_send_data(nghttp2_session *s, nghttp2_frame *frame, const uint8_t *framehd,
    size_t length, nghttp2_data_source *src, void *user)
{
    ng_t           *ng = user;
    volatile const uint8_t *hd = framehd;

    (void) s;
    (void) frame;
    (void) src;

    /* a writev of the frame header and the body slice, no copy */
    ng->out += 9 + length + (hd[0] & 0);

    return 0;
}


static int
ng_on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
    ng_t                  *ng = user;
    nghttp2_data_provider  prd;

    if (frame->hd.type != NGHTTP2_HEADERS
        || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
    {
        return 0;
    }

    /* as for h2x: the value of content-length is made once */
    nghttp2_nv  nv[] = {
        NV(":status", "200"),
        NV("content-type", "application/javascript"),
        { (uint8_t *) "content-length", (uint8_t *) ng->cl, 14, ng->cl_len,
          NGHTTP2_NV_FLAG_NONE },
    };

    prd.source.ptr = (void *) ng->body_len;
    prd.read_callback = ng_read;

    nghttp2_submit_response(s, frame->hd.stream_id, nv, 3, &prd);
    ng->responses++;

    return 0;
}


static nghttp2_session *
ng_new(ng_t *ng, nghttp2_mem *mem)
{
    nghttp2_session_callbacks  *cbs;
    nghttp2_session            *s;
    nghttp2_settings_entry      iv[1];

    ng->cl_len = (size_t) snprintf(ng->cl, sizeof(ng->cl), "%zu",
                                   ng->body_len);

    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs,
                                                         ng_on_frame_recv);
    nghttp2_session_callbacks_set_send_data_callback(cbs, ng_send_data);
    if (nghttp2_session_server_new3(&s, cbs, ng, NULL, mem) != 0) {
        abort();
    }
    nghttp2_session_callbacks_del(cbs);

    iv[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
    iv[0].value = 128;
    nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, 1);

    return s;
}


static void
ng_flush(nghttp2_session *s, ng_t *ng)
{
    const uint8_t  *data;
    ssize_t         n;

    while ((n = nghttp2_session_mem_send(s, &data)) > 0) {
        ng->out += (size_t) n;
    }

    if (n < 0) {
        abort();
    }
}


static double
run_nghttp2(const rec_t *r, size_t body_len)
{
    nghttp2_session  *s;
    ng_t              ng;
    size_t            i, off;
    ssize_t           n;
    struct timespec   t0, t1;

    memset(&ng, 0, sizeof(ng));
    ng.body_len = body_len;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);

    s = ng_new(&ng, NULL);
    ng_flush(s, &ng);

    off = 0;
    for (i = 0; i < r->nwrites; i++) {
        n = nghttp2_session_mem_recv(s, r->buf + off, r->writes[i] - off);
        if (n != (ssize_t) (r->writes[i] - off)) {
            fprintf(stderr, "nghttp2: mem_recv failed\n");
            abort();
        }
        off = r->writes[i];
        ng_flush(s, &ng);
    }

    nghttp2_session_del(s);

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);

    if (ng.responses != r->requests) {
        fprintf(stderr, "nghttp2: %zu responses\n", ng.responses);
        abort();
    }

    return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec))
           / (double) r->requests;
}


/* --- h2x server ----------------------------------------------------- */

typedef struct {
    h2x_session_t  *s;
    size_t          body_len;
    size_t          responses;
    size_t          out;
    char            cl[32];
    size_t          cl_len;
} hx_t;


static int
hx_on_request(h2x_session_t *s, h2x_stream_t *st, const h2x_request_t *req,
    void *user)
{
    hx_t         *hx = user;
    h2x_chunk_t   c;
    h2x_header_t  h[2];

    (void) req;

    h[0].name = (const uint8_t *) "content-type";
    h[0].name_len = 12;
    h[0].value = (const uint8_t *) "application/javascript";
    h[0].value_len = 22;
    h[0].flags = 0;
    h[1].name = (const uint8_t *) "content-length";
    h[1].name_len = 14;
    h[1].value = (const uint8_t *) hx->cl;
    h[1].value_len = hx->cl_len;
    h[1].flags = 0;

    h2x_stream_submit_response(s, st, 200, h, 2, 0);

    c.ref = hx;
    c.data = body;
    c.offset = 0;
    c.len = hx->body_len;
    h2x_stream_write(s, st, &c, 1);

    hx->responses++;

    return H2X_OK;
}


static void
hx_on_close(h2x_session_t *s, h2x_stream_t *st, uint32_t code, void *user)
{
    (void) code;
    (void) user;

    h2x_stream_release(s, st);
}


static h2x_session_t *
hx_new(hx_t *hx, const h2x_allocator_t *a)
{
    h2x_config_t     cfg;
    h2x_callbacks_t  cb;

    /* as nghttp2: no limit on requests per connection */
    h2x_config_init(&cfg);
    cfg.max_requests = 1u << 30;

    memset(&cb, 0, sizeof(cb));
    cb.on_request = hx_on_request;
    cb.on_stream_close = hx_on_close;

    hx->cl_len = (size_t) snprintf(hx->cl, sizeof(hx->cl), "%zu",
                                   hx->body_len);

    return h2x_session_new(&cfg, &cb, hx, a);
}


static void
hx_flush(h2x_session_t *s, hx_t *hx)
{
    size_t          n, i, total;
    h2x_segment_t   seg[64];

    while ((n = h2x_session_pending(s, seg, 64)) > 0) {
        total = 0;
        for (i = 0; i < n; i++) {
            total += seg[i].len;
        }
        hx->out += total;
        h2x_session_sent(s, total);
    }
}


static double
run_h2x(const rec_t *r, size_t body_len)
{
    h2x_session_t    *s;
    hx_t              hx;
    size_t            i, off;
    long              n;
    struct timespec   t0, t1;

    memset(&hx, 0, sizeof(hx));
    hx.body_len = body_len;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);

    s = hx_new(&hx, NULL);
    hx_flush(s, &hx);

    off = 0;
    for (i = 0; i < r->nwrites; i++) {
        n = h2x_session_feed(s, r->buf + off, r->writes[i] - off, 0);
        if (n != (long) (r->writes[i] - off)) {
            fprintf(stderr, "h2x: feed failed\n");
            abort();
        }
        off = r->writes[i];
        hx_flush(s, &hx);
    }

    h2x_session_free(s);

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);

    if (hx.responses != r->requests) {
        fprintf(stderr, "h2x: %zu responses\n", hx.responses);
        abort();
    }

    return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec))
           / (double) r->requests;
}


/* --- driver --------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}


static double
median(double *v, size_t n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return v[n / 2];
}


static double
compare(const char *name, const rec_t *r, size_t body_len)
{
    double  ng[RUNS], hx[RUNS], mng, mhx;
    size_t  i;

    /* warm up */
    run_nghttp2(r, body_len);
    run_h2x(r, body_len);

    for (i = 0; i < RUNS; i++) {
        ng[i] = run_nghttp2(r, body_len);
        hx[i] = run_h2x(r, body_len);
    }

    mng = median(ng, RUNS);
    mhx = median(hx, RUNS);

    printf("%-6s %zu requests: nghttp2 %.0f ns/request, h2x %.0f "
           "ns/request\n", name, r->requests, mng, mhx);

    return mng / mhx;
}


static void
idle_memory(const rec_t *r, size_t *hx_bytes, size_t *ng_bytes)
{
    count_t           c1, c2;
    nghttp2_mem       mem;
    nghttp2_session  *ns;
    h2x_session_t    *hs;
    ng_t              ng;
    hx_t              hx;
    h2x_allocator_t   a;

    /* the handshake only: the first recorded write */
    memset(&c1, 0, sizeof(c1));
    memset(&ng, 0, sizeof(ng));
    mem.mem_user_data = &c1;
    mem.malloc = cnt_malloc;
    mem.free = cnt_free;
    mem.calloc = cnt_calloc;
    mem.realloc = cnt_realloc;
    ns = ng_new(&ng, &mem);
    ng_flush(ns, &ng);
    nghttp2_session_mem_recv(ns, r->buf, r->writes[0]);
    ng_flush(ns, &ng);
    *ng_bytes = c1.cur;
    nghttp2_session_del(ns);

    memset(&c2, 0, sizeof(c2));
    memset(&hx, 0, sizeof(hx));
    a.alloc = h2x_cnt_alloc;
    a.free = h2x_cnt_free;
    a.ctx = &c2;
    hs = hx_new(&hx, &a);
    hx_flush(hs, &hx);
    h2x_session_feed(hs, r->buf, r->writes[0], 0);
    hx_flush(hs, &hx);
    *hx_bytes = c2.cur;
    if (h2x_session_memory(hs) != c2.cur) {
        fprintf(stderr, "h2x_session_memory() %zu, allocator %zu\n",
                h2x_session_memory(hs), c2.cur);
        abort();
    }

    /* and idle again after a round of 100 requests */
    h2x_session_feed(hs, r->buf + r->writes[0], r->writes[1] - r->writes[0],
                     0);
    hx_flush(hs, &hx);
    ns = ng_new(&ng, &mem);
    ng_flush(ns, &ng);
    nghttp2_session_mem_recv(ns, r->buf, r->writes[1]);
    ng_flush(ns, &ng);
    printf("idle after 100 requests: h2x %zu bytes", c2.cur);
    h2x_session_tick(hs, h2x_session_next_timeout(hs));
    printf(" (%zu a second later), nghttp2 %zu bytes\n", c2.cur, c1.cur);
    nghttp2_session_del(ns);
    h2x_session_free(hs);
}


int
main(void)
{
    rec_t   small, big;
    double  s1, s2;
    size_t  hxm, ngm;

    memset(body, 'j', sizeof(body));

    record(&small, 50, 100);
    record(&big, 20, 10);

    idle_memory(&small, &hxm, &ngm);
    s1 = compare("small", &small, 100);
    s2 = compare("1m", &big, 1 << 20);

    printf("RESULT session_small_speedup %.2f\n", s1);
    printf("RESULT session_1m_speedup %.2f\n", s2);
    printf("RESULT session_idle_bytes %zu\n", hxm);
    printf("RESULT session_idle_bytes_nghttp2 %zu\n", ngm);

    free(small.buf);
    free(big.buf);

    return 0;
}
