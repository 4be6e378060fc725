/*
 * mod_h2x: connection takeover.
 *
 * h2 (TLS): mod_ssl's ALPN callback asks protocol_propose for the SNI
 * virtual host and calls protocol_switch for the chosen protocol; ours
 * runs at APR_HOOK_FIRST and says yes only where H2XEngine is on, so
 * mod_http2 keeps every other host.  The switch only records the claim;
 * process_connection (after mod_ssl, before mod_http2) runs the session.
 *
 * h2c: by prior knowledge only, recognised in process_connection on a
 * fresh cleartext connection whose address-based virtual host has
 * H2XEngine and H2XDirect on and h2c in Protocols.  Upgrade: h2c is not
 * offered: such requests stay on HTTP/1.1.
 *
 * Streams run on secondary connections (c->master set); every hook here
 * declines for them except those that serve the stream itself.
 */

#include <unistd.h>

#include "apr_strings.h"
#include "apr_optional.h"

#include "httpd.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_ssl.h"
#include "ap_mpm.h"
#include "mpm_common.h"

#include "h2x_apache.h"
#include "h2x_frame.h"

APLOG_USE_MODULE(h2x);


int      h2x_apache_mpm_ok;
int      h2x_apache_mpm_async;
int      h2x_apache_mpm_waitio;
module  *h2x_apache_mpm_module;

APR_DECLARE_OPTIONAL_FN(int, http2_is_h2, (conn_rec *));
static APR_OPTIONAL_FN_TYPE(http2_is_h2)  *h2x_apache_next_is_h2;


static h2x_apache_conn_t *
h2x_apache_conn_get(conn_rec *c)
{
    if (c->master) {
        return NULL;
    }

    return ap_get_module_config(c->conn_config, &h2x_module);
}


/* Is c (a connection or one of our streams' connections) ours? */
int
h2x_apache_is_h2x(conn_rec *c)
{
    if (c->master) {
        return ap_get_module_config(c->conn_config, &h2x_module) != NULL;
    }

    return h2x_apache_conn_get(c) != NULL;
}


static int
h2x_apache_is_h2(conn_rec *c)
{
    if (h2x_apache_is_h2x(c)) {
        return 1;
    }

    return h2x_apache_next_is_h2 ? h2x_apache_next_is_h2(c) : 0;
}


static int
h2x_apache_tls_acceptable(conn_rec *c, server_rec *s)
{
    h2x_apache_srv_conf_t  *conf = h2x_apache_srv_conf(s);
    const char             *proto;

    if (conf->modern_tls_only == 0) {
        return 1;
    }

    proto = ap_ssl_var_lookup(c->pool, s, c, NULL, "SSL_PROTOCOL");
    if (proto == NULL || *proto == '\0') {
        return 1;
    }

    if (!strcmp(proto, "TLSv1.2") || !strcmp(proto, "TLSv1.3")) {
        return 1;
    }

    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, APLOGNO(10701)
                  "h2x: not offering h2 over %s (H2XModernTLSOnly on)",
                  proto);
    return 0;
}


static int
h2x_apache_protocol_propose(conn_rec *c, request_rec *r, server_rec *s,
                            const apr_array_header_t *offers,
                            apr_array_header_t *proposals)
{
    if (c->master || r != NULL || s == NULL) {
        return DECLINED;
    }

    if (!h2x_apache_engine_enabled(s)) {
        return DECLINED;
    }

    if (!h2x_apache_mpm_ok) {
        ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, APLOGNO(10702)
                      "h2x: not offering h2: the MPM is not threaded");
        return DECLINED;
    }

    if (!ap_ssl_conn_is_ssl(c) || offers == NULL
        || !ap_array_str_contains(offers, "h2"))
    {
        return DECLINED;
    }

    if (!h2x_apache_tls_acceptable(c, s)) {
        return DECLINED;
    }

    if (!ap_array_str_contains(proposals, "h2")) {
        APR_ARRAY_PUSH(proposals, const char *) = "h2";
    }

    return OK;
}


static h2x_apache_conn_t *
h2x_apache_conn_create(conn_rec *c, server_rec *s, const char *protocol)
{
    h2x_apache_conn_t  *hc;

    hc = apr_pcalloc(c->pool, sizeof(*hc));
    hc->c = c;
    hc->s = s;
    hc->protocol = protocol;

    /* H2_STREAM_TAG is "<pid>-<connection>-<stream>", as mod_http2's on
     * httpd 2.4 (which has no ap_sb_get_child_thread()) */
    hc->tag = apr_psprintf(c->pool, "%d-%ld", (int) getpid(), c->id);

    ap_set_module_config(c->conn_config, &h2x_module, hc);

    return hc;
}


static int
h2x_apache_protocol_switch(conn_rec *c, request_rec *r, server_rec *s,
                           const char *protocol)
{
    if (c->master || r != NULL || s == NULL) {
        /* Upgrade: h2c is not implemented: stay on HTTP/1.1 */
        return DECLINED;
    }

    if (strcmp(protocol, "h2") != 0 && strcmp(protocol, "h2c") != 0) {
        return DECLINED;
    }

    if (!h2x_apache_mpm_ok || !h2x_apache_engine_enabled(s)) {
        return DECLINED;
    }

    if (h2x_apache_conn_get(c) == NULL) {
        (void) h2x_apache_conn_create(c, s, protocol);
    }

    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, APLOGNO(10703)
                  "h2x: claimed connection for %s on %s", protocol,
                  s->server_hostname ? s->server_hostname : "-");

    return OK;
}


static const char *
h2x_apache_protocol_get(const conn_rec *c)
{
    h2x_apache_conn_t  *hc;
    const conn_rec     *c1 = c->master ? c->master : c;

    if (c->master && ap_get_module_config(c->conn_config, &h2x_module)
                     == NULL)
    {
        return NULL;
    }

    hc = ap_get_module_config(c1->conn_config, &h2x_module);

    return hc ? hc->protocol : NULL;
}


/* Does a cleartext connection start with the HTTP/2 preface? */
static int
h2x_apache_peek_preface(conn_rec *c)
{
    apr_bucket_brigade  *bb;
    apr_status_t         rv;
    apr_size_t           len;
    char                 buf[H2X_PREFACE_SIZE];
    int                  tries, match = 0;

    bb = apr_brigade_create(c->pool, c->bucket_alloc);

    for (tries = 0; tries < 4; tries++) {
        rv = ap_get_brigade(c->input_filters, bb, AP_MODE_SPECULATIVE,
                            APR_BLOCK_READ, H2X_PREFACE_SIZE);
        if (rv != APR_SUCCESS) {
            break;
        }

        len = sizeof(buf);
        rv = apr_brigade_flatten(bb, buf, &len);
        apr_brigade_cleanup(bb);
        if (rv != APR_SUCCESS || len == 0) {
            break;
        }

        if (memcmp(buf, H2X_PREFACE, len) != 0) {
            break;
        }

        if (len == H2X_PREFACE_SIZE) {
            match = 1;
            break;
        }
    }

    apr_brigade_destroy(bb);

    return match;
}


static int
h2x_apache_process_connection(conn_rec *c)
{
    h2x_apache_conn_t      *hc;
    h2x_apache_srv_conf_t  *conf;
    server_rec             *s;

    if (c->master) {
        return DECLINED;
    }

    hc = h2x_apache_conn_get(c);

    if (hc == NULL) {
        s = c->base_server;

        if (!h2x_apache_mpm_ok || c->keepalives > 0 || c->aborted
            || !h2x_apache_engine_enabled(s) || ap_ssl_conn_is_ssl(c))
        {
            return DECLINED;
        }

        conf = h2x_apache_srv_conf(s);
        if (conf->direct == 0
            || !ap_is_allowed_protocol(c, NULL, s, "h2c")
            || strcmp(ap_get_protocol(c), AP_PROTOCOL_HTTP1) != 0)
        {
            return DECLINED;
        }

        if (!h2x_apache_peek_preface(c)) {
            return DECLINED;
        }

        hc = h2x_apache_conn_create(c, s, "h2c");
    }

    if (hc->finished) {
        /* closed already: nothing to resume */
        c->keepalive = AP_CONN_CLOSE;
        if (c->cs) {
            c->cs->state = CONN_STATE_LINGER;
        }
        return DONE;
    }

    return h2x_apache_session_run(hc);
}


/* mpm_event closes an idle connection we left to it: GOAWAY first. */
static int
h2x_apache_pre_close_connection(conn_rec *c)
{
    h2x_apache_conn_t  *hc;

    if (c->master) {
        return DECLINED;
    }

    hc = h2x_apache_conn_get(c);
    if (hc == NULL || !hc->parked) {
        return DECLINED;
    }

    h2x_apache_session_pre_close(hc);

    return DECLINED;
}


/*
 * Env vars for A/B parity with mod_http2: HTTP2, H2PUSH, H2_STREAM_ID,
 * H2_STREAM_TAG (H2_ORIGINAL_HOST is set with the request), and H2X.
 */
static int
h2x_apache_fixups(request_rec *r)
{
    h2x_apache_stream_t  *hs;
    conn_rec             *c = r->connection;

    if (c->master == NULL) {
        return DECLINED;
    }

    hs = ap_get_module_config(c->conn_config, &h2x_module);
    if (hs == NULL) {
        return DECLINED;
    }

    apr_table_setn(r->subprocess_env, "HTTP2", "on");
    apr_table_setn(r->subprocess_env, "H2PUSH", "off");
    apr_table_setn(r->subprocess_env, "H2_PUSH", "off");
    apr_table_setn(r->subprocess_env, "H2_PUSHED", "");
    apr_table_setn(r->subprocess_env, "H2_PUSHED_ON", "");
    apr_table_setn(r->subprocess_env, "H2_STREAM_TAG", hs->tag);
    apr_table_setn(r->subprocess_env, "H2X", "on");
    apr_table_setn(r->subprocess_env, "H2_STREAM_ID",
                   apr_psprintf(r->pool, "%u", hs->id));

    return DECLINED;
}


static int
h2x_apache_add_field(void *data, const char *name, const char *value)
{
    apr_table_addn(data, name, value);

    return 1;
}


/*
 * 103 Early Hints (RFC 8297) as mod_http2's H2EarlyHints: the
 * H2XEarlyHint fields join the response fields and go out at once in an
 * interim response, the worker's NET_OUT filter hands it to the engine
 * as a non-final HEADERS frame.  Last of the fixups, as mod_http2's.
 */
static int
h2x_apache_early_hints(request_rec *r)
{
    int                     old_status;
    const char             *old_line;
    h2x_apache_dir_conf_t  *conf;

    if (r->connection->master == NULL || r->main != NULL
        || r->prev != NULL || r->expecting_100
        || ap_get_module_config(r->connection->conn_config, &h2x_module)
           == NULL)
    {
        return DECLINED;
    }

    conf = ap_get_module_config(r->per_dir_config, &h2x_module);
    if (conf == NULL || conf->early_hints != 1 || conf->early_headers == NULL
        || apr_is_empty_table(conf->early_headers))
    {
        return DECLINED;
    }

    apr_table_do(h2x_apache_add_field, r->headers_out, conf->early_headers,
                 NULL);

    old_status = r->status;
    old_line = r->status_line;
    r->status = 103;
    r->status_line = "103 Early Hints";
    ap_send_interim_response(r, 1);
    r->status = old_status;
    r->status_line = old_line;

    return DECLINED;
}


/* A coalesced request for a host where h2x does not serve h2: 421. */
static int
h2x_apache_post_read_request(request_rec *r)
{
    h2x_apache_stream_t  *hs;
    conn_rec             *c = r->connection;

    if (c->master == NULL || !ap_is_initial_req(r)) {
        return DECLINED;
    }

    hs = ap_get_module_config(c->conn_config, &h2x_module);
    if (hs == NULL) {
        return DECLINED;
    }

    if (r->server != hs->conn->s
        && (!h2x_apache_engine_enabled(r->server)
            || !ap_is_allowed_protocol(c->master, NULL, r->server,
                                       hs->conn->protocol)))
    {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APLOGNO(10704)
                      "h2x: %s is not served by h2x here, 421",
                      r->hostname ? r->hostname : "-");
        return HTTP_MISDIRECTED_REQUEST;
    }

    return DECLINED;
}


static void
h2x_apache_child_stopping(apr_pool_t *pchild, int graceful)
{
    (void) pchild;

    h2x_apache_session_child_stopping(graceful);
}


static int
h2x_apache_register_is_h2(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(http2_is_h2)  *fn;

    (void) pconf;
    (void) plog;
    (void) ptemp;
    (void) s;

    /* %{HTTP2} reads one optional function: chain to mod_http2's */
    fn = APR_RETRIEVE_OPTIONAL_FN(http2_is_h2);
    h2x_apache_next_is_h2 = (fn == h2x_apache_is_h2) ? NULL : fn;
    apr_dynamic_fn_register("http2_is_h2", (apr_opt_fn_t *) h2x_apache_is_h2);

    return OK;
}


int
h2x_apache_proto_post_config(apr_pool_t *pconf, server_rec *s)
{
    int          threaded = 0;
    int          i;
    module      *m;
    server_rec  *vs;

    (void) pconf;

    h2x_apache_mpm_module = NULL;
    for (i = 0; ap_loaded_modules[i]; i++) {
        m = ap_loaded_modules[i];
        if (!strcmp(m->name, "event.c") || !strcmp(m->name, "worker.c")
            || !strcmp(m->name, "prefork.c"))
        {
            h2x_apache_mpm_module = m;
            break;
        }
    }

    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS) {
        threaded = 0;
    }

    h2x_apache_mpm_ok = (threaded != AP_MPMQ_NOT_SUPPORTED);

    /* mpm_event: idle connections go back to it (see the session loop) */
    if (ap_mpm_query(AP_MPMQ_IS_ASYNC, &h2x_apache_mpm_async)
        != APR_SUCCESS)
    {
        h2x_apache_mpm_async = 0;
    }

#ifdef AP_MPMQ_CAN_WAITIO
    if (ap_mpm_query(AP_MPMQ_CAN_WAITIO, &h2x_apache_mpm_waitio)
        != APR_SUCCESS)
    {
        h2x_apache_mpm_waitio = 0;
    }
#else
    h2x_apache_mpm_waitio = 0;
#endif

    if (!h2x_apache_mpm_ok) {
        for (vs = s; vs; vs = vs->next) {
            if (h2x_apache_engine_enabled(vs)) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10705)
                             "h2x: the %s MPM is not threaded: h2x does not "
                             "offer HTTP/2 (H2XEngine on is ignored); use "
                             "mpm_event or mpm_worker", ap_show_mpm());
                break;
            }
        }
    }

    return OK;
}


void
h2x_apache_proto_register_hooks(void)
{
    static const char *const  after[] = { "mod_ssl.c", "mod_reqtimeout.c",
                                          NULL };
    static const char *const  before[] = { "mod_http2.c", NULL };

    ap_hook_protocol_propose(h2x_apache_protocol_propose, NULL, NULL,
                             APR_HOOK_MIDDLE);
    ap_hook_protocol_switch(h2x_apache_protocol_switch, NULL, NULL,
                            APR_HOOK_FIRST);
    ap_hook_protocol_get(h2x_apache_protocol_get, NULL, NULL,
                         APR_HOOK_FIRST);
    ap_hook_process_connection(h2x_apache_process_connection, after, before,
                               APR_HOOK_LAST);
    ap_hook_pre_close_connection(h2x_apache_pre_close_connection, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    ap_hook_post_read_request(h2x_apache_post_read_request, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_hook_fixups(h2x_apache_fixups, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_fixups(h2x_apache_early_hints, NULL, NULL, APR_HOOK_LAST);
    ap_hook_child_stopping(h2x_apache_child_stopping, NULL, NULL,
                           APR_HOOK_MIDDLE);
    ap_hook_post_config(h2x_apache_register_is_h2, NULL, NULL,
                        APR_HOOK_REALLY_FIRST);
}
