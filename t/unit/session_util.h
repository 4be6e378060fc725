/*
 * Test helpers for the session tests: a scripted client that builds
 * frames with the frame layer's serialisers and the HPACK encoder, feeds
 * them to a server session (whole, byte by byte or in chunks), drains the
 * session's output through the frame parser into a list of frames, and an
 * adapter whose callbacks record everything into an event trace.
 *
 * Include after <cmocka.h>.  Every function is static inline so that a
 * test file may use any subset.
 */

#ifndef _SESSION_UTIL_H_INCLUDED_
#define _SESSION_UTIL_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2x.h"
#include "h2x_frame.h"
#include "h2x_hpack.h"
#include "h2x_session.h"


#define TC_MAX_FRAMES    4096
#define TC_MAX_REQ       1024
#define TC_BODY_MAX      (1 << 20)
#define TC_IN_MAX        (4 << 20)


/* --- counting allocator with failure injection ---------------------- */

typedef struct {
    long        allocs;
    long        frees;
    long        calls;
    long        fail_at;      /* fail the Nth call (1-based), 0: never */
    int         failed;
} talloc_t;


static inline void *
talloc_alloc(size_t size, void *ctx)
{
    talloc_t  *t = ctx;

    t->calls++;

    if (t->fail_at && t->calls == t->fail_at) {
        t->failed = 1;
        return NULL;
    }

    t->allocs++;

    return malloc(size);
}


static inline void
talloc_free(void *p, void *ctx)
{
    talloc_t  *t = ctx;

    if (p) {
        t->frees++;
    }

    free(p);
}


/* A file chunk: the ref points to this, offsets index base. */
typedef struct {
    const uint8_t   *base;
} tfile_t;


/* One frame the server sent. */
typedef struct {
    uint8_t          type;
    uint8_t          flags;
    uint32_t         sid;
    uint32_t         len;
    uint32_t         code;        /* RST_STREAM, GOAWAY */
    uint32_t         last_id;     /* GOAWAY */
    uint32_t         inc;         /* WINDOW_UPDATE */
    uint8_t          opaque[8];   /* PING */
    uint32_t         nsettings;
    h2x_setting_t    settings[16];
    char             status[4];   /* HEADERS: :status, decoded */
    char             fields[512]; /* HEADERS: "name: value\n"... */
} tframe_t;


typedef struct {
    uint32_t         sid;
    h2x_stream_t    *st;
    char             method[16];
    char             path[256];
    char             authority[128];
    char             scheme[16];
    char             protocol[32];
    char             fields[1024];
    int64_t          content_length;
    int              end_stream;
    size_t           body_len;
    int              body_end;
    int              closed;
    uint32_t         close_code;
    int              trailers;
    uint8_t         *resp;        /* response body the server read back */
    size_t           resp_len;
} treq_t;


typedef struct tc_s  tc_t;

struct tc_s {
    h2x_session_t      *s;
    h2x_config_t        cfg;
    talloc_t            talloc;
    h2x_allocator_t     alloc;

    /* client side */
    h2x_hpack_enc_t     enc;
    h2x_hpack_dec_t     dec;
    uint8_t            *in;
    size_t              inlen;
    size_t              split;      /* 0: whole, else bytes per feed */
    uint64_t            now;
    long                feed_rc;

    /* server output */
    uint8_t            *out;
    size_t              outlen;     /* all bytes the server wrote */
    size_t              max_write;  /* 0: all pending each drain */
    h2x_frame_parser_t  parser;
    h2x_frame_callbacks_t pcb;
    tframe_t           *frames;
    size_t              nframes;
    uint8_t             hb[65536];
    size_t              hblen;
    uint8_t            *body[TC_MAX_REQ];  /* response bodies by sid/2 */
    size_t              body_len[TC_MAX_REQ];
    int                 body_end[TC_MAX_REQ];

    /* adapter */
    treq_t              req[TC_MAX_REQ];
    size_t              nreq;
    char               *trace;
    size_t              trace_len;
    int                 auto_respond;   /* 200 + resp_body at on_request */
    const uint8_t      *resp_body;
    size_t              resp_body_len;
    int                 auto_consume;
    int                 auto_release;   /* release at on_stream_close */
    unsigned            releases;
    void               *last_ref;
    unsigned            logs;
    char                last_log[128];
    uint32_t            last_log_code;
    unsigned            goaways;
    uint32_t            goaway_last;
    void              (*on_request_hook)(tc_t *tc, treq_t *r);
};


static inline void
tc_tracef(tc_t *tc, const char *fmt, ...)
{
    char     line[256];
    int      n;
    va_list  ap;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);

    if (n < 0) {
        return;
    }

    if ((size_t) n >= sizeof(line)) {
        n = sizeof(line) - 1;
    }

    tc->trace = realloc(tc->trace, tc->trace_len + n + 1);
    memcpy(tc->trace + tc->trace_len, line, n);
    tc->trace_len += n;
    tc->trace[tc->trace_len] = '\0';
}


static inline treq_t *
tc_req(tc_t *tc, uint32_t sid)
{
    size_t  i;

    for (i = 0; i < tc->nreq; i++) {
        if (tc->req[i].sid == sid) {
            return &tc->req[i];
        }
    }

    return NULL;
}


static inline void
tc_copy(char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size) {
        len = size - 1;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}


/* --- adapter callbacks ---------------------------------------------- */

/* A chunk of memory (data) or of a tfile_t (ref, data NULL). */
static inline void
tc_chunk(h2x_chunk_t *c, void *ref, const uint8_t *data, uint64_t offset,
    size_t len)
{
    c->ref = ref;
    c->data = data;
    c->offset = offset;
    c->len = len;
}


static inline int
tc_on_request(h2x_session_t *s, h2x_stream_t *st, const h2x_request_t *req,
    void *user)
{
    tc_t     *tc = user;
    treq_t   *r;
    size_t    i, off;
    int       n;
    h2x_chunk_t  c;

    (void) s;

    assert_true(tc->nreq < TC_MAX_REQ);
    r = &tc->req[tc->nreq++];
    memset(r, 0, sizeof(treq_t));

    r->sid = h2x_stream_id(st);
    r->st = st;
    tc_copy(r->method, sizeof(r->method), req->method.data, req->method.len);
    tc_copy(r->path, sizeof(r->path), req->path.data, req->path.len);
    tc_copy(r->authority, sizeof(r->authority), req->authority.data,
            req->authority.len);
    tc_copy(r->scheme, sizeof(r->scheme), req->scheme.data, req->scheme.len);
    tc_copy(r->protocol, sizeof(r->protocol), req->protocol.data,
            req->protocol.len);
    r->content_length = req->content_length;
    r->end_stream = req->end_stream;

    off = 0;
    for (i = 0; i < req->nheaders && off < sizeof(r->fields) - 1; i++) {
        n = snprintf(r->fields + off, sizeof(r->fields) - off, "%.*s: %.*s\n",
                     (int) req->headers[i].name_len,
                     (const char *) req->headers[i].name,
                     (int) req->headers[i].value_len,
                     (const char *) req->headers[i].value);
        if (n < 0) {
            break;
        }
        off += (size_t) n;
    }

    h2x_stream_set_data(st, r);

    tc_tracef(tc, "request %u %s %s%s\n", r->sid, r->method, r->path,
              r->end_stream ? " end" : "");

    if (tc->on_request_hook) {
        tc->on_request_hook(tc, r);
    }

    if (tc->auto_respond) {
        if (h2x_stream_submit_response(s, st, 200, NULL, 0,
                                       tc->resp_body_len == 0) != H2X_OK)
        {
            return H2X_OK;
        }

        if (tc->resp_body_len) {
            tc_chunk(&c, r, tc->resp_body, 0, tc->resp_body_len);
            (void) h2x_stream_write(s, st, &c, 1);
        }
    }

    return H2X_OK;
}


static inline int
tc_on_data(h2x_session_t *s, h2x_stream_t *st, const uint8_t *data,
    size_t len, unsigned flags, void *user)
{
    tc_t    *tc = user;
    treq_t  *r;

    (void) data;

    r = h2x_stream_get_data(st);
    r->body_len += len;

    if (flags & H2X_DATA_END_STREAM) {
        r->body_end = 1;
        tc_tracef(tc, "body %u %zu end\n", r->sid, r->body_len);
    }

    if (tc->auto_consume && len) {
        h2x_stream_consumed(s, st, len);
    }

    return H2X_OK;
}


static inline int
tc_on_trailers(h2x_session_t *s, h2x_stream_t *st, const h2x_header_t *h,
    size_t n, void *user)
{
    tc_t    *tc = user;
    treq_t  *r;

    (void) s;

    r = h2x_stream_get_data(st);
    r->trailers = (int) n;
    r->body_end = 1;

    tc_tracef(tc, "trailers %u %zu %.*s\n", r->sid, n,
              n ? (int) h[0].name_len : 0, n ? (const char *) h[0].name : "");

    return H2X_OK;
}


static inline void
tc_on_stream_close(h2x_session_t *s, h2x_stream_t *st, uint32_t code,
    void *user)
{
    tc_t    *tc = user;
    treq_t  *r;

    r = h2x_stream_get_data(st);
    r->closed = 1;
    r->close_code = code;

    tc_tracef(tc, "close %u %s\n", r->sid, h2x_error_code_name(code));

    if (tc->auto_release) {
        h2x_stream_release(s, st);
    }
}


static inline void
tc_on_goaway(h2x_session_t *s, uint32_t last_stream_id, uint32_t code,
    void *user)
{
    tc_t  *tc = user;

    (void) s;

    tc->goaways++;
    tc->goaway_last = last_stream_id;
    tc_tracef(tc, "goaway %u %s\n", last_stream_id, h2x_error_code_name(code));
}


static inline void
tc_on_chunk_release(h2x_session_t *s, h2x_stream_t *st, void *ref,
    void *user)
{
    tc_t  *tc = user;

    (void) s;
    (void) st;

    tc->releases++;
    tc->last_ref = ref;
}


static inline void
tc_on_log(h2x_session_t *s, uint32_t sid, uint32_t code, const char *reason,
    void *user)
{
    tc_t  *tc = user;

    (void) s;

    tc->logs++;
    tc->last_log_code = code;
    tc_copy(tc->last_log, sizeof(tc->last_log), reason, strlen(reason));
    tc_tracef(tc, "log %u %s %s\n", sid, h2x_error_code_name(code), reason);
}


/* --- the output parser ---------------------------------------------- */

static inline tframe_t *
tc_cur(tc_t *tc)
{
    return &tc->frames[tc->nframes - 1];
}


static inline int
tc_p_header(void *data, const h2x_frame_header_t *fh)
{
    tc_t      *tc = data;
    tframe_t  *f;

    assert_true(tc->nframes < TC_MAX_FRAMES);
    f = &tc->frames[tc->nframes++];
    memset(f, 0, sizeof(tframe_t));
    f->type = fh->type;
    f->flags = fh->flags;
    f->sid = fh->stream_id;
    f->len = fh->length;

    if (fh->type == H2X_FRAME_HEADERS) {
        tc->hblen = 0;
    }

    return 0;
}


static inline int
tc_p_data(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    tc_t     *tc = data;
    uint32_t  k;

    k = fh->stream_id / 2;

    if (k < TC_MAX_REQ) {
        if (tc->body[k] == NULL) {
            tc->body[k] = malloc(TC_BODY_MAX);
        }
        if (tc->body_len[k] + len <= TC_BODY_MAX) {
            memcpy(tc->body[k] + tc->body_len[k], p, len);
        }
        tc->body_len[k] += len;
    }

    return 0;
}


static inline int
tc_p_block(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    tc_t  *tc = data;

    (void) fh;

    assert_true(tc->hblen + len <= sizeof(tc->hb));
    memcpy(tc->hb + tc->hblen, p, len);
    tc->hblen += len;

    return 0;
}


static inline int
tc_p_rst(void *data, const h2x_frame_header_t *fh, uint32_t code)
{
    (void) fh;
    tc_cur(data)->code = code;
    return 0;
}


static inline int
tc_p_setting(void *data, const h2x_frame_header_t *fh, uint16_t id,
    uint32_t value)
{
    tframe_t  *f = tc_cur(data);

    (void) fh;

    if (f->nsettings < 16) {
        f->settings[f->nsettings].id = id;
        f->settings[f->nsettings++].value = value;
    }

    return 0;
}


static inline int
tc_p_ping(void *data, const h2x_frame_header_t *fh, const uint8_t *opaque)
{
    (void) fh;
    memcpy(tc_cur(data)->opaque, opaque, 8);
    return 0;
}


static inline int
tc_p_goaway(void *data, const h2x_frame_header_t *fh, uint32_t last,
    uint32_t code)
{
    tframe_t  *f = tc_cur(data);

    (void) fh;
    f->last_id = last;
    f->code = code;

    return 0;
}


static inline int
tc_p_wu(void *data, const h2x_frame_header_t *fh, uint32_t inc)
{
    (void) fh;
    tc_cur(data)->inc = inc;
    return 0;
}


static inline int
tc_p_end(void *data, const h2x_frame_header_t *fh)
{
    tc_t            *tc = data;
    tframe_t        *f;
    size_t           i, off, k;
    int              n, rc;
    h2x_header_t     fields[64];
    uint8_t          buf[65536];
    h2x_hpack_out_t  out;

    if (fh->type == H2X_FRAME_DATA && (fh->flags & H2X_FLAG_END_STREAM)) {
        k = fh->stream_id / 2;
        if (k < TC_MAX_REQ) {
            tc->body_end[k] = 1;
        }
    }

    if ((fh->type != H2X_FRAME_HEADERS && fh->type != H2X_FRAME_CONTINUATION)
        || !(fh->flags & H2X_FLAG_END_HEADERS))
    {
        return 0;
    }

    /* the HEADERS frame that started the block */
    for (i = tc->nframes; i > 0; i--) {
        if (tc->frames[i - 1].type == H2X_FRAME_HEADERS) {
            break;
        }
    }

    assert_true(i > 0);
    f = &tc->frames[i - 1];

    h2x_hpack_out_init(&out, fields, 64, buf, sizeof(buf));
    rc = h2x_hpack_decode(&tc->dec, tc->hb, tc->hblen, 1, &out);
    assert_int_equal(rc, H2X_OK);

    off = 0;
    for (i = 0; i < out.nfields; i++) {
        if (fields[i].name_len == 7
            && memcmp(fields[i].name, ":status", 7) == 0)
        {
            tc_copy(f->status, sizeof(f->status),
                    (const char *) fields[i].value, fields[i].value_len);
            continue;
        }
        n = snprintf(f->fields + off, sizeof(f->fields) - off, "%.*s: %.*s\n",
                     (int) fields[i].name_len, (const char *) fields[i].name,
                     (int) fields[i].value_len,
                     (const char *) fields[i].value);
        if (n > 0 && off + (size_t) n < sizeof(f->fields)) {
            off += (size_t) n;
        }
    }

    return 0;
}


/* --- setup ---------------------------------------------------------- */

static inline void
tc_cfg(h2x_config_t *cfg)
{
    h2x_config_init(cfg);
}


static inline void
tc_init_cfg(tc_t *tc, const h2x_config_t *cfg, long fail_at)
{
    h2x_callbacks_t     cb;
    h2x_hpack_limits_t  lim;

    memset(tc, 0, sizeof(tc_t));
    h2x_hpack_limits_init(&lim);
    lim.max_list_size = 1 << 20;
    lim.max_field_size = 1 << 20;
    lim.hard_list_size = 1 << 21;

    tc->talloc.fail_at = fail_at;
    tc->alloc.alloc = talloc_alloc;
    tc->alloc.free = talloc_free;
    tc->alloc.ctx = &tc->talloc;

    if (cfg) {
        tc->cfg = *cfg;
    } else {
        h2x_config_init(&tc->cfg);
    }

    memset(&cb, 0, sizeof(cb));
    cb.on_request = tc_on_request;
    cb.on_data = tc_on_data;
    cb.on_trailers = tc_on_trailers;
    cb.on_stream_close = tc_on_stream_close;
    cb.on_goaway = tc_on_goaway;
    cb.on_chunk_release = tc_on_chunk_release;
    cb.on_log = tc_on_log;

    tc->in = malloc(TC_IN_MAX);
    tc->out = malloc(TC_IN_MAX);
    tc->frames = calloc(TC_MAX_FRAMES, sizeof(tframe_t));
    tc->auto_consume = 1;
    tc->auto_release = 1;
    tc->now = 1000;

    assert_int_equal(h2x_hpack_enc_init(&tc->enc, h2x_allocator_default(), 0),
                     H2X_OK);
    assert_int_equal(h2x_hpack_dec_init(&tc->dec, h2x_allocator_default(),
                                        &lim),
                     H2X_OK);

    tc->pcb.on_frame_header = tc_p_header;
    tc->pcb.on_data = tc_p_data;
    tc->pcb.on_header_block = tc_p_block;
    tc->pcb.on_rst_stream = tc_p_rst;
    tc->pcb.on_setting = tc_p_setting;
    tc->pcb.on_ping = tc_p_ping;
    tc->pcb.on_goaway = tc_p_goaway;
    tc->pcb.on_window_update = tc_p_wu;
    tc->pcb.on_frame_end = tc_p_end;
    h2x_frame_parser_init(&tc->parser, &tc->pcb, tc, 0);
    (void) h2x_frame_parser_set_max_frame_size(&tc->parser,
                                               H2X_FRAME_MAX_SIZE_LIMIT);

    tc->s = h2x_session_new(&tc->cfg, &cb, tc, &tc->alloc);
}


static inline void
tc_init(tc_t *tc, const h2x_config_t *cfg)
{
    tc_init_cfg(tc, cfg, 0);
    assert_non_null(tc->s);
}


/* The session again, with callbacks other than the recording set. */
static inline void
tc_renew(tc_t *tc, const h2x_callbacks_t *cb)
{
    h2x_session_free(tc->s);
    tc->s = h2x_session_new(&tc->cfg, cb, tc, &tc->alloc);
    assert_non_null(tc->s);
}


static inline void
tc_done(tc_t *tc)
{
    size_t  i;

    h2x_session_free(tc->s);
    tc->s = NULL;

    assert_int_equal(tc->talloc.allocs, tc->talloc.frees);

    h2x_hpack_enc_free(&tc->enc);
    h2x_hpack_dec_free(&tc->dec);

    for (i = 0; i < TC_MAX_REQ; i++) {
        free(tc->body[i]);
    }

    free(tc->in);
    free(tc->out);
    free(tc->frames);
    free(tc->trace);
}


/* --- client frames -------------------------------------------------- */

static inline uint8_t *
tc_room(tc_t *tc, size_t n)
{
    assert_true(tc->inlen + n <= TC_IN_MAX);
    return tc->in + tc->inlen;
}


static inline void
tc_raw(tc_t *tc, const void *p, size_t n)
{
    memcpy(tc_room(tc, n), p, n);
    tc->inlen += n;
}


static inline void
tc_frame(tc_t *tc, uint8_t type, uint8_t flags, uint32_t sid,
    const void *payload, size_t len)
{
    uint8_t  *p;

    p = tc_room(tc, H2X_FRAME_HEADER_SIZE + len);
    p = h2x_frame_write_header(p, (uint32_t) len, type, flags, sid);
    if (len) {
        memcpy(p, payload, len);
    }
    tc->inlen += H2X_FRAME_HEADER_SIZE + len;
}


static inline void
tc_settings(tc_t *tc, const h2x_setting_t *set, size_t n)
{
    uint8_t  *p;

    p = tc_room(tc, H2X_FRAME_SETTINGS_SIZE(n));
    h2x_frame_write_settings(p, set, n);
    tc->inlen += H2X_FRAME_SETTINGS_SIZE(n);
}


static inline void
tc_settings_ack(tc_t *tc)
{
    h2x_frame_write_settings_ack(tc_room(tc, H2X_FRAME_HEADER_SIZE));
    tc->inlen += H2X_FRAME_HEADER_SIZE;
}


static inline void
tc_preface(tc_t *tc, const h2x_setting_t *set, size_t n)
{
    tc_raw(tc, H2X_PREFACE, H2X_PREFACE_SIZE);
    tc_settings(tc, set, n);
}


/*
 * A header block from "name", "value", ..., NULL, split into HEADERS and
 * CONTINUATION frames of at most frag bytes (0: 16384).
 */
static inline void
tc_headers_v(tc_t *tc, uint32_t sid, int end_stream, size_t frag,
    const char **kv)
{
    size_t         n, len;
    uint8_t        block[16384], *p;
    h2x_header_t   h[128];

    for (n = 0; kv[2 * n]; n++) {
        assert_true(n < 128);
        h[n].name = (const uint8_t *) kv[2 * n];
        h[n].name_len = strlen(kv[2 * n]);
        h[n].value = (const uint8_t *) kv[2 * n + 1];
        h[n].value_len = strlen(kv[2 * n + 1]);
        h[n].flags = 0;
    }

    assert_int_equal(h2x_hpack_encode(&tc->enc, h, n, block, sizeof(block),
                                      &len),
                     H2X_OK);

    if (frag == 0) {
        frag = 16384;
    }

    p = tc_room(tc, h2x_frame_header_block_size(len, (uint32_t) frag));
    p = h2x_frame_write_header_block(p, sid,
                                     end_stream ? H2X_FLAG_END_STREAM : 0,
                                     block, len, (uint32_t) frag);
    tc->inlen = p - tc->in;
}


#define tc_headers(tc, sid, end, ...)                                        \
    do {                                                                     \
        const char  *kv_[] = { __VA_ARGS__, NULL };                          \
        tc_headers_v(tc, sid, end, 0, kv_);                                  \
    } while (0)


#define tc_get(tc, sid, end, path)                                           \
    tc_headers(tc, sid, end, ":method", "GET", ":scheme", "https",           \
               ":authority", "example.com", ":path", path)


/* POST path, then more name/value pairs if any. */
#define tc_post(tc, sid, end, ...)                                           \
    tc_headers(tc, sid, end, ":method", "POST", ":scheme", "https",          \
               ":authority", "a", ":path", __VA_ARGS__)


static inline void
tc_data(tc_t *tc, uint32_t sid, const void *data, size_t len, int end)
{
    uint8_t  *p;

    p = tc_room(tc, H2X_FRAME_HEADER_SIZE + len);
    p = h2x_frame_write_data(p, sid, (uint32_t) len, end);
    if (len) {
        memcpy(p, data, len);
    }
    tc->inlen += H2X_FRAME_HEADER_SIZE + len;
}


static inline void
tc_rst(tc_t *tc, uint32_t sid, uint32_t code)
{
    h2x_frame_write_rst_stream(tc_room(tc, H2X_FRAME_RST_STREAM_SIZE), sid,
                               code);
    tc->inlen += H2X_FRAME_RST_STREAM_SIZE;
}


static inline void
tc_ping(tc_t *tc, const char *opaque, int ack)
{
    h2x_frame_write_ping(tc_room(tc, H2X_FRAME_PING_SIZE),
                         (const uint8_t *) opaque, ack);
    tc->inlen += H2X_FRAME_PING_SIZE;
}


static inline void
tc_wu(tc_t *tc, uint32_t sid, uint32_t inc)
{
    uint8_t  *p;

    p = tc_room(tc, H2X_FRAME_WINDOW_UPDATE_SIZE);
    /* written by hand: an increment of 0 must be possible */
    h2x_frame_write_header(p, 4, H2X_FRAME_WINDOW_UPDATE, 0, sid);
    h2x_put_u32(p + 9, inc);
    tc->inlen += H2X_FRAME_WINDOW_UPDATE_SIZE;
}


static inline void
tc_prio_update(tc_t *tc, uint32_t sid, const char *value)
{
    size_t  n;

    n = strlen(value);
    h2x_frame_write_priority_update(
        tc_room(tc, H2X_FRAME_PRIORITY_UPDATE_SIZE(n)), sid,
        (const uint8_t *) value, n);
    tc->inlen += H2X_FRAME_PRIORITY_UPDATE_SIZE(n);
}


static inline void
tc_goaway(tc_t *tc, uint32_t last, uint32_t code)
{
    h2x_frame_write_goaway(tc_room(tc, H2X_FRAME_GOAWAY_SIZE(0)), last, code,
                           NULL, 0);
    tc->inlen += H2X_FRAME_GOAWAY_SIZE(0);
}


/* --- running -------------------------------------------------------- */

/* Feeds the pending client bytes; returns the last feed result. */
static inline long
tc_flush(tc_t *tc)
{
    size_t  off, n;
    long    rc;

    rc = 0;
    off = 0;

    while (off < tc->inlen) {
        n = tc->split ? tc->split : tc->inlen - off;
        if (n > tc->inlen - off) {
            n = tc->inlen - off;
        }

        rc = h2x_session_feed(tc->s, tc->in + off, n, tc->now);
        if (rc < 0) {
            break;
        }
        assert_int_equal(rc, (long) n);
        off += n;
    }

    tc->inlen = 0;
    tc->feed_rc = rc;

    return rc;
}


/* Writes what the server has to say and parses it; returns new frames. */
static inline size_t
tc_drain(tc_t *tc)
{
    size_t          i, k, n, total, before, want;
    int             rc;
    const uint8_t  *p;
    h2x_segment_t   seg[64];

    before = tc->nframes;

    for ( ;; ) {
        n = h2x_session_pending(tc->s, seg, 64);
        if (n == 0) {
            break;
        }

        total = 0;
        want = tc->max_write ? tc->max_write : (size_t) -1;

        for (i = 0; i < n && total < want; i++) {
            p = seg[i].data;
            if (p == NULL) {
                p = ((tfile_t *) seg[i].ref)->base + seg[i].offset;
            }
            k = seg[i].len;
            if (k > want - total) {
                k = want - total;
            }
            assert_true(tc->outlen + k <= TC_IN_MAX);
            memcpy(tc->out + tc->outlen, p, k);
            rc = h2x_frame_parse(&tc->parser, p, k);
            assert_int_equal(rc, H2X_OK);
            tc->outlen += k;
            total += k;
        }

        h2x_session_sent(tc->s, total);

        if (tc->max_write) {
            break;
        }
    }

    return tc->nframes - before;
}


static inline long
tc_run(tc_t *tc)
{
    long  rc;

    rc = tc_flush(tc);
    tc_drain(tc);

    return rc;
}


/* Preface and SETTINGS both ways, the server's output drained. */
static inline void
tc_handshake(tc_t *tc)
{
    tc_preface(tc, NULL, 0);
    tc_settings_ack(tc);
    assert_true(tc_run(tc) >= 0);
    tc->nframes = 0;
}


/*
 * The client's half of a handshake that opens the windows wide: the
 * streams' initial window and the connection's grow to win.  Not fed.
 */
static inline void
tc_preface_wide(tc_t *tc, uint32_t win)
{
    h2x_setting_t  set;

    set.id = H2X_SETTINGS_INITIAL_WINDOW_SIZE;
    set.value = win;
    tc_preface(tc, &set, 1);
    tc_settings_ack(tc);
    tc_wu(tc, 0, win);
}


/* A session past the handshake, no frames recorded yet. */
static inline void
tc_start(tc_t *tc, const h2x_config_t *cfg)
{
    tc_init(tc, cfg);
    tc_handshake(tc);
}


/* A GET with END_STREAM on sid, fed and drained: the request seen. */
static inline treq_t *
tc_open(tc_t *tc, uint32_t sid, const char *path)
{
    tc_get(tc, sid, 1, path);
    tc_run(tc);
    return tc_req(tc, sid);
}


/* 200 without headers, then one chunk (its own ref) ending the stream. */
static inline void
tc_respond(tc_t *tc, treq_t *r, h2x_chunk_t *c, const uint8_t *data,
    size_t len)
{
    assert_int_equal(h2x_stream_submit_response(tc->s, r->st, 200, NULL, 0, 0),
                     H2X_OK);
    tc_chunk(c, c, data, 0, len);
    assert_int_equal(h2x_stream_write(tc->s, r->st, c, 1), H2X_OK);
}


/* The last frame of a type (and stream, unless sid is -1u), or NULL. */
static inline tframe_t *
tc_find(tc_t *tc, uint8_t type, uint32_t sid)
{
    size_t  i;

    for (i = tc->nframes; i > 0; i--) {
        if (tc->frames[i - 1].type == type
            && (sid == (uint32_t) -1 || tc->frames[i - 1].sid == sid))
        {
            return &tc->frames[i - 1];
        }
    }

    return NULL;
}


static inline size_t
tc_count(tc_t *tc, uint8_t type)
{
    size_t  i, n;

    n = 0;
    for (i = 0; i < tc->nframes; i++) {
        if (tc->frames[i].type == type) {
            n++;
        }
    }

    return n;
}


/* Expect exactly one RST_STREAM on sid with code among the new frames. */
static inline void
tc_expect_rst(tc_t *tc, uint32_t sid, uint32_t code)
{
    tframe_t  *f;

    f = tc_find(tc, H2X_FRAME_RST_STREAM, sid);
    assert_non_null(f);
    assert_int_equal(f->code, code);
}


static inline void
tc_expect_goaway(tc_t *tc, uint32_t last, uint32_t code)
{
    tframe_t  *f;

    f = tc_find(tc, H2X_FRAME_GOAWAY, 0);
    assert_non_null(f);
    assert_int_equal(f->code, code);
    assert_int_equal(f->last_id, last);
}


#endif /* _SESSION_UTIL_H_INCLUDED_ */
