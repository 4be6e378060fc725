/*
 * Streams: each request stream runs as an ngx_http_request_t on a fake
 * connection through nginx's whole phase engine.
 *
 * The fake connection is a copy of the main one (same descriptor, marked
 * shared, events marked active so that nginx never registers it with the
 * event loop) with its own events, log, pool and our recv/send/send_chain.
 * It lives in a stream object owned by the main connection, so that it
 * outlives every nginx call stack that may still look at it.
 *
 * Without r->stream nginx ends every request by closing its connection.
 * Three hooks turn that into the end of a stream:
 *
 *   r->cleanup         the last moment the request's buffers and files are
 *                      valid: a response cut short is reset, and chunks the
 *                      engine has half written are detached (copied);
 *   r->pool cleanup    after the access log: the fake connection lets go of
 *                      the real SSL object, its timers and posted events,
 *                      and its descriptor becomes -1 so that nginx's close
 *                      neither closes the socket nor frees a slot;
 *   fc->pool cleanup   the stream is gone: release it in the engine, undo
 *                      the active connection count, recycle the object.
 *
 * A stream's request body is read by nginx's own body reader through
 * the fake recv(), from the bytes on_data delivered (framed as chunked
 * encoding by the engine's h2x_chunked_frame() when the request has no
 * content-length).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_h2x_module.h"


static ngx_http_h2x_stream_t *ngx_http_h2x_get_stream(
    ngx_http_h2x_connection_t *h2c);
static ngx_int_t ngx_http_h2x_init_fake_connection(
    ngx_http_h2x_stream_t *stream);
static ngx_http_request_t *ngx_http_h2x_create_request(
    ngx_http_h2x_stream_t *stream);
static ngx_int_t ngx_http_h2x_request_headers(ngx_http_request_t *r,
    const h2x_request_t *req);
static ngx_int_t ngx_http_h2x_add_header(ngx_http_request_t *r,
    ngx_http_core_main_conf_t *cmcf, const u_char *name, size_t name_len,
    const u_char *value, size_t value_len);
static u_char *ngx_http_h2x_copy(ngx_pool_t *pool, const char *data,
    size_t len);
static ngx_uint_t ngx_http_h2x_method(ngx_str_t *name);
static void ngx_http_h2x_request_cleanup(void *data);
static void ngx_http_h2x_request_pool_cleanup(void *data);
static void ngx_http_h2x_fake_connection_cleanup(void *data);
static void ngx_http_h2x_release(ngx_http_h2x_stream_t *stream);
static ssize_t ngx_http_h2x_recv(ngx_connection_t *fc, u_char *buf,
    size_t size);
static ssize_t ngx_http_h2x_send(ngx_connection_t *fc, u_char *buf,
    size_t size);
static ssize_t ngx_http_h2x_recv_chain_stub(ngx_connection_t *fc,
    ngx_chain_t *in, off_t limit);


ngx_http_h2x_stream_t *
ngx_http_h2x_stream(ngx_http_request_t *r)
{
    ngx_connection_t  *fc;

    fc = r->connection;

    if (fc->send_chain != ngx_http_h2x_send_chain) {
        return NULL;
    }

    return (ngx_http_h2x_stream_t *)
           ((u_char *) fc - offsetof(ngx_http_h2x_stream_t, fc));
}


int
ngx_http_h2x_on_request(h2x_session_t *s, h2x_stream_t *st,
    const h2x_request_t *req, void *user)
{
    ngx_connection_t           *fc;
    ngx_http_request_t         *r;
    ngx_http_h2x_stream_t      *stream;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_h2x_connection_t  *h2c;

    h2c = user;

    /* keepalive_time: as the builtin, this stream is the last one */
    clcf = ngx_http_get_module_loc_conf(h2c->http_connection->conf_ctx,
                                        ngx_http_core_module);

    if (clcf->keepalive_time && !h2c->goaway
        && ngx_current_msec - h2c->connection->start_time
           > clcf->keepalive_time)
    {
        h2c->goaway = 1;
        (void) h2x_session_goaway(s, H2X_NO_ERROR, 1);
    }

    stream = ngx_http_h2x_get_stream(h2c);
    if (stream == NULL) {
        return H2X_ERROR;
    }

    stream->st = st;
    stream->id = h2x_stream_id(st);

    h2x_stream_set_data(st, stream);

    ngx_queue_insert_tail(&h2c->streams, &stream->queue);
    h2c->nstreams++;
    h2c->requested = 1;

    if (h2c->connection->read->timer_set) {
        ngx_del_timer(h2c->connection->read);
    }

    ngx_reusable_connection(h2c->connection, 0);

    if (ngx_http_h2x_init_fake_connection(stream) != NGX_OK) {
        goto failed;
    }

    fc = &stream->fc;

    r = ngx_http_h2x_create_request(stream);
    if (r == NULL) {
        /* fc->pool is destroyed: the stream is on its way to release */
        return H2X_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, fc->log, 0,
                   "h2x stream %ui: \"%s\"", stream->id, req->path.data);

    if (ngx_http_h2x_request_headers(r, req) != NGX_OK) {
        /* the request is finalized */
        ngx_http_run_posted_requests(fc);
        return H2X_OK;
    }

    r->http_state = NGX_HTTP_PROCESS_REQUEST_STATE;

    if (ngx_http_h2x_process_request_header(r) != NGX_OK) {
        ngx_http_run_posted_requests(fc);
        return H2X_OK;
    }

    if (r->headers_in.content_length_n > 0 && req->end_stream) {
        ngx_log_error(NGX_LOG_INFO, fc->log, 0,
                      "client prematurely closed stream");
        ngx_http_finalize_request(r, NGX_HTTP_BAD_REQUEST);
        ngx_http_run_posted_requests(fc);
        return H2X_OK;
    }

    if (r->headers_in.content_length_n == -1 && !req->end_stream) {
        /* nginx reads real chunked framing from our recv() */
        r->headers_in.chunked = 1;
        stream->chunked = 1;
    }

    ngx_http_process_request(r);
    ngx_http_run_posted_requests(fc);

    return H2X_OK;

failed:

    stream->next_free = h2c->release;
    h2c->release = stream;

    return H2X_ERROR;
}


static ngx_http_h2x_stream_t *
ngx_http_h2x_get_stream(ngx_http_h2x_connection_t *h2c)
{
    ngx_http_h2x_stream_t  *stream;

    stream = h2c->free_streams;

    if (stream) {
        h2c->free_streams = stream->next_free;

    } else {
        stream = ngx_http_h2x_palloc(h2c, sizeof(ngx_http_h2x_stream_t));
        if (stream == NULL) {
            return NULL;
        }
    }

    ngx_memzero(stream, sizeof(ngx_http_h2x_stream_t));

    stream->h2c = h2c;
    stream->in_use = 1;

    return stream;
}


static ngx_int_t
ngx_http_h2x_init_fake_connection(ngx_http_h2x_stream_t *stream)
{
    ngx_log_t                  *log;
    ngx_event_t                *rev, *wev;
    ngx_connection_t           *c, *fc;
    ngx_pool_cleanup_t         *cln;
    ngx_http_log_ctx_t         *ctx;
    ngx_http_h2x_connection_t  *h2c;

    h2c = stream->h2c;
    c = h2c->connection;

    fc = &stream->fc;
    rev = &stream->rev;
    wev = &stream->wev;
    log = &stream->log;
    ctx = &stream->log_ctx;

    ngx_memcpy(log, c->log, sizeof(ngx_log_t));

    ctx->connection = fc;
    ctx->request = NULL;
    ctx->current_request = NULL;

    log->data = ctx;
    log->action = "reading client request headers";

    /*
     * "active": nginx must never add these events to the event loop
     * (the descriptor is the real one); the engine flips "ready" and
     * posts them itself.  "eof": nginx closes the request instead of
     * keepalive or lingering close, which would act on the real socket.
     */

    rev->data = fc;
    rev->log = log;
    rev->active = 1;
    rev->eof = 1;
    rev->handler = ngx_http_empty_handler;

    wev->data = fc;
    wev->log = log;
    wev->write = 1;
    wev->active = 1;
    wev->ready = 1;
    wev->handler = ngx_http_empty_handler;

    ngx_memcpy(fc, c, sizeof(ngx_connection_t));

    fc->data = h2c->http_connection;
    fc->read = rev;
    fc->write = wev;
    fc->log = log;
    fc->sent = 0;
    fc->buffer = NULL;
    fc->buffered = 0;
    fc->sndlowat = 1;
    fc->tcp_nodelay = NGX_TCP_NODELAY_DISABLED;
    fc->tcp_nopush = NGX_TCP_NOPUSH_DISABLED;
    fc->shared = 1;
    fc->destroyed = 0;
    fc->close = 0;
    fc->idle = 0;
    fc->reusable = 0;
    fc->error = 0;
    fc->timedout = 0;
    fc->need_last_buf = 1;
    ngx_memzero(&fc->queue, sizeof(ngx_queue_t));

    fc->recv = ngx_http_h2x_recv;
    fc->send = ngx_http_h2x_send;
    fc->recv_chain = ngx_http_h2x_recv_chain_stub;
    fc->send_chain = ngx_http_h2x_send_chain;

    fc->pool = ngx_create_pool(512, log);
    if (fc->pool == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(fc->pool, 0);
    if (cln == NULL) {
        ngx_destroy_pool(fc->pool);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_h2x_fake_connection_cleanup;
    cln->data = stream;

    return NGX_OK;
}


static ngx_http_request_t *
ngx_http_h2x_create_request(ngx_http_h2x_stream_t *stream)
{
    ngx_buf_t                  *b;
    ngx_connection_t           *fc;
    ngx_pool_cleanup_t         *cln;
    ngx_http_cleanup_t         *hcln;
    ngx_http_request_t         *r;
    ngx_http_h2x_connection_t  *h2c;

    h2c = stream->h2c;
    fc = &stream->fc;

    r = ngx_http_create_request(fc);
    if (r == NULL) {
        goto failed;
    }

    /* registered first, so it runs last, after the access log */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_free_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        goto failed;
    }

    cln->handler = ngx_http_h2x_request_pool_cleanup;
    cln->data = stream;

    stream->request = r;

    ngx_str_set(&r->http_protocol, "HTTP/2.0");

    r->http_version = NGX_HTTP_VERSION_20;
    r->valid_location = 1;

    fc->data = r;
    h2c->connection->requests++;

    /* no HTTP/1 bytes: no body preread, nothing to linger on */

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        goto fail_request;
    }

    r->header_in = b;

    if (ngx_list_init(&r->headers_in.headers, r->pool, 20,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        goto fail_request;
    }

    r->headers_in.connection_type = NGX_HTTP_CONNECTION_CLOSE;

    hcln = ngx_http_cleanup_add(r, 0);
    if (hcln == NULL) {
        goto fail_request;
    }

    hcln->handler = ngx_http_h2x_request_cleanup;
    hcln->data = stream;

    return r;

fail_request:

    /* the hooks run: the fake connection is closed as after any request */
    ngx_http_free_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    ngx_http_close_connection(fc);
    return NULL;

failed:

    /* the fake connection's pool cleanup releases the stream */

    ngx_destroy_pool(fc->pool);
    return NULL;
}


static ngx_int_t
ngx_http_h2x_request_headers(ngx_http_request_t *r, const h2x_request_t *req)
{
    u_char                     *p, *q;
    size_t                      i, len;
    ngx_connection_t           *fc;
    const h2x_header_t         *h;
    ngx_http_core_main_conf_t  *cmcf;

    fc = r->connection;
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    r->method_name.data = ngx_http_h2x_copy(r->pool, req->method.data,
                                            req->method.len);
    r->schema.data = ngx_http_h2x_copy(r->pool, req->scheme.data,
                                       req->scheme.len);
    p = ngx_http_h2x_copy(r->pool, req->path.data, req->path.len);

    if (r->method_name.data == NULL || r->schema.data == NULL || p == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_ERROR;
    }

    r->method_name.len = req->method.len;
    r->schema.len = req->scheme.len;
    r->method = ngx_http_h2x_method(&r->method_name);

    /* "METHOD path HTTP/2.0" for $request and the logs */

    len = req->method.len + 1 + req->path.len + sizeof(" HTTP/2.0") - 1;

    r->request_line.data = ngx_pnalloc(r->pool, len + 1);
    if (r->request_line.data == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_ERROR;
    }

    /* no ngx_sprintf(): this runs for every request */
    q = ngx_cpymem(r->request_line.data, r->method_name.data,
                   r->method_name.len);
    *q++ = ' ';
    q = ngx_cpymem(q, p, req->path.len);
    q = ngx_cpymem(q, " HTTP/2.0", sizeof(" HTTP/2.0") - 1);
    *q = '\0';

    r->request_line.len = q - r->request_line.data;

    r->request_start = r->request_line.data;
    r->request_end = r->request_line.data + r->request_line.len;
    r->method_end = r->request_line.data + r->method_name.len - 1;
    r->request_length = r->request_line.len + 2;

    fc->log->action = "processing request";

    if (r->method == NGX_HTTP_CONNECT || req->path.len == 0) {
        ngx_log_error(NGX_LOG_INFO, fc->log, 0, "client sent %V method",
                      &r->method_name);
        ngx_http_finalize_request(r, NGX_HTTP_NOT_ALLOWED);
        return NGX_ERROR;
    }

    r->uri_start = p;
    r->uri_end = p + req->path.len;

    if (ngx_http_parse_uri(r) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, fc->log, 0,
                      "client sent invalid :path header: \"%s\"", p);
        ngx_http_finalize_request(r, NGX_HTTP_BAD_REQUEST);
        return NGX_ERROR;
    }

    if (ngx_http_process_request_uri(r) != NGX_OK) {
        /* finalized already */
        return NGX_ERROR;
    }

    if (req->authority.len) {
        if (ngx_http_h2x_add_header(r, cmcf, (u_char *) "host", 4,
                                    (u_char *) req->authority.data,
                                    req->authority.len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < req->nheaders; i++) {
        h = &req->headers[i];

        if (req->authority.len && h->name_len == 4
            && ngx_strncmp(h->name, "host", 4) == 0)
        {
            if (h->value_len != req->authority.len
                || ngx_memcmp(h->value, req->authority.data, h->value_len)
                   != 0)
            {
                ngx_log_error(NGX_LOG_INFO, fc->log, 0,
                              "client sent \":authority\" and \"Host\" "
                              "headers with different values");
                ngx_http_finalize_request(r, NGX_HTTP_BAD_REQUEST);
                return NGX_ERROR;
            }

            /* the authority is :authority, or this very field */
            continue;
        }

        if (ngx_http_h2x_add_header(r, cmcf, h->name, h->name_len,
                                    h->value, h->value_len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_h2x_add_header(ngx_http_request_t *r,
    ngx_http_core_main_conf_t *cmcf, const u_char *name, size_t name_len,
    const u_char *value, size_t value_len)
{
    ngx_table_elt_t    *h;
    ngx_http_header_t  *hh;

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_ERROR;
    }

    /* NUL-terminated: parts of nginx scan them as C strings */

    h->key.data = ngx_http_h2x_copy(r->pool, (const char *) name, name_len);
    h->value.data = ngx_http_h2x_copy(r->pool, (const char *) value,
                                      value_len);

    if (h->key.data == NULL || h->value.data == NULL) {
        h->hash = 0;
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_ERROR;
    }

    h->key.len = name_len;
    h->value.len = value_len;
    h->lowcase_key = h->key.data;
    h->hash = ngx_hash_key(h->key.data, h->key.len);

    r->request_length += name_len + 2 + value_len + 2;

    hh = ngx_hash_find(&cmcf->headers_in_hash, h->hash, h->lowcase_key,
                       h->key.len);

    if (hh && hh->handler(r, h, hh->offset) != NGX_OK) {
        /* the request is finalized */
        return NGX_ERROR;
    }

    return NGX_OK;
}


static u_char *
ngx_http_h2x_copy(ngx_pool_t *pool, const char *data, size_t len)
{
    u_char  *p;

    p = ngx_pnalloc(pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, data, len);
    p[len] = '\0';

    return p;
}


static ngx_uint_t
ngx_http_h2x_method(ngx_str_t *name)
{
    ngx_uint_t  i;

    static const struct {
        ngx_str_t   name;
        ngx_uint_t  method;
    } methods[] = {
        { ngx_string("GET"), NGX_HTTP_GET },
        { ngx_string("HEAD"), NGX_HTTP_HEAD },
        { ngx_string("POST"), NGX_HTTP_POST },
        { ngx_string("PUT"), NGX_HTTP_PUT },
        { ngx_string("DELETE"), NGX_HTTP_DELETE },
        { ngx_string("OPTIONS"), NGX_HTTP_OPTIONS },
        { ngx_string("PATCH"), NGX_HTTP_PATCH },
        { ngx_string("MKCOL"), NGX_HTTP_MKCOL },
        { ngx_string("COPY"), NGX_HTTP_COPY },
        { ngx_string("MOVE"), NGX_HTTP_MOVE },
        { ngx_string("PROPFIND"), NGX_HTTP_PROPFIND },
        { ngx_string("PROPPATCH"), NGX_HTTP_PROPPATCH },
        { ngx_string("LOCK"), NGX_HTTP_LOCK },
        { ngx_string("UNLOCK"), NGX_HTTP_UNLOCK },
        { ngx_string("TRACE"), NGX_HTTP_TRACE },
        { ngx_string("CONNECT"), NGX_HTTP_CONNECT }
    };

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (name->len == methods[i].name.len
            && ngx_strncmp(name->data, methods[i].name.data, name->len) == 0)
        {
            return methods[i].method;
        }
    }

    return NGX_HTTP_UNKNOWN;
}


/*
 * The client reset the stream, or the connection is lost: the request
 * sees an error on both events (499 for upstreams, 400 while reading a
 * body), and the connection stays until its last stream is released.
 */

void
ngx_http_h2x_abort_stream(ngx_http_h2x_stream_t *stream)
{
    ngx_connection_t           *fc;
    ngx_http_h2x_connection_t  *h2c;

    if (stream->aborted || stream->released) {
        return;
    }

    stream->aborted = 1;

    h2c = stream->h2c;
    fc = &stream->fc;

    if (!stream->closed && stream->st) {
        /* drops the chunks not yet in the output */
        stream->closed = 1;
        (void) h2x_stream_reset(h2c->session, stream->st, H2X_CANCEL);
    }

    if (stream->request == NULL || fc->destroyed) {
        return;
    }

    fc->error = 1;

    fc->read->ready = 1;
    fc->read->pending_eof = 1;
    fc->write->ready = 1;

    ngx_post_event(fc->read, &ngx_posted_events);
    ngx_post_event(fc->write, &ngx_posted_events);
}


void
ngx_http_h2x_on_stream_close(h2x_session_t *s, h2x_stream_t *st,
    uint32_t code, void *user)
{
    ngx_http_h2x_stream_t  *stream;

    stream = h2x_stream_get_data(st);

    if (stream == NULL || stream->closed) {
        return;
    }

    stream->closed = 1;
    stream->close_code = code;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, stream->fc.log, 0,
                   "h2x stream %ui closed: %s", stream->id,
                   h2x_error_code_name(code));

    if (code != H2X_NO_ERROR) {
        ngx_http_h2x_abort_stream(stream);
        return;
    }

    ngx_http_h2x_wake_body(stream);
}


void
ngx_http_h2x_wake_body(ngx_http_h2x_stream_t *stream)
{
    ngx_connection_t  *fc;

    fc = &stream->fc;
    stream->body_wait = 0;

    if (stream->request == NULL || fc->destroyed) {
        return;
    }

    fc->read->ready = 1;
    ngx_post_event(fc->read, &ngx_posted_events);
}


/* hook 1: request memory and files are still valid */

static void
ngx_http_h2x_request_cleanup(void *data)
{
    ngx_http_h2x_stream_t *stream = data;

    uint32_t                    code;
    ngx_connection_t           *fc;
    ngx_http_h2x_connection_t  *h2c;

    h2c = stream->h2c;
    fc = &stream->fc;

    /* as the builtin: a timed out stream is reset with PROTOCOL_ERROR */
    code = fc->error ? H2X_CANCEL
                     : fc->timedout ? H2X_PROTOCOL_ERROR : H2X_INTERNAL_ERROR;

    /* a send_timeout must not reset the real socket (SO_LINGER) */
    fc->timedout = 0;

    if (!stream->closed && stream->st
        && (stream->nrefs
            || (code == H2X_PROTOCOL_ERROR && stream->request
                && !stream->request->header_sent)))
    {
        /* a response cut short: drop what is not in the output yet */
        stream->closed = 1;
        (void) h2x_stream_reset(h2c->session, stream->st, code);
        ngx_http_h2x_schedule(h2c);
    }

    if (stream->nrefs) {
        ngx_http_h2x_detach_refs(stream);
    }
}


/* hook 2: after the access log, before nginx closes the fake connection */

static void
ngx_http_h2x_request_pool_cleanup(void *data)
{
    ngx_http_h2x_stream_t *stream = data;

    ngx_connection_t  *fc;

    fc = &stream->fc;

    stream->request = NULL;

    /* the SSL object is the main connection's */
    fc->ssl = NULL;

    if (fc->read->timer_set) {
        ngx_del_timer(fc->read);
    }

    if (fc->write->timer_set) {
        ngx_del_timer(fc->write);
    }

    if (fc->read->posted) {
        ngx_delete_posted_event(fc->read);
    }

    if (fc->write->posted) {
        ngx_delete_posted_event(fc->write);
    }

    /* ngx_close_connection() stops at "already closed": no close(), no slot */
    fc->fd = (ngx_socket_t) -1;
    fc->log->log_level = NGX_LOG_EMERG;
}


/* hook 3: nginx closed the fake connection */

static void
ngx_http_h2x_fake_connection_cleanup(void *data)
{
    ngx_http_h2x_stream_t *stream = data;

    ngx_http_h2x_connection_t  *h2c;

#if (NGX_STAT_STUB)
    if (stream->fc.destroyed) {
        /* ngx_http_close_connection() counted it as a connection */
        (void) ngx_atomic_fetch_add(ngx_stat_active, 1);
    }
#endif

    stream->request = NULL;

    h2c = stream->h2c;

    if (h2c->feeding) {
        /* the engine is inside a callback for this stream, maybe */
        stream->next_free = h2c->release;
        h2c->release = stream;
        return;
    }

    ngx_http_h2x_release(stream);
}


void
ngx_http_h2x_release_deferred(ngx_http_h2x_connection_t *h2c)
{
    ngx_http_h2x_stream_t  *stream;

    while (h2c->release) {
        stream = h2c->release;
        h2c->release = stream->next_free;
        ngx_http_h2x_release(stream);
    }
}


static void
ngx_http_h2x_release(ngx_http_h2x_stream_t *stream)
{
    ngx_http_h2x_connection_t  *h2c;

    h2c = stream->h2c;

    if (!stream->released) {
        stream->released = 1;

        if (stream->queue.next) {
            ngx_queue_remove(&stream->queue);
            h2c->nstreams--;
        }

        if (stream->st) {
            h2x_stream_set_data(stream->st, NULL);
            h2x_stream_release(h2c->session, stream->st);
            stream->st = NULL;
        }
    }

    stream->in_use = 0;
    stream->next_free = h2c->free_streams;
    h2c->free_streams = stream;

    ngx_http_h2x_schedule(h2c);
}


/*
 * Request body bytes as the engine delivers them: kept until nginx's body
 * reader takes them through the fake recv(), which credits the windows
 * (h2x_stream_consumed()).  The buffer grows when needed: the engine may
 * grant up to a frame more than its initial window while a DATA frame is
 * half received.
 */

int
ngx_http_h2x_on_data(h2x_session_t *s, h2x_stream_t *st,
    const uint8_t *data, size_t len, unsigned flags, void *user)
{
    u_char                 *p;
    size_t                  size;
    ngx_http_h2x_stream_t  *stream;

    stream = h2x_stream_get_data(st);

    if (stream == NULL || stream->request == NULL || stream->aborted) {
        /* nobody reads it any more */
        h2x_stream_consumed(s, st, len);
        return H2X_OK;
    }

    if (len) {
        if (stream->body_last + len > stream->body_size
            && stream->body_pos)
        {
            ngx_memmove(stream->body, stream->body + stream->body_pos,
                        stream->body_last - stream->body_pos);
            stream->body_last -= stream->body_pos;
            stream->body_pos = 0;
        }

        if (stream->body_last + len > stream->body_size) {
            size = ngx_max(2 * stream->body_size, stream->body_last + len);
            size = ngx_max(size, 16384);

            if (stream->body == NULL
                && stream->request->headers_in.content_length_n > (off_t) size)
            {
                /* the announced body in one go: no copies while it grows */
                size = (size_t) ngx_min(
                           stream->request->headers_in.content_length_n,
                           NGX_HTTP_H2X_BODY_PREALLOC);
                size = ngx_max(size, stream->body_last + len);
            }

            p = ngx_pnalloc(stream->fc.pool, size);
            if (p == NULL) {
                return H2X_ERROR;
            }

            if (stream->body) {
                ngx_memcpy(p, stream->body, stream->body_last);
                ngx_pfree(stream->fc.pool, stream->body);
            }

            stream->body = p;
            stream->body_size = size;
        }

        ngx_memcpy(stream->body + stream->body_last, data, len);
        stream->body_last += len;
    }

    if (flags & H2X_DATA_END_STREAM) {
        stream->body_end = 1;
    }

    if (stream->body_wait) {
        ngx_http_h2x_wake_body(stream);
    }

    return H2X_OK;
}


int
ngx_http_h2x_on_trailers(h2x_session_t *s, h2x_stream_t *st,
    const h2x_header_t *h, size_t n, void *user)
{
    ngx_http_h2x_stream_t  *stream;

    stream = h2x_stream_get_data(st);

    if (stream) {
        /* request trailers end the body; nginx 1.22 has no use for them */
        stream->body_end = 1;
        ngx_http_h2x_wake_body(stream);
    }

    return H2X_OK;
}


/*
 * The fake connection's recv(), mirroring ngx_unix_recv(): NGX_AGAIN
 * clears "ready", 0 is the end of the body, NGX_ERROR after a reset.
 * Without content-length the body is framed as HTTP/1.1 chunks for
 * nginx's chunked body parser (which also enforces client_max_body_size).
 *
 * A body nginx discards is read to its end too (as the builtin skips
 * DATA), within nginx's lingering_timeout: clients that stop reading the
 * response when the server resets their upload get the whole response.
 */

static ssize_t
ngx_http_h2x_recv(ngx_connection_t *fc, u_char *buf, size_t size)
{
    size_t                      n, avail, w;
    ngx_http_h2x_stream_t      *stream;
    ngx_http_h2x_connection_t  *h2c;

    stream = (ngx_http_h2x_stream_t *)
             ((u_char *) fc - offsetof(ngx_http_h2x_stream_t, fc));
    h2c = stream->h2c;

    if (fc->error || stream->aborted || stream->st == NULL) {
        fc->read->ready = 0;
        return NGX_ERROR;
    }

    avail = stream->body_last - stream->body_pos;

    if (stream->chunked) {
        /*
         * The engine frames it, whatever size nginx asks for (3 bytes
         * for a chunk size line); trailers are not passed on: nginx has
         * no use for request trailers.
         */
        n = avail;
        w = h2x_chunked_frame(&stream->chunking, buf, size,
                              avail ? stream->body + stream->body_pos : NULL,
                              &n, stream->body_end, NULL, 0);

        if (n) {
            stream->body_pos += n;
            h2x_stream_consumed(h2c->session, stream->st, n);
            ngx_http_h2x_schedule(h2c);
        }

        if (w) {
            return w;
        }

        fc->read->ready = 0;

        if (h2x_chunked_done(&stream->chunking)) {
            return 0;
        }

        stream->body_wait = 1;
        return NGX_AGAIN;
    }

    if (avail == 0) {
        fc->read->ready = 0;

        if (!stream->body_end) {
            stream->body_wait = 1;
            return NGX_AGAIN;
        }

        return 0;
    }

    n = ngx_min(avail, size);
    ngx_memcpy(buf, stream->body + stream->body_pos, n);
    stream->body_pos += n;

    h2x_stream_consumed(h2c->session, stream->st, n);
    ngx_http_h2x_schedule(h2c);

    return n;
}


/*
 * nginx 1.22 answers "Expect: 100-continue" with fc->send() of an HTTP/1
 * status line: an interim HEADERS frame instead.
 */

static ssize_t
ngx_http_h2x_send(ngx_connection_t *fc, u_char *buf, size_t size)
{
    ngx_http_h2x_stream_t  *stream;

    stream = (ngx_http_h2x_stream_t *)
             ((u_char *) fc - offsetof(ngx_http_h2x_stream_t, fc));

    if (fc->error || stream->aborted || stream->st == NULL) {
        return NGX_ERROR;
    }

    if (size >= sizeof("HTTP/1.1 100 ") - 1
        && ngx_strncmp(buf, "HTTP/1.1 100 ", sizeof("HTTP/1.1 100 ") - 1)
           == 0)
    {
        if (h2x_stream_submit_response(stream->h2c->session, stream->st, 100,
                                       NULL, 0, 0)
            != H2X_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_h2x_schedule(stream->h2c);

        return size;
    }

    ngx_log_error(NGX_LOG_ALERT, fc->log, 0, "h2x: unexpected raw send");

    return NGX_ERROR;
}


static ssize_t
ngx_http_h2x_recv_chain_stub(ngx_connection_t *fc, ngx_chain_t *in,
    off_t limit)
{
    return NGX_ERROR;
}
