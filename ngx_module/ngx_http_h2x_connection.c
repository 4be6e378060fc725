/*
 * The main connection of an h2x HTTP/2 session: it owns the socket, the
 * session, the receive path, the output path (the engine's segments as a
 * chain for the connection's own send_chain, so that sendfile keeps
 * working on cleartext), the engine's timers, the idle timeout, graceful
 * shutdown and the final close.
 *
 * The main connection outlives every stream: it is closed only from its
 * own event handlers (directly or through a posted event), once no
 * stream is left.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_h2x_module.h"


static void ngx_http_h2x_read_handler(ngx_event_t *rev);
static void ngx_http_h2x_write_handler(ngx_event_t *wev);
static void ngx_http_h2x_timer_handler(ngx_event_t *ev);
static void ngx_http_h2x_feed(ngx_http_h2x_connection_t *h2c, u_char *buf,
    size_t len);
static void ngx_http_h2x_terminate(ngx_http_h2x_connection_t *h2c);
static void ngx_http_h2x_shutdown(ngx_http_h2x_connection_t *h2c);
static void ngx_http_h2x_idle(ngx_http_h2x_connection_t *h2c);
static void ngx_http_h2x_free_idle(ngx_http_h2x_connection_t *h2c);
static void ngx_http_h2x_check_close(ngx_http_h2x_connection_t *h2c);
static void ngx_http_h2x_close(ngx_http_h2x_connection_t *h2c);
static void ngx_http_h2x_lingering_close(ngx_connection_t *c);
static void ngx_http_h2x_lingering_close_handler(ngx_event_t *rev);
static void ngx_http_h2x_set_timer(ngx_http_h2x_connection_t *h2c);
static void ngx_http_h2x_on_goaway(h2x_session_t *s, uint32_t last,
    uint32_t code, void *user);
static void ngx_http_h2x_on_log(h2x_session_t *s, uint32_t stream_id,
    uint32_t code, const char *reason, void *user);
static void *ngx_http_h2x_alloc(size_t size, void *ctx);
static void ngx_http_h2x_free(void *p, void *ctx);


static h2x_callbacks_t  ngx_http_h2x_callbacks = {
    ngx_http_h2x_on_request,
    ngx_http_h2x_on_data,
    ngx_http_h2x_on_trailers,
    ngx_http_h2x_on_stream_close,
    ngx_http_h2x_on_goaway,
    ngx_http_h2x_on_chunk_release,
    ngx_http_h2x_on_writable,
    ngx_http_h2x_on_log
};


static h2x_allocator_t  ngx_http_h2x_allocator = {
    ngx_http_h2x_alloc,
    ngx_http_h2x_free,
    NULL
};


ngx_queue_t         ngx_http_h2x_connections;
ngx_uint_t          ngx_http_h2x_total_connections;

static u_char      *ngx_http_h2x_recv_buffer;
static size_t       ngx_http_h2x_recv_buffer_len;

/*
 * The chain given to send_chain, per worker: it is filled and written
 * in one call of ngx_http_h2x_flush(), which does not nest.
 */
static ngx_buf_t      ngx_http_h2x_bufs[NGX_HTTP_H2X_SEGMENTS];
static ngx_chain_t    ngx_http_h2x_links[NGX_HTTP_H2X_SEGMENTS];
static h2x_segment_t  ngx_http_h2x_segs[NGX_HTTP_H2X_SEGMENTS];


ngx_int_t
ngx_http_h2x_init_worker(ngx_cycle_t *cycle)
{
    ngx_http_h2x_main_conf_t  *h2xmcf;

    ngx_queue_init(&ngx_http_h2x_connections);

    h2xmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_h2x_module);

    if (h2xmcf == NULL || !h2xmcf->enabled) {
        return NGX_OK;
    }

    /*
     * A fake connection shares the real descriptor: with level-triggered
     * event methods nginx would delete the real socket's events through
     * it.  Only edge-triggered methods are safe.
     */

    if (!(ngx_event_flags & NGX_USE_CLEAR_EVENT)) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "h2x needs an edge-triggered event method "
                      "(epoll, kqueue): HTTP/2 is not served by h2x");
        return NGX_OK;
    }

    ngx_http_h2x_recv_buffer_len = h2xmcf->recv_buffer_size;
    ngx_http_h2x_recv_buffer = ngx_palloc(cycle->pool,
                                          ngx_http_h2x_recv_buffer_len);
    if (ngx_http_h2x_recv_buffer == NULL) {
        return NGX_ERROR;
    }

    ngx_http_h2x_usable = 1;

    return NGX_OK;
}


static void *
ngx_http_h2x_alloc(size_t size, void *ctx)
{
    return ngx_alloc(size, ngx_cycle->log);
}


static void
ngx_http_h2x_free(void *p, void *ctx)
{
    if (p) {
        ngx_free(p);
    }
}


static void
ngx_http_h2x_apply_conf(h2x_config_t *cfg, ngx_http_h2x_srv_conf_t *conf)
{
#define ngx_http_h2x_set(field, value, unset)                                 \
    if ((value) != (unset)) {                                                 \
        cfg->field = (value);                                                 \
    }

    ngx_http_h2x_set(max_concurrent_streams, conf->concurrent_streams,
                     NGX_CONF_UNSET_UINT);
    ngx_http_h2x_set(initial_window_size, conf->preread_size,
                     NGX_CONF_UNSET_SIZE);
    ngx_http_h2x_set(connection_window_size, conf->connection_window,
                     NGX_CONF_UNSET_SIZE);
    ngx_http_h2x_set(max_field_size, conf->max_field_size,
                     NGX_CONF_UNSET_SIZE);
    ngx_http_h2x_set(max_header_list_size, conf->max_header_size,
                     NGX_CONF_UNSET_SIZE);
    ngx_http_h2x_set(max_header_fields, conf->max_header_fields,
                     NGX_CONF_UNSET_UINT);
    ngx_http_h2x_set(max_continuations, conf->max_continuations,
                     NGX_CONF_UNSET_UINT);
    ngx_http_h2x_set(header_table_size, conf->header_table_size,
                     NGX_CONF_UNSET_SIZE);
    ngx_http_h2x_set(max_unsent_output, conf->max_unsent_output,
                     NGX_CONF_UNSET_SIZE);
    ngx_http_h2x_set(max_response_header_size, conf->max_response_header,
                     NGX_CONF_UNSET_SIZE);
    ngx_http_h2x_set(max_control_queue, conf->max_control_frames,
                     NGX_CONF_UNSET_UINT);
    ngx_http_h2x_set(max_settings_entries, conf->max_settings_entries,
                     NGX_CONF_UNSET_UINT);
    ngx_http_h2x_set(max_new_streams_per_feed, conf->max_new_streams,
                     NGX_CONF_UNSET_UINT);
    ngx_http_h2x_set(rst_burst, conf->reset_burst, NGX_CONF_UNSET_UINT);
    ngx_http_h2x_set(rst_rate, conf->reset_rate, NGX_CONF_UNSET_UINT);
    ngx_http_h2x_set(glitch_burst, conf->glitch_burst, NGX_CONF_UNSET_UINT);
    ngx_http_h2x_set(glitch_rate, conf->glitch_rate, NGX_CONF_UNSET_UINT);
    ngx_http_h2x_set(max_stream_errors, conf->max_stream_errors,
                     NGX_CONF_UNSET_UINT);
    ngx_http_h2x_set(max_priority_updates, conf->max_priority_updates,
                     NGX_CONF_UNSET_UINT);
    ngx_http_h2x_set(settings_ack_timeout, conf->settings_timeout,
                     NGX_CONF_UNSET_MSEC);
    ngx_http_h2x_set(goaway_ping_timeout, conf->goaway_timeout,
                     NGX_CONF_UNSET_MSEC);

#undef ngx_http_h2x_set

    /* the builtin sends what it is given: a field HTTP/2 cannot carry is
     * left out (and logged), the response still goes (docs/compat.md) */
    cfg->bad_response_field = H2X_BAD_FIELD_DROP;
}


/* The connection is ours from here on: the preface or ALPN said "h2". */

void
ngx_http_h2x_init(ngx_connection_t *c)
{
    h2x_config_t                cfg;
    ngx_event_t                *rev;
    ngx_http_connection_t      *hc;
    ngx_http_h2x_connection_t  *h2c;
    ngx_http_h2x_loc_conf_t    *h2xlcf;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_core_srv_conf_t   *cscf;

    hc = c->data;
    rev = c->read;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "h2x init connection");

    c->log->action = "processing HTTP/2 connection";

    h2c = ngx_pcalloc(c->pool, sizeof(ngx_http_h2x_connection_t));
    if (h2c == NULL) {
        ngx_http_close_connection(c);
        return;
    }

    h2c->connection = c;
    h2c->http_connection = hc;
    h2c->conf = ngx_http_get_module_srv_conf(hc->conf_ctx,
                                             ngx_http_h2x_module);

    cscf = ngx_http_get_module_srv_conf(hc->conf_ctx, ngx_http_core_module);
    clcf = ngx_http_get_module_loc_conf(hc->conf_ctx, ngx_http_core_module);

    h2c->idle_timeout = clcf->keepalive_timeout;
    h2c->header_timeout = cscf->client_header_timeout;
    h2c->send_timeout = clcf->send_timeout;

#if (NGX_HTTP_SSL)
    h2c->tls = (c->ssl != NULL);
#endif

    ngx_queue_init(&h2c->streams);

    h2x_config_init(&cfg);
    ngx_http_h2x_apply_conf(&cfg, h2c->conf);

    /* as the builtin (docs/compat.md): a Host differing from :authority
     * is a 400 from the stream (ngx_http_h2x_stream.c), whitespace
     * around field values is passed on */
    cfg.host_mismatch = H2X_HOST_PASS;
    cfg.value_ows = H2X_OWS_KEEP;

    if (clcf->keepalive_requests) {
        cfg.max_requests = clcf->keepalive_requests;
    }

    /* every request's header block, as the builtin's partial frames */
    cfg.header_timeout = (uint32_t) cscf->client_header_timeout;

    /* the builtin takes any frame after the preface (docs/compat.md) */
    cfg.lenient_preface = 1;

    /* the builtin never sends "never indexed" literals (docs/compat.md) */
    cfg.never_index_sensitive = 0;

    /* a self-dependent stream: GOAWAY; one-step graceful GOAWAY */
    cfg.self_dependency_conn_error = 1;
    cfg.goaway_one_step = 1;

    /* http2_chunk_size's default */
    cfg.chunk_size = 8192;

    h2xlcf = ngx_http_get_module_loc_conf(hc->conf_ctx, ngx_http_h2x_module);

    if (h2xlcf->chunk_size != NGX_CONF_UNSET_SIZE) {
        cfg.chunk_size = (uint32_t) h2xlcf->chunk_size;
    }

    h2c->high_water = cfg.max_unsent_output / 4;

    if (h2c->high_water < cfg.chunk_size) {
        h2c->high_water = cfg.chunk_size;
    }

    h2c->session = h2x_session_new(&cfg, &ngx_http_h2x_callbacks, h2c,
                                   &ngx_http_h2x_allocator);
    if (h2c->session == NULL) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "h2x_session_new() failed");
        ngx_http_close_connection(c);
        return;
    }

    h2c->timer.handler = ngx_http_h2x_timer_handler;
    h2c->timer.data = h2c;
    h2c->timer.log = c->log;

    ngx_queue_insert_tail(&ngx_http_h2x_connections, &h2c->all);
    ngx_http_h2x_total_connections++;

    if (!h2c->tls && clcf->tcp_nodelay && ngx_tcp_nodelay(c) != NGX_OK) {
        h2c->dead = 1;
    }

    c->data = h2c;

    rev->handler = ngx_http_h2x_read_handler;
    c->write->handler = ngx_http_h2x_write_handler;

    if (!rev->timer_set) {
        ngx_add_timer(rev, h2c->header_timeout);
    }

    /* ngx_close_idle_connections() pokes idle connections on shutdown */
    c->idle = 1;
    ngx_reusable_connection(c, 0);

    ngx_http_h2x_read_handler(rev);
}


static void
ngx_http_h2x_read_handler(ngx_event_t *rev)
{
    ssize_t                     n;
    ngx_connection_t           *c;
    ngx_http_h2x_connection_t  *h2c;

    c = rev->data;
    h2c = c->data;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "h2x read handler");

    if (rev->timedout) {
        rev->timedout = 0;

        if (h2c->nstreams == 0) {
            /* keepalive_timeout, or client_header_timeout before a request */

            if (!h2c->requested) {
                ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                              "client timed out");
            }

            ngx_http_h2x_shutdown(h2c);
            return;
        }
    }

    if (c->close) {
        c->close = 0;

        if (h2c->nstreams == 0) {
            ngx_http_h2x_shutdown(h2c);
            return;
        }

        if (!h2c->goaway) {
            h2c->goaway = 1;
            (void) h2x_session_goaway(h2c->session, H2X_NO_ERROR, 1);
        }
    }

    while (!h2c->dead && !h2c->closing && rev->ready) {

        if (!h2x_session_want_read(h2c->session)) {
            h2c->read_paused = 1;
            break;
        }

        h2c->read_paused = 0;

        n = c->recv(c, ngx_http_h2x_recv_buffer,
                    ngx_http_h2x_recv_buffer_len);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            if (n == 0 && h2c->nstreams) {
                ngx_log_error(NGX_LOG_INFO, c->log, 0,
                              "client closed connection");
            }

            ngx_http_h2x_terminate(h2c);
            break;
        }

        ngx_http_h2x_feed(h2c, ngx_http_h2x_recv_buffer, n);
    }

    if (!h2c->dead && ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_h2x_terminate(h2c);
    }

    ngx_http_h2x_flush(h2c);
    ngx_http_h2x_idle(h2c);
    ngx_http_h2x_check_close(h2c);
}


static void
ngx_http_h2x_feed(ngx_http_h2x_connection_t *h2c, u_char *buf, size_t len)
{
    long                    rc;
    ngx_queue_t            *q;
    ngx_http_h2x_stream_t  *stream;

    h2c->feeding = 1;
    rc = h2x_session_feed(h2c->session, buf, len, ngx_current_msec);
    h2c->feeding = 0;

    if (rc < 0) {
        /* a connection error: GOAWAY is pending, flush it, then close */
        h2c->closing = 1;
    }

    ngx_http_h2x_release_deferred(h2c);

    /* new body bytes may have arrived for streams waiting in recv() */

    for (q = ngx_queue_head(&h2c->streams);
         q != ngx_queue_sentinel(&h2c->streams);
         q = ngx_queue_next(q))
    {
        stream = ngx_queue_data(q, ngx_http_h2x_stream_t, queue);

        if (stream->body_wait) {
            ngx_http_h2x_wake_body(stream);
        }
    }

    ngx_http_h2x_set_timer(h2c);
}


/*
 * Writes what the engine has, as a chain of memory and file bufs, with
 * the connection's own send_chain (writev/sendfile or SSL).
 */

void
ngx_http_h2x_flush(ngx_http_h2x_connection_t *h2c)
{
    size_t                n, i, sent;
    off_t                 size;
    ngx_buf_t            *b, *bufs;
    ngx_chain_t          *out, *links;
    h2x_segment_t        *seg, *segs;
    ngx_connection_t     *c;
    ngx_http_h2x_ref_t   *ref;

    c = h2c->connection;
    bufs = ngx_http_h2x_bufs;
    links = ngx_http_h2x_links;
    segs = ngx_http_h2x_segs;

    if (h2c->feeding || h2c->flushing || h2c->dead || h2c->closed
        || h2c->blocked)
    {
        return;
    }

    h2c->flushing = 1;

    for ( ;; ) {
        n = h2x_session_pending(h2c->session, segs,
                                NGX_HTTP_H2X_SEGMENTS);

        if (n == 0) {
            if (!(c->buffered & NGX_LOWLEVEL_BUFFERED)) {
                break;
            }

            /* bytes left in the SSL buffer */

            out = c->send_chain(c, NULL, 0);

            if (out == NGX_CHAIN_ERROR) {
                c->error = 1;
                h2c->flushing = 0;
                ngx_http_h2x_terminate(h2c);
                return;
            }

            if (c->buffered & NGX_LOWLEVEL_BUFFERED) {
                h2c->blocked = 1;
            }

            break;
        }

        for (i = 0; i < n; i++) {
            seg = &segs[i];
            b = &bufs[i];

            ngx_memzero(b, sizeof(ngx_buf_t));

            ref = seg->ref;

            if (ref == NULL || !ref->in_file) {
                b->pos = (u_char *) seg->data;

                if (ref && ref->copy) {
                    /* detached: the same offset into our copy */
                    b->pos = ref->copy + ((u_char *) seg->data - ref->base);
                }

                b->last = b->pos + seg->len;
                b->start = b->pos;
                b->end = b->last;
                b->memory = 1;

            } else {
                b->in_file = 1;
                b->file = &ref->file;
                b->file_pos = seg->offset;
                b->file_last = seg->offset + seg->len;
            }

            links[i].buf = b;
            links[i].next = (i + 1 < n) ? &links[i + 1] : NULL;
        }

        bufs[n - 1].flush = 1;

        out = c->send_chain(c, links, 0);

        if (out == NGX_CHAIN_ERROR) {
            c->error = 1;
            h2c->flushing = 0;
            ngx_http_h2x_terminate(h2c);
            return;
        }

        /* what send_chain took: in the kernel or in the SSL buffer */

        sent = 0;

        for (i = 0; i < n; i++) {
            size = ngx_buf_size(&bufs[i]);
            sent += segs[i].len - (size_t) size;
        }

        h2x_session_sent(h2c->session, sent);

        if (out != NULL || (c->buffered & NGX_LOWLEVEL_BUFFERED)) {
            h2c->blocked = 1;
            break;
        }
    }

    if (c->tcp_nopush == NGX_TCP_NOPUSH_SET) {
        if (ngx_tcp_push(c->fd) == -1) {
            ngx_connection_error(c, ngx_socket_errno, ngx_tcp_push_n " failed");
            h2c->flushing = 0;
            ngx_http_h2x_terminate(h2c);
            return;
        }

        c->tcp_nopush = NGX_TCP_NOPUSH_UNSET;
    }

    h2c->flushing = 0;

    if (h2c->blocked) {
        if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
            ngx_http_h2x_terminate(h2c);
            return;
        }

        ngx_add_timer(c->write, h2c->send_timeout);

    } else if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (h2c->read_paused && h2x_session_want_read(h2c->session)) {
        h2c->read_paused = 0;
        ngx_post_event(c->read, &ngx_posted_events);
    }

    ngx_http_h2x_set_timer(h2c);
}


/* From stream code: write and check the state later, from our own event. */

void
ngx_http_h2x_schedule(ngx_http_h2x_connection_t *h2c)
{
    if (h2c->closed) {
        return;
    }

    ngx_post_event(h2c->connection->write, &ngx_posted_events);
}


static void
ngx_http_h2x_write_handler(ngx_event_t *wev)
{
    ngx_connection_t           *c;
    ngx_http_h2x_connection_t  *h2c;

    c = wev->data;
    h2c = c->data;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "h2x write handler");

    if (wev->timedout) {
        wev->timedout = 0;

        if (h2c->blocked) {
            ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                          "client timed out");
            c->timedout = 1;
            ngx_http_h2x_terminate(h2c);
            ngx_http_h2x_check_close(h2c);
            return;
        }
    }

    if (wev->ready) {
        h2c->blocked = 0;
    }

    ngx_http_h2x_release_deferred(h2c);
    ngx_http_h2x_flush(h2c);
    ngx_http_h2x_idle(h2c);
    ngx_http_h2x_check_close(h2c);
}


static void
ngx_http_h2x_timer_handler(ngx_event_t *ev)
{
    ngx_http_h2x_connection_t  *h2c;

    h2c = ev->data;

    if (h2c->dead || h2c->closed) {
        return;
    }

    h2x_session_tick(h2c->session, ngx_current_msec);

    ngx_http_h2x_flush(h2c);
    ngx_http_h2x_set_timer(h2c);
    ngx_http_h2x_idle(h2c);
    ngx_http_h2x_check_close(h2c);
}


static void
ngx_http_h2x_set_timer(ngx_http_h2x_connection_t *h2c)
{
    uint64_t    next;
    ngx_msec_t  delay;

    if (h2c->closed || h2c->dead) {
        return;
    }

    next = h2x_session_next_timeout(h2c->session);

    if (next == UINT64_MAX) {
        if (h2c->timer.timer_set) {
            ngx_del_timer(&h2c->timer);
        }

        return;
    }

    delay = (next > ngx_current_msec) ? (ngx_msec_t) (next - ngx_current_msec)
                                      : 1;

    ngx_add_timer(&h2c->timer, delay);
}


/* keepalive_timeout while no stream is open; reusable only then */

static void
ngx_http_h2x_idle(ngx_http_h2x_connection_t *h2c)
{
    ngx_connection_t  *c;

    c = h2c->connection;

    if (h2c->closed || h2c->dead || h2c->closing) {
        return;
    }

    if (h2c->nstreams || h2c->blocked) {
        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }

        ngx_reusable_connection(c, 0);
        return;
    }

    if (!c->read->timer_set) {
        ngx_add_timer(c->read, h2c->requested ? h2c->idle_timeout
                                              : h2c->header_timeout);
    }

    ngx_reusable_connection(c, 1);

    ngx_http_h2x_free_idle(h2c);
}


/*
 * Streams, refs, the TLS write buffer and most of the session are only
 * needed while requests run: an idle connection gives them back, as the
 * builtin does, so that many idle connections cost little and a burst of
 * them reuses the same memory.  Called from the connection's own
 * handlers, so no stream code is on the stack.
 */

static void
ngx_http_h2x_free_idle(ngx_http_h2x_connection_t *h2c)
{
    /*
     * The engine's tables cost more to rebuild than a pool: a connection
     * that has served a few requests gives them back at once (such
     * connections, many and idle, are what idle memory is about); a busy
     * one keeps them until the engine's own idle timer (a second), so
     * that it does not rebuild them for every burst of requests.
     */

    if (h2x_session_stats(h2c->session)->streams
        <= NGX_HTTP_H2X_SHRINK_STREAMS)
    {
        h2x_session_shrink(h2c->session);
    }

    if (h2c->pool && h2c->nrefs == 0 && h2c->release == NULL) {
        ngx_destroy_pool(h2c->pool);
        h2c->pool = NULL;
        h2c->free_streams = NULL;
        h2c->free_refs = NULL;
    }

#if (NGX_HTTP_SSL)
    if (h2c->connection->ssl
        && !(h2c->connection->buffered & NGX_SSL_BUFFERED))
    {
        ngx_ssl_free_buffer(h2c->connection);
    }
#endif
}


void *
ngx_http_h2x_palloc(ngx_http_h2x_connection_t *h2c, size_t size)
{
    if (h2c->pool == NULL) {
        h2c->pool = ngx_create_pool(NGX_HTTP_H2X_POOL_SIZE,
                                    h2c->connection->log);
        if (h2c->pool == NULL) {
            return NULL;
        }
    }

    return ngx_palloc(h2c->pool, size);
}


/*
 * No stream open and the connection should go: idle timeout, shutdown,
 * or drained by nginx.  GOAWAY, one attempt to write it, close.
 */

static void
ngx_http_h2x_shutdown(ngx_http_h2x_connection_t *h2c)
{
    if (!h2c->dead) {
        if (!h2c->goaway) {
            h2c->goaway = 1;
            (void) h2x_session_goaway(h2c->session, H2X_NO_ERROR, 0);
        }

        h2c->blocked = 0;
        ngx_http_h2x_flush(h2c);
    }

    /* ngx_http_h2x_flush() may have found the socket dead */
    h2c->linger = !h2c->dead;
    h2c->closing = 1;
    h2c->dead = 1;

    ngx_http_h2x_check_close(h2c);
}


/* The socket is unusable: abort every stream, close once they are gone. */

static void
ngx_http_h2x_terminate(ngx_http_h2x_connection_t *h2c)
{
    ngx_queue_t            *q;
    ngx_http_h2x_stream_t  *stream;

    h2c->dead = 1;
    h2c->closing = 1;
    h2c->linger = 0;

    for (q = ngx_queue_head(&h2c->streams);
         q != ngx_queue_sentinel(&h2c->streams);
         q = ngx_queue_next(q))
    {
        stream = ngx_queue_data(q, ngx_http_h2x_stream_t, queue);
        ngx_http_h2x_abort_stream(stream);
    }
}


static void
ngx_http_h2x_check_close(ngx_http_h2x_connection_t *h2c)
{
    ngx_connection_t  *c;

    c = h2c->connection;

    if (h2c->closed) {
        return;
    }

    if (!h2c->dead) {
        if (!h2c->closing && !h2x_session_want_close(h2c->session)) {
            return;
        }

        if (h2x_session_want_write(h2c->session)
            || (c->buffered & NGX_LOWLEVEL_BUFFERED))
        {
            /* the GOAWAY first; send_timeout limits the wait */
            return;
        }

        h2c->closing = 1;
        h2c->linger = 1;
    }

    if (h2c->nstreams) {
        ngx_http_h2x_terminate(h2c);
        return;
    }

    ngx_http_h2x_close(h2c);
}


static void
ngx_http_h2x_close(ngx_http_h2x_connection_t *h2c)
{
    ngx_connection_t  *c;

    c = h2c->connection;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "h2x close connection");

    h2c->closed = 1;

    if (h2c->timer.timer_set) {
        ngx_del_timer(&h2c->timer);
    }

    if (h2c->timer.posted) {
        ngx_delete_posted_event(&h2c->timer);
    }

    ngx_queue_remove(&h2c->all);

    ngx_http_h2x_stats_add(h2x_session_stats(h2c->session));

    h2x_session_free(h2c->session);
    h2c->session = NULL;

    if (h2c->pool) {
        ngx_destroy_pool(h2c->pool);
        h2c->pool = NULL;
    }

    if (h2c->linger && !c->error) {
        ngx_http_h2x_lingering_close(c);
        return;
    }

    ngx_http_close_connection(c);
}


/*
 * After a GOAWAY: stop writing, read and discard what the client still
 * sends for a while, so that our GOAWAY is not lost to a reset caused by
 * unread data (lingering_close, lingering_time, lingering_timeout).
 */

static void
ngx_http_h2x_lingering_close(ngx_connection_t *c)
{
    ngx_int_t                   rc;
    ngx_event_t                *rev, *wev;
    ngx_http_h2x_connection_t  *h2c;
    ngx_http_core_loc_conf_t   *clcf;

    h2c = c->data;

    clcf = ngx_http_get_module_loc_conf(h2c->http_connection->conf_ctx,
                                        ngx_http_core_module);

    if (clcf->lingering_close == NGX_HTTP_LINGERING_OFF) {
        ngx_http_close_connection(c);
        return;
    }

    if (h2c->lingering_time == 0) {
        h2c->lingering_time = ngx_time()
                              + (time_t) (clcf->lingering_time / 1000);
    }

#if (NGX_HTTP_SSL)
    if (c->ssl) {
        rc = ngx_ssl_shutdown(c);

        if (rc == NGX_ERROR) {
            ngx_http_close_connection(c);
            return;
        }

        if (rc == NGX_AGAIN) {
            c->ssl->handler = ngx_http_h2x_lingering_close;
            return;
        }
    }
#else
    (void) rc;
#endif

    rev = c->read;
    rev->handler = ngx_http_h2x_lingering_close_handler;

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_close_connection(c);
        return;
    }

    wev = c->write;
    wev->handler = ngx_http_empty_handler;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (ngx_shutdown_socket(c->fd, NGX_WRITE_SHUTDOWN) == -1) {
        ngx_connection_error(c, ngx_socket_errno,
                             ngx_shutdown_socket_n " failed");
        ngx_http_close_connection(c);
        return;
    }

    c->close = 0;
    ngx_reusable_connection(c, 1);

    ngx_add_timer(rev, clcf->lingering_timeout);

    if (rev->ready) {
        ngx_http_h2x_lingering_close_handler(rev);
    }
}


static void
ngx_http_h2x_lingering_close_handler(ngx_event_t *rev)
{
    ssize_t                     n;
    ngx_msec_t                  timer;
    ngx_connection_t           *c;
    ngx_http_h2x_connection_t  *h2c;
    ngx_http_core_loc_conf_t   *clcf;
    u_char                      buffer[NGX_HTTP_LINGERING_BUFFER_SIZE];

    c = rev->data;
    h2c = c->data;

    if (rev->timedout || c->close) {
        ngx_http_close_connection(c);
        return;
    }

    timer = (ngx_msec_t) h2c->lingering_time - (ngx_msec_t) ngx_time();

    if ((ngx_msec_int_t) timer <= 0) {
        ngx_http_close_connection(c);
        return;
    }

    do {
        n = c->recv(c, buffer, NGX_HTTP_LINGERING_BUFFER_SIZE);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_http_close_connection(c);
            return;
        }

    } while (rev->ready);

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_close_connection(c);
        return;
    }

    clcf = ngx_http_get_module_loc_conf(h2c->http_connection->conf_ctx,
                                        ngx_http_core_module);

    timer *= 1000;

    if (timer > clcf->lingering_timeout) {
        timer = clcf->lingering_timeout;
    }

    ngx_add_timer(rev, timer);
}


static void
ngx_http_h2x_on_goaway(h2x_session_t *s, uint32_t last, uint32_t code,
    void *user)
{
#if (NGX_DEBUG)
    ngx_http_h2x_connection_t  *h2c = user;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, h2c->connection->log, 0,
                   "h2x client sent GOAWAY: last stream %uD, code %uD",
                   last, code);
#endif
}


static void
ngx_http_h2x_on_log(h2x_session_t *s, uint32_t stream_id, uint32_t code,
    const char *reason, void *user)
{
    ngx_http_h2x_connection_t  *h2c = user;

    /*
     * A connection error ends the connection: always logged.  A flood of
     * stream errors must not become a flood of log lines.
     */

    if (stream_id == 0) {
        ngx_log_error(NGX_LOG_INFO, h2c->connection->log, 0,
                      "%s (%s)", reason, h2x_error_code_name(code));
        return;
    }

    if (h2c->logged > NGX_HTTP_H2X_MAX_LOG) {
        return;
    }

    if (h2c->logged++ == NGX_HTTP_H2X_MAX_LOG) {
        ngx_log_error(NGX_LOG_INFO, h2c->connection->log, 0,
                      "h2x: further stream errors on this connection "
                      "are not logged");
        return;
    }

    ngx_log_error(NGX_LOG_INFO, h2c->connection->log, 0,
                  "%s (stream %uD, %s)", reason, stream_id,
                  h2x_error_code_name(code));
}
