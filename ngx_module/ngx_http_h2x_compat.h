/*
 * What differs between the nginx versions h2x supports (1.22 to the
 * current mainline).  Every nginx_version test of the adapter is here,
 * each with the nginx change it follows; docs/nginx.md lists them.
 */

#ifndef _NGX_HTTP_H2X_COMPAT_H_INCLUDED_
#define _NGX_HTTP_H2X_COMPAT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <nginx.h>


/*
 * 1.25.1: the builtin HTTP/2 is switched per server by "http2 on;"
 * (ngx_http_v2_srv_conf_t.enable) as well as by "listen ... http2", and a
 * cleartext "http2" port also serves HTTP/1.x (nginx peeks for the
 * preface in ngx_http_wait_request_handler).
 */
#if (NGX_HTTP_V2 && nginx_version >= 1025001)
#define NGX_HTTP_H2X_HTTP2_ON       1
#else
#define NGX_HTTP_H2X_HTTP2_ON       0
#endif


/*
 * 1.25.0: QUIC listeners (hc->addr_conf->quic) handshake with the SSL
 * context of the same server, so our ALPN callback answers for HTTP/3 too;
 * NGX_HTTP_V3 exists only from this version on.
 */
#if (NGX_HTTP_V3)
#define NGX_HTTP_H2X_QUIC           1
#else
#define NGX_HTTP_H2X_QUIC           0
#endif


/*
 * 1.29.1: ngx_http_process_request_header() is static again (nginx
 * commit "Made ngx_http_process_request_header() static again"); the
 * adapter does the same checks with what nginx exports
 * (ngx_http_h2x_compat.c).
 */
#if (nginx_version >= 1029001)
#define NGX_HTTP_H2X_OWN_REQUEST_HEADER  1
ngx_int_t ngx_http_h2x_process_request_header(ngx_http_request_t *r);
#else
#define NGX_HTTP_H2X_OWN_REQUEST_HEADER  0
#define ngx_http_h2x_process_request_header  ngx_http_process_request_header
#endif


#endif /* _NGX_HTTP_H2X_COMPAT_H_INCLUDED_ */
