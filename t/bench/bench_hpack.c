/*
 * HPACK benchmark: h2x against nghttp2 (Debian's libnghttp2) in one
 * process, on the same seeded, realistic corpus.
 *
 * Corpus: CONNS simulated connections, each a sequence of PAIRS browser
 * requests (":method :scheme :authority :path", user-agent, accept*,
 * cookie crumbs, referer, sec-fetch-*, varied paths and query strings)
 * and server responses (status, server, date, content-type,
 * content-length, cache-control, etag, last-modified, vary, sometimes
 * set-cookie, ...).  Each connection has one encoder and one decoder per
 * direction, so the dynamic tables matter.
 *
 * Encode: both libraries encode the same lists (nghttp2_hd_deflate_hd,
 * h2x_hpack_encode).  Decode: both decode the same bytes (every block as
 * encoded by nghttp2 and as encoded by h2x); nghttp2 is driven the way a
 * server drives it, nghttp2_hd_inflate_hd2() one field at a time, and
 * h2x decodes each block into a per-stream output.  Both sides touch
 * every decoded field the same way (a checksum) and copy nothing else.
 * Each connection's lists and strings are packed in its own arena (about
 * half a MiB, so it fits a core's L2 cache), and each side runs over a
 * connection once untimed before its timed run: a server encodes headers
 * it has just built and decodes bytes it has just read, so neither side
 * should be measured on cache misses of the benchmark's own corpus.
 * The sides are interleaved connection by connection (in alternating
 * order), so that load from elsewhere on the machine hits both alike.
 * Times are medians over ROUNDS runs.
 * Size: total bytes of all blocks.
 *
 * For profiling and A/B comparisons, "bench_hpack N h2x-enc" (or h2x-dec,
 * ng-enc, ng-dec) only runs that part N times and prints the best time.
 *
 * The last lines are:
 *   RESULT hpack_decode_speedup <nghttp2 time / h2x time>
 *   RESULT hpack_encode_speedup <nghttp2 time / h2x time>
 *   RESULT hpack_size_ratio <h2x bytes / nghttp2 bytes>
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <nghttp2/nghttp2.h>

#include "h2x_hpack.h"


#define CONNS       18
#define PAIRS       200
#define MAX_FIELDS  40
#define ROUNDS      31


typedef struct {
    h2x_header_t  *h;
    nghttp2_nv    *nv;
    size_t         n;
} list_t;


typedef struct {
    list_t         req[PAIRS];
    list_t         resp[PAIRS];
    /* encoded blocks: [0] by nghttp2, [1] by h2x */
    uint8_t       *req_bytes[2][PAIRS];
    size_t         req_len[2][PAIRS];
    uint8_t       *resp_bytes[2][PAIRS];
    size_t         resp_len[2][PAIRS];
} conn_t;


static conn_t  conns[CONNS];


/* ---- corpus ------------------------------------------------------------ */

static uint64_t  rng = 0x243f6a8885a308d3ull;

static uint32_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t) (rng >> 13);
}


/* Each connection's lists and strings live in its arena. */
#define ARENA_SIZE  (2 << 20)

static char    *arena;
static size_t   arena_len;


static void *
arena_alloc(size_t n)
{
    void  *p;

    arena_len = (arena_len + 15) & ~(size_t) 15;
    p = arena + arena_len;
    arena_len += n;
    if (arena_len > ARENA_SIZE) {
        abort();
    }
    return p;
}


/* A list is built here, then packed into the arena. */
static h2x_header_t  tmp_h[MAX_FIELDS];
static nghttp2_nv    tmp_nv[MAX_FIELDS];
static size_t        tmp_n;


static void
pack(list_t *l)
{
    l->n = tmp_n;
    l->h = arena_alloc(tmp_n * sizeof(h2x_header_t));
    l->nv = arena_alloc(tmp_n * sizeof(nghttp2_nv));
    memcpy(l->h, tmp_h, tmp_n * sizeof(h2x_header_t));
    memcpy(l->nv, tmp_nv, tmp_n * sizeof(nghttp2_nv));
    tmp_n = 0;
}

static const char *
sfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *
sfmt(const char *fmt, ...)
{
    va_list  ap;
    char    *p;
    int      n;

    p = arena + arena_len;
    va_start(ap, fmt);
    n = vsnprintf(p, ARENA_SIZE - arena_len, fmt, ap);
    va_end(ap);
    arena_len += (size_t) n + 1;
    if (arena_len > ARENA_SIZE) {
        abort();
    }
    return p;
}


static const char *
hexstr(size_t n)
{
    char    buf[128];
    size_t  i;

    for (i = 0; i < n; i++) {
        buf[i] = "0123456789abcdef"[rnd() % 16];
    }
    buf[n] = '\0';
    return sfmt("%s", buf);
}


static const char *
alnum(size_t n)
{
    static const char  set[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char                buf[256];
    size_t              i;

    for (i = 0; i < n; i++) {
        buf[i] = set[rnd() % (sizeof(set) - 1)];
    }
    buf[n] = '\0';
    return sfmt("%s", buf);
}


static void
add(list_t *l, const char *name, const char *value)
{
    h2x_header_t  *h;
    nghttp2_nv    *nv;

    (void) l;
    if (tmp_n == MAX_FIELDS) {
        abort();
    }
    h = &tmp_h[tmp_n];
    nv = &tmp_nv[tmp_n];
    h->name = (const uint8_t *) name;
    h->name_len = strlen(name);
    h->value = (const uint8_t *) value;
    h->value_len = strlen(value);
    h->flags = 0;
    nv->name = (uint8_t *) name;
    nv->namelen = h->name_len;
    nv->value = (uint8_t *) value;
    nv->valuelen = h->value_len;
    nv->flags = NGHTTP2_NV_FLAG_NONE;
    tmp_n++;
}


static const char  *user_agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/"
    "605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
};

static const char  *hosts[] = {
    "www.example.com", "shop.example.org", "news.example.net",
    "static.example.com", "api.example.io",
};

enum { R_HTML, R_JS, R_CSS, R_IMG, R_API, R_FONT, R_KINDS };

static const char  *accept_by_kind[R_KINDS] = {
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "*/*",
    "text/css,*/*;q=0.1",
    "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
    "application/json, text/plain, */*",
    "*/*",
};

static const char  *ctype_by_kind[R_KINDS] = {
    "text/html; charset=utf-8", "application/javascript",
    "text/css", "image/webp", "application/json", "font/woff2",
};

static const char  *dest_by_kind[R_KINDS] = {
    "document", "script", "style", "image", "empty", "font",
};

static const char  *words[] = {
    "products", "category", "search", "article", "user", "item", "blog",
    "news", "sports", "world", "tech", "2024", "summer-sale", "about",
    "help", "account", "orders", "cart", "checkout", "reviews",
};


static const char *
random_path(int kind)
{
    switch (kind) {
    case R_HTML:
        return rnd() % 4 ? sfmt("/%s/%s/%u", words[rnd() % 20],
                                words[rnd() % 20], rnd() % 100000)
                         : sfmt("/%s?q=%s&page=%u&sort=%s", words[2],
                                words[rnd() % 20], rnd() % 20,
                                rnd() % 2 ? "asc" : "relevance");
    case R_JS:
        return sfmt("/static/js/%s.%s.js", words[rnd() % 20], hexstr(8));
    case R_CSS:
        return sfmt("/static/css/%s.%s.css", words[rnd() % 20], hexstr(8));
    case R_IMG:
        return sfmt("/images/%s/%u-%s.webp", words[rnd() % 20],
                    rnd() % 10000, rnd() % 2 ? "large" : "thumb");
    case R_API:
        return sfmt("/api/v2/%s?id=%u&fields=id,name,price&ts=%u",
                    words[rnd() % 20], rnd() % 1000000, 1700000000u
                    + rnd() % 100000);
    default:
        return sfmt("/static/fonts/%s.%s.woff2", rnd() % 2 ? "inter"
                                                           : "roboto",
                    hexstr(6));
    }
}


static const char *
http_date(unsigned t)
{
    static const char  *days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
                                   "Sun" };

    return sfmt("%s, %02u Nov 2026 %02u:%02u:%02u GMT", days[(t / 86400) % 7],
                1 + (t / 86400) % 28, (t / 3600) % 24, (t / 60) % 60,
                t % 60);
}


static void
make_conn(conn_t *c, unsigned ci)
{
    const char  *host, *ua, *crumbs[6], *lang, *referer, *path, *ss;
    unsigned     t, i, j, kind, ncrumbs, status;
    list_t      *q, *r;

    arena = malloc(ARENA_SIZE);
    if (arena == NULL) {
        abort();
    }
    arena_len = 0;
    tmp_n = 0;

    host = hosts[ci % 5];
    ua = user_agents[rnd() % 4];
    lang = rnd() % 2 ? "en-US,en;q=0.9" : "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7";
    ncrumbs = 2 + rnd() % 4;
    crumbs[0] = sfmt("_ga=GA1.2.%u.%u", rnd(), 1700000000u + rnd() % 1000000);
    crumbs[1] = sfmt("sessionid=%s", alnum(32));
    crumbs[2] = sfmt("csrftoken=%s", alnum(40));
    crumbs[3] = sfmt("theme=%s", rnd() % 2 ? "dark" : "light");
    crumbs[4] = sfmt("_gid=GA1.2.%u.%u", rnd(), 1700000000u + rnd() % 1000000);
    crumbs[5] = "consent=yes";
    referer = sfmt("https://%s/", host);
    t = 1795000000u + ci * 3600;

    for (i = 0; i < PAIRS; i++) {
        q = &c->req[i];
        r = &c->resp[i];

        /* a page now and then, its subresources after it */
        kind = i % 12 == 0 ? R_HTML : 1 + rnd() % (R_KINDS - 1);
        path = random_path(kind);

        add(q, ":method", kind == R_API && rnd() % 4 == 0 ? "POST" : "GET");
        add(q, ":authority", host);
        add(q, ":scheme", "https");
        add(q, ":path", path);
        if (kind == R_HTML) {
            add(q, "cache-control", "max-age=0");
            add(q, "upgrade-insecure-requests", "1");
        }
        add(q, "user-agent", ua);
        add(q, "accept", accept_by_kind[kind]);
        add(q, "sec-fetch-site", kind == R_HTML ? "none" : "same-origin");
        add(q, "sec-fetch-mode", kind == R_HTML ? "navigate"
                                 : kind == R_API ? "cors" : "no-cors");
        add(q, "sec-fetch-dest", dest_by_kind[kind]);
        if (kind != R_HTML) {
            add(q, "referer", referer);
        }
        add(q, "accept-encoding", "gzip, deflate, br, zstd");
        add(q, "accept-language", lang);
        for (j = 0; j < ncrumbs; j++) {
            add(q, "cookie", crumbs[j]);
        }
        if (rnd() % 30 == 0) {
            /* the session crumb is renewed */
            crumbs[1] = sfmt("sessionid=%s", alnum(32));
        }
        if (kind == R_HTML) {
            referer = sfmt("https://%s%s", host, path);
        }
        pack(q);

        /* the response */
        t += rnd() % 3 == 0;
        status = rnd() % 20 == 0 ? 304 : rnd() % 50 == 0 ? 404 : 200;
        add(r, ":status", status == 200 ? "200" : status == 304 ? "304"
                                                                : "404");
        add(r, "server", "nginx/1.22.1");
        add(r, "date", http_date(t));
        if (status != 304) {
            add(r, "content-type", ctype_by_kind[kind]);
            add(r, "content-length", sfmt("%u", 200 + rnd() % 200000));
        }
        if (kind == R_HTML || kind == R_API) {
            add(r, "cache-control", "private, no-cache, no-store, "
                                    "must-revalidate");
            add(r, "vary", "Accept-Encoding, Cookie");
            add(r, "content-encoding", "br");
            add(r, "x-request-id", hexstr(32));
            if (rnd() % 6 == 0) {
                ss = sfmt("sessionid=%s; Path=/; HttpOnly; Secure; "
                          "SameSite=Lax", alnum(32));
                add(r, "set-cookie", ss);
            }
        } else {
            add(r, "cache-control", "public, max-age=31536000, immutable");
            add(r, "etag", sfmt("\"%s-%s\"", hexstr(5), hexstr(12)));
            add(r, "last-modified", http_date(1790000000u
                                              + (rnd() % 40) * 86400));
            add(r, "accept-ranges", "bytes");
            if (kind == R_JS || kind == R_CSS) {
                add(r, "vary", "Accept-Encoding");
                add(r, "content-encoding", "gzip");
            }
            if (kind == R_FONT || rnd() % 4 == 0) {
                add(r, "access-control-allow-origin", "*");
            }
        }
        add(r, "strict-transport-security",
            "max-age=63072000; includeSubDomains; preload");
        add(r, "x-content-type-options", "nosniff");
        if (rnd() % 3 == 0) {
            add(r, "alt-svc", "h3=\":443\"; ma=86400");
        }
        pack(r);
    }
}


/* ---- runs -------------------------------------------------------------- */

/* encoded blocks kept for decoding, and scratch for timed encodes */
static uint8_t   outbuf[CONNS << 18];
static uint8_t   h2x_out[CONNS << 18];
static uint8_t   scratch[1 << 17];
static uint64_t  sink;


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}


static uint8_t *
keep_ptr(int keep, size_t ci, int which)
{
    /* blocks are kept in per-connection regions of the output buffers */
    return keep ? (which ? h2x_out : outbuf) + ci * ((sizeof(outbuf))
                                                     / CONNS)
                : scratch;
}


static size_t
encode_nghttp2(size_t ci, int keep)
{
    nghttp2_hd_deflater  *dq, *dr;
    conn_t               *c;
    uint8_t              *p;
    size_t                total, i;
    ssize_t               w;

    c = &conns[ci];
    total = 0;
    p = keep_ptr(keep, ci, 0);

    if (nghttp2_hd_deflate_new(&dq, 4096) || nghttp2_hd_deflate_new(&dr, 4096))
    {
        abort();
    }
    for (i = 0; i < PAIRS; i++) {
        w = nghttp2_hd_deflate_hd(dq, p, 65536, c->req[i].nv, c->req[i].n);
        if (w < 0) {
            abort();
        }
        if (keep) {
            c->req_bytes[0][i] = p;
            c->req_len[0][i] = (size_t) w;
            p += w;
        }
        total += (size_t) w;
        w = nghttp2_hd_deflate_hd(dr, p, 65536, c->resp[i].nv, c->resp[i].n);
        if (w < 0) {
            abort();
        }
        if (keep) {
            c->resp_bytes[0][i] = p;
            c->resp_len[0][i] = (size_t) w;
            p += w;
        }
        total += (size_t) w;
    }
    nghttp2_hd_deflate_del(dq);
    nghttp2_hd_deflate_del(dr);

    return total;
}


static size_t
encode_h2x(size_t ci, int keep)
{
    h2x_hpack_enc_t  eq, er;
    conn_t          *c;
    uint8_t         *p;
    size_t           total, i, w;

    c = &conns[ci];
    total = 0;
    p = keep_ptr(keep, ci, 1);

    if (h2x_hpack_enc_init(&eq, h2x_allocator_default(), 0)
        || h2x_hpack_enc_init(&er, h2x_allocator_default(), 0))
    {
        abort();
    }
    for (i = 0; i < PAIRS; i++) {
        if (h2x_hpack_encode(&eq, c->req[i].h, c->req[i].n, p, 65536, &w)) {
            abort();
        }
        if (keep) {
            c->req_bytes[1][i] = p;
            c->req_len[1][i] = w;
            p += w;
        }
        total += w;
        if (h2x_hpack_encode(&er, c->resp[i].h, c->resp[i].n, p, 65536, &w)) {
            abort();
        }
        if (keep) {
            c->resp_bytes[1][i] = p;
            c->resp_len[1][i] = w;
            p += w;
        }
        total += w;
    }
    h2x_hpack_enc_free(&eq);
    h2x_hpack_enc_free(&er);

    return total;
}


static inline uint64_t
touch(const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen)
{
    return nlen * 31 + vlen + name[0] + (vlen ? value[vlen - 1] : 0);
}


static size_t
inflate_block(nghttp2_hd_inflater *inf, const uint8_t *in, size_t len)
{
    nghttp2_nv  nv;
    ssize_t     rv;
    size_t      n;
    int         fl;

    n = 0;
    for ( ;; ) {
        fl = 0;
        rv = nghttp2_hd_inflate_hd2(inf, &nv, &fl, in, len, 1);
        if (rv < 0) {
            abort();
        }
        in += rv;
        len -= (size_t) rv;
        if (fl & NGHTTP2_HD_INFLATE_EMIT) {
            sink += touch(nv.name, nv.namelen, nv.value, nv.valuelen);
            n++;
        }
        if (fl & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(inf);
            return n;
        }
        if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && len == 0) {
            return n;
        }
    }
}


/* Decode a connection's blocks as encoded by nghttp2 and by h2x. */
static size_t
decode_nghttp2(size_t ci)
{
    nghttp2_hd_inflater  *iq, *ir;
    conn_t               *c;
    size_t                n, i, which;

    c = &conns[ci];
    n = 0;
    for (which = 0; which < 2; which++) {
        if (nghttp2_hd_inflate_new(&iq) || nghttp2_hd_inflate_new(&ir)) {
            abort();
        }
        for (i = 0; i < PAIRS; i++) {
            n += inflate_block(iq, c->req_bytes[which][i],
                               c->req_len[which][i]);
            n += inflate_block(ir, c->resp_bytes[which][i],
                               c->resp_len[which][i]);
        }
        nghttp2_hd_inflate_del(iq);
        nghttp2_hd_inflate_del(ir);
    }

    return n;
}


static h2x_header_t  stream_fields[H2X_HPACK_DEFAULT_MAX_FIELDS];
static uint8_t       stream_buf[H2X_HPACK_DEFAULT_MAX_LIST_SIZE];


static size_t
decode_h2x_block(h2x_hpack_dec_t *dec, const uint8_t *in, size_t len)
{
    h2x_hpack_out_t  out;
    size_t           i;
    int              rc;

    h2x_hpack_out_init(&out, stream_fields, H2X_HPACK_DEFAULT_MAX_FIELDS,
                       stream_buf, sizeof(stream_buf));
    rc = h2x_hpack_decode(dec, in, len, 1, &out);
    if (rc != H2X_OK) {
        fprintf(stderr, "h2x decode: %d after %zu fields\n", rc,
                out.nfields);
        abort();
    }
    for (i = 0; i < out.nfields; i++) {
        sink += touch(out.fields[i].name, out.fields[i].name_len,
                      out.fields[i].value, out.fields[i].value_len);
    }
    return out.nfields;
}


static size_t
decode_h2x(size_t ci)
{
    h2x_hpack_dec_t  dq, dr;
    conn_t          *c;
    size_t           n, i, which;

    c = &conns[ci];
    n = 0;
    for (which = 0; which < 2; which++) {
        if (h2x_hpack_dec_init(&dq, h2x_allocator_default(), NULL)
            || h2x_hpack_dec_init(&dr, h2x_allocator_default(), NULL))
        {
            abort();
        }
        for (i = 0; i < PAIRS; i++) {
            n += decode_h2x_block(&dq, c->req_bytes[which][i],
                                  c->req_len[which][i]);
            n += decode_h2x_block(&dr, c->resp_bytes[which][i],
                                  c->resp_len[which][i]);
        }
        h2x_hpack_dec_free(&dq);
        h2x_hpack_dec_free(&dr);
    }

    return n;
}


typedef size_t (*part_pt)(size_t ci);

static size_t enc_h2x_part(size_t ci) { return encode_h2x(ci, 0); }
static size_t enc_ng_part(size_t ci) { return encode_nghttp2(ci, 0); }


/* Both sides over every connection, interleaved so that a burst of
 * load on the machine hits both alike: per connection each side is
 * warmed once and then timed, in alternating order. */
static void
timed_pair(part_pt a, part_pt b, double *ta, double *tb)
{
    double  t0;
    size_t  ci;

    *ta = 0;
    *tb = 0;
    for (ci = 0; ci < CONNS; ci++) {
        if (ci % 2) {
            b(ci);
            t0 = now();
            b(ci);
            *tb += now() - t0;
        }
        a(ci);
        t0 = now();
        a(ci);
        *ta += now() - t0;
        if (ci % 2 == 0) {
            b(ci);
            t0 = now();
            b(ci);
            *tb += now() - t0;
        }
    }
}


/* One side over every connection: each warmed once, then timed. */
static double
timed(part_pt part)
{
    double  t, t0;
    size_t  ci;

    t = 0;
    for (ci = 0; ci < CONNS; ci++) {
        part(ci);
        t0 = now();
        part(ci);
        t += now() - t0;
    }
    return t;
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}


static double
median(double *v, int n)
{
    qsort(v, (size_t) n, sizeof(double), cmp_double);
    return v[n / 2];
}


int
main(int argc, char **argv)
{
    double  te_h[ROUNDS], te_n[ROUNDS], td_h[ROUNDS], td_n[ROUNDS];
    size_t  ci, i, j, fields, nbytes, hbytes, nf, hf, blocks, raw;
    int     r, rounds;

    rounds = argc > 1 ? atoi(argv[1]) : ROUNDS;
    if (argc > 2) {
        rounds = 1;
    } else if (rounds < 1 || rounds > ROUNDS) {
        rounds = ROUNDS;
    }

    for (ci = 0; ci < CONNS; ci++) {
        make_conn(&conns[ci], (unsigned) ci);
    }

    fields = 0;
    raw = 0;
    for (ci = 0; ci < CONNS; ci++) {
        for (i = 0; i < PAIRS; i++) {
            fields += conns[ci].req[i].n + conns[ci].resp[i].n;
            for (j = 0; j < conns[ci].req[i].n; j++) {
                raw += conns[ci].req[i].h[j].name_len
                       + conns[ci].req[i].h[j].value_len;
            }
            for (j = 0; j < conns[ci].resp[i].n; j++) {
                raw += conns[ci].resp[i].h[j].name_len
                       + conns[ci].resp[i].h[j].value_len;
            }
        }
    }
    blocks = (size_t) CONNS * PAIRS * 2;

    nbytes = 0;
    hbytes = 0;
    nf = 0;
    hf = 0;
    for (ci = 0; ci < CONNS; ci++) {
        nbytes += encode_nghttp2(ci, 1);
        hbytes += encode_h2x(ci, 1);
    }

    /* both decoders must agree with the lists before anything is timed */
    for (ci = 0; ci < CONNS; ci++) {
        nf += decode_nghttp2(ci);
        hf += decode_h2x(ci);
    }
    if (nf != 2 * fields || hf != 2 * fields) {
        fprintf(stderr, "bench_hpack: field counts differ: %zu %zu %zu\n",
                nf, hf, 2 * fields);
        return 1;
    }

    if (argc > 2) {
        /* profiling: one part only */
        part_pt  part = strcmp(argv[2], "h2x-enc") == 0 ? enc_h2x_part
                        : strcmp(argv[2], "h2x-dec") == 0 ? decode_h2x
                        : strcmp(argv[2], "ng-enc") == 0 ? enc_ng_part
                        : decode_nghttp2;

        double  best = 1e9, t;

        for (r = 0; r < atoi(argv[1]); r++) {
            t = timed(part);
            best = t < best ? t : best;
        }
        printf("%s: best of %d: %.3f ms\n", argv[2], atoi(argv[1]),
               best * 1e3);
        return 0;
    }

    for (r = 0; r < rounds; r++) {
        /* alternate the order, A B then B A */
        if (r % 2 == 0) {
            timed_pair(enc_h2x_part, enc_ng_part, &te_h[r], &te_n[r]);
            timed_pair(decode_h2x, decode_nghttp2, &td_h[r], &td_n[r]);
        } else {
            timed_pair(enc_ng_part, enc_h2x_part, &te_n[r], &te_h[r]);
            timed_pair(decode_nghttp2, decode_h2x, &td_n[r], &td_h[r]);
        }
    }

    {
        double  eh = median(te_h, rounds), en = median(te_n, rounds);
        double  dh = median(td_h, rounds), dn = median(td_n, rounds);

        printf("bench_hpack: %d connections, %zu blocks, %zu fields, "
               "nghttp2 %s, median of %d runs\n", CONNS, blocks, fields,
               nghttp2_version(0)->version_str, rounds);
        printf("  encode  h2x %8.3f ms  nghttp2 %8.3f ms  (%.1f / %.1f ns "
               "per field)\n", eh * 1e3, en * 1e3, eh * 1e9 / fields,
               en * 1e9 / fields);
        printf("  decode  h2x %8.3f ms  nghttp2 %8.3f ms  (%.1f / %.1f ns "
               "per field; both encodings)\n", dh * 1e3, dn * 1e3,
               dh * 1e9 / (2 * fields), dn * 1e9 / (2 * fields));
        printf("  size    h2x %zu bytes  nghttp2 %zu bytes  (%.1f%% / %.1f%% "
               "of %zu raw bytes)\n", hbytes, nbytes, 100.0 * hbytes / raw,
               100.0 * nbytes / raw, raw);
        printf("  (checksum %llu)\n", (unsigned long long) sink);
        printf("RESULT hpack_decode_speedup %.2f\n", dn / dh);
        printf("RESULT hpack_encode_speedup %.2f\n", en / eh);
        printf("RESULT hpack_size_ratio %.4f\n", (double) hbytes
                                                  / (double) nbytes);
    }

    return 0;
}
