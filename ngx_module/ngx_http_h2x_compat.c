/*
 * Replacements for what older nginx versions export and newer ones do not
 * (see ngx_http_h2x_compat.h).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_h2x_module.h"


#if (NGX_HTTP_H2X_OWN_REQUEST_HEADER)

/*
 * The checks nginx's static ngx_http_process_request_header() makes once
 * the request headers are in, for a request of HTTP version 2.0: the
 * virtual server, Host, Content-Length, Transfer-Encoding, Keep-Alive,
 * CONNECT and TRACE, with nginx's log messages and status codes.
 */

ngx_int_t
ngx_http_h2x_process_request_header(ngx_http_request_t *r)
{
    ngx_table_elt_t  *te;

    if (r->headers_in.server.len == 0
        && ngx_http_set_virtual_server(r, &r->headers_in.server)
           == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    if (r->headers_in.host == NULL && r->http_version > NGX_HTTP_VERSION_10) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                   "client sent HTTP/1.1 request without \"Host\" header");
        ngx_http_finalize_request(r, NGX_HTTP_BAD_REQUEST);
        return NGX_ERROR;
    }

    if (r->headers_in.content_length) {
        r->headers_in.content_length_n =
                            ngx_atoof(r->headers_in.content_length->value.data,
                                      r->headers_in.content_length->value.len);

        if (r->headers_in.content_length_n == NGX_ERROR) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "client sent invalid \"Content-Length\" header");
            ngx_http_finalize_request(r, NGX_HTTP_BAD_REQUEST);
            return NGX_ERROR;
        }
    }

    te = r->headers_in.transfer_encoding;

    if (te) {
        if (te->value.len != 7
            || ngx_strncasecmp(te->value.data, (u_char *) "chunked", 7) != 0)
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "client sent unknown \"Transfer-Encoding\": \"%V\"",
                          &te->value);
            ngx_http_finalize_request(r, NGX_HTTP_NOT_IMPLEMENTED);
            return NGX_ERROR;
        }

        if (r->headers_in.content_length) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "client sent \"Content-Length\" and "
                          "\"Transfer-Encoding\" headers "
                          "at the same time");
            ngx_http_finalize_request(r, NGX_HTTP_BAD_REQUEST);
            return NGX_ERROR;
        }

        r->headers_in.chunked = 1;
    }

    if (r->headers_in.connection_type == NGX_HTTP_CONNECTION_KEEP_ALIVE
        && r->headers_in.keep_alive)
    {
        r->headers_in.keep_alive_n =
                            ngx_atotm(r->headers_in.keep_alive->value.data,
                                      r->headers_in.keep_alive->value.len);
    }

    /* nginx allows CONNECT on HTTP/1.1 only ("allow_connect", 1.30) */

    if (r->method == NGX_HTTP_CONNECT) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "client sent CONNECT method");
        ngx_http_finalize_request(r, NGX_HTTP_NOT_ALLOWED);
        return NGX_ERROR;
    }

    if (r->method == NGX_HTTP_TRACE) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "client sent TRACE method");
        ngx_http_finalize_request(r, NGX_HTTP_NOT_ALLOWED);
        return NGX_ERROR;
    }

    return NGX_OK;
}

#endif
