/*
 * mod_h2x: the filters of a stream's secondary connection (worker side).
 *
 *   H2X_RESPONSE  (protocol, per request) takes the place of HTTP_HEADER:
 *                 turns status and headers_out into a header block for
 *                 the engine, swallows bodies of HEAD/204/304, collects
 *                 r->trailers_out at EOS.
 *   H2X_NET_OUT   (network, c2) copies body bytes into the stream's
 *                 bounded output queue (file buckets are read straight
 *                 from the file into it: one copy), turns raw HTTP/1 1xx
 *                 heads (100-continue, ap_send_interim_response) into
 *                 interim blocks, destroys EOR.
 *   H2X_NET_IN    (network, c2) serves the request body from the stream's
 *                 input queue, chunk-framed when the client sent no
 *                 content-length, and accounts what was taken so that
 *                 the c1 thread credits the flow-control window.
 */

#include <unistd.h>

#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_portable.h"
#include "apr_buckets.h"

#include "httpd.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "util_time.h"

#include "h2x_apache.h"

APLOG_USE_MODULE(h2x);


#define H2X_APACHE_CHUNK_MAX   (64 * 1024)
#define H2X_APACHE_H1_MAX      (16 * 1024)
#define H2X_APACHE_FILE_MIN    (16 * 1024)   /* smaller ranges: copied */
#define H2X_APACHE_FILE_COST   4096


static ap_filter_rec_t  *h2x_apache_net_in_handle;
static ap_filter_rec_t  *h2x_apache_net_out_handle;


/*
 * A header block in one malloc()ed piece: names lowercased, values with
 * surrounding whitespace trimmed.  What HTTP/2 does not carry is left out
 * by the engine (h2x_response_field()).
 */
h2x_apache_block_t *
h2x_apache_block_create(unsigned status, const apr_table_t *t)
{
    const apr_array_header_t  *arr;
    const apr_table_entry_t   *e;
    h2x_apache_block_t        *b;
    apr_size_t                 size, n, nlen, vlen, i, k;
    const char                *v;
    char                      *p;
    int                        j;

    arr = t ? apr_table_elts(t) : NULL;
    e = arr ? (const apr_table_entry_t *) arr->elts : NULL;

    n = 0;
    size = sizeof(h2x_apache_block_t);

    for (j = 0; arr && j < arr->nelts; j++) {
        if (e[j].key == NULL || e[j].val == NULL) {
            continue;
        }
        n++;
        size += strlen(e[j].key) + strlen(e[j].val) + 2;
    }

    size += n * sizeof(h2x_header_t) + sizeof(void *);

    b = malloc(size);
    if (b == NULL) {
        return NULL;
    }

    b->next = NULL;
    b->status = status;
    b->n = n;
    b->fields = (h2x_header_t *) APR_ALIGN_DEFAULT(
                    (apr_uintptr_t) ((char *) b + sizeof(*b)));
    p = (char *) (b->fields + n);

    for (i = 0, j = 0; arr && j < arr->nelts; j++) {
        if (e[j].key == NULL || e[j].val == NULL) {
            continue;
        }

        nlen = strlen(e[j].key);
        for (k = 0; k < nlen; k++) {
            p[k] = (char) apr_tolower(e[j].key[k]);
        }
        p[nlen] = '\0';
        b->fields[i].name = (const uint8_t *) p;
        b->fields[i].name_len = nlen;
        b->fields[i].flags = 0;
        p += nlen + 1;

        v = e[j].val;
        while (*v == ' ' || *v == '\t') {
            v++;
        }
        vlen = strlen(v);
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) {
            vlen--;
        }
        memcpy(p, v, vlen);
        p[vlen] = '\0';
        b->fields[i].value = (const uint8_t *) p;
        b->fields[i].value_len = vlen;
        p += vlen + 1;

        i++;
    }

    return b;
}


/* Hand a header block to the c1 thread (1xx or final). */
static void
h2x_apache_push_block(h2x_apache_stream_t *hs, h2x_apache_block_t *b)
{
    h2x_apache_conn_t  *hc = hs->conn;

    apr_thread_mutex_lock(hc->mutex);
    if (hs->hdr_tail) {
        hs->hdr_tail->next = b;
    } else {
        hs->hdr_head = b;
    }
    hs->hdr_tail = b;
    h2x_apache_stream_mark(hs);
    apr_thread_mutex_unlock(hc->mutex);
}


/* --- H2X_RESPONSE ------------------------------------------------------ */

static void
h2x_apache_response_prepare(request_rec *r)
{
    const char  *ctype, *clheader, *field, *token;
    char        *date, **langs;
    int          i;

    if (!apr_is_empty_table(r->err_headers_out)) {
        r->headers_out = apr_table_overlay(r->pool, r->err_headers_out,
                                           r->headers_out);
        apr_table_clear(r->err_headers_out);
    }

    if (r->no_cache && !apr_table_get(r->headers_out, "Expires")) {
        date = apr_palloc(r->pool, APR_RFC822_DATE_LEN);
        ap_recent_rfc822_date(date, r->request_time);
        apr_table_addn(r->headers_out, "Expires", date);
    }

    if (apr_table_get(r->notes, "no-etag") != NULL) {
        apr_table_unset(r->headers_out, "ETag");
    }

    if (AP_STATUS_IS_HEADER_ONLY(r->status)) {
        apr_table_unset(r->headers_out, "Content-Length");
        r->content_type = r->content_encoding = NULL;
        r->content_languages = NULL;
        r->clength = r->chunked = 0;
    }

    ctype = ap_make_content_type(r, r->content_type);
    if (ctype) {
        apr_table_setn(r->headers_out, "Content-Type", ctype);
    }

    if (r->content_encoding) {
        apr_table_setn(r->headers_out, "Content-Encoding",
                       r->content_encoding);
    }

    if (r->content_languages && r->content_languages->nelts > 0) {
        field = apr_table_get(r->headers_out, "Content-Language");
        while (field && (token = ap_get_list_item(r->pool, &field))
                        != NULL)
        {
            langs = (char **) r->content_languages->elts;
            for (i = 0; i < r->content_languages->nelts; i++) {
                if (!strcasecmp(token, langs[i])) {
                    break;
                }
            }
            if (i == r->content_languages->nelts) {
                *(const char **) apr_array_push(r->content_languages) =
                    token;
            }
        }
        apr_table_setn(r->headers_out, "Content-Language",
                       apr_array_pstrcat(r->pool, r->content_languages,
                                         ','));
    }

    /* as HTTP_HEADER: no "Content-Length: 0" made up for HEAD */
    if (r->header_only
        && (clheader = apr_table_get(r->headers_out, "Content-Length"))
        && !strcmp(clheader, "0"))
    {
        apr_table_unset(r->headers_out, "Content-Length");
    }

    if (r->proxyreq == PROXYREQ_NONE
        || !apr_table_get(r->headers_out, "Date"))
    {
        date = apr_palloc(r->pool, APR_RFC822_DATE_LEN);
        ap_recent_rfc822_date(date, r->request_time);
        apr_table_setn(r->headers_out, "Date", date);
    }

    if (r->proxyreq == PROXYREQ_NONE
        || !apr_table_get(r->headers_out, "Server"))
    {
        apr_table_setn(r->headers_out, "Server", ap_get_server_banner());
    }
}


static apr_status_t
h2x_apache_response_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec          *r = f->r;
    h2x_apache_stream_t  *hs;
    h2x_apache_block_t   *b;
    ap_bucket_error      *eb = NULL;
    apr_bucket           *e, *next;
    unsigned              status;
    apr_size_t            size;
    int                   header_only;

    hs = ap_get_module_config(r->connection->conn_config, &h2x_module);
    if (hs == NULL) {
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }

    if (!hs->headers_done) {
        for (e = APR_BRIGADE_FIRST(bb);
             e != APR_BRIGADE_SENTINEL(bb);
             e = APR_BUCKET_NEXT(e))
        {
            if (AP_BUCKET_IS_ERROR(e) && eb == NULL) {
                eb = e->data;
            }
        }

        if (eb) {
            int st = eb->status;

            apr_brigade_cleanup(bb);
            ap_die(st, r);
            return AP_FILTER_ERROR;
        }

        h2x_apache_response_prepare(r);

        status = (r->status >= 200 && r->status <= 599) ? r->status : 500;

        b = h2x_apache_block_create(status, r->headers_out);
        if (b == NULL) {
            apr_brigade_cleanup(bb);
            return APR_ENOMEM;
        }

        size = h2x_response_header_size(b->fields, b->n);

        if (hs->conn->max_response_header
            && size > hs->conn->max_response_header)
        {
            /* the engine would refuse it: a 500 of httpd's own instead,
             * or, if that one is too large as well, a bare 500 */
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10765)
                          "h2x: response header of %" APR_SIZE_T_FMT
                          " bytes for status %u is larger than "
                          "H2XMaxResponseHeaderSize (%" APR_SIZE_T_FMT ")",
                          size, status, hs->conn->max_response_header);
            free(b);

            if (!hs->header_refused) {
                hs->header_refused = 1;
                apr_brigade_cleanup(bb);
                apr_table_clear(r->headers_out);
                apr_table_clear(r->err_headers_out);
                ap_die(HTTP_INTERNAL_SERVER_ERROR, r);
                return AP_FILTER_ERROR;
            }

            b = h2x_apache_block_create(HTTP_INTERNAL_SERVER_ERROR, NULL);
            if (b == NULL) {
                return APR_ENOMEM;
            }

            r->status = HTTP_INTERNAL_SERVER_ERROR;
            r->header_only = 1;
        }

        hs->headers_done = 1;
        r->sent_bodyct = 1;
        h2x_apache_push_block(hs, b);
    }

    header_only = r->header_only || AP_STATUS_IS_HEADER_ONLY(r->status);

    for (e = APR_BRIGADE_FIRST(bb);
         e != APR_BRIGADE_SENTINEL(bb);
         e = next)
    {
        next = APR_BUCKET_NEXT(e);

        if (AP_BUCKET_IS_ERROR(e)) {
            /*
             * The producer failed after the head went out (a backend
             * that broke off, ap_proxy_backend_broke()): the end of the
             * stream must not go out, the c1 thread resets the stream
             * when the worker is done without it, as mod_http2 does.
             */
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APLOGNO(10767)
                          "h2x: stream %u: response failed after its "
                          "head (%d), the stream will be reset", hs->id,
                          ((ap_bucket_error *) e->data)->status);
            hs->broken = 1;
            apr_bucket_delete(e);
            continue;
        }

        if (APR_BUCKET_IS_EOS(e) && hs->broken) {
            apr_bucket_delete(e);
            continue;
        }

        if (APR_BUCKET_IS_EOS(e)) {
            if (r->trailers_out && !apr_is_empty_table(r->trailers_out)
                && hs->w_trailers == NULL)
            {
                /* NET_OUT sends them with the end of the stream */
                hs->w_trailers = h2x_apache_block_create(0,
                                                         r->trailers_out);
            }
            continue;
        }

        if (header_only && !APR_BUCKET_IS_METADATA(e)) {
            apr_bucket_delete(e);
        }
    }

    return ap_pass_brigade(f->next, bb);
}


/* --- H2X_NET_OUT ------------------------------------------------------- */

/* Wait until the stream may buffer more output; returns the room. */
static apr_status_t
h2x_apache_out_wait(h2x_apache_stream_t *hs, apr_size_t *room)
{
    h2x_apache_conn_t  *hc = hs->conn;
    apr_status_t        rv = APR_SUCCESS;
    apr_uint32_t        used;

    apr_thread_mutex_lock(hc->mutex);

    while (!hs->aborted
           && apr_atomic_read32(&hs->out_mem) >= hs->max_mem)
    {
        /* c1 lowers out_mem without the lock: say we wait, look again */
        apr_atomic_set32(&hs->out_waiting, 1);
        if (apr_atomic_read32(&hs->out_mem) < hs->max_mem) {
            break;
        }
        hs->waiting = 1;
        rv = apr_thread_cond_timedwait(hs->cond, hc->mutex, hs->timeout);
        hs->waiting = 0;
        if (APR_STATUS_IS_TIMEUP(rv)) {
            break;
        }
        rv = APR_SUCCESS;
    }

    apr_atomic_set32(&hs->out_waiting, 0);

    used = apr_atomic_read32(&hs->out_mem);
    if (used < hs->max_mem) {
        rv = APR_SUCCESS;
    }

    if (hs->aborted) {
        rv = APR_ECONNABORTED;
    }

    if (rv == APR_SUCCESS) {
        *room = hs->max_mem - used;
    }

    apr_thread_mutex_unlock(hc->mutex);

    return rv;
}


/* Hand the chunk being filled (if any), and the end, to the c1 thread. */
static void
h2x_apache_out_push(h2x_apache_stream_t *hs, int eos)
{
    h2x_apache_conn_t   *hc = hs->conn;
    h2x_apache_chunk_t  *ch = hs->cur;

    if (ch == NULL && !eos) {
        return;
    }

    hs->cur = NULL;

    apr_thread_mutex_lock(hc->mutex);

    if (ch) {
        apr_atomic_sub32(&hs->out_mem, (apr_uint32_t) (ch->cap - ch->len));
        if (ch->len == 0) {
            free(ch);

        } else {
            ch->cap = ch->len;
            if (hs->out_tail) {
                hs->out_tail->next = ch;
            } else {
                hs->out_head = ch;
            }
            hs->out_tail = ch;
        }
    }

    if (eos && !hs->out_eos) {
        hs->out_eos = 1;
        hs->trailers = hs->w_trailers;
        hs->w_trailers = NULL;
    }

    h2x_apache_stream_mark(hs);

    apr_thread_mutex_unlock(hc->mutex);
}


/* Make sure hs->cur has room for at least one byte. */
static apr_status_t
h2x_apache_out_room(h2x_apache_stream_t *hs, apr_size_t want)
{
    h2x_apache_chunk_t  *ch;
    apr_size_t           room, cap;
    apr_status_t         rv;

    if (hs->cur && hs->cur->len < hs->cur->cap) {
        return APR_SUCCESS;
    }

    h2x_apache_out_push(hs, 0);

    rv = h2x_apache_out_wait(hs, &room);
    if (rv != APR_SUCCESS) {
        return rv;
    }

    cap = want < 16384 ? 16384 : want;
    if (cap > H2X_APACHE_CHUNK_MAX) {
        cap = H2X_APACHE_CHUNK_MAX;
    }
    if (cap > room) {
        cap = room;
    }

    ch = malloc(APR_OFFSETOF(h2x_apache_chunk_t, data) + cap);
    if (ch == NULL) {
        return APR_ENOMEM;
    }

    ch->next = NULL;
    ch->stream = hs;
    ch->len = 0;
    ch->cap = cap;
    ch->pos = 0;
    ch->fd = -1;

    apr_atomic_add32(&hs->out_mem, (apr_uint32_t) cap);

    hs->cur = ch;

    return APR_SUCCESS;
}


static apr_status_t
h2x_apache_out_write(h2x_apache_stream_t *hs, const char *data,
                     apr_size_t len)
{
    apr_size_t    n;
    apr_status_t  rv;

    while (len > 0) {
        rv = h2x_apache_out_room(hs, len);
        if (rv != APR_SUCCESS) {
            return rv;
        }

        n = hs->cur->cap - hs->cur->len;
        if (n > len) {
            n = len;
        }

        memcpy(hs->cur->data + hs->cur->len, data, n);
        hs->cur->len += n;
        data += n;
        len -= n;
    }

    return APR_SUCCESS;
}


/*
 * A file range goes to the c1 thread as a reference: a dup() of the
 * descriptor, read there when the engine sends it (into the TLS buffer,
 * or the cleartext one).  The worker neither copies nor waits for the
 * client; a file chunk costs H2X_APACHE_FILE_COST of the stream's
 * budget, which bounds the descriptors one stream holds.
 */
static apr_status_t
h2x_apache_out_file_ref(h2x_apache_stream_t *hs, int fd, apr_off_t off,
                        apr_size_t len)
{
    h2x_apache_conn_t   *hc = hs->conn;
    h2x_apache_chunk_t  *ch;
    apr_size_t           room;
    apr_status_t         rv;

    h2x_apache_out_push(hs, 0);

    rv = h2x_apache_out_wait(hs, &room);
    if (rv != APR_SUCCESS) {
        return rv;
    }

    ch = malloc(sizeof(*ch));
    if (ch == NULL) {
        return APR_ENOMEM;
    }

    ch->fd = dup(fd);
    if (ch->fd < 0) {
        rv = errno;
        free(ch);
        return rv;
    }

    ch->next = NULL;
    ch->stream = hs;
    ch->len = len;
    ch->cap = H2X_APACHE_FILE_COST;
    ch->pos = 0;
    ch->foff = off;

    apr_atomic_add32(&hs->out_mem, (apr_uint32_t) ch->cap);

    apr_thread_mutex_lock(hc->mutex);
    if (hs->out_tail) {
        hs->out_tail->next = ch;
    } else {
        hs->out_head = ch;
    }
    hs->out_tail = ch;
    h2x_apache_stream_mark(hs);
    apr_thread_mutex_unlock(hc->mutex);

    return APR_SUCCESS;
}


/* A file range, read from the file straight into the output queue. */
static apr_status_t
h2x_apache_out_file(h2x_apache_stream_t *hs, apr_bucket *e)
{
    apr_bucket_file  *fb = e->data;
    apr_os_file_t     fd;
    apr_off_t         off = e->start;
    apr_size_t        left = e->length, n;
    apr_status_t      rv;
    ssize_t           got;

    rv = apr_os_file_get(&fd, fb->fd);
    if (rv != APR_SUCCESS) {
        return rv;
    }

    if (left >= H2X_APACHE_FILE_MIN) {
        return h2x_apache_out_file_ref(hs, fd, off, left);
    }

    while (left > 0) {
        rv = h2x_apache_out_room(hs, left);
        if (rv != APR_SUCCESS) {
            return rv;
        }

        n = hs->cur->cap - hs->cur->len;
        if (n > left) {
            n = left;
        }

        got = pread(fd, hs->cur->data + hs->cur->len, n, off);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return got < 0 ? errno : APR_EOF;
        }

        hs->cur->len += (apr_size_t) got;
        off += got;
        left -= (apr_size_t) got;
    }

    return APR_SUCCESS;
}


/* Raw HTTP/1 interim heads ("HTTP/1.1 100 Continue\r\n...\r\n\r\n"). */
static apr_status_t
h2x_apache_out_interim(h2x_apache_stream_t *hs, const char *data,
                       apr_size_t len)
{
    h2x_apache_block_t  *b;
    apr_table_t         *t;
    char                *end, *line, *next, *colon, *v;
    apr_size_t           used;
    unsigned             status;

    if (hs->h1 == NULL) {
        hs->h1 = apr_palloc(hs->c2->pool, H2X_APACHE_H1_MAX + 1);
        hs->h1_len = 0;
    }

    if (hs->h1_len + len > H2X_APACHE_H1_MAX) {
        return APR_ENOSPC;
    }

    memcpy(hs->h1 + hs->h1_len, data, len);
    hs->h1_len += len;
    hs->h1[hs->h1_len] = '\0';

    while ((end = strstr(hs->h1, "\r\n\r\n")) != NULL) {
        *end = '\0';
        used = (apr_size_t) (end - hs->h1) + 4;

        status = 0;
        if (!strncmp(hs->h1, "HTTP/", 5) && (line = strchr(hs->h1, ' '))) {
            status = (unsigned) atoi(line + 1);
        }

        t = apr_table_make(hs->c2->pool, 4);
        line = strstr(hs->h1, "\r\n");
        while (line != NULL) {
            line += 2;
            next = strstr(line, "\r\n");
            if (next) {
                *next = '\0';
            }
            colon = strchr(line, ':');
            if (colon && colon != line) {
                *colon = '\0';
                v = colon + 1;
                apr_table_add(t, line, v);
            }
            line = next;
        }

        if (status >= 100 && status < 200 && status != 101) {
            b = h2x_apache_block_create(status, t);
            if (b != NULL) {
                h2x_apache_push_block(hs, b);
            }
        }

        memmove(hs->h1, hs->h1 + used, hs->h1_len - used + 1);
        hs->h1_len -= used;
    }

    return APR_SUCCESS;
}


static apr_status_t
h2x_apache_net_out(ap_filter_t *f, apr_bucket_brigade *bb)
{
    h2x_apache_stream_t  *hs = f->ctx;
    apr_bucket           *e;
    const char           *data;
    apr_size_t            len;
    apr_status_t          rv = APR_SUCCESS;

    while (!APR_BRIGADE_EMPTY(bb)) {
        e = APR_BRIGADE_FIRST(bb);

        if (APR_BUCKET_IS_METADATA(e)) {
            if (APR_BUCKET_IS_EOS(e)) {
                h2x_apache_out_push(hs, 1);

            } else if (APR_BUCKET_IS_FLUSH(e)) {
                h2x_apache_out_push(hs, 0);

            } else if (AP_BUCKET_IS_EOR(e)) {
                h2x_apache_out_push(hs, 0);
            }

            /* EOR: logs the request and frees it */
            apr_bucket_delete(e);
            continue;
        }

        if (hs->headers_done && APR_BUCKET_IS_FILE(e)
            && e->length != (apr_size_t) -1 && e->length > 0)
        {
            rv = h2x_apache_out_file(hs, e);
            if (rv != APR_SUCCESS) {
                break;
            }
            apr_bucket_delete(e);
            continue;
        }

        rv = apr_bucket_read(e, &data, &len, APR_NONBLOCK_READ);
        if (APR_STATUS_IS_EAGAIN(rv)) {
            /* the producer is slow: let the client have what we have */
            h2x_apache_out_push(hs, 0);
            rv = apr_bucket_read(e, &data, &len, APR_BLOCK_READ);
        }
        if (rv != APR_SUCCESS) {
            break;
        }

        if (len > 0) {
            rv = hs->headers_done ? h2x_apache_out_write(hs, data, len)
                                  : h2x_apache_out_interim(hs, data, len);
            if (rv != APR_SUCCESS) {
                break;
            }
        }

        apr_bucket_delete(e);
    }

    if (rv != APR_SUCCESS) {
        if (rv == APR_ECONNABORTED || APR_STATUS_IS_TIMEUP(rv)) {
            f->c->aborted = 1;
        }
        ap_log_cerror(APLOG_MARK, APLOG_DEBUG, rv, f->c, APLOGNO(10711)
                      "h2x: stream %u: response output failed", hs->id);
        apr_brigade_cleanup(bb);
        return rv;
    }

    /* what came in one pass goes out now; merging waits for a FLUSH only
     * inside one brigade */
    h2x_apache_out_push(hs, 0);

    return APR_SUCCESS;
}


/* --- H2X_NET_IN -------------------------------------------------------- */

static apr_status_t
h2x_apache_stage_grow(h2x_apache_stream_t *hs, apr_size_t need)
{
    char        *p;
    apr_size_t   size;

    if (hs->stage_len + need <= hs->stage_size) {
        return APR_SUCCESS;
    }

    size = hs->stage_size ? hs->stage_size : 16384;
    while (size < hs->stage_len + need) {
        size *= 2;
    }

    p = realloc(hs->stage, size);
    if (p == NULL) {
        return APR_ENOMEM;
    }

    hs->stage = p;
    hs->stage_size = size;

    return APR_SUCCESS;
}


/*
 * Move request bytes from the shared queue to the stage, framed by the
 * engine when chunked.  Under lock.
 */
static apr_status_t
h2x_apache_in_take(h2x_apache_stream_t *hs)
{
    h2x_apache_chunk_t  *ch;
    h2x_apache_block_t  *t;
    apr_size_t           n, i, need, taken;

    ch = hs->in_head;

    if (ch != NULL) {
        n = ch->len - ch->pos;

        /* room for a whole chunk: size line, data, CRLF */
        if (h2x_apache_stage_grow(hs, n + 24) != APR_SUCCESS) {
            return APR_ENOMEM;
        }

        if (hs->chunked_in) {
            taken = n;
            hs->stage_len += h2x_chunked_frame(&hs->chunking,
                                 (uint8_t *) hs->stage + hs->stage_len,
                                 hs->stage_size - hs->stage_len,
                                 ch->data + ch->pos, &taken, 0, NULL, 0);

        } else {
            memcpy(hs->stage + hs->stage_len, ch->data + ch->pos, n);
            hs->stage_len += n;
        }

        hs->in_head = ch->next;
        if (hs->in_head == NULL) {
            hs->in_tail = NULL;
        }
        free(ch);

        /* taken by the handler's reader: the c1 thread credits it */
        hs->in_consumed += n;
        h2x_apache_stream_mark(hs);

        return APR_SUCCESS;
    }

    /* end of the body: the last chunk and the trailers as chunk trailers */
    t = hs->in_trailers;
    need = 8;
    for (i = 0; t && i < t->n; i++) {
        need += t->fields[i].name_len + t->fields[i].value_len + 4;
    }

    if (h2x_apache_stage_grow(hs, need) != APR_SUCCESS) {
        return APR_ENOMEM;
    }

    taken = 0;
    hs->stage_len += h2x_chunked_frame(&hs->chunking,
                         (uint8_t *) hs->stage + hs->stage_len,
                         hs->stage_size - hs->stage_len, NULL, &taken, 1,
                         t ? t->fields : NULL, t ? t->n : 0);

    return APR_SUCCESS;
}


static apr_status_t
h2x_apache_in_fill(h2x_apache_stream_t *hs, apr_read_type_e block)
{
    h2x_apache_conn_t  *hc = hs->conn;
    apr_status_t        rv;

    hs->stage_pos = 0;
    hs->stage_len = 0;

    apr_thread_mutex_lock(hc->mutex);

    for ( ;; ) {
        if (hs->aborted) {
            rv = APR_ECONNABORTED;
            break;
        }

        if (hs->in_head) {
            rv = h2x_apache_in_take(hs);
            break;
        }

        if (hs->in_eos) {
            if (hs->chunked_in && !h2x_chunked_done(&hs->chunking)) {
                rv = h2x_apache_in_take(hs);
            } else {
                rv = APR_EOF;
            }
            break;
        }

        if (block == APR_NONBLOCK_READ) {
            rv = APR_EAGAIN;
            break;
        }

        hs->waiting = 1;
        rv = apr_thread_cond_timedwait(hs->cond, hc->mutex, hs->timeout);
        hs->waiting = 0;
        if (APR_STATUS_IS_TIMEUP(rv)) {
            break;
        }
    }

    apr_thread_mutex_unlock(hc->mutex);

    return rv;
}


static apr_status_t
h2x_apache_net_in(ap_filter_t *f, apr_bucket_brigade *bb,
                  ap_input_mode_t mode, apr_read_type_e block,
                  apr_off_t readbytes)
{
    h2x_apache_stream_t  *hs = f->ctx;
    apr_size_t            avail, n;
    apr_status_t          rv;
    const char           *p, *lf;

    if (mode == AP_MODE_INIT) {
        return APR_SUCCESS;
    }

    if (hs->stage_pos >= hs->stage_len) {
        rv = h2x_apache_in_fill(hs, block);
        if (rv != APR_SUCCESS) {
            if (rv == APR_ECONNABORTED) {
                f->c->aborted = 1;
            }
            if (rv == APR_EOF) {
                APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(
                                                f->c->bucket_alloc));
                return APR_SUCCESS;
            }
            return rv;
        }
    }

    p = hs->stage + hs->stage_pos;
    avail = hs->stage_len - hs->stage_pos;

    switch (mode) {

    case AP_MODE_GETLINE:
        lf = memchr(p, '\n', avail);
        n = lf ? (apr_size_t) (lf - p) + 1 : avail;
        break;

    case AP_MODE_EXHAUSTIVE:
        n = avail;
        break;

    default:
        n = (readbytes > 0 && (apr_size_t) readbytes < avail)
            ? (apr_size_t) readbytes : avail;
        break;
    }

    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_heap_create(p, n, NULL,
                                                       f->c->bucket_alloc));

    if (mode != AP_MODE_SPECULATIVE) {
        hs->stage_pos += n;
    }

    return APR_SUCCESS;
}


/* --- registration ------------------------------------------------------ */

void
h2x_apache_filters_add_c2(conn_rec *c2, h2x_apache_stream_t *hs)
{
    ap_add_input_filter_handle(h2x_apache_net_in_handle, hs, NULL, c2);
    ap_add_output_filter_handle(h2x_apache_net_out_handle, hs, NULL, c2);
}


void
h2x_apache_filters_register(void)
{
    h2x_apache_net_in_handle =
        ap_register_input_filter(H2X_APACHE_NET_IN, h2x_apache_net_in, NULL,
                                 AP_FTYPE_NETWORK);
    h2x_apache_net_out_handle =
        ap_register_output_filter(H2X_APACHE_NET_OUT, h2x_apache_net_out,
                                  NULL, AP_FTYPE_NETWORK);
    (void) ap_register_output_filter(H2X_APACHE_RESPONSE,
                                     h2x_apache_response_filter, NULL,
                                     AP_FTYPE_PROTOCOL);
}
