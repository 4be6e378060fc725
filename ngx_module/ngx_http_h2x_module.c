/*
 * ngx_http_h2x_module: h2x as an alternate HTTP/2 handler for nginx.
 *
 * The module definition, its directives and its configuration.  The
 * module is an HTTP filter module so that its header filter sits where
 * ngx_http_v2_filter_module sits (see the addon "config"): after gzip,
 * add_header and the other header filters, before chunked and the
 * HTTP/1 header filter.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_h2x_module.h"


static ngx_int_t ngx_http_h2x_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_h2x_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_h2x_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_h2x_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_h2x_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_h2x_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void *ngx_http_h2x_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_h2x_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_h2x_budget(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_h2x_recv_buffer_size(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_h2x_chunk_size(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_h2x_window_size(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_h2x_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_h2x_init_process(ngx_cycle_t *cycle);


static ngx_conf_post_t  ngx_http_h2x_recv_buffer_size_post =
    { ngx_http_h2x_recv_buffer_size };
static ngx_conf_post_t  ngx_http_h2x_chunk_size_post =
    { ngx_http_h2x_chunk_size };
static ngx_conf_post_t  ngx_http_h2x_window_size_post =
    { ngx_http_h2x_window_size };


static ngx_command_t  ngx_http_h2x_commands[] = {

    { ngx_string("h2x"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, enable),
      NULL },

    { ngx_string("h2x_recv_buffer_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_h2x_main_conf_t, recv_buffer_size),
      &ngx_http_h2x_recv_buffer_size_post },

    { ngx_string("h2x_max_concurrent_streams"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, concurrent_streams),
      NULL },

    { ngx_string("h2x_chunk_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_h2x_loc_conf_t, chunk_size),
      &ngx_http_h2x_chunk_size_post },

    { ngx_string("h2x_body_preread_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, preread_size),
      &ngx_http_h2x_window_size_post },

    { ngx_string("h2x_connection_window_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, connection_window),
      &ngx_http_h2x_window_size_post },

    { ngx_string("h2x_max_field_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, max_field_size),
      NULL },

    { ngx_string("h2x_max_header_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, max_header_size),
      NULL },

    { ngx_string("h2x_max_header_fields"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, max_header_fields),
      NULL },

    { ngx_string("h2x_max_continuations"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, max_continuations),
      NULL },

    { ngx_string("h2x_header_table_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, header_table_size),
      NULL },

    { ngx_string("h2x_max_unsent_output"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, max_unsent_output),
      NULL },

    { ngx_string("h2x_max_response_header_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, max_response_header),
      NULL },

    { ngx_string("h2x_max_control_frames"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, max_control_frames),
      NULL },

    { ngx_string("h2x_max_settings_entries"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, max_settings_entries),
      NULL },

    { ngx_string("h2x_max_new_streams"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, max_new_streams),
      NULL },

    { ngx_string("h2x_reset_budget"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE2,
      ngx_http_h2x_budget,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, reset_burst),
      NULL },

    { ngx_string("h2x_glitch_budget"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE2,
      ngx_http_h2x_budget,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, glitch_burst),
      NULL },

    { ngx_string("h2x_max_stream_errors"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, max_stream_errors),
      NULL },

    { ngx_string("h2x_max_priority_updates"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, max_priority_updates),
      NULL },

    { ngx_string("h2x_settings_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, settings_timeout),
      NULL },

    { ngx_string("h2x_goaway_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_h2x_srv_conf_t, goaway_timeout),
      NULL },

    { ngx_string("h2x_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_h2x_status,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_h2x_module_ctx = {
    ngx_http_h2x_preconfiguration,         /* preconfiguration */
    ngx_http_h2x_postconfiguration,        /* postconfiguration */

    ngx_http_h2x_create_main_conf,         /* create main configuration */
    ngx_http_h2x_init_main_conf,           /* init main configuration */

    ngx_http_h2x_create_srv_conf,          /* create server configuration */
    ngx_http_h2x_merge_srv_conf,           /* merge server configuration */

    ngx_http_h2x_create_loc_conf,          /* create location configuration */
    ngx_http_h2x_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_h2x_module = {
    NGX_MODULE_V1,
    &ngx_http_h2x_module_ctx,              /* module context */
    ngx_http_h2x_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_h2x_init_module,              /* init module */
    ngx_http_h2x_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_h2x_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_h2x_add_variables(cf);
}


static ngx_int_t
ngx_http_h2x_postconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_h2x_filter_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_h2x_install_alpn(cf);
}


static void *
ngx_http_h2x_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_h2x_main_conf_t  *h2xmcf;

    h2xmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_h2x_main_conf_t));
    if (h2xmcf == NULL) {
        return NULL;
    }

    h2xmcf->recv_buffer_size = NGX_CONF_UNSET_SIZE;

    if (ngx_array_init(&h2xmcf->listeners, cf->pool, 4,
                       sizeof(ngx_http_h2x_listener_t))
        != NGX_OK)
    {
        return NULL;
    }

    return h2xmcf;
}


static char *
ngx_http_h2x_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_h2x_main_conf_t *h2xmcf = conf;

    ngx_conf_init_size_value(h2xmcf->recv_buffer_size, 256 * 1024);

    return NGX_CONF_OK;
}


static void *
ngx_http_h2x_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_h2x_srv_conf_t  *h2xscf;

    h2xscf = ngx_pcalloc(cf->pool, sizeof(ngx_http_h2x_srv_conf_t));
    if (h2xscf == NULL) {
        return NULL;
    }

    h2xscf->enable = NGX_CONF_UNSET;

    h2xscf->concurrent_streams = NGX_CONF_UNSET_UINT;
    h2xscf->preread_size = NGX_CONF_UNSET_SIZE;
    h2xscf->connection_window = NGX_CONF_UNSET_SIZE;
    h2xscf->max_field_size = NGX_CONF_UNSET_SIZE;
    h2xscf->max_header_size = NGX_CONF_UNSET_SIZE;
    h2xscf->max_header_fields = NGX_CONF_UNSET_UINT;
    h2xscf->max_continuations = NGX_CONF_UNSET_UINT;
    h2xscf->header_table_size = NGX_CONF_UNSET_SIZE;
    h2xscf->max_unsent_output = NGX_CONF_UNSET_SIZE;
    h2xscf->max_response_header = NGX_CONF_UNSET_SIZE;
    h2xscf->max_control_frames = NGX_CONF_UNSET_UINT;
    h2xscf->max_settings_entries = NGX_CONF_UNSET_UINT;
    h2xscf->max_new_streams = NGX_CONF_UNSET_UINT;
    h2xscf->reset_burst = NGX_CONF_UNSET_UINT;
    h2xscf->reset_rate = NGX_CONF_UNSET_UINT;
    h2xscf->glitch_burst = NGX_CONF_UNSET_UINT;
    h2xscf->glitch_rate = NGX_CONF_UNSET_UINT;
    h2xscf->max_stream_errors = NGX_CONF_UNSET_UINT;
    h2xscf->max_priority_updates = NGX_CONF_UNSET_UINT;
    h2xscf->settings_timeout = NGX_CONF_UNSET_MSEC;
    h2xscf->goaway_timeout = NGX_CONF_UNSET_MSEC;

    return h2xscf;
}


/*
 * Limits left unset everywhere keep the engine's defaults (see
 * h2x_config_init() and docs/nginx.md): ngx_http_h2x_init() applies only
 * what the configuration sets.
 */

static char *
ngx_http_h2x_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_h2x_srv_conf_t *prev = parent;
    ngx_http_h2x_srv_conf_t *conf = child;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    ngx_conf_merge_uint_value(conf->concurrent_streams,
                              prev->concurrent_streams, NGX_CONF_UNSET_UINT);
    ngx_conf_merge_size_value(conf->preread_size, prev->preread_size,
                              NGX_CONF_UNSET_SIZE);
    ngx_conf_merge_size_value(conf->connection_window,
                              prev->connection_window, NGX_CONF_UNSET_SIZE);
    ngx_conf_merge_size_value(conf->max_field_size, prev->max_field_size,
                              NGX_CONF_UNSET_SIZE);
    ngx_conf_merge_size_value(conf->max_header_size, prev->max_header_size,
                              NGX_CONF_UNSET_SIZE);
    ngx_conf_merge_uint_value(conf->max_header_fields,
                              prev->max_header_fields, NGX_CONF_UNSET_UINT);
    ngx_conf_merge_uint_value(conf->max_continuations,
                              prev->max_continuations, NGX_CONF_UNSET_UINT);
    ngx_conf_merge_size_value(conf->header_table_size,
                              prev->header_table_size, NGX_CONF_UNSET_SIZE);
    ngx_conf_merge_size_value(conf->max_unsent_output,
                              prev->max_unsent_output, NGX_CONF_UNSET_SIZE);
    ngx_conf_merge_size_value(conf->max_response_header,
                              prev->max_response_header, NGX_CONF_UNSET_SIZE);
    ngx_conf_merge_uint_value(conf->max_control_frames,
                              prev->max_control_frames, NGX_CONF_UNSET_UINT);
    ngx_conf_merge_uint_value(conf->max_settings_entries,
                              prev->max_settings_entries,
                              NGX_CONF_UNSET_UINT);
    ngx_conf_merge_uint_value(conf->max_new_streams, prev->max_new_streams,
                              NGX_CONF_UNSET_UINT);
    ngx_conf_merge_uint_value(conf->reset_burst, prev->reset_burst,
                              NGX_CONF_UNSET_UINT);
    ngx_conf_merge_uint_value(conf->reset_rate, prev->reset_rate,
                              NGX_CONF_UNSET_UINT);
    ngx_conf_merge_uint_value(conf->glitch_burst, prev->glitch_burst,
                              NGX_CONF_UNSET_UINT);
    ngx_conf_merge_uint_value(conf->glitch_rate, prev->glitch_rate,
                              NGX_CONF_UNSET_UINT);
    ngx_conf_merge_uint_value(conf->max_stream_errors,
                              prev->max_stream_errors, NGX_CONF_UNSET_UINT);
    ngx_conf_merge_uint_value(conf->max_priority_updates,
                              prev->max_priority_updates,
                              NGX_CONF_UNSET_UINT);
    ngx_conf_merge_msec_value(conf->settings_timeout, prev->settings_timeout,
                              NGX_CONF_UNSET_MSEC);
    ngx_conf_merge_msec_value(conf->goaway_timeout, prev->goaway_timeout,
                              NGX_CONF_UNSET_MSEC);

    if (conf->concurrent_streams == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"h2x_max_concurrent_streams\" must be at least 1");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* h2x_reset_budget / h2x_glitch_budget <burst> <per second> */

static char *
ngx_http_h2x_budget(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_int_t    burst, rate;
    ngx_str_t   *value;
    ngx_uint_t  *field;

    field = (ngx_uint_t *) (p + cmd->offset);

    if (field[0] != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    burst = ngx_atoi(value[1].data, value[1].len);
    rate = ngx_atoi(value[2].data, value[2].len);

    if (burst == NGX_ERROR || burst == 0 || rate == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V %V\"", &value[1], &value[2]);
        return NGX_CONF_ERROR;
    }

    /* the rate field follows the burst field in the structure */
    field[0] = burst;
    field[1] = rate;

    return NGX_CONF_OK;
}


static char *
ngx_http_h2x_recv_buffer_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t *sp = data;

    if (*sp < 2 * 16384) {
        return "value is too small";
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_h2x_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_h2x_loc_conf_t  *h2xlcf;

    h2xlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_h2x_loc_conf_t));
    if (h2xlcf == NULL) {
        return NULL;
    }

    h2xlcf->chunk_size = NGX_CONF_UNSET_SIZE;

    return h2xlcf;
}


static char *
ngx_http_h2x_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_h2x_loc_conf_t *prev = parent;
    ngx_http_h2x_loc_conf_t *conf = child;

    /* as http2_chunk_size, a location's; unset: the engine's 16k */
    ngx_conf_merge_size_value(conf->chunk_size, prev->chunk_size,
                              NGX_CONF_UNSET_SIZE);

    return NGX_CONF_OK;
}


static char *
ngx_http_h2x_chunk_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t *sp = data;

    if (*sp == 0) {
        return "value is too small";
    }

    if (*sp > 16777215) {
        *sp = 16777215;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_h2x_window_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t *sp = data;

    if (*sp > 0x7fffffff) {
        return "value is too large";
    }

    return NGX_CONF_OK;
}


/*
 * The listening sockets exist only after ngx_http_optimize_servers(),
 * which runs after every postconfiguration handler: wrap them here.
 */

static ngx_int_t
ngx_http_h2x_init_module(ngx_cycle_t *cycle)
{
    return ngx_http_h2x_wrap_listeners(cycle);
}


static ngx_int_t
ngx_http_h2x_init_process(ngx_cycle_t *cycle)
{
    return ngx_http_h2x_init_worker(cycle);
}
