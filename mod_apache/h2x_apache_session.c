/*
 * mod_h2x: the session loop of a claimed connection (the c1 thread).
 *
 * The thread that ran process_connection keeps the connection until it
 * closes: it reads without blocking through c1's input filters (mod_ssl
 * included) into the engine, collects what workers produced (streams
 * marked dirty, popped one at a time under the connection mutex), writes
 * the engine's output through c1's output filters, and sleeps in a
 * wakeable pollset on the socket; workers wake it with
 * apr_pollset_wakeup().
 *
 * Stream lifetime: created on on_request (pool, c2, hand-off to the
 * worker queue); released to the engine when its worker is done and its
 * output is submitted; freed (pool destroyed, on this thread) when the
 * engine has handed back every chunk and no worker or dirty mark refers
 * to it.
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_thread_proc.h"

#include "httpd.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_ssl.h"
#include "scoreboard.h"
#include "ap_mpm.h"

#include "h2x_apache.h"

APLOG_USE_MODULE(h2x);


#define H2X_APACHE_READ_SIZE   65536
#define H2X_APACHE_SEGS        64
#define H2X_APACHE_TLS_WRITE   (64 * 1024)


/* Connections of this child, for child_stopping. */
static apr_thread_mutex_t  *h2x_apache_live_mutex;
static h2x_apache_conn_t   *h2x_apache_live;
static int                  h2x_apache_stopping;


void
h2x_apache_session_child_init(apr_pool_t *pchild)
{
    h2x_apache_live = NULL;
    h2x_apache_stopping = 0;
    (void) apr_thread_mutex_create(&h2x_apache_live_mutex,
                                   APR_THREAD_MUTEX_DEFAULT, pchild);
}


void
h2x_apache_session_child_stopping(int graceful)
{
    h2x_apache_conn_t  *hc;

    if (h2x_apache_live_mutex == NULL) {
        return;
    }

    apr_thread_mutex_lock(h2x_apache_live_mutex);

    h2x_apache_stopping = graceful ? 1 : 2;

    for (hc = h2x_apache_live; hc; hc = hc->live_next) {
        hc->stopping = h2x_apache_stopping;
        apr_pollset_wakeup(hc->pollset);
    }

    apr_thread_mutex_unlock(h2x_apache_live_mutex);
}


static void
h2x_apache_live_add(h2x_apache_conn_t *hc)
{
    apr_thread_mutex_lock(h2x_apache_live_mutex);
    hc->live_next = h2x_apache_live;
    hc->live_prev = NULL;
    if (h2x_apache_live) {
        h2x_apache_live->live_prev = hc;
    }
    h2x_apache_live = hc;
    hc->stopping = h2x_apache_stopping;
    apr_thread_mutex_unlock(h2x_apache_live_mutex);
}


static void
h2x_apache_live_remove(h2x_apache_conn_t *hc)
{
    apr_thread_mutex_lock(h2x_apache_live_mutex);
    if (hc->live_prev) {
        hc->live_prev->live_next = hc->live_next;
    } else {
        h2x_apache_live = hc->live_next;
    }
    if (hc->live_next) {
        hc->live_next->live_prev = hc->live_prev;
    }
    apr_thread_mutex_unlock(h2x_apache_live_mutex);
}


/*
 * Tell the c1 thread that a stream has news.  Called with conn->mutex
 * held, from any thread.  A stream is queued once until c1 pops it.
 */
void
h2x_apache_stream_mark(h2x_apache_stream_t *hs)
{
    h2x_apache_conn_t  *hc = hs->conn;
    int                 was_empty;

    if (hs->dirty) {
        return;
    }

    hs->dirty = 1;
    hs->dirty_next = NULL;
    was_empty = (hc->dirty_head == NULL);

    if (hc->dirty_tail) {
        hc->dirty_tail->dirty_next = hs;
    } else {
        hc->dirty_head = hs;
    }
    hc->dirty_tail = hs;

    if (was_empty) {
        apr_pollset_wakeup(hc->pollset);
    }
}


static uint64_t
h2x_apache_now_ms(void)
{
    return (uint64_t) apr_time_as_msec(apr_time_now());
}


/* Chunks handed to the engine, so that teardown can free them all. */
static void
h2x_apache_engine_link(h2x_apache_conn_t *hc, h2x_apache_chunk_t *ch)
{
    ch->eprev = NULL;
    ch->enext = hc->engine_list;
    if (hc->engine_list) {
        hc->engine_list->eprev = ch;
    }
    hc->engine_list = ch;
    ch->stream->engine_chunks++;
}


static void
h2x_apache_engine_unlink(h2x_apache_conn_t *hc, h2x_apache_chunk_t *ch)
{
    if (ch->eprev) {
        ch->eprev->enext = ch->enext;
    } else {
        hc->engine_list = ch->enext;
    }
    if (ch->enext) {
        ch->enext->eprev = ch->eprev;
    }
}


/* Response chunks that are file ranges own a dup()ed descriptor. */
void
h2x_apache_chunk_free(h2x_apache_chunk_t *ch)
{
    if (ch->fd >= 0) {
        close(ch->fd);
    }

    free(ch);
}


/* --- engine callbacks (c1 thread) -------------------------------------- */

static const char *
h2x_apache_pstrn(apr_pool_t *p, const h2x_str_t *s)
{
    return s->data ? apr_pstrmemdup(p, s->data, s->len) : "";
}


/*
 * Move waiting streams of this connection to the worker pool while the
 * pool lets it (see h2x_apache_workers_may_add()).  A stream the client
 * gave up on meanwhile ends without running.
 */
static void
h2x_apache_schedule(h2x_apache_conn_t *hc)
{
    h2x_apache_stream_t  *hs;
    int                   aborted;

    while (hc->pend_head && h2x_apache_workers_may_add(hc->running)) {
        hs = hc->pend_head;
        hc->pend_head = hs->pend_next;
        if (hc->pend_head == NULL) {
            hc->pend_tail = NULL;
        }
        hs->pend_next = NULL;

        apr_thread_mutex_lock(hc->mutex);
        aborted = hs->aborted;
        if (aborted) {
            hs->worker_done = 1;
            hc->active--;
            h2x_apache_stream_mark(hs);
        }
        apr_thread_mutex_unlock(hc->mutex);

        if (aborted) {
            continue;
        }

        if (hc->running++ == 0) {
            h2x_apache_workers_conn_busy(1);
        }
        hs->scheduled = 1;

        h2x_apache_workers_push(hs);
    }
}


/* A scheduled stream's worker is done: its place in the share is free. */
static void
h2x_apache_unschedule(h2x_apache_conn_t *hc, h2x_apache_stream_t *hs)
{
    if (!hs->scheduled) {
        return;
    }

    hs->scheduled = 0;

    if (--hc->running == 0) {
        h2x_apache_workers_conn_busy(-1);
    }
}


/* :method must be a token (RFC 9110 9.1) within LimitRequestLine. */
static int
h2x_apache_method_ok(server_rec *srv, const h2x_str_t *m)
{
    size_t  i;

    if (m->len == 0
        || (srv->limit_req_line > 0
            && m->len > (size_t) srv->limit_req_line))
    {
        return 0;
    }

    for (i = 0; i < m->len; i++) {
        if (!apr_isalnum(m->data[i])
            && strchr("!#$%&'*+-.^_`|~", m->data[i]) == NULL)
        {
            return 0;
        }
    }

    return 1;
}


static int
h2x_apache_on_request(h2x_session_t *s, h2x_stream_t *st,
                      const h2x_request_t *req, void *user)
{
    h2x_apache_conn_t    *hc = user;
    h2x_apache_stream_t  *hs;
    apr_allocator_t      *al;
    apr_pool_t           *p;
    const char          **f;
    size_t                i;

    if (!h2x_apache_method_ok(hc->s, &req->method)) {
        /* as mod_http2 (nghttp2): the stream is reset, no response */
        ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, hc->c, APLOGNO(10764)
                      "h2x: stream %u: invalid or too long :method",
                      h2x_stream_id(st));
        (void) h2x_stream_reset(s, st, H2X_PROTOCOL_ERROR);
        return H2X_OK;
    }

    if (apr_allocator_create(&al) != APR_SUCCESS) {
        return H2X_ERROR;
    }

    if (apr_pool_create_ex(&p, hc->c->pool, NULL, al) != APR_SUCCESS) {
        apr_allocator_destroy(al);
        return H2X_ERROR;
    }

    apr_allocator_owner_set(al, p);
    apr_allocator_max_free_set(al, 64 * 1024);
    apr_pool_tag(p, "h2x_stream");

    hs = apr_pcalloc(p, sizeof(*hs));
    hs->conn = hc;
    hs->pool = p;
    hs->st = st;
    hs->id = h2x_stream_id(st);

    hs->method = h2x_apache_pstrn(p, &req->method);
    hs->scheme = h2x_apache_pstrn(p, &req->scheme);
    hs->authority = h2x_apache_pstrn(p, &req->authority);
    hs->path = h2x_apache_pstrn(p, &req->path);
    hs->protocol = h2x_apache_pstrn(p, &req->protocol);
    hs->tag = apr_psprintf(p, "%s-%u", hc->tag, hs->id);
    hs->content_length = req->content_length;
    hs->has_body = req->end_stream ? 0 : 1;
    if (!hs->has_body) {
        hs->in_eos = 1;
    }

    hs->fields = apr_array_make(p, (int) req->nheaders * 2 + 2,
                                sizeof(const char *));
    for (i = 0; i < req->nheaders; i++) {
        f = apr_array_push(hs->fields);
        *f = apr_pstrmemdup(p, (const char *) req->headers[i].name,
                            req->headers[i].name_len);
        f = apr_array_push(hs->fields);
        *f = apr_pstrmemdup(p, (const char *) req->headers[i].value,
                            req->headers[i].value_len);
    }

    if (apr_thread_cond_create(&hs->cond, p) != APR_SUCCESS) {
        apr_pool_destroy(p);
        return H2X_ERROR;
    }

    hs->c2 = h2x_apache_c2_create(hs);

    h2x_stream_set_data(st, hs);

    hs->all_next = hc->streams;
    if (hc->streams) {
        hc->streams->all_prev = hs;
    }
    hc->streams = hs;

    apr_thread_mutex_lock(hc->mutex);
    hc->active++;
    apr_thread_mutex_unlock(hc->mutex);

    hs->handed_off = 1;

    /* to the pool now or later, within the connection's share */
    hs->pend_next = NULL;
    if (hc->pend_tail) {
        hc->pend_tail->pend_next = hs;
    } else {
        hc->pend_head = hs;
    }
    hc->pend_tail = hs;

    h2x_apache_schedule(hc);

    return H2X_OK;
}


static int
h2x_apache_on_data(h2x_session_t *s, h2x_stream_t *st, const uint8_t *data,
                   size_t len, unsigned flags, void *user)
{
    h2x_apache_conn_t    *hc = user;
    h2x_apache_stream_t  *hs;
    h2x_apache_chunk_t   *ch = NULL;
    int                   drop;

    hs = h2x_stream_get_data(st);
    if (hs == NULL) {
        return H2X_OK;
    }

    if (len > 0) {
        ch = malloc(APR_OFFSETOF(h2x_apache_chunk_t, data) + len);
        if (ch == NULL) {
            return H2X_ERROR;
        }
        ch->next = NULL;
        ch->stream = hs;
        ch->len = len;
        ch->cap = len;
        ch->pos = 0;
        ch->fd = -1;
        memcpy(ch->data, data, len);
    }

    apr_thread_mutex_lock(hc->mutex);

    drop = hs->worker_done || hs->aborted;

    if (ch && !drop) {
        if (hs->in_tail) {
            hs->in_tail->next = ch;
        } else {
            hs->in_head = ch;
        }
        hs->in_tail = ch;
        ch = NULL;
    }

    if (flags & H2X_DATA_END_STREAM) {
        hs->in_eos = 1;
    }

    if (hs->waiting) {
        apr_thread_cond_signal(hs->cond);
    }

    apr_thread_mutex_unlock(hc->mutex);

    if (ch) {
        /* nobody reads it any more: give the window back */
        h2x_stream_consumed(s, st, len);
        free(ch);
    }

    return H2X_OK;
}


static h2x_apache_block_t *
h2x_apache_block_from_fields(const h2x_header_t *h, size_t n)
{
    h2x_apache_block_t  *b;
    size_t               i, size;
    char                *p;

    size = sizeof(*b) + sizeof(void *) + n * sizeof(h2x_header_t);
    for (i = 0; i < n; i++) {
        size += h[i].name_len + h[i].value_len + 2;
    }

    b = malloc(size);
    if (b == NULL) {
        return NULL;
    }

    b->next = NULL;
    b->status = 0;
    b->n = n;
    b->fields = (h2x_header_t *) APR_ALIGN_DEFAULT(
                    (apr_uintptr_t) ((char *) b + sizeof(*b)));
    p = (char *) (b->fields + n);

    for (i = 0; i < n; i++) {
        memcpy(p, h[i].name, h[i].name_len);
        p[h[i].name_len] = '\0';
        b->fields[i].name = (const uint8_t *) p;
        b->fields[i].name_len = h[i].name_len;
        p += h[i].name_len + 1;
        memcpy(p, h[i].value, h[i].value_len);
        p[h[i].value_len] = '\0';
        b->fields[i].value = (const uint8_t *) p;
        b->fields[i].value_len = h[i].value_len;
        b->fields[i].flags = 0;
        p += h[i].value_len + 1;
    }

    return b;
}


static int
h2x_apache_on_trailers(h2x_session_t *s, h2x_stream_t *st,
                       const h2x_header_t *h, size_t n, void *user)
{
    h2x_apache_conn_t    *hc = user;
    h2x_apache_stream_t  *hs;
    h2x_apache_block_t   *b;

    (void) s;

    hs = h2x_stream_get_data(st);
    if (hs == NULL) {
        return H2X_OK;
    }

    b = h2x_apache_block_from_fields(h, n);

    apr_thread_mutex_lock(hc->mutex);
    if (hs->in_trailers == NULL) {
        hs->in_trailers = b;
        b = NULL;
    }
    hs->in_eos = 1;
    if (hs->waiting) {
        apr_thread_cond_signal(hs->cond);
    }
    apr_thread_mutex_unlock(hc->mutex);

    free(b);

    return H2X_OK;
}


static void
h2x_apache_on_stream_close(h2x_session_t *s, h2x_stream_t *st,
                           uint32_t code, void *user)
{
    h2x_apache_conn_t    *hc = user;
    h2x_apache_stream_t  *hs;

    (void) s;

    hs = h2x_stream_get_data(st);
    if (hs == NULL) {
        return;
    }

    hs->closed = 1;

    if (code != H2X_NO_ERROR) {
        apr_thread_mutex_lock(hc->mutex);
        hs->aborted = 1;
        if (hs->waiting) {
            apr_thread_cond_signal(hs->cond);
        }
        apr_thread_mutex_unlock(hc->mutex);
    }
}


static void
h2x_apache_on_goaway(h2x_session_t *s, uint32_t last_stream_id,
                     uint32_t code, void *user)
{
    h2x_apache_conn_t  *hc = user;

    (void) s;

    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, hc->c, APLOGNO(10720)
                  "h2x: client sent GOAWAY (last stream %u, %s)",
                  last_stream_id, h2x_error_code_name(code));
}


/*
 * Response bytes left the stream's budget (written, or dropped): the
 * worker waiting for room is woken once half of the budget is free, not
 * for every chunk.  No lock unless the worker waits (see out_wait).
 */
static void
h2x_apache_out_release(h2x_apache_stream_t *hs, apr_size_t cap, int wake)
{
    apr_uint32_t  left;

    left = apr_atomic_add32(&hs->out_mem, 0U - (apr_uint32_t) cap)
           - (apr_uint32_t) cap;

    /* the first release past the mark wakes it, the next ones need not */
    if ((wake || left <= hs->max_mem / 2)
        && apr_atomic_cas32(&hs->out_waiting, 0, 1) == 1)
    {
        apr_thread_mutex_lock(hs->conn->mutex);
        if (hs->waiting) {
            apr_thread_cond_signal(hs->cond);
        }
        apr_thread_mutex_unlock(hs->conn->mutex);
    }
}


static void
h2x_apache_on_chunk_release(h2x_session_t *s, h2x_stream_t *st, void *ref,
                            void *user)
{
    h2x_apache_conn_t    *hc = user;
    h2x_apache_chunk_t   *ch = ref;
    h2x_apache_stream_t  *hs;

    (void) s;
    (void) st;

    if (ch == NULL) {
        return;
    }

    hs = ch->stream;
    h2x_apache_engine_unlink(hc, ch);

    if (ch->len > 0) {
        hs->progress = apr_time_now();
    }

    h2x_apache_out_release(hs, ch->cap, 0);

    h2x_apache_chunk_free(ch);

    if (--hs->engine_chunks == 0) {
        if (hs->st == NULL) {
            hc->sweep = 1;
        } else if (hs->complete) {
            hc->release = 1;
        }
    }
}


static void
h2x_apache_on_log(h2x_session_t *s, uint32_t stream_id, uint32_t code,
                  const char *reason, void *user)
{
    h2x_apache_conn_t  *hc = user;

    (void) s;

    /*
     * A connection error ends the connection: always logged.  A flood of
     * stream errors must not become a flood of log lines.
     */
    if (stream_id != 0) {
        if (hc->logged > H2X_APACHE_MAX_LOG) {
            return;
        }

        if (hc->logged++ == H2X_APACHE_MAX_LOG) {
            ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, hc->c, APLOGNO(10732)
                          "h2x: further stream errors on this connection "
                          "are not logged");
            return;
        }
    }

    ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, hc->c, APLOGNO(10721)
                  "h2x: %s (stream %u, %s)", reason, stream_id,
                  h2x_error_code_name(code));
}


/* --- worker results (c1 thread) ---------------------------------------- */

static void
h2x_apache_drop_chunk(h2x_apache_stream_t *hs, h2x_apache_chunk_t *ch)
{
    h2x_apache_out_release(hs, ch->cap, 1);

    h2x_apache_chunk_free(ch);
}


/* The stream failed on our side: stop the worker, reset the stream. */
static void
h2x_apache_stream_fail(h2x_apache_stream_t *hs)
{
    h2x_apache_conn_t  *hc = hs->conn;

    apr_thread_mutex_lock(hc->mutex);
    hs->aborted = 1;
    if (hs->waiting) {
        apr_thread_cond_signal(hs->cond);
    }
    apr_thread_mutex_unlock(hc->mutex);

    if (hs->st && !hs->end_sent) {
        (void) h2x_stream_reset(hc->session, hs->st, H2X_INTERNAL_ERROR);
    }

    hs->end_sent = 1;
}


static void
h2x_apache_stream_release(h2x_apache_conn_t *hc, h2x_apache_stream_t *hs,
                          int done)
{
    /*
     * Release the engine stream as soon as the whole response is sent:
     * the engine counts unreleased streams against
     * SETTINGS_MAX_CONCURRENT_STREAMS, and the client opens the next one
     * when it sees END_STREAM, maybe before the worker has finished
     * logging.  Streams that end otherwise (reset by the client or by us)
     * keep their slot until the worker is done.
     */
    h2x_stream_set_data(hs->st, NULL);
    h2x_stream_release(hc->session, hs->st);
    hs->st = NULL;
    hc->sweep = 1;

    if (!done) {
        /* the handler may still read: no more body will come */
        apr_thread_mutex_lock(hc->mutex);
        hs->in_eos = 1;
        if (hs->waiting) {
            apr_thread_cond_signal(hs->cond);
        }
        apr_thread_mutex_unlock(hc->mutex);
    }
}


static void
h2x_apache_stream_update(h2x_apache_conn_t *hc, h2x_apache_stream_t *hs)
{
    h2x_apache_block_t  *hdrs, *trailers, *b;
    h2x_apache_chunk_t  *out, *ch;
    h2x_chunk_t          chunk;
    apr_size_t           consumed;
    int                  eos, done, end, rc;

    apr_thread_mutex_lock(hc->mutex);
    hdrs = hs->hdr_head;
    hs->hdr_head = hs->hdr_tail = NULL;
    out = hs->out_head;
    hs->out_head = hs->out_tail = NULL;
    trailers = hs->trailers;
    hs->trailers = NULL;
    consumed = hs->in_consumed;
    hs->in_consumed = 0;
    eos = hs->out_eos;
    done = hs->worker_done;
    apr_thread_mutex_unlock(hc->mutex);

    if (done && !hs->done_seen) {
        hs->done_seen = 1;
        hc->sweep = 1;
        h2x_apache_unschedule(hc, hs);
    }

    if (hs->st == NULL) {
        /* released already: nothing more goes out */
        while (hdrs) {
            b = hdrs->next;
            free(hdrs);
            hdrs = b;
        }
        while (out) {
            ch = out->next;
            h2x_apache_drop_chunk(hs, out);
            out = ch;
        }
        free(trailers);
        return;
    }

    if (consumed > 0) {
        h2x_stream_consumed(hc->session, hs->st, consumed);
    }

    while (hdrs) {
        b = hdrs;
        hdrs = b->next;

        if (hs->final_sent || hs->end_sent) {
            free(b);
            continue;
        }

        end = (b->status >= 200 && eos && out == NULL && trailers == NULL);

        rc = h2x_stream_submit_response(hc->session, hs->st, b->status,
                                        b->fields, b->n, end);
        if (rc == H2X_OK) {
            if (b->status >= 200) {
                hs->final_sent = 1;
                if (end) {
                    hs->end_sent = 1;
                    hs->complete = 1;
                }
            }

        } else if (rc != H2X_DONE) {
            ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, hc->c, APLOGNO(10722)
                          "h2x: stream %u: response head %u refused by the "
                          "engine (%s)", hs->id, b->status,
                          rc == H2X_TOO_LARGE
                          ? "larger than H2XMaxResponseHeaderSize"
                          : rc == H2X_ERROR ? "a field HTTP/2 cannot carry"
                                            : "out of memory");
            h2x_apache_stream_fail(hs);

        } else {
            hs->end_sent = 1;
        }

        free(b);
    }

    while (out) {
        ch = out;
        out = ch->next;
        ch->next = NULL;

        if (!hs->final_sent || hs->end_sent) {
            h2x_apache_drop_chunk(hs, ch);
            continue;
        }

        end = (out == NULL && eos && trailers == NULL);

        chunk.ref = ch;
        chunk.data = ch->fd >= 0 ? NULL : ch->data;
        chunk.offset = ch->fd >= 0 ? (uint64_t) ch->foff : 0;
        chunk.len = ch->len;

        rc = h2x_stream_write(hc->session, hs->st, &chunk, end);
        if (rc == H2X_OK) {
            if (hs->engine_chunks == 0) {
                hs->progress = apr_time_now();
            }
            h2x_apache_engine_link(hc, ch);
            if (end) {
                hs->end_sent = 1;
                hs->complete = 1;
            }

        } else {
            h2x_apache_drop_chunk(hs, ch);
            if (rc != H2X_DONE) {
                h2x_apache_stream_fail(hs);
            } else {
                hs->end_sent = 1;
            }
        }
    }

    if (trailers) {
        if (hs->final_sent && !hs->end_sent) {
            rc = h2x_stream_submit_trailers(hc->session, hs->st,
                                            trailers->fields, trailers->n);
            if (rc == H2X_OK || rc == H2X_DONE) {
                hs->end_sent = 1;
                hs->complete = (rc == H2X_OK);
            } else {
                ap_log_cerror(APLOG_MARK, rc == H2X_TOO_LARGE ? APLOG_ERR
                                                              : APLOG_INFO,
                              0, hc->c, APLOGNO(10766)
                              "h2x: stream %u: response trailers refused by "
                              "the engine%s, reset", hs->id,
                              rc == H2X_TOO_LARGE
                              ? " (larger than H2XMaxResponseHeaderSize)"
                              : "");
                h2x_apache_stream_fail(hs);
            }
        }
        free(trailers);
    }

    if (eos && hs->final_sent && !hs->end_sent) {
        ch = malloc(sizeof(*ch));
        if (ch != NULL) {
            ch->next = NULL;
            ch->stream = hs;
            ch->len = 0;
            ch->cap = 0;
            ch->pos = 0;
            ch->fd = -1;
            chunk.ref = ch;
            chunk.data = ch->data;
            chunk.offset = 0;
            chunk.len = 0;
            rc = h2x_stream_write(hc->session, hs->st, &chunk, 1);
            if (rc == H2X_OK) {
                h2x_apache_engine_link(hc, ch);
                hs->complete = 1;
            } else {
                free(ch);
            }
        }
        hs->end_sent = 1;
    }

    if (done && !hs->done_seen) {
        hs->done_seen = 1;
        hc->sweep = 1;
        h2x_apache_unschedule(hc, hs);
    }

    if (hs->st == NULL) {
        return;
    }

    if (done && !hs->end_sent && !hs->closed) {
        /* the worker ended without the end of the response: the client
         * must not take a truncated body for a whole one */
        ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, hc->c, APLOGNO(10723)
                      "h2x: stream %u: response incomplete (head %s, end "
                      "of body %s), reset", hs->id,
                      hs->final_sent ? "sent" : "missing",
                      eos ? "seen" : "missing");
        (void) h2x_stream_reset(hc->session, hs->st, H2X_INTERNAL_ERROR);
        hs->end_sent = 1;
    }

    if ((done || hs->complete)
        && (!hs->complete || hs->closed || hs->engine_chunks == 0))
    {
        h2x_apache_stream_release(hc, hs, done);
    }
}


/*
 * Streams whose whole response is queued are released when the engine
 * has handed back its last chunk (the END_STREAM went out): until then
 * they can still be reset if the client stops reading.
 */
static void
h2x_apache_release_sent(h2x_apache_conn_t *hc)
{
    h2x_apache_stream_t  *hs, *next;
    int                   done;

    for (hs = hc->streams; hs; hs = next) {
        next = hs->all_next;

        if (hs->st == NULL || !hs->complete || hs->engine_chunks > 0) {
            continue;
        }

        apr_thread_mutex_lock(hc->mutex);
        done = hs->worker_done;
        apr_thread_mutex_unlock(hc->mutex);

        h2x_apache_stream_release(hc, hs, done);
    }
}


/* Free a stream whose worker, engine and dirty mark are all done. */
static int
h2x_apache_stream_free(h2x_apache_conn_t *hc, h2x_apache_stream_t *hs,
                       int force)
{
    h2x_apache_chunk_t  *ch;
    int                  dirty;

    if (!force) {
        if (hs->st != NULL || hs->engine_chunks > 0 || !hs->done_seen) {
            return 0;
        }

        apr_thread_mutex_lock(hc->mutex);
        dirty = hs->dirty;
        apr_thread_mutex_unlock(hc->mutex);

        if (dirty) {
            /* popped soon: look again then */
            hc->sweep = 1;
            return 0;
        }
    }

    while (hs->in_head) {
        ch = hs->in_head;
        hs->in_head = ch->next;
        free(ch);
    }

    while (hs->out_head) {
        ch = hs->out_head;
        hs->out_head = ch->next;
        h2x_apache_chunk_free(ch);
    }

    while (hs->hdr_head) {
        h2x_apache_block_t *b = hs->hdr_head;
        hs->hdr_head = b->next;
        free(b);
    }

    free(hs->trailers);
    free(hs->in_trailers);

    if (hs->all_prev) {
        hs->all_prev->all_next = hs->all_next;
    } else {
        hc->streams = hs->all_next;
    }
    if (hs->all_next) {
        hs->all_next->all_prev = hs->all_prev;
    }

    apr_pool_destroy(hs->pool);

    return 1;
}


/*
 * A client that stops reading (window closed) while a stream's response
 * sits in the engine: the worker may be long done (file ranges), so the
 * connection resets the stream after H2XStreamTimeout without progress.
 */
static void
h2x_apache_check_stalls(h2x_apache_conn_t *hc, apr_time_t now)
{
    h2x_apache_stream_t  *hs;
    apr_interval_time_t   timeout;

    if (now < hc->stall_check) {
        return;
    }

    hc->stall_check = now + apr_time_from_msec(250);
    timeout = h2x_apache_stream_timeout(hc->s);

    for (hs = hc->streams; hs; hs = hs->all_next) {
        if (hs->st && !hs->closed && hs->engine_chunks > 0
            && now - hs->progress > timeout)
        {
            ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, hc->c, APLOGNO(10743)
                          "h2x: stream %u: client took no response data "
                          "for %" APR_TIME_T_FMT " s, reset", hs->id,
                          apr_time_sec(timeout));
            h2x_apache_stream_fail(hs);
            if (hs->st && hs->complete) {
                /* its END_STREAM is queued, not sent: reset it anyway */
                hs->complete = 0;
                (void) h2x_stream_reset(hc->session, hs->st,
                                        H2X_INTERNAL_ERROR);
            }
        }
    }
}


static void
h2x_apache_sweep(h2x_apache_conn_t *hc)
{
    h2x_apache_stream_t  *hs, *next;

    for (hs = hc->streams; hs; hs = next) {
        next = hs->all_next;
        (void) h2x_apache_stream_free(hc, hs, 0);
    }
}


/* Pop dirty streams one at a time (a worker may mark one again). */
static int
h2x_apache_collect(h2x_apache_conn_t *hc)
{
    h2x_apache_stream_t  *hs;
    int                   n = 0, any = 0;

    for ( ;; ) {
        apr_thread_mutex_lock(hc->mutex);
        hs = hc->dirty_head;
        if (hs) {
            hc->dirty_head = hs->dirty_next;
            if (hc->dirty_head == NULL) {
                hc->dirty_tail = NULL;
            }
            hs->dirty_next = NULL;
            hs->dirty = 0;
        }
        apr_thread_mutex_unlock(hc->mutex);

        if (hs == NULL) {
            break;
        }

        h2x_apache_stream_update(hc, hs);
        any = 1;

        if (++n >= 1024) {
            break;
        }
    }

    return any;
}


/* --- socket I/O (c1 thread) -------------------------------------------- */

/* 0: read what there was; -1: connection gone; -2: engine failed */
static int
h2x_apache_c1_read(h2x_apache_conn_t *hc)
{
    conn_rec      *c = hc->c;
    apr_bucket    *e;
    apr_status_t   rv;
    const char    *data;
    apr_size_t     len;
    int            i, got;
    long           n;

    hc->drained = 0;

    for (i = 0; i < 32; i++) {

        if (!h2x_session_want_read(hc->session)) {
            return 0;
        }

        rv = ap_get_brigade(c->input_filters, hc->bb_in, AP_MODE_READBYTES,
                            APR_NONBLOCK_READ, H2X_APACHE_READ_SIZE);

        if (APR_STATUS_IS_EAGAIN(rv)) {
            apr_brigade_cleanup(hc->bb_in);
            /* nothing buffered in the filters (mod_ssl) either */
            hc->drained = 1;
            return 0;
        }

        if (rv != APR_SUCCESS) {
            apr_brigade_cleanup(hc->bb_in);
            if (!APR_STATUS_IS_EOF(rv)) {
                ap_log_cerror(APLOG_MARK, APLOG_DEBUG, rv, c, APLOGNO(10724)
                              "h2x: reading from the client");
            }
            return -1;
        }

        got = 0;

        while (!APR_BRIGADE_EMPTY(hc->bb_in)) {
            e = APR_BRIGADE_FIRST(hc->bb_in);

            if (APR_BUCKET_IS_EOS(e)) {
                apr_brigade_cleanup(hc->bb_in);
                return -1;
            }

            if (!APR_BUCKET_IS_METADATA(e)) {
                rv = apr_bucket_read(e, &data, &len, APR_BLOCK_READ);
                if (rv != APR_SUCCESS) {
                    apr_brigade_cleanup(hc->bb_in);
                    return -1;
                }

                if (len > 0) {
                    got = 1;
                    n = h2x_session_feed(hc->session, (const uint8_t *) data,
                                         len, h2x_apache_now_ms());
                    if (n < 0) {
                        apr_brigade_cleanup(hc->bb_in);
                        return -2;
                    }
                }
            }

            apr_bucket_delete(e);
        }

        if (!got) {
            /* the core input filter's way of saying EAGAIN */
            hc->drained = 1;
            return 0;
        }
    }

    return 0;
}


/*
 * TLS: mod_ssl makes at least one record of every bucket it is given
 * (its coalescing covers a leading run of small ones only), so a frame
 * header and its payload in two buckets would cost two records, the
 * first of 9 bytes.  Gathering the output into one buffer lets SSL_write
 * cut full 16 KiB records; the copy costs less than the records saved.
 * Cleartext goes out as it is, by writev() from the engine's segments.
 */
static apr_size_t
h2x_apache_c1_gather(h2x_apache_conn_t *hc, h2x_segment_t *segs, size_t n)
{
    h2x_apache_chunk_t  *ch;
    apr_size_t           total = 0, len, got;
    ssize_t              rd;
    size_t               i;

    if (hc->wbuf == NULL) {
        hc->wbuf = malloc(H2X_APACHE_TLS_WRITE);
        if (hc->wbuf == NULL) {
            return 0;
        }
    }

    for (i = 0; i < n && total < H2X_APACHE_TLS_WRITE; i++) {
        len = segs[i].len;
        if (len > H2X_APACHE_TLS_WRITE - total) {
            len = H2X_APACHE_TLS_WRITE - total;
        }

        if (segs[i].data) {
            memcpy(hc->wbuf + total, segs[i].data, len);
            total += len;
            continue;
        }

        /* a file range: read here, on the connection's thread */
        ch = segs[i].ref;
        for (got = 0; got < len; got += (apr_size_t) rd) {
            rd = pread(ch->fd, hc->wbuf + total + got, len - got,
                       (off_t) (segs[i].offset + got));
            if (rd < 0 && errno == EINTR) {
                rd = 0;
                continue;
            }
            if (rd <= 0) {
                /* the file shrank under the framed DATA: give up */
                ap_log_cerror(APLOG_MARK, APLOG_ERR, rd < 0 ? errno : 0,
                              hc->c, APLOGNO(10742)
                              "h2x: reading a response file");
                return 0;
            }
        }
        total += len;
    }

    APR_BRIGADE_INSERT_TAIL(hc->bb_out,
        apr_bucket_transient_create(hc->wbuf, total, hc->c->bucket_alloc));

    return total;
}


static int
h2x_apache_c1_write(h2x_apache_conn_t *hc)
{
    h2x_segment_t  segs[H2X_APACHE_SEGS];
    conn_rec      *c = hc->c;
    apr_status_t   rv;
    apr_size_t     total;
    size_t         n, i;
    int            files;

    for ( ;; ) {
        n = h2x_session_pending(hc->session, segs, H2X_APACHE_SEGS);
        if (n == 0) {
            return 0;
        }

        files = 0;
        for (i = 0; i < n; i++) {
            if (segs[i].data == NULL && segs[i].len > 0) {
                files = 1;
            }
        }

        total = 0;

        if (hc->tls || files) {
            total = h2x_apache_c1_gather(hc, segs, n);
            if (total == 0) {
                return -1;
            }

        } else {
            for (i = 0; i < n; i++) {
                if (segs[i].len == 0) {
                    continue;
                }
                APR_BRIGADE_INSERT_TAIL(hc->bb_out,
                    apr_bucket_transient_create((const char *) segs[i].data,
                                                segs[i].len,
                                                c->bucket_alloc));
                total += segs[i].len;
            }
        }

        APR_BRIGADE_INSERT_TAIL(hc->bb_out,
                                apr_bucket_flush_create(c->bucket_alloc));

        rv = ap_pass_brigade(c->output_filters, hc->bb_out);
        apr_brigade_cleanup(hc->bb_out);

        if (rv != APR_SUCCESS) {
            ap_log_cerror(APLOG_MARK, APLOG_DEBUG, rv, c, APLOGNO(10725)
                          "h2x: writing to the client");
            return -1;
        }

        h2x_session_sent(hc->session, total);
    }
}


/*
 * After our last frames: give the client a moment to read them and close
 * its side, reading and dropping what it still sends, so that closing
 * with unread input (a TCP reset) cannot destroy the GOAWAY in flight.
 */
static void
h2x_apache_c1_drain(h2x_apache_conn_t *hc)
{
    apr_bucket_brigade  *bb = hc->bb_in;
    const apr_pollfd_t  *fds;
    apr_interval_time_t  left;
    apr_time_t           end;
    apr_status_t         rv;
    apr_int32_t          num;
    apr_off_t            len;

    end = apr_time_now() + apr_time_from_msec(1500);

    for ( ;; ) {
        rv = ap_get_brigade(hc->c->input_filters, bb, AP_MODE_READBYTES,
                            APR_NONBLOCK_READ, H2X_APACHE_READ_SIZE);
        len = 0;
        if (rv == APR_SUCCESS) {
            if (!APR_BRIGADE_EMPTY(bb)
                && APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(bb)))
            {
                apr_brigade_cleanup(bb);
                return;
            }
            (void) apr_brigade_length(bb, 0, &len);
        }
        apr_brigade_cleanup(bb);

        if (rv != APR_SUCCESS && !APR_STATUS_IS_EAGAIN(rv)) {
            return;
        }

        if (rv == APR_SUCCESS && len > 0) {
            continue;
        }

        left = end - apr_time_now();
        if (left <= 0) {
            return;
        }

        rv = apr_pollset_poll(hc->pollset, left, &num, &fds);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_EINTR(rv)) {
            return;
        }
    }
}


/* --- the loop ---------------------------------------------------------- */

static apr_status_t h2x_apache_conn_cleanup(void *data);


static apr_status_t
h2x_apache_c1_setup(h2x_apache_conn_t *hc)
{
    conn_rec         *c = hc->c;
    h2x_config_t      cfg;
    h2x_callbacks_t   cb;
    apr_status_t      rv;

    ap_remove_input_filter_byhandle(c->input_filters, "reqtimeout");

    h2x_apache_engine_config(hc->s, &cfg);
    hc->max_response_header = cfg.max_response_header_size;

    memset(&cb, 0, sizeof(cb));
    cb.on_request = h2x_apache_on_request;
    cb.on_data = h2x_apache_on_data;
    cb.on_trailers = h2x_apache_on_trailers;
    cb.on_stream_close = h2x_apache_on_stream_close;
    cb.on_goaway = h2x_apache_on_goaway;
    cb.on_chunk_release = h2x_apache_on_chunk_release;
    cb.on_log = h2x_apache_on_log;

    rv = apr_thread_mutex_create(&hc->mutex, APR_THREAD_MUTEX_DEFAULT,
                                 c->pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }

    rv = apr_thread_cond_create(&hc->done_cond, c->pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }

    hc->socket = ap_get_conn_socket(c);
    hc->tls = ap_ssl_conn_is_ssl(c);

    hc->session = h2x_session_new(&cfg, &cb, hc, h2x_allocator_default());
    if (hc->session == NULL) {
        return APR_ENOMEM;
    }

    hc->bb_in = apr_brigade_create(c->pool, c->bucket_alloc);
    hc->bb_out = apr_brigade_create(c->pool, c->bucket_alloc);

    /* a connection mpm_event closes without asking us frees the session */
    apr_pool_cleanup_register(c->pool, hc, h2x_apache_conn_cleanup,
                              apr_pool_cleanup_null);

    h2x_apache_status_conn(1);

    return APR_SUCCESS;
}


/*
 * The pollset (an epoll descriptor and a wakeup pipe) exists only while
 * the connection has a thread: a connection parked in mpm_event holds
 * none.  It lives in a subpool so that each resume starts afresh.
 */
static apr_status_t
h2x_apache_c1_poll_open(h2x_apache_conn_t *hc)
{
    apr_pollfd_t  pfd;
    apr_status_t  rv;

    rv = apr_pool_create(&hc->ppool, hc->c->pool);
    if (rv != APR_SUCCESS) {
        hc->ppool = NULL;
        return rv;
    }

    apr_pool_tag(hc->ppool, "h2x_c1_poll");

    rv = apr_pollset_create(&hc->pollset, 1, hc->ppool, APR_POLLSET_WAKEABLE);
    if (rv != APR_SUCCESS) {
        hc->pollset = NULL;
        return rv;
    }

    memset(&pfd, 0, sizeof(pfd));
    pfd.p = hc->ppool;
    pfd.desc_type = APR_POLL_SOCKET;
    pfd.reqevents = APR_POLLIN;
    pfd.desc.s = hc->socket;

    return apr_pollset_add(hc->pollset, &pfd);
}


static void
h2x_apache_c1_poll_close(h2x_apache_conn_t *hc)
{
    if (hc->ppool) {
        apr_pool_destroy(hc->ppool);
        hc->ppool = NULL;
    }
    hc->pollset = NULL;
}


static void
h2x_apache_c1_teardown(h2x_apache_conn_t *hc)
{
    h2x_apache_stream_t  *hs;
    h2x_apache_chunk_t   *ch;

    /* streams that never went to the pool end here */
    while (hc->pend_head) {
        hs = hc->pend_head;
        hc->pend_head = hs->pend_next;
        hs->pend_next = NULL;
        apr_thread_mutex_lock(hc->mutex);
        hs->worker_done = 1;
        hc->active--;
        apr_thread_mutex_unlock(hc->mutex);
    }
    hc->pend_tail = NULL;

    /* no worker may touch a stream after this: stop them, wait */
    apr_thread_mutex_lock(hc->mutex);
    for (hs = hc->streams; hs; hs = hs->all_next) {
        hs->aborted = 1;
        if (hs->waiting) {
            apr_thread_cond_signal(hs->cond);
        }
    }
    apr_thread_mutex_unlock(hc->mutex);

    for (hs = hc->streams; hs; hs = hs->all_next) {
        if (hs->handed_off && h2x_apache_workers_cancel(hs)) {
            apr_thread_mutex_lock(hc->mutex);
            hs->worker_done = 1;
            hc->active--;
            apr_thread_mutex_unlock(hc->mutex);
        }
    }

    apr_thread_mutex_lock(hc->mutex);
    while (hc->active > 0) {
        hc->c1_waiting = 1;
        apr_thread_cond_wait(hc->done_cond, hc->mutex);
    }
    hc->c1_waiting = 0;
    apr_thread_mutex_unlock(hc->mutex);

    if (hc->running > 0) {
        hc->running = 0;
        h2x_apache_workers_conn_busy(-1);
    }

    if (hc->session) {
        h2x_apache_status_add(h2x_session_stats(hc->session));
        h2x_session_free(hc->session);
        hc->session = NULL;
        h2x_apache_status_conn(-1);
    }

    /* h2x_session_free() hands queued chunks back; nothing should be left */
    while (hc->engine_list) {
        ch = hc->engine_list;
        hc->engine_list = ch->enext;
        h2x_apache_chunk_free(ch);
    }

    while (hc->streams) {
        (void) h2x_apache_stream_free(hc, hc->streams, 1);
    }

    free(hc->wbuf);
    hc->wbuf = NULL;

    hc->finished = 1;
    hc->parked = 0;
}


static apr_status_t
h2x_apache_conn_cleanup(void *data)
{
    h2x_apache_conn_t  *hc = data;

    /* only a parked connection can get here with its session */
    if (!hc->finished && hc->session) {
        h2x_apache_c1_teardown(hc);
    }

    return APR_SUCCESS;
}


/*
 * mpm_event closes a parked connection (KeepAliveTimeout, or the child
 * stops): say GOAWAY NO_ERROR, like the idle timeout on a thread does.
 * Runs on whichever MPM thread does the closing; nobody else touches the
 * connection meanwhile.
 */
void
h2x_apache_session_pre_close(h2x_apache_conn_t *hc)
{
    if (hc->finished || hc->session == NULL) {
        return;
    }

    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, hc->c, APLOGNO(10740)
                  "h2x: idle connection closed by the MPM, GOAWAY");

    h2x_session_tick(hc->session, h2x_apache_now_ms());
    (void) h2x_session_goaway(hc->session, H2X_NO_ERROR, 0);
    hc->goaway_sent = 1;
    (void) h2x_apache_c1_write(hc);

    h2x_apache_c1_teardown(hc);
}


/*
 * Can the connection go back to mpm_event until the client sends more?
 * Only when nothing depends on this thread: no stream (of the engine or
 * ours), no output, mod_ssl drained, no GOAWAY in progress.  Engine
 * timers do not hold it: the SETTINGS ACK timeout is moot on a quiet
 * connection (the MPM's timeout closes it) and the release of the free
 * lists waits for the next resume.
 */
static int
h2x_apache_can_park(h2x_apache_conn_t *hc)
{
    int  dirty;

    if (!h2x_apache_mpm_async || hc->c->cs == NULL || hc->c->aborted
        || hc->stopping || hc->goaway_sent || !hc->drained
        || hc->streams != NULL || h2x_session_streams(hc->session) > 0
        || h2x_session_want_write(hc->session)
        || h2x_session_want_close(hc->session))
    {
        return 0;
    }

    apr_thread_mutex_lock(hc->mutex);
    dirty = (hc->dirty_head != NULL || hc->active > 0);
    apr_thread_mutex_unlock(hc->mutex);

    return !dirty;
}


int
h2x_apache_session_run(h2x_apache_conn_t *hc)
{
    conn_rec            *c = hc->c;
    apr_status_t         rv;
    apr_int32_t          num;
    const apr_pollfd_t  *fds;
    apr_interval_time_t  wait;
    apr_time_t           now;
    uint64_t             next, now_ms;
    int                  rc, live = 0, eof = 0, park = 0, parkable;

    if (hc->session == NULL) {
        rv = h2x_apache_c1_setup(hc);
        if (rv != APR_SUCCESS) {
            ap_log_cerror(APLOG_MARK, APLOG_ERR, rv, c, APLOGNO(10726)
                          "h2x: cannot set up the session");
            goto done;
        }

    } else {
        /* resumed by mpm_event: the client sent something */
        hc->parked = 0;
    }

    rv = h2x_apache_c1_poll_open(hc);
    if (rv != APR_SUCCESS) {
        ap_log_cerror(APLOG_MARK, APLOG_ERR, rv, c, APLOGNO(10741)
                      "h2x: cannot create the connection's pollset");
        goto done;
    }

    h2x_apache_live_add(hc);
    live = 1;

    ap_update_child_status_from_conn(c->sbh, SERVER_BUSY_READ, c);

    hc->idle_since = apr_time_now();

    for ( ;; ) {

        rc = h2x_apache_c1_read(hc);
        if (rc == -1) {
            eof = 1;
            break;
        }

        (void) h2x_apache_collect(hc);

        h2x_apache_schedule(hc);

        if (hc->stopping && !hc->goaway_sent) {
            ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, APLOGNO(10728)
                          "h2x: child stopping, GOAWAY (%s)",
                          hc->stopping == 1 ? "graceful" : "now");
            /* the engine times the graceful GOAWAY from its last clock */
            h2x_session_tick(hc->session, h2x_apache_now_ms());
            (void) h2x_session_goaway(hc->session, H2X_NO_ERROR,
                                      hc->stopping == 1);
            hc->goaway_sent = 1;
        }

        if (h2x_apache_c1_write(hc) != 0) {
            break;
        }

        if (hc->release) {
            hc->release = 0;
            h2x_apache_release_sent(hc);
        }

        if (hc->sweep) {
            hc->sweep = 0;
            h2x_apache_sweep(hc);
        }

        if (rc == -2 || h2x_session_want_close(hc->session)) {
            break;
        }

        now = apr_time_now();

        /*
         * Park only after a short quiet spell: a client between two
         * requests would otherwise cost a trip through the MPM each time,
         * and mpm_event, when all its threads are busy, closes parked
         * connections at once, racing requests already on their way.
         */
        parkable = h2x_apache_can_park(hc);
        if (parkable && hc->idle_since
            && now - hc->idle_since >= H2X_APACHE_PARK_GRACE)
        {
            park = 1;
            break;
        }

        if (h2x_session_streams(hc->session) > 0 || hc->streams) {
            hc->idle_since = 0;
            h2x_apache_check_stalls(hc, now);

        } else if (hc->idle_since == 0) {
            hc->idle_since = now;
        }

        /* sleep until the socket, a worker or a timer */
        apr_thread_mutex_lock(hc->mutex);
        wait = hc->dirty_head ? 0 : -1;
        apr_thread_mutex_unlock(hc->mutex);

        if (wait != 0) {
            wait = apr_time_from_sec(1);

            if (hc->idle_since) {
                wait = hc->idle_since + c->base_server->keep_alive_timeout
                       - now;

                if (parkable
                    && hc->idle_since + H2X_APACHE_PARK_GRACE - now < wait)
                {
                    wait = hc->idle_since + H2X_APACHE_PARK_GRACE - now;
                }
            }

            next = h2x_session_next_timeout(hc->session);
            now_ms = h2x_apache_now_ms();
            if (next != UINT64_MAX) {
                if (next <= now_ms) {
                    wait = 0;
                } else if (apr_time_from_msec(next - now_ms) < wait) {
                    wait = apr_time_from_msec(next - now_ms);
                }
            }

            if (wait < 0) {
                wait = 0;
            }

            rv = apr_pollset_poll(hc->pollset, wait, &num, &fds);
            if (rv != APR_SUCCESS && !APR_STATUS_IS_EINTR(rv)
                && !APR_STATUS_IS_TIMEUP(rv))
            {
                ap_log_cerror(APLOG_MARK, APLOG_DEBUG, rv, c, APLOGNO(10727)
                              "h2x: poll");
                break;
            }
        }

        now_ms = h2x_apache_now_ms();
        next = h2x_session_next_timeout(hc->session);
        if (next != UINT64_MAX && next <= now_ms) {
            h2x_session_tick(hc->session, now_ms);
        }

        if (hc->idle_since && !hc->goaway_sent
            && apr_time_now() - hc->idle_since
               >= c->base_server->keep_alive_timeout)
        {
            /* idle: say goodbye and close */
            h2x_session_tick(hc->session, h2x_apache_now_ms());
            (void) h2x_session_goaway(hc->session, H2X_NO_ERROR, 0);
            hc->goaway_sent = 1;
        }
    }

    if (park) {
        /*
         * Idle on mpm_event: give the thread back.  The MPM watches the
         * socket (KeepAliveTimeout once a request was served, Timeout
         * before, as mod_http2 does) and runs process_connection again
         * when the client sends; the session waits in conn_config.  If
         * the MPM closes instead, pre_close_connection sends GOAWAY.
         */
        h2x_apache_live_remove(hc);
        h2x_apache_c1_poll_close(hc);
        free(hc->wbuf);
        hc->wbuf = NULL;
        if (h2x_session_stats(hc->session)->streams
            <= H2X_APACHE_SHRINK_STREAMS)
        {
            h2x_session_shrink(hc->session);
        }

        hc->parked = 1;
        c->keepalive = AP_CONN_KEEPALIVE;
        c->data_in_input_filters = 0;

        if (h2x_apache_mpm_waitio
            && h2x_session_stats(hc->session)->streams == 0)
        {
#ifdef AP_MPMQ_CAN_WAITIO
            c->cs->sense = CONN_SENSE_WANT_READ;
            c->cs->state = CONN_STATE_ASYNC_WAITIO;
#endif
        } else {
            c->cs->sense = CONN_SENSE_DEFAULT;
            c->cs->state = CONN_STATE_WRITE_COMPLETION;
        }

        return DONE;
    }

    /* what can still go out (a GOAWAY) goes out */
    if (h2x_apache_c1_write(hc) == 0 && !eof) {
        h2x_apache_c1_drain(hc);
    }

done:

    if (live) {
        h2x_apache_live_remove(hc);
    }

    if (hc->mutex) {
        h2x_apache_c1_teardown(hc);
    }

    h2x_apache_c1_poll_close(hc);
    hc->finished = 1;

    c->keepalive = AP_CONN_CLOSE;
    if (c->cs) {
        c->cs->state = CONN_STATE_LINGER;
    }

    return DONE;
}
