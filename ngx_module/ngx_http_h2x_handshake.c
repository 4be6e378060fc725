/*
 * Taking over connections in an unpatched nginx.
 *
 * init_module wraps the handler of every HTTP listener.  For each new
 * connection the wrapper runs ngx_http_init_connection() against a
 * shadow copy of the listener whose addresses have "ssl" and "http2"
 * cleared, so that nginx leaves the connection in its HTTP/1 "waiting
 * for request" state (whose static handler is captured as the HTTP/1
 * fallback), then decides itself:
 *
 *   TLS        our own handshake step, which always decides after the
 *              handshake, whether it completed in its first call or
 *              later (nginx's static handshake handler would hand a
 *              synchronously completed ALPN "h2" handshake to HTTP/1);
 *              "h2" selected by our ALPN callback on the SNI-selected
 *              server goes to the engine, the builtin keeps "h2" where
 *              it is configured, everything else goes to HTTP/1;
 *   cleartext  on a server with h2x enabled, the first 24 bytes are
 *              peeked: the HTTP/2 connection preface goes to the engine,
 *              anything else to HTTP/1, untouched, on the same port.
 *
 * PROXY protocol headers are read before either decision.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_h2x_module.h"
#include "h2x_frame.h"



#define NGX_HTTP_H2X_ALPN_H2       "\x02h2"
#define NGX_HTTP_H2X_ALPN_HTTP1    "\x08http/1.1\x08http/1.0\x08http/0.9"


static ngx_http_h2x_listener_t *ngx_http_h2x_find_listener(
    ngx_connection_t *c);
static ngx_int_t ngx_http_h2x_enabled(ngx_http_connection_t *hc);
static void ngx_http_h2x_fallback(ngx_event_t *rev);
static void ngx_http_h2x_preface_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_h2x_read_proxy_protocol(ngx_event_t *rev);

#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_h2x_builtin_h2(ngx_http_connection_t *hc);
static void ngx_http_h2x_ssl_handshake(ngx_event_t *rev);
static void ngx_http_h2x_ssl_handshake_done(ngx_connection_t *c);
#ifdef TLSEXT_TYPE_application_layer_protocol_negotiation
static int ngx_http_h2x_alpn_select(ngx_ssl_conn_t *ssl_conn,
    const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg);
#endif
static int  ngx_http_h2x_ssl_index = -1;
#endif


/* nginx's static ngx_http_wait_request_handler, captured at run time */
static ngx_event_handler_pt  ngx_http_h2x_wait_handler;

/* set in each worker: 0 with level-triggered event methods (see below) */
ngx_uint_t  ngx_http_h2x_usable;


ngx_int_t
ngx_http_h2x_wrap_listeners(ngx_cycle_t *cycle)
{
    size_t                     size;
    ngx_uint_t                 i;
    ngx_listening_t           *ls;
    ngx_http_port_t           *port, *sport;
    ngx_http_in_addr_t        *addr;
    ngx_http_h2x_listener_t   *lst;
    ngx_http_h2x_main_conf_t  *h2xmcf;
#if (NGX_HAVE_INET6)
    ngx_http_in6_addr_t       *addr6;
#endif

    if (cycle->conf_ctx == NULL) {
        return NGX_OK;
    }

    h2xmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_h2x_module);

    if (h2xmcf == NULL || !h2xmcf->enabled) {
        return NGX_OK;
    }

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        if (ls[i].handler != ngx_http_init_connection
            || ls[i].type != SOCK_STREAM
            || ls[i].servers == NULL)
        {
            continue;
        }

        port = ls[i].servers;

        lst = ngx_array_push(&h2xmcf->listeners);
        if (lst == NULL) {
            return NGX_ERROR;
        }

        lst->listening = &ls[i];

        lst->shadow = ngx_palloc(cycle->pool, sizeof(ngx_listening_t));
        sport = ngx_palloc(cycle->pool, sizeof(ngx_http_port_t));
        if (lst->shadow == NULL || sport == NULL) {
            return NGX_ERROR;
        }

        *lst->shadow = ls[i];
        *sport = *port;
        lst->shadow->servers = sport;

        switch (ls[i].sockaddr->sa_family) {

#if (NGX_HAVE_INET6)
        case AF_INET6:
            size = port->naddrs * sizeof(ngx_http_in6_addr_t);
            addr6 = ngx_pnalloc(cycle->pool, size);
            if (addr6 == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(addr6, port->addrs, size);

            for (size = 0; size < port->naddrs; size++) {
                addr6[size].conf.ssl = 0;
#if (NGX_HTTP_V2)
                addr6[size].conf.http2 = 0;
#endif
            }

            sport->addrs = addr6;
            break;
#endif

        default: /* AF_INET */
            size = port->naddrs * sizeof(ngx_http_in_addr_t);
            addr = ngx_pnalloc(cycle->pool, size);
            if (addr == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(addr, port->addrs, size);

            for (size = 0; size < port->naddrs; size++) {
                addr[size].conf.ssl = 0;
#if (NGX_HTTP_V2)
                addr[size].conf.http2 = 0;
#endif
            }

            sport->addrs = addr;
            break;
        }

        lst->addrs = port->addrs;
        lst->shadow_addrs = sport->addrs;

        ls[i].handler = ngx_http_h2x_init_connection;
    }

    return NGX_OK;
}


static ngx_http_h2x_listener_t *
ngx_http_h2x_find_listener(ngx_connection_t *c)
{
    ngx_uint_t                 i;
    ngx_http_h2x_listener_t   *lst;
    ngx_http_h2x_main_conf_t  *h2xmcf;

    h2xmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                 ngx_http_h2x_module);
    if (h2xmcf == NULL) {
        return NULL;
    }

    lst = h2xmcf->listeners.elts;

    for (i = 0; i < h2xmcf->listeners.nelts; i++) {
        if (lst[i].listening == c->listening) {
            return &lst[i];
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_h2x_enabled(ngx_http_connection_t *hc)
{
    ngx_http_h2x_srv_conf_t  *h2xscf;

    if (!ngx_http_h2x_usable) {
        return 0;
    }

    h2xscf = ngx_http_get_module_srv_conf(hc->conf_ctx, ngx_http_h2x_module);

    return h2xscf->enable;
}


#if (NGX_HTTP_SSL)

/* whether nginx's own HTTP/2 serves h2 on this connection's server */

static ngx_int_t
ngx_http_h2x_builtin_h2(ngx_http_connection_t *hc)
{
#if (NGX_HTTP_V2)
#if (NGX_HTTP_H2X_HTTP2_ON)
    ngx_http_v2_srv_conf_t  *h2scf;

    h2scf = ngx_http_get_module_srv_conf(hc->conf_ctx, ngx_http_v2_module);

    if (h2scf->enable) {
        return 1;
    }
#endif

    return hc->addr_conf->http2;
#else
    return 0;
#endif
}

#endif


void
ngx_http_h2x_init_connection(ngx_connection_t *c)
{
    size_t                    offset;
    ngx_uint_t                ready;
    ngx_event_t              *rev;
    ngx_http_connection_t    *hc;
    ngx_http_h2x_listener_t  *lst;

    lst = ngx_http_h2x_find_listener(c);

    if (lst == NULL) {
        ngx_http_init_connection(c);
        return;
    }

    rev = c->read;

    /* keep the deferred accept path from running the handler at once */

    ready = rev->ready;
    rev->ready = 0;

    c->listening = lst->shadow;
    ngx_http_init_connection(c);
    c->listening = lst->listening;

    if (c->destroyed || c->fd == (ngx_socket_t) -1) {
        return;
    }

    hc = c->data;

    /* the same address entry in the real listener */

    offset = (u_char *) hc->addr_conf - (u_char *) lst->shadow_addrs;
    hc->addr_conf = (ngx_http_addr_conf_t *) ((u_char *) lst->addrs + offset);

    if (hc->ssl) {
        /* legacy "ssl on": nginx's own handshake, no h2x */
        goto done;
    }

    ngx_http_h2x_wait_handler = rev->handler;

#if (NGX_HTTP_SSL)
    if (hc->addr_conf->ssl) {
        hc->ssl = 1;

        if (!hc->proxy_protocol) {
            c->log->action = "SSL handshaking";
        }

        rev->handler = ngx_http_h2x_ssl_handshake;
        goto done;
    }
#endif

    if (ngx_http_h2x_enabled(hc)) {
        rev->handler = ngx_http_h2x_preface_handler;
        goto done;
    }

#if (NGX_HTTP_V2 && !NGX_HTTP_H2X_HTTP2_ON)
    /* before 1.25.1 a cleartext "listen ... http2" speaks h2c only */
    if (hc->addr_conf->http2) {
        rev->handler = ngx_http_v2_init;
    }
#endif

    /* since 1.25.1 nginx's HTTP/1 handler looks for the preface itself */

done:

    if (ready) {
        rev->ready = 1;

        if (ngx_use_accept_mutex) {
            ngx_post_event(rev, &ngx_posted_events);
            return;
        }

        rev->handler(rev);
    }
}


/* anything that is not ours: nginx's HTTP/1 path, or the builtin h2 */

static void
ngx_http_h2x_fallback(ngx_event_t *rev)
{
    ngx_connection_t       *c;
#if (NGX_HTTP_V2 && !NGX_HTTP_H2X_HTTP2_ON)
    ngx_http_connection_t  *hc;
#endif

    c = rev->data;

    c->log->action = "waiting for request";

#if (NGX_HTTP_V2 && !NGX_HTTP_H2X_HTTP2_ON)
    hc = c->data;

    if (hc->addr_conf->http2 && !hc->ssl) {
        /* before 1.25.1 a cleartext "listen ... http2" speaks h2c only */
        rev->handler = ngx_http_v2_init;
        ngx_http_v2_init(rev);
        return;
    }
#endif

    rev->handler = ngx_http_h2x_wait_handler;
    c->write->handler = ngx_http_empty_handler;

    ngx_http_h2x_wait_handler(rev);
}


/*
 * Reads a PROXY protocol header, if the listener wants one.  NGX_OK: done
 * (or none), NGX_AGAIN: wait, NGX_ERROR: the connection is closed.
 */

static ngx_int_t
ngx_http_h2x_read_proxy_protocol(ngx_event_t *rev)
{
    u_char                 *p, buf[NGX_PROXY_PROTOCOL_MAX_HEADER + 1];
    ssize_t                 n, size;
    ngx_err_t               err;
    ngx_connection_t       *c;
    ngx_http_connection_t  *hc;

    c = rev->data;
    hc = c->data;

    if (!hc->proxy_protocol) {
        return NGX_OK;
    }

    n = recv(c->fd, (char *) buf, sizeof(buf), MSG_PEEK);

    err = ngx_socket_errno;

    if (n == -1) {
        if (err == NGX_EAGAIN) {
            rev->ready = 0;

            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                ngx_http_close_connection(c);
                return NGX_ERROR;
            }

            return NGX_AGAIN;
        }

        ngx_connection_error(c, err, "recv() failed");
        ngx_http_close_connection(c);
        return NGX_ERROR;
    }

    if (n == 0) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0, "client closed connection");
        ngx_http_close_connection(c);
        return NGX_ERROR;
    }

    p = ngx_proxy_protocol_read(c, buf, buf + n);

    if (p == NULL) {
        ngx_http_close_connection(c);
        return NGX_ERROR;
    }

    size = p - buf;

    if (c->recv(c, buf, size) != size) {
        ngx_http_close_connection(c);
        return NGX_ERROR;
    }

    hc->proxy_protocol = 0;

    return NGX_OK;
}


static void
ngx_http_h2x_preface_handler(ngx_event_t *rev)
{
    u_char             buf[H2X_PREFACE_SIZE];
    ssize_t            n;
    ngx_int_t          rc;
    ngx_err_t          err;
    ngx_connection_t  *c;

    c = rev->data;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "h2x preface handler");

    if (rev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT, "client timed out");
        ngx_http_close_connection(c);
        return;
    }

    if (c->close) {
        ngx_http_close_connection(c);
        return;
    }

    rc = ngx_http_h2x_read_proxy_protocol(rev);

    if (rc != NGX_OK) {
        return;
    }

    n = recv(c->fd, (char *) buf, sizeof(buf), MSG_PEEK);

    err = ngx_socket_errno;

    if (n == -1 && err == NGX_EAGAIN) {
        rev->ready = 0;

        if (ngx_handle_read_event(rev, 0) != NGX_OK) {
            ngx_http_close_connection(c);
        }

        return;
    }

    /*
     * "PRI * HTTP/2.0\r\n\r\n" says HTTP/2: the engine checks the rest
     * and answers a bad preface with GOAWAY, as the builtin does
     */
    if (n <= 0
        || ngx_memcmp(buf, H2X_PREFACE,
                      ngx_min((size_t) n, NGX_HTTP_H2X_PREFACE_INTENT))
           != 0)
    {
        /* not HTTP/2, or closed: HTTP/1 reports it its own way */
        ngx_http_h2x_fallback(rev);
        return;
    }

    if ((size_t) n < NGX_HTTP_H2X_PREFACE_INTENT) {
        /* a prefix of the preface: an edge will come with the rest */
        rev->ready = 0;

        if (ngx_handle_read_event(rev, 0) != NGX_OK) {
            ngx_http_close_connection(c);
        }

        return;
    }

    ngx_http_h2x_init(c);
}


#if (NGX_HTTP_SSL)

/*
 * After nginx's ngx_http_ssl_handshake() (1.22), with the decision after
 * the handshake made by ngx_http_h2x_ssl_handshake_done() in every case.
 */

static void
ngx_http_h2x_ssl_handshake(ngx_event_t *rev)
{
    u_char                     buf[1];
    ssize_t                    n;
    ngx_int_t                  rc;
    ngx_err_t                  err;
    ngx_connection_t          *c;
    ngx_http_connection_t     *hc;
    ngx_http_ssl_srv_conf_t   *sscf;
    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_core_srv_conf_t  *cscf;

    c = rev->data;
    hc = c->data;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, rev->log, 0,
                   "h2x check ssl handshake");

    if (rev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT, "client timed out");
        ngx_http_close_connection(c);
        return;
    }

    if (c->close) {
        ngx_http_close_connection(c);
        return;
    }

    rc = ngx_http_h2x_read_proxy_protocol(rev);

    if (rc != NGX_OK) {
        return;
    }

    c->log->action = "SSL handshaking";

    n = recv(c->fd, (char *) buf, 1, MSG_PEEK);

    err = ngx_socket_errno;

    if (n == -1) {
        if (err == NGX_EAGAIN) {
            rev->ready = 0;

            if (!rev->timer_set) {
                cscf = ngx_http_get_module_srv_conf(hc->conf_ctx,
                                                    ngx_http_core_module);
                ngx_add_timer(rev, cscf->client_header_timeout);
                ngx_reusable_connection(c, 1);
            }

            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                ngx_http_close_connection(c);
            }

            return;
        }

        ngx_connection_error(c, err, "recv() failed");
        ngx_http_close_connection(c);
        return;
    }

    if (n == 0) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0, "client closed connection");
        ngx_http_close_connection(c);
        return;
    }

    if (!(buf[0] & 0x80) /* SSLv2 */ && buf[0] != 0x16 /* SSLv3/TLSv1 */) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, rev->log, 0, "plain http");

        c->log->action = "waiting for request";
        rev->handler = ngx_http_h2x_wait_handler;
        ngx_http_h2x_wait_handler(rev);
        return;
    }

    clcf = ngx_http_get_module_loc_conf(hc->conf_ctx, ngx_http_core_module);

    if (clcf->tcp_nodelay && ngx_tcp_nodelay(c) != NGX_OK) {
        ngx_http_close_connection(c);
        return;
    }

    sscf = ngx_http_get_module_srv_conf(hc->conf_ctx, ngx_http_ssl_module);

    if (ngx_ssl_create_connection(&sscf->ssl, c, NGX_SSL_BUFFER) != NGX_OK) {
        ngx_http_close_connection(c);
        return;
    }

    /* tells our ALPN callback that this handshake decides by itself */
    if (SSL_set_ex_data(c->ssl->connection, ngx_http_h2x_ssl_index, c) == 0)
    {
        ngx_ssl_error(NGX_LOG_ALERT, c->log, 0, "SSL_set_ex_data() failed");
        ngx_http_close_connection(c);
        return;
    }

    ngx_reusable_connection(c, 0);

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {

        if (!rev->timer_set) {
            cscf = ngx_http_get_module_srv_conf(hc->conf_ctx,
                                                ngx_http_core_module);
            ngx_add_timer(rev, cscf->client_header_timeout);
        }

        c->ssl->handler = ngx_http_h2x_ssl_handshake_done;
        return;
    }

    /* completed (or failed) in the first call: decide here, too */

    ngx_http_h2x_ssl_handshake_done(c);
}


static void
ngx_http_h2x_ssl_handshake_done(ngx_connection_t *c)
{
    unsigned int            len;
    const unsigned char    *data;
    ngx_http_connection_t  *hc;

    if (!c->ssl->handshaked) {
        if (c->read->timedout) {
            ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                          "client timed out");
        }

        ngx_http_close_connection(c);
        return;
    }

    /*
     * Most clients do not send the "close notify" alert, and some ignore
     * ours: do not wait for it (as nginx).
     */

    c->ssl->no_wait_shutdown = 1;

    hc = c->data;

    len = 0;
    data = NULL;

#ifdef TLSEXT_TYPE_application_layer_protocol_negotiation
    SSL_get0_alpn_selected(c->ssl->connection, &data, &len);
#endif

    if (len == 2 && data[0] == 'h' && data[1] == '2') {

        if (ngx_http_h2x_enabled(hc)) {
            ngx_http_h2x_init(c);
            return;
        }

#if (NGX_HTTP_V2)
        if (ngx_http_h2x_builtin_h2(hc)) {
            ngx_http_v2_init(c->read);
            return;
        }
#endif
    }

    c->log->action = "waiting for request";

    c->read->handler = ngx_http_h2x_wait_handler;
    c->write->handler = ngx_http_empty_handler;

    ngx_reusable_connection(c, 1);

    ngx_http_h2x_wait_handler(c->read);
}


#ifdef TLSEXT_TYPE_application_layer_protocol_negotiation

/*
 * Offers "h2" on servers with h2x enabled (decided on the server selected
 * by SNI) for connections whose handshake is ours; elsewhere it answers
 * exactly as nginx's own callback (ngx_http_ssl_alpn_select) would for
 * this version: "h2" where the builtin serves h2, and on QUIC listeners
 * "h3" and "hq-interop" as configured.
 */

static int
ngx_http_h2x_alpn_select(ngx_ssl_conn_t *ssl_conn, const unsigned char **out,
    unsigned char *outlen, const unsigned char *in, unsigned int inlen,
    void *arg)
{
    unsigned int              srvlen;
    unsigned char            *srv;
    ngx_connection_t         *c;
    ngx_http_connection_t    *hc;
#if (NGX_HTTP_H2X_QUIC)
    ngx_http_v3_srv_conf_t   *h3scf;
#endif

    c = ngx_ssl_get_connection(ssl_conn);
    hc = c->data;

#if (NGX_HTTP_H2X_QUIC)

    if (hc->addr_conf->quic) {

        /* HTTP/3 is nginx's: the same choice as its callback */

        h3scf = ngx_http_get_module_srv_conf(hc->conf_ctx, ngx_http_v3_module);

        if (h3scf->enable && h3scf->enable_hq) {
            srv = (unsigned char *) NGX_HTTP_V3_ALPN_PROTO
                                    NGX_HTTP_V3_HQ_ALPN_PROTO;
            srvlen = sizeof(NGX_HTTP_V3_ALPN_PROTO NGX_HTTP_V3_HQ_ALPN_PROTO)
                     - 1;

        } else if (h3scf->enable_hq) {
            srv = (unsigned char *) NGX_HTTP_V3_HQ_ALPN_PROTO;
            srvlen = sizeof(NGX_HTTP_V3_HQ_ALPN_PROTO) - 1;

        } else if (h3scf->enable) {
            srv = (unsigned char *) NGX_HTTP_V3_ALPN_PROTO;
            srvlen = sizeof(NGX_HTTP_V3_ALPN_PROTO) - 1;

        } else {
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        }

        goto select;
    }

#endif

    if ((SSL_get_ex_data(ssl_conn, ngx_http_h2x_ssl_index) != NULL
         && ngx_http_h2x_enabled(hc))
        || ngx_http_h2x_builtin_h2(hc))
    {
        srv = (unsigned char *) NGX_HTTP_H2X_ALPN_H2 NGX_HTTP_H2X_ALPN_HTTP1;
        srvlen = sizeof(NGX_HTTP_H2X_ALPN_H2 NGX_HTTP_H2X_ALPN_HTTP1) - 1;

    } else {
        srv = (unsigned char *) NGX_HTTP_H2X_ALPN_HTTP1;
        srvlen = sizeof(NGX_HTTP_H2X_ALPN_HTTP1) - 1;
    }

#if (NGX_HTTP_H2X_QUIC)
select:
#endif

    if (SSL_select_next_proto((unsigned char **) out, outlen, srv, srvlen,
                              in, inlen)
        != OPENSSL_NPN_NEGOTIATED)
    {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "h2x SSL ALPN selected: %*s", (size_t) *outlen, *out);

    return SSL_TLSEXT_ERR_OK;
}

#endif

#endif /* NGX_HTTP_SSL */


/*
 * postconfiguration: every server is merged.  Our ALPN callback goes on
 * the SSL context of every server with h2x enabled and on that of the
 * default server of each address hosting one (an SNI-selected server
 * without its own certificate does not switch the context).
 */

ngx_int_t
ngx_http_h2x_install_alpn(ngx_conf_t *cf)
{
    ngx_uint_t                  p, a, s, i, on;
    ngx_http_conf_port_t       *port;
    ngx_http_conf_addr_t       *addr;
    ngx_http_core_srv_conf_t  **cscfp, *cscf;
    ngx_http_h2x_srv_conf_t    *h2xscf;
    ngx_http_h2x_main_conf_t   *h2xmcf;
    ngx_http_core_main_conf_t  *cmcf;
#if (NGX_HTTP_SSL)
    ngx_http_ssl_srv_conf_t    *sscf;
#endif

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    h2xmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_h2x_module);

    cscfp = cmcf->servers.elts;

    for (s = 0; s < cmcf->servers.nelts; s++) {
        h2xscf = cscfp[s]->ctx->srv_conf[ngx_http_h2x_module.ctx_index];

        if (h2xscf->enable) {
            h2xmcf->enabled = 1;
        }
    }

    if (!h2xmcf->enabled || cmcf->ports == NULL) {
        return NGX_OK;
    }

#if (NGX_HTTP_SSL)

    if (ngx_http_h2x_ssl_index == -1) {
        ngx_http_h2x_ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
                                                      NULL);
        if (ngx_http_h2x_ssl_index == -1) {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "SSL_get_ex_new_index() failed");
            return NGX_ERROR;
        }
    }

#ifdef TLSEXT_TYPE_application_layer_protocol_negotiation

    port = cmcf->ports->elts;

    for (p = 0; p < cmcf->ports->nelts; p++) {

        addr = port[p].addrs.elts;

        for (a = 0; a < port[p].addrs.nelts; a++) {

            on = 0;
            cscfp = addr[a].servers.elts;

            for (i = 0; i <= addr[a].servers.nelts; i++) {

                if (i < addr[a].servers.nelts) {
                    cscf = cscfp[i];
                    h2xscf = cscf->ctx->srv_conf[ngx_http_h2x_module.ctx_index];

                    if (!h2xscf->enable) {
                        continue;
                    }

                    on = 1;

                } else if (on) {
                    cscf = addr[a].default_server;

                } else {
                    break;
                }

                sscf = cscf->ctx->srv_conf[ngx_http_ssl_module.ctx_index];

                if (sscf->ssl.ctx) {
                    SSL_CTX_set_alpn_select_cb(sscf->ssl.ctx,
                                               ngx_http_h2x_alpn_select,
                                               NULL);
                }
            }
        }
    }

#endif

#else

    (void) p; (void) a; (void) i; (void) on; (void) port; (void) addr;
    (void) cscf;

#endif

    return NGX_OK;
}
