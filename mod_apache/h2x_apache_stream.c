/*
 * mod_h2x: a stream's secondary connection and request.
 *
 * The c1 thread creates the stream pool and the secondary connection (c2)
 * when the request headers arrive; a worker thread then builds the
 * request_rec from the HEADERS and runs it through ap_process_request(),
 * the same path an HTTP/1.1 request takes.  c2 never owns a socket: its
 * network filters (h2x_apache_filters.c) talk to the c1 thread through
 * the stream's shared buffers.
 */

#include "apr_strings.h"

#include "httpd.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_core.h"

#include "h2x_apache.h"

APLOG_USE_MODULE(h2x);


static apr_socket_t  *h2x_apache_dummy_socket;


apr_status_t
h2x_apache_stream_child_init(apr_pool_t *pchild)
{
    /* ap_get_conn_socket(c2) must give something: one socket per child,
     * never used for I/O */
    return apr_socket_create(&h2x_apache_dummy_socket, APR_INET, SOCK_STREAM,
                             APR_PROTO_TCP, pchild);
}


/* On c1: the secondary connection, in the stream pool. */
conn_rec *
h2x_apache_c2_create(h2x_apache_stream_t *hs)
{
    conn_rec  *c1 = hs->conn->c;
    conn_rec  *c2;
    void      *cfg;

    c2 = apr_palloc(hs->pool, sizeof(conn_rec));
    memcpy(c2, c1, sizeof(conn_rec));

    c2->master = c1;
    c2->pool = hs->pool;
    c2->conn_config = ap_create_conn_config(hs->pool);
    c2->notes = apr_table_make(hs->pool, 5);
    c2->input_filters = NULL;
    c2->output_filters = NULL;
    c2->keepalives = 0;
    c2->keepalive = AP_CONN_CLOSE;
    c2->bucket_alloc = apr_bucket_alloc_create(hs->pool);
    c2->data_in_input_filters = 0;
    c2->data_in_output_filters = 0;
    c2->clogging_input_filters = 1;
    c2->log = NULL;
    c2->aborted = 0;
    c2->cs = NULL;
    c2->sbh = NULL;
    c2->current_thread = NULL;
    c2->id = (c1->id << 8) ^ (long) (++hs->conn->next_c2_id);

    ap_set_module_config(c2->conn_config, &core_module,
                         h2x_apache_dummy_socket);

    if (h2x_apache_mpm_module) {
        cfg = ap_get_module_config(c1->conn_config, h2x_apache_mpm_module);
        ap_set_module_config(c2->conn_config, h2x_apache_mpm_module, cfg);
    }

    ap_set_module_config(c2->conn_config, &h2x_module, hs);

    return c2;
}


/*
 * httpd's request limits, checked as mod_http2 checks them:
 * LimitRequestLine on :path (414), LimitRequestFields on the number of
 * fields (431), LimitRequestFieldSize on each field, fields of one name
 * joined with ", " as HTTP/1.1 joins them (431).
 */
typedef struct {
    apr_size_t   max;
    const char  *failed;
} h2x_apache_size_ctx_t;


static int
h2x_apache_field_fits(void *data, const char *key, const char *value)
{
    h2x_apache_size_ctx_t  *ctx = data;

    if (strlen(key) + strlen(value) + 2 > ctx->max) {
        ctx->failed = key;
        return 0;
    }

    return 1;
}


static int
h2x_apache_request_limits(h2x_apache_stream_t *hs, request_rec *r)
{
    server_rec             *s = r->server;
    h2x_apache_size_ctx_t   ctx;

    if (s->limit_req_line > 0
        && strlen(hs->path) > (apr_size_t) s->limit_req_line)
    {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10761)
                      "h2x: stream %u: :path exceeds LimitRequestLine (%d)",
                      hs->id, s->limit_req_line);
        return HTTP_REQUEST_URI_TOO_LARGE;
    }

    if (s->limit_req_fields > 0
        && hs->fields->nelts / 2 > s->limit_req_fields)
    {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10762)
                      "h2x: stream %u: number of request header fields "
                      "exceeds LimitRequestFields (%d)",
                      hs->id, s->limit_req_fields);
        return HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE;
    }

    if (s->limit_req_fieldsize > 0) {
        ctx.max = (apr_size_t) s->limit_req_fieldsize;
        ctx.failed = NULL;
        apr_table_do(h2x_apache_field_fits, &ctx, r->headers_in, NULL);

        if (ctx.failed) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10763)
                          "h2x: stream %u: request header field exceeds "
                          "LimitRequestFieldSize (%d): %.80s", hs->id,
                          s->limit_req_fieldsize, ctx.failed);
            return HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE;
        }
    }

    return HTTP_OK;
}


/* On the worker: the request_rec from the HEADERS, or NULL when it died. */
static request_rec *
h2x_apache_request_create(h2x_apache_stream_t *hs, conn_rec *c)
{
    request_rec          *r;
    apr_bucket_brigade   *bb;
    const char          **f, *host;
    int                   i, status = HTTP_OK;

    r = ap_create_request(c);

    /* the response head goes to the engine, not out as HTTP/1 text */
    ap_remove_output_filter_byhandle(r->output_filters, "HTTP_HEADER");
    ap_add_output_filter(H2X_APACHE_RESPONSE, NULL, r, c);

    f = (const char **) hs->fields->elts;
    for (i = 0; i + 1 < hs->fields->nelts; i += 2) {
        apr_table_add(r->headers_in, f[i], f[i + 1]);
    }

    /* fields of one name become one, joined with ", ", as
     * ap_get_mime_headers() does for HTTP/1.1 and mod_http2 for h2 */
    apr_table_compress(r->headers_in, APR_OVERLAP_TABLES_MERGE);

    if (hs->authority[0] != '\0' && strcmp(hs->method, "CONNECT") != 0) {
        /* as mod_http2: :authority wins, a differing Host is kept aside */
        host = apr_table_get(r->headers_in, "Host");
        if (host && strcmp(host, hs->authority) != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APLOGNO(10760)
                          "h2x: stream %u: 'Host: %s' replaced by "
                          ":authority %s", hs->id, host, hs->authority);
            apr_table_setn(r->subprocess_env, "H2_ORIGINAL_HOST", host);
        }
        apr_table_setn(r->headers_in, "Host", hs->authority);
    }

    if (hs->has_body && hs->content_length < 0) {
        /* HTTP_IN reads a body by Content-Length or chunked: present
         * one without a length as chunked (NET_IN frames it) */
        apr_table_mergen(r->headers_in, "Transfer-Encoding", "chunked");
        hs->chunked_in = 1;
    }

    ap_run_pre_read_request(r, c);

    r->request_time = apr_time_now();

    if (!strcmp(hs->method, "CONNECT")) {
        r->the_request = apr_psprintf(r->pool, "CONNECT %s HTTP/2.0",
                                      hs->authority);

    } else if (hs->scheme[0] != '\0' && strcasecmp(hs->scheme, "http")
               && strcasecmp(hs->scheme, "https"))
    {
        r->the_request = apr_psprintf(r->pool, "%s %s://%s%s HTTP/2.0",
                                      hs->method, hs->scheme, hs->authority,
                                      hs->path);

    } else {
        r->the_request = apr_psprintf(r->pool, "%s %s HTTP/2.0",
                                      hs->method, hs->path);
    }

    r->hostname = NULL;

    if (!ap_parse_request_line(r) || !ap_check_request_header(r)) {
        r->per_dir_config = r->server->lookup_defaults;
        status = r->status != HTTP_OK ? r->status : HTTP_BAD_REQUEST;
        r->status = HTTP_OK;
        goto die;
    }

    r->per_dir_config = r->server->lookup_defaults;

    status = h2x_apache_request_limits(hs, r);
    if (status != HTTP_OK) {
        goto die;
    }

    ap_add_input_filter_handle(ap_http_input_filter_handle, NULL, r, c);

    status = ap_post_read_request(r);
    if (status != OK) {
        goto die;
    }

    return r;

die:

    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, APLOGNO(10710)
                  "h2x: stream %u: request failed with %d", hs->id, status);

    ap_die(status, r);

    bb = apr_brigade_create(c->pool, c->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(bb, ap_bucket_eor_create(c->bucket_alloc, r));
    (void) ap_pass_brigade(c->output_filters, bb);
    apr_brigade_destroy(bb);

    return NULL;
}


/* On a worker thread: run the stream's request, then hand it back. */
void
h2x_apache_stream_process(h2x_apache_stream_t *hs, apr_thread_t *thread)
{
    h2x_apache_conn_t  *hc = hs->conn;
    conn_rec           *c2 = hs->c2;
    request_rec        *r;
    int                 aborted;

    apr_thread_mutex_lock(hc->mutex);
    aborted = hs->aborted;
    apr_thread_mutex_unlock(hc->mutex);

    if (!aborted) {
        c2->current_thread = thread;
        hs->timeout = h2x_apache_stream_timeout(hc->s);
        hs->max_mem = h2x_apache_stream_mem(hc->s);

        h2x_apache_filters_add_c2(c2, hs);
        (void) ap_run_pre_connection(c2, h2x_apache_dummy_socket);

        r = h2x_apache_request_create(hs, c2);
        if (r != NULL) {
            ap_process_request(r);
            /* r is gone: the EOR bucket freed it */
        }

        c2->current_thread = NULL;
    }

    /* what the filters kept on this side */
    free(hs->stage);
    hs->stage = NULL;
    free(hs->w_trailers);
    hs->w_trailers = NULL;
    if (hs->cur) {
        apr_atomic_sub32(&hs->out_mem, (apr_uint32_t) hs->cur->cap);
        free(hs->cur);
        hs->cur = NULL;
    }

    apr_thread_mutex_lock(hc->mutex);
    hs->worker_done = 1;
    hc->active--;
    h2x_apache_stream_mark(hs);
    if (hc->c1_waiting) {
        apr_thread_cond_signal(hc->done_cond);
    }
    apr_thread_mutex_unlock(hc->mutex);
}
