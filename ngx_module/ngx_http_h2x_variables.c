/*
 * Variables: $h2x is "h2" (TLS) or "h2c" (cleartext) for requests served
 * by h2x and empty otherwise; $h2x_stream_id is the request's stream.
 * ($http2 stays empty for h2x requests, which tells A/B runs apart.)
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_h2x_module.h"


static ngx_int_t ngx_http_h2x_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_h2x_stream_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_h2x_vars[] = {

    { ngx_string("h2x"), NULL,
      ngx_http_h2x_variable, 0, 0, 0 },

    { ngx_string("h2x_stream_id"), NULL,
      ngx_http_h2x_stream_id_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_h2x_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_h2x_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_h2x_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_http_h2x_stream_t  *stream;

    stream = ngx_http_h2x_stream(r);

    if (stream == NULL) {
        *v = ngx_http_variable_null_value;
        return NGX_OK;
    }

    if (stream->h2c->tls) {
        v->len = sizeof("h2") - 1;
        v->data = (u_char *) "h2";

    } else {
        v->len = sizeof("h2c") - 1;
        v->data = (u_char *) "h2c";
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_h2x_stream_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                 *p;
    ngx_http_h2x_stream_t  *stream;

    stream = ngx_http_h2x_stream(r);

    if (stream == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%ui", stream->id) - p;
    v->data = p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
