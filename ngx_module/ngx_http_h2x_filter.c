/*
 * Responses of h2x streams.
 *
 * The header filter sits where ngx_http_v2_filter_module sits (after
 * gzip, add_header and the other header filters; see the addon "config")
 * and does what the builtin's does: header_only for HEAD/204/304,
 * absolute Location, Server, Date, charset, no connection-specific
 * fields.  It submits the HEADERS to the engine and never calls the next
 * filter (chunked and the HTTP/1 header filter) for our streams.
 *
 * The body arrives through the fake connection's send_chain at the end
 * of the filter chain.  Each buf becomes an engine chunk that points at
 * the buf's memory or file range (never copied); the original buf is
 * advanced only when the engine releases the chunk, so that output_chain
 * and upstream buffers stay busy until the bytes have left, and the
 * connection's NGX_HTTP_H2X_BUFFERED bit keeps the request from ending
 * before.  Above a per-stream high-water mark of queued bytes the chain
 * is returned unsent with the write event not ready: nginx arms
 * send_timeout and waits for our wake-up (back-pressure).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <nginx.h>

#include "ngx_http_h2x_module.h"


static ngx_int_t ngx_http_h2x_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_h2x_location(ngx_http_request_t *r);
static ngx_int_t ngx_http_h2x_trailers(ngx_http_request_t *r,
    ngx_http_h2x_stream_t *stream, ngx_uint_t *sent);
static void ngx_http_h2x_log_dropped(ngx_http_request_t *r, h2x_header_t *h,
    ngx_uint_t n);
static ngx_int_t ngx_http_h2x_header_too_large(ngx_http_request_t *r,
    ngx_http_h2x_stream_t *stream, h2x_header_t *h, ngx_uint_t n);
static ngx_http_h2x_ref_t *ngx_http_h2x_get_ref(
    ngx_http_h2x_connection_t *h2c);
static void ngx_http_h2x_free_ref(ngx_http_h2x_connection_t *h2c,
    ngx_http_h2x_ref_t *ref);
static void ngx_http_h2x_wake_writer(ngx_http_h2x_stream_t *stream);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;

/* the last Last-Modified formatted in this worker */
static time_t   ngx_http_h2x_last_modified_time = -1;
static size_t   ngx_http_h2x_last_modified_len;
static u_char   ngx_http_h2x_last_modified[
                    sizeof("Wed, 31 Dec 1986 18:00:00 GMT")];


ngx_int_t
ngx_http_h2x_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_h2x_header_filter;

    return NGX_OK;
}


#define ngx_http_h2x_field(hf, n, nl, v, vl)                                  \
    (hf)->name = (const uint8_t *) (n);                                       \
    (hf)->name_len = (nl);                                                    \
    (hf)->value = (const uint8_t *) (v);                                      \
    (hf)->value_len = (vl);                                                   \
    (hf)->flags = 0


static ngx_int_t
ngx_http_h2x_header_filter(ngx_http_request_t *r)
{
    u_char                     *p;
    size_t                      size;
    uint64_t                    dropped;
    ngx_int_t                   rc;
    ngx_uint_t                  i, n, status;
    ngx_list_part_t            *part;
    ngx_table_elt_t            *header;
    ngx_connection_t           *fc;
    h2x_header_t               *h, *hf;
    ngx_http_h2x_stream_t      *stream;
    ngx_http_h2x_connection_t  *h2c;
    ngx_http_h2x_loc_conf_t    *h2xlcf;
    ngx_http_core_loc_conf_t   *clcf;

    stream = ngx_http_h2x_stream(r);

    if (stream == NULL) {
        return ngx_http_next_header_filter(r);
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "h2x header filter");

    if (r->header_sent) {
        return NGX_OK;
    }

    r->header_sent = 1;

    if (r != r->main) {
        return NGX_OK;
    }

    fc = r->connection;
    h2c = stream->h2c;

    if (fc->error || stream->aborted || stream->st == NULL) {
        return NGX_ERROR;
    }

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    status = r->headers_out.status;

    switch (status) {

    case NGX_HTTP_OK:
    case NGX_HTTP_PARTIAL_CONTENT:
        break;

    case NGX_HTTP_NO_CONTENT:
        r->header_only = 1;

        ngx_str_null(&r->headers_out.content_type);

        r->headers_out.content_length = NULL;
        r->headers_out.content_length_n = -1;

        r->headers_out.last_modified_time = -1;
        r->headers_out.last_modified = NULL;
        break;

    case NGX_HTTP_NOT_MODIFIED:
        r->header_only = 1;
        break;

    default:
        r->headers_out.last_modified_time = -1;
        r->headers_out.last_modified = NULL;
        break;
    }

    if (status < 200 || status > 599) {
        ngx_log_error(NGX_LOG_ALERT, fc->log, 0,
                      "h2x: invalid response status %ui", status);
        return NGX_ERROR;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->headers_out.location && r->headers_out.location->value.len) {
        if (ngx_http_h2x_location(r) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* room: the fields nginx keeps outside the list, and the list */

    n = 7;

    part = &r->headers_out.headers.part;

    for ( ;; ) {
        n += part->nelts;

        if (part->next == NULL) {
            break;
        }

        part = part->next;
    }

    h = ngx_palloc(r->pool, n * sizeof(h2x_header_t));
    if (h == NULL) {
        return NGX_ERROR;
    }

    hf = h;
    size = 0;

    if (r->headers_out.server == NULL) {
        if (clcf->server_tokens == NGX_HTTP_SERVER_TOKENS_ON) {
            ngx_http_h2x_field(hf, "server", 6, NGINX_VER,
                               sizeof(NGINX_VER) - 1);

        } else if (clcf->server_tokens == NGX_HTTP_SERVER_TOKENS_BUILD) {
            ngx_http_h2x_field(hf, "server", 6, NGINX_VER_BUILD,
                               sizeof(NGINX_VER_BUILD) - 1);

        } else {
            ngx_http_h2x_field(hf, "server", 6, "nginx", 5);
        }

        hf++;
    }

    if (r->headers_out.date == NULL) {
        ngx_http_h2x_field(hf, "date", 4, ngx_cached_http_time.data,
                           ngx_cached_http_time.len);
        hf++;
    }

    if (r->headers_out.content_type.len) {
        if (r->headers_out.content_type_len == r->headers_out.content_type.len
            && r->headers_out.charset.len)
        {
            size = r->headers_out.content_type.len + sizeof("; charset=") - 1
                   + r->headers_out.charset.len;

            p = ngx_pnalloc(r->pool, size);
            if (p == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(p, "%V; charset=%V", &r->headers_out.content_type,
                        &r->headers_out.charset);

            /* update for possible logging */
            r->headers_out.content_type.len = size;
            r->headers_out.content_type.data = p;
        }

        ngx_http_h2x_field(hf, "content-type", 12,
                           r->headers_out.content_type.data,
                           r->headers_out.content_type.len);
        hf++;
    }

    if (r->headers_out.content_length == NULL
        && r->headers_out.content_length_n >= 0)
    {
        p = ngx_pnalloc(r->pool, NGX_OFF_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        size = ngx_sprintf(p, "%O", r->headers_out.content_length_n) - p;

        ngx_http_h2x_field(hf, "content-length", 14, p, size);
        hf++;
    }

    if (r->headers_out.last_modified == NULL
        && r->headers_out.last_modified_time != -1)
    {
        /* static files repeat the same few times: format each once */

        if (r->headers_out.last_modified_time
            != ngx_http_h2x_last_modified_time)
        {
            ngx_http_h2x_last_modified_len =
                ngx_http_time(ngx_http_h2x_last_modified,
                              r->headers_out.last_modified_time)
                - ngx_http_h2x_last_modified;
            ngx_http_h2x_last_modified_time =
                r->headers_out.last_modified_time;
        }

        /* encoded before this filter returns: the copy can be shared */

        ngx_http_h2x_field(hf, "last-modified", 13,
                           ngx_http_h2x_last_modified,
                           ngx_http_h2x_last_modified_len);
        hf++;
    }

    if (r->headers_out.location && r->headers_out.location->value.len) {
        ngx_http_h2x_field(hf, "location", 8,
                           r->headers_out.location->value.data,
                           r->headers_out.location->value.len);
        hf++;
    }

#if (NGX_HTTP_GZIP)
    if (r->gzip_vary) {
        if (clcf->gzip_vary) {
            ngx_http_h2x_field(hf, "vary", 4, "Accept-Encoding", 15);
            hf++;

        } else {
            r->gzip_vary = 0;
        }
    }
#endif

    part = &r->headers_out.headers.part;
    header = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            header = part->elts;
            i = 0;
        }

        /* the engine leaves out what HTTP/2 does not carry */

        if (header[i].hash == 0) {
            continue;
        }

        p = ngx_pnalloc(r->pool, header[i].key.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(p, header[i].key.data, header[i].key.len);

        ngx_http_h2x_field(hf, p, header[i].key.len, header[i].value.data,
                           header[i].value.len);
        hf++;
    }

    n = hf - h;
    size = 9;

    for (i = 0; i < n; i++) {
        size += h[i].name_len + h[i].value_len + 4;
    }

    h2xlcf = ngx_http_get_module_loc_conf(r, ngx_http_h2x_module);

    if (h2xlcf->chunk_size != NGX_CONF_UNSET_SIZE) {
        h2x_stream_set_chunk_size(stream->st, (uint32_t) h2xlcf->chunk_size);
    }

    dropped = h2x_session_stats(h2c->session)->response_fields_dropped;

    rc = h2x_stream_submit_response(h2c->session, stream->st, status, h, n,
                                    r->header_only);

    if (h2x_session_stats(h2c->session)->response_fields_dropped != dropped) {
        ngx_http_h2x_log_dropped(r, h, n);
    }

    if (rc == H2X_TOO_LARGE) {
        return ngx_http_h2x_header_too_large(r, stream, h, n);
    }

    if (rc != H2X_OK) {
        ngx_log_error(NGX_LOG_ERR, fc->log, 0,
                      "h2x: response header not accepted by the engine");
        return NGX_ERROR;
    }

    stream->header_sent = 1;

    if (r->header_only) {
        stream->out_closed = 1;
    }

    r->header_size = size;
    fc->sent += size;

    ngx_http_h2x_schedule(h2c);

    return NGX_OK;
}


/* fields the engine left out because HTTP/2 cannot carry them */

static void
ngx_http_h2x_log_dropped(ngx_http_request_t *r, h2x_header_t *h, ngx_uint_t n)
{
    ngx_str_t   name;
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (h2x_response_field(&h[i]) < H2X_FIELD_BAD_NAME) {
            continue;
        }

        name.data = (u_char *) h[i].name;
        name.len = h[i].name_len;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "h2x: response header \"%V\" not sent: invalid %s",
                      &name, h2x_response_field(&h[i]) == H2X_FIELD_BAD_NAME
                             ? "name" : "value");
    }
}


/*
 * A header block over h2x_max_response_header_size: logged, and the
 * request ends in a 500 of its own (the special response runs this
 * filter again with the fields cleared) instead of a reset; a second
 * failure resets the stream.
 */

static ngx_int_t
ngx_http_h2x_header_too_large(ngx_http_request_t *r,
    ngx_http_h2x_stream_t *stream, h2x_header_t *h, ngx_uint_t n)
{
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "h2x: response header of %uz bytes for status %ui is "
                  "larger than h2x_max_response_header_size",
                  h2x_response_header_size(h, n), r->headers_out.status);

    if (stream->header_refused) {
        return NGX_ERROR;
    }

    stream->header_refused = 1;

    /* the special response starts from no fields */

    r->headers_out.headers.part.nelts = 0;
    r->headers_out.headers.part.next = NULL;
    r->headers_out.headers.last = &r->headers_out.headers.part;

    ngx_memzero(&r->headers_out.status,
                sizeof(ngx_http_headers_out_t)
                - offsetof(ngx_http_headers_out_t, status));

    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;

    r->header_only = 0;
    r->header_sent = 0;

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/* a relative Location made absolute, as the builtin filters do */

static ngx_int_t
ngx_http_h2x_location(ngx_http_request_t *r)
{
    u_char                    *p;
    ngx_str_t                  host, location;
    ngx_uint_t                 port;
    ngx_connection_t          *fc;
    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_core_srv_conf_t  *cscf;
    u_char                     addr[NGX_SOCKADDR_STRLEN];

    fc = r->connection;
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->headers_out.location->value.data[0] == '/'
        && clcf->absolute_redirect)
    {
        if (clcf->server_name_in_redirect) {
            cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
            host = cscf->server_name;

        } else if (r->headers_in.server.len) {
            host = r->headers_in.server;

        } else {
            host.len = NGX_SOCKADDR_STRLEN;
            host.data = addr;

            if (ngx_connection_local_sockaddr(fc, &host, 0) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        port = ngx_inet_get_port(fc->local_sockaddr);

        location.len = sizeof("https://") - 1 + host.len
                       + r->headers_out.location->value.len;

        if (clcf->port_in_redirect) {
#if (NGX_HTTP_SSL)
            if (fc->ssl) {
                port = (port == 443) ? 0 : port;

            } else
#endif
            {
                port = (port == 80) ? 0 : port;
            }

        } else {
            port = 0;
        }

        if (port) {
            location.len += sizeof(":65535") - 1;
        }

        location.data = ngx_pnalloc(r->pool, location.len);
        if (location.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(location.data, "http", sizeof("http") - 1);

#if (NGX_HTTP_SSL)
        if (fc->ssl) {
            *p++ = 's';
        }
#endif

        *p++ = ':'; *p++ = '/'; *p++ = '/';
        p = ngx_cpymem(p, host.data, host.len);

        if (port) {
            p = ngx_sprintf(p, ":%ui", port);
        }

        p = ngx_cpymem(p, r->headers_out.location->value.data,
                       r->headers_out.location->value.len);

        /* update r->headers_out.location->value for possible logging */

        r->headers_out.location->value.len = p - location.data;
        r->headers_out.location->value.data = location.data;
        ngx_str_set(&r->headers_out.location->key, "Location");
    }

    /* sent from headers_out.location, not again from the list */
    r->headers_out.location->hash = 0;

    return NGX_OK;
}


/* Trailers (add_trailer) after the body; they end the stream. */

static ngx_int_t
ngx_http_h2x_trailers(ngx_http_request_t *r, ngx_http_h2x_stream_t *stream,
    ngx_uint_t *sent)
{
    u_char           *p;
    uint64_t          dropped;
    ngx_int_t         rc;
    ngx_uint_t        i, n;
    h2x_header_t     *h;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *header;

    *sent = 0;
    n = 0;

    part = &r->headers_out.trailers.part;

    if (part->elts == NULL) {
        return NGX_OK;
    }

    for ( ;; ) {
        header = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (header[i].hash != 0 && header[i].key.len) {
                n++;
            }
        }

        if (part->next == NULL) {
            break;
        }

        part = part->next;
    }

    if (n == 0) {
        return NGX_OK;
    }

    h = ngx_palloc(r->pool, n * sizeof(h2x_header_t));
    if (h == NULL) {
        return NGX_ERROR;
    }

    n = 0;
    part = &r->headers_out.trailers.part;

    for ( ;; ) {
        header = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (header[i].hash == 0 || header[i].key.len == 0) {
                continue;
            }

            p = ngx_pnalloc(r->pool, header[i].key.len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            ngx_strlow(p, header[i].key.data, header[i].key.len);

            ngx_http_h2x_field(&h[n], p, header[i].key.len,
                               header[i].value.data, header[i].value.len);
            n++;
        }

        if (part->next == NULL) {
            break;
        }

        part = part->next;
    }

    dropped = h2x_session_stats(stream->h2c->session)->response_fields_dropped;

    rc = h2x_stream_submit_trailers(stream->h2c->session, stream->st, h, n);

    if (h2x_session_stats(stream->h2c->session)->response_fields_dropped
        != dropped)
    {
        ngx_http_h2x_log_dropped(r, h, n);
    }

    if (rc == H2X_TOO_LARGE) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "h2x: response trailers of %uz bytes are larger than "
                      "h2x_max_response_header_size, stream reset",
                      h2x_response_header_size(h, n));
        return NGX_ERROR;
    }

    if (rc != H2X_OK) {
        return NGX_ERROR;
    }

    *sent = 1;

    return NGX_OK;
}


ngx_chain_t *
ngx_http_h2x_send_chain(ngx_connection_t *fc, ngx_chain_t *in, off_t limit)
{
    off_t                       size, off, total;
    u_char                     *tmp;
    ssize_t                     n;
    ngx_buf_t                  *b;
    ngx_uint_t                  last, end, trailers;
    ngx_chain_t                *cl, *final;
    h2x_chunk_t                 chunk;
    ngx_http_request_t         *r;
    ngx_http_h2x_ref_t         *ref, **rp;
    ngx_http_h2x_stream_t      *stream;
    ngx_http_h2x_connection_t  *h2c;

    stream = (ngx_http_h2x_stream_t *)
             ((u_char *) fc - offsetof(ngx_http_h2x_stream_t, fc));
    h2c = stream->h2c;
    r = stream->request;

    if (fc->error || stream->aborted || stream->st == NULL || r == NULL) {
        return NGX_CHAIN_ERROR;
    }

    /* the last buf with data, and whether the chain ends the response */

    last = 0;
    final = NULL;

    for (cl = in; cl; cl = cl->next) {
        if (ngx_buf_size(cl->buf) > 0 && !ngx_buf_special(cl->buf)) {
            final = cl;
        }

        if (cl->buf->last_buf) {
            last = 1;
        }
    }

    if (stream->out_closed) {
        /* header_only, or the end is queued: nothing more goes out */

        for (cl = in; cl; cl = cl->next) {
            b = cl->buf;

            if (ngx_buf_in_memory(b)) {
                b->pos = b->last;
            }

            if (b->in_file) {
                b->file_pos = b->file_last;
            }
        }

        goto done;
    }

    if (!stream->header_sent) {
        ngx_log_error(NGX_LOG_ALERT, fc->log, 0,
                      "h2x: response body before its header");
        return NGX_CHAIN_ERROR;
    }

    rp = &stream->refs;

    while (*rp) {
        rp = &(*rp)->next;
    }

    total = 0;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_special(b)) {
            continue;
        }

        size = ngx_buf_size(b);

        if (b == stream->partial) {
            off = ngx_buf_in_memory(b) ? stream->partial_pos - b->pos
                                       : stream->partial_file_pos
                                         - b->file_pos;
            if (off < 0 || off > size) {
                off = 0;
            }

        } else {
            off = 0;
        }

        size -= off;

        if (size <= 0) {
            continue;
        }

        if (h2x_stream_queued(stream->st) >= h2c->high_water) {
            /* back-pressure: the rest when the engine has sent more */
            fc->write->ready = 0;
            fc->write->active = 1;
            goto blocked;
        }

        if (limit && total + size > limit) {
            size = limit - total;

            if (size <= 0) {
                goto blocked;
            }
        }

        ref = ngx_http_h2x_get_ref(h2c);
        if (ref == NULL) {
            return NGX_CHAIN_ERROR;
        }

        ref->stream = stream;
        ref->buf = b;
        ref->len = (size_t) size;

        ngx_memzero(&chunk, sizeof(h2x_chunk_t));
        chunk.ref = ref;
        chunk.len = (size_t) size;

        if (ngx_buf_in_memory(b)) {
            ref->base = b->pos + off;
            ref->pos_end = ref->base + size;
            ref->file_end = b->in_file ? b->file_pos + off + size : -1;

            chunk.data = ref->base;

        } else if (fc->ssl && !fc->ssl->sendfile) {
            /* TLS without kernel TLS takes memory */

            tmp = ngx_pnalloc(r->pool, (size_t) size);
            if (tmp == NULL) {
                ngx_http_h2x_free_ref(h2c, ref);
                return NGX_CHAIN_ERROR;
            }

            n = ngx_read_file(b->file, tmp, (size_t) size, b->file_pos + off);

            if (n != (ssize_t) size) {
                ngx_log_error(NGX_LOG_ALERT, fc->log, 0,
                              "h2x: read %z of %O from \"%V\"",
                              n, size, &b->file->name);
                ngx_http_h2x_free_ref(h2c, ref);
                return NGX_CHAIN_ERROR;
            }

            ref->base = tmp;
            ref->pos_end = NULL;
            ref->file_end = b->file_pos + off + size;

            chunk.data = tmp;

        } else {
            ref->in_file = 1;
            ref->file = *b->file;
            ref->pos_end = NULL;
            ref->file_end = b->file_pos + off + size;

#if (NGX_THREADS)
            /* aio threads: never a sendfile task on the main connection */
            ref->file.thread_handler = NULL;
            ref->file.thread_ctx = NULL;
#endif

            chunk.data = NULL;
            chunk.offset = (uint64_t) (b->file_pos + off);
        }

        end = (cl == final && last && off + size == ngx_buf_size(b)
               && r->headers_out.trailers.part.nelts == 0
               && r->headers_out.trailers.part.next == NULL);

        if (h2x_stream_write(h2c->session, stream->st, &chunk, end) != H2X_OK)
        {
            ngx_log_error(NGX_LOG_ERR, fc->log, 0,
                          "h2x: body chunk not accepted by the engine");
            ngx_http_h2x_free_ref(h2c, ref);
            return NGX_CHAIN_ERROR;
        }

        *rp = ref;
        rp = &ref->next;
        stream->nrefs++;

        total += size;

        if (end) {
            stream->out_closed = 1;
        }

        if (off + size < ngx_buf_size(b)) {
            /* partly taken: the write filter gives it back */
            stream->partial = b;
            stream->partial_pos = ref->pos_end;
            stream->partial_file_pos = ref->file_end;

            fc->sent += total;
            goto blocked;
        }

        stream->partial = NULL;
    }

    fc->sent += total;

    if (last && !stream->out_closed) {
        if (ngx_http_h2x_trailers(r, stream, &trailers) != NGX_OK) {
            return NGX_CHAIN_ERROR;
        }

        if (!trailers) {
            ngx_memzero(&chunk, sizeof(h2x_chunk_t));

            if (h2x_stream_write(h2c->session, stream->st, &chunk, 1)
                != H2X_OK)
            {
                return NGX_CHAIN_ERROR;
            }
        }

        stream->out_closed = 1;
    }

done:

    if (stream->nrefs) {
        fc->buffered |= NGX_HTTP_H2X_BUFFERED;

    } else {
        fc->buffered &= ~NGX_HTTP_H2X_BUFFERED;
    }

    ngx_http_h2x_schedule(h2c);

    return NULL;

blocked:

    if (stream->nrefs) {
        fc->buffered |= NGX_HTTP_H2X_BUFFERED;
    }

    ngx_http_h2x_schedule(h2c);

    return cl;
}


static ngx_http_h2x_ref_t *
ngx_http_h2x_get_ref(ngx_http_h2x_connection_t *h2c)
{
    ngx_http_h2x_ref_t  *ref;

    ref = h2c->free_refs;

    if (ref) {
        h2c->free_refs = ref->next;

    } else {
        ref = ngx_http_h2x_palloc(h2c, sizeof(ngx_http_h2x_ref_t));
        if (ref == NULL) {
            return NULL;
        }
    }

    ngx_memzero(ref, sizeof(ngx_http_h2x_ref_t));
    h2c->nrefs++;

    return ref;
}


static void
ngx_http_h2x_free_ref(ngx_http_h2x_connection_t *h2c, ngx_http_h2x_ref_t *ref)
{
    ref->next = h2c->free_refs;
    h2c->free_refs = ref;
    h2c->nrefs--;
}


/* The engine no longer refers to a chunk: sent, or dropped by a reset. */

void
ngx_http_h2x_on_chunk_release(h2x_session_t *s, h2x_stream_t *st, void *data,
    void *user)
{
    ngx_http_h2x_connection_t *h2c = user;

    ngx_buf_t              *b;
    ngx_http_h2x_ref_t     *ref, **rp;
    ngx_http_h2x_stream_t  *stream;

    ref = data;

    if (ref == NULL) {
        return;
    }

    stream = ref->stream;

    if (stream == NULL) {
        /* detached from a request that is gone */

        if (ref->copy) {
            ngx_pfree(h2c->connection->pool, ref->copy);
        }

        if (ref->cln) {
            ref->cln->handler(ref->cln->data);
            ref->cln->handler = NULL;
        }

        ngx_http_h2x_free_ref(h2c, ref);
        return;
    }

    b = ref->buf;

    if (ref->pos_end && ref->pos_end > b->pos) {
        b->pos = ref->pos_end;
    }

    if (ref->file_end != -1 && ref->file_end > b->file_pos) {
        b->file_pos = ref->file_end;
    }

    for (rp = &stream->refs; *rp; rp = &(*rp)->next) {
        if (*rp == ref) {
            *rp = ref->next;
            stream->nrefs--;
            break;
        }
    }

    ngx_http_h2x_free_ref(h2c, ref);

    ngx_http_h2x_wake_writer(stream);
}


void
ngx_http_h2x_on_writable(h2x_session_t *s, h2x_stream_t *st, void *user)
{
    ngx_http_h2x_stream_t  *stream;

    stream = h2x_stream_get_data(st);

    if (stream) {
        ngx_http_h2x_wake_writer(stream);
    }
}


static void
ngx_http_h2x_wake_writer(ngx_http_h2x_stream_t *stream)
{
    ngx_connection_t  *fc;

    fc = &stream->fc;

    if (stream->request == NULL || fc->destroyed) {
        return;
    }

    fc->write->ready = 1;
    ngx_post_event(fc->write, &ngx_posted_events);
}


/*
 * The request is being freed while the engine still holds chunks of it
 * (half-written frames): the connection takes copies of the memory and
 * duplicates of the file descriptors until the engine lets go.
 */

void
ngx_http_h2x_detach_refs(ngx_http_h2x_stream_t *stream)
{
    ngx_fd_t                    fd;
    ngx_connection_t           *c;
    ngx_pool_cleanup_t         *cln;
    ngx_http_h2x_ref_t         *ref;
    ngx_pool_cleanup_file_t    *clnf;
    ngx_http_h2x_connection_t  *h2c;

    h2c = stream->h2c;
    c = h2c->connection;

    for (ref = stream->refs; ref; ref = ref->next) {
        ref->stream = NULL;

        if (!ref->in_file) {
            ref->copy = ngx_pnalloc(c->pool, ref->len);

            if (ref->copy == NULL) {
                /* the connection cannot finish the frame */
                h2c->dead = 1;
                continue;
            }

            ngx_memcpy(ref->copy, ref->base, ref->len);
            continue;
        }

        fd = dup(ref->file.fd);

        cln = ngx_pool_cleanup_add(c->pool, sizeof(ngx_pool_cleanup_file_t));

        if (fd == NGX_INVALID_FILE || cln == NULL) {
            ngx_log_error(NGX_LOG_ALERT, c->log, ngx_errno,
                          "h2x: dup() of \"%V\" failed", &ref->file.name);
            if (fd != NGX_INVALID_FILE) {
                (void) ngx_close_file(fd);
            }

            h2c->dead = 1;
            continue;
        }

        clnf = cln->data;
        clnf->fd = fd;
        clnf->name = (u_char *) "h2x detached file";
        clnf->log = c->log;

        cln->handler = ngx_pool_cleanup_file;

        ref->file.fd = fd;
        ref->file.log = c->log;
        ngx_str_set(&ref->file.name, "h2x detached file");
        ref->cln = cln;
    }

    stream->refs = NULL;
    stream->nrefs = 0;
    stream->partial = NULL;
}
