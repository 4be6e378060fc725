/*
 * ngx_http_h2x_module: h2x as an alternate HTTP/2 handler for nginx.
 *
 * This file holds the module definition, its directives and the header
 * filter slot.  The filter sits where ngx_http_v2_filter_module sits (see
 * the addon "config"): after gzip, add_header and the other header
 * filters, before chunked and the HTTP/1 header filter.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "h2x.h"


typedef struct {
    ngx_flag_t                     enable;
} ngx_http_h2x_srv_conf_t;


static void *ngx_http_h2x_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_h2x_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_h2x_filter_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_h2x_header_filter(ngx_http_request_t *r);


static ngx_command_t  ngx_http_h2x_commands[] = {

    { ngx_string("h2x"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, enable),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_h2x_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_h2x_filter_init,              /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_http_h2x_create_srv_conf,          /* create server configuration */
    ngx_http_h2x_merge_srv_conf,           /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_h2x_module = {
    NGX_MODULE_V1,
    &ngx_http_h2x_module_ctx,              /* module context */
    ngx_http_h2x_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


static void *
ngx_http_h2x_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_h2x_srv_conf_t  *h2xscf;

    h2xscf = ngx_pcalloc(cf->pool, sizeof(ngx_http_h2x_srv_conf_t));
    if (h2xscf == NULL) {
        return NULL;
    }

    h2xscf->enable = NGX_CONF_UNSET;

    return h2xscf;
}


static char *
ngx_http_h2x_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_h2x_srv_conf_t *prev = parent;
    ngx_http_h2x_srv_conf_t *conf = child;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_h2x_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_h2x_header_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_h2x_header_filter(ngx_http_request_t *r)
{
    /* no stream is served by the engine yet: pass everything through */

    return ngx_http_next_header_filter(r);
}
