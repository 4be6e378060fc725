/*
 * mod_h2x: directives and per-server configuration.
 *
 * Names mirror mod_http2's with the H2X prefix; mod_http2's own H2* names
 * are never used (a directive defined by two modules reaches only one).
 * Every engine limit and abuse budget has its directive; unset values
 * keep the engine's defaults (h2x_config_init()).
 */

#include <errno.h>
#include <stddef.h>

#include "apr_strings.h"

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_mpm.h"

#include "h2x_apache.h"

APLOG_USE_MODULE(h2x);


h2x_apache_global_conf_t  h2x_apache_global = {
    H2X_APACHE_UNSET, H2X_APACHE_UNSET, H2X_APACHE_UNSET
};


/* A numeric per-server directive: where it goes and its bounds. */
typedef struct {
    apr_size_t                 offset;
    apr_int64_t                min;
    apr_int64_t                max;
} h2x_apache_num_t;


#define H2X_OFF(field)  APR_OFFSETOF(h2x_apache_srv_conf_t, field)
#define H2X_MAX31       2147483647


static const h2x_apache_num_t  h2x_num_max_session_streams =
    { H2X_OFF(max_session_streams), 1, H2X_MAX31 };
static const h2x_apache_num_t  h2x_num_window_size =
    { H2X_OFF(window_size), 0, H2X_MAX31 };
static const h2x_apache_num_t  h2x_num_connection_window_size =
    { H2X_OFF(connection_window_size), 65535, H2X_MAX31 };
static const h2x_apache_num_t  h2x_num_stream_max_mem_size =
    { H2X_OFF(stream_max_mem_size), 1024, 64 * 1024 * 1024 };
static const h2x_apache_num_t  h2x_num_max_header_list_size =
    { H2X_OFF(max_header_list_size), 256, 16 * 1024 * 1024 };
static const h2x_apache_num_t  h2x_num_max_field_size =
    { H2X_OFF(max_field_size), 64, 16 * 1024 * 1024 };
static const h2x_apache_num_t  h2x_num_max_header_fields =
    { H2X_OFF(max_header_fields), 8, 100000 };
static const h2x_apache_num_t  h2x_num_max_continuations =
    { H2X_OFF(max_continuations), 0, 100000 };
static const h2x_apache_num_t  h2x_num_max_frame_size =
    { H2X_OFF(max_frame_size), 16384, 16777215 };
static const h2x_apache_num_t  h2x_num_header_table_size =
    { H2X_OFF(header_table_size), 0, 65536 };
static const h2x_apache_num_t  h2x_num_max_requests =
    { H2X_OFF(max_requests), 0, H2X_MAX31 };
static const h2x_apache_num_t  h2x_num_max_unsent_output =
    { H2X_OFF(max_unsent_output), 16384, 1024 * 1024 * 1024 };
static const h2x_apache_num_t  h2x_num_max_response_header_size =
    { H2X_OFF(max_response_header_size), 1024, H2X_MAX31 };
static const h2x_apache_num_t  h2x_num_max_control_queue =
    { H2X_OFF(max_control_queue), 16, 1000000 };
static const h2x_apache_num_t  h2x_num_max_settings_entries =
    { H2X_OFF(max_settings_entries), 6, 10000 };
static const h2x_apache_num_t  h2x_num_max_new_streams =
    { H2X_OFF(max_new_streams_per_read), 1, 1000000 };
static const h2x_apache_num_t  h2x_num_rst_burst =
    { H2X_OFF(rst_burst), 1, 10000000 };
static const h2x_apache_num_t  h2x_num_rst_rate =
    { H2X_OFF(rst_rate), 1, 10000000 };
static const h2x_apache_num_t  h2x_num_glitch_burst =
    { H2X_OFF(glitch_burst), 1, 10000000 };
static const h2x_apache_num_t  h2x_num_glitch_rate =
    { H2X_OFF(glitch_rate), 1, 10000000 };
static const h2x_apache_num_t  h2x_num_max_stream_errors =
    { H2X_OFF(max_stream_errors), 1, 1000000 };
static const h2x_apache_num_t  h2x_num_max_priority_updates =
    { H2X_OFF(max_priority_updates), 0, 1000000 };
static const h2x_apache_num_t  h2x_num_settings_timeout =
    { H2X_OFF(settings_timeout), 100, 3600000 };
static const h2x_apache_num_t  h2x_num_header_timeout =
    { H2X_OFF(header_timeout), 0, 86400 };
static const h2x_apache_num_t  h2x_num_stream_timeout =
    { H2X_OFF(stream_timeout), 0, 86400 };


static apr_int64_t *
h2x_apache_num_field(h2x_apache_srv_conf_t *conf, apr_size_t offset)
{
    return (apr_int64_t *) ((char *) conf + offset);
}


void *
h2x_apache_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    h2x_apache_srv_conf_t  *conf;
    apr_int64_t            *v;
    apr_size_t              off;

    (void) s;

    conf = apr_pcalloc(p, sizeof(*conf));
    conf->engine = H2X_APACHE_UNSET;
    conf->direct = H2X_APACHE_UNSET;
    conf->modern_tls_only = H2X_APACHE_UNSET;

    for (off = H2X_OFF(max_session_streams);
         off <= H2X_OFF(stream_timeout);
         off += sizeof(apr_int64_t))
    {
        v = h2x_apache_num_field(conf, off);
        *v = H2X_APACHE_UNSET;
    }

    return conf;
}


void *
h2x_apache_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    h2x_apache_srv_conf_t  *base = basev;
    h2x_apache_srv_conf_t  *add = addv;
    h2x_apache_srv_conf_t  *conf;
    apr_size_t              off;
    apr_int64_t             a;

    conf = apr_pcalloc(p, sizeof(*conf));

#define H2X_MERGE(f)  conf->f = (add->f != H2X_APACHE_UNSET) ? add->f : base->f
    H2X_MERGE(engine);
    H2X_MERGE(direct);
    H2X_MERGE(modern_tls_only);
#undef H2X_MERGE

    for (off = H2X_OFF(max_session_streams);
         off <= H2X_OFF(stream_timeout);
         off += sizeof(apr_int64_t))
    {
        a = *h2x_apache_num_field(add, off);
        *h2x_apache_num_field(conf, off) = (a != H2X_APACHE_UNSET)
            ? a : *h2x_apache_num_field(base, off);
    }

    return conf;
}


h2x_apache_srv_conf_t *
h2x_apache_srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &h2x_module);
}


int
h2x_apache_engine_enabled(server_rec *s)
{
    return h2x_apache_srv_conf(s)->engine == 1;
}


static const char *
h2x_apache_set_engine(cmd_parms *cmd, void *dconf, int flag)
{
    (void) dconf;

    h2x_apache_srv_conf(cmd->server)->engine = flag ? 1 : 0;
    return NULL;
}


static const char *
h2x_apache_set_direct(cmd_parms *cmd, void *dconf, int flag)
{
    (void) dconf;

    h2x_apache_srv_conf(cmd->server)->direct = flag ? 1 : 0;
    return NULL;
}


static const char *
h2x_apache_set_modern_tls(cmd_parms *cmd, void *dconf, int flag)
{
    (void) dconf;

    h2x_apache_srv_conf(cmd->server)->modern_tls_only = flag ? 1 : 0;
    return NULL;
}


static const char *
h2x_apache_parse_num(cmd_parms *cmd, const char *arg, apr_int64_t min,
                     apr_int64_t max, apr_int64_t *out)
{
    char         *end;
    apr_int64_t   v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || *end != '\0' || v < min || v > max) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a number in %"
                            APR_INT64_T_FMT "..%" APR_INT64_T_FMT,
                            cmd->cmd->name, arg, min, max);
    }

    *out = v;
    return NULL;
}


static const char *
h2x_apache_set_num(cmd_parms *cmd, void *dconf, const char *arg)
{
    const h2x_apache_num_t  *num = cmd->info;
    h2x_apache_srv_conf_t   *conf;

    (void) dconf;

    conf = h2x_apache_srv_conf(cmd->server);

    return h2x_apache_parse_num(cmd, arg, num->min, num->max,
                                h2x_apache_num_field(conf, num->offset));
}


static const char *
h2x_apache_set_workers(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char   *err;
    apr_int64_t   v;

    (void) dconf;

    err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err != NULL) {
        return err;
    }

    err = h2x_apache_parse_num(cmd, arg, 1, 10000, &v);
    if (err != NULL) {
        return err;
    }

    if (!strcasecmp(cmd->cmd->name, "H2XMinWorkers")) {
        h2x_apache_global.min_workers = (int) v;

    } else if (!strcasecmp(cmd->cmd->name, "H2XMaxWorkers")) {
        h2x_apache_global.max_workers = (int) v;

    } else {
        h2x_apache_global.idle_seconds = (int) v;
    }

    return NULL;
}


void *
h2x_apache_create_dir_conf(apr_pool_t *p, char *dir)
{
    h2x_apache_dir_conf_t  *conf;

    (void) dir;

    conf = apr_pcalloc(p, sizeof(*conf));
    conf->early_hints = -1;

    return conf;
}


void *
h2x_apache_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    h2x_apache_dir_conf_t  *base = basev, *add = addv, *conf;

    conf = apr_pcalloc(p, sizeof(*conf));
    conf->early_hints = (add->early_hints != -1) ? add->early_hints
                                                 : base->early_hints;

    if (add->early_headers && base->early_headers) {
        conf->early_headers = apr_table_overlay(p, add->early_headers,
                                                base->early_headers);
    } else {
        conf->early_headers = add->early_headers ? add->early_headers
                                                 : base->early_headers;
    }

    return conf;
}


static const char *
h2x_apache_set_early_hints(cmd_parms *cmd, void *dconf, int flag)
{
    h2x_apache_dir_conf_t  *conf = dconf;

    (void) cmd;

    conf->early_hints = flag;

    return NULL;
}


static const char *
h2x_apache_add_early_hint(cmd_parms *cmd, void *dconf, const char *name,
                          const char *value)
{
    h2x_apache_dir_conf_t  *conf = dconf;

    if (conf->early_headers == NULL) {
        conf->early_headers = apr_table_make(cmd->pool, 2);
    }

    apr_table_add(conf->early_headers, name, value);

    return NULL;
}


/* Called from pre_config: forget the previous generation's globals. */
void
h2x_apache_config_pre(void)
{
    h2x_apache_global.min_workers = H2X_APACHE_UNSET;
    h2x_apache_global.max_workers = H2X_APACHE_UNSET;
    h2x_apache_global.idle_seconds = H2X_APACHE_UNSET;
}


static uint32_t
h2x_apache_max_u32(uint32_t a, int b, int c)
{
    if (b > 0 && (uint32_t) b > a) {
        a = (uint32_t) b;
    }

    if (c > 0 && (uint32_t) c > a) {
        a = (uint32_t) c;
    }

    return a;
}


void
h2x_apache_engine_config(server_rec *s, h2x_config_t *cfg)
{
    h2x_apache_srv_conf_t  *conf = h2x_apache_srv_conf(s);

    h2x_config_init(cfg);

    /* RFC 9113's choices as mod_http2 makes them (docs/compat.md):
     * :authority wins over a differing Host, the original is kept in
     * H2_ORIGINAL_HOST; whitespace around field values is stripped,
     * other control bytes than HTAB make the request malformed */
    cfg->host_mismatch = H2X_HOST_PASS;
    cfg->value_ows = H2X_OWS_STRIP;
    cfg->value_no_ctl = 1;

#define H2X_SET(field, to)                                                   \
    if (conf->field != H2X_APACHE_UNSET) {                                   \
        cfg->to = (uint32_t) conf->field;                                    \
    }

    H2X_SET(max_session_streams, max_concurrent_streams);
    H2X_SET(window_size, initial_window_size);
    H2X_SET(connection_window_size, connection_window_size);
    H2X_SET(max_header_list_size, max_header_list_size);
    H2X_SET(max_field_size, max_field_size);
    H2X_SET(max_header_fields, max_header_fields);
    H2X_SET(max_continuations, max_continuations);
    H2X_SET(max_frame_size, chunk_size);
    H2X_SET(header_table_size, header_table_size);
    H2X_SET(max_control_queue, max_control_queue);
    H2X_SET(max_response_header_size, max_response_header_size);
    H2X_SET(max_settings_entries, max_settings_entries);
    H2X_SET(max_new_streams_per_read, max_new_streams_per_feed);
    H2X_SET(rst_burst, rst_burst);
    H2X_SET(rst_rate, rst_rate);
    H2X_SET(glitch_burst, glitch_burst);
    H2X_SET(glitch_rate, glitch_rate);
    H2X_SET(max_stream_errors, max_stream_errors);
    H2X_SET(max_priority_updates, max_priority_updates);
    H2X_SET(settings_timeout, settings_ack_timeout);

#undef H2X_SET

    /*
     * httpd's LimitRequestLine, LimitRequestFieldSize and
     * LimitRequestFields govern h2x requests as mod_http2's: the stream
     * checks them (414, 431) as mod_http2 does.  The engine's bounds only
     * rise to let such requests reach it; H2XMaxFieldSize,
     * H2XMaxHeaderFields and H2XMaxHeaderListSize, when set, tighten.
     */
    if (conf->max_field_size == H2X_APACHE_UNSET) {
        cfg->max_field_size = h2x_apache_max_u32(cfg->max_field_size,
                                                 s->limit_req_fieldsize,
                                                 s->limit_req_line);
    }

    if (conf->max_header_fields == H2X_APACHE_UNSET) {
        /* 0 is "no limit" to httpd; pseudo-header fields and some
         * slack over it, so that the count of the stream decides */
        cfg->max_header_fields = (s->limit_req_fields > 0)
                                 ? (uint32_t) s->limit_req_fields + 16
                                 : 1000;
        if (cfg->max_header_fields < 100) {
            cfg->max_header_fields = 100;
        }
    }

    if (conf->max_header_list_size == H2X_APACHE_UNSET
        && cfg->max_header_list_size < 2 * cfg->max_field_size)
    {
        cfg->max_header_list_size = 2 * cfg->max_field_size;
    }

    /* seconds, like mod_reqtimeout's header= (per header block here) */
    if (conf->header_timeout != H2X_APACHE_UNSET) {
        cfg->header_timeout = (uint32_t) conf->header_timeout * 1000;
    }

    /* as mod_http2: no limit unless H2XMaxRequests says so */
    cfg->max_requests = (conf->max_requests > 0)
                        ? (uint32_t) conf->max_requests : UINT32_MAX;

    if (conf->max_unsent_output != H2X_APACHE_UNSET) {
        cfg->max_unsent_output = (size_t) conf->max_unsent_output;
    }

    /* as mod_http2 in httpd 2.4: a response field HTTP/2 cannot carry
     * resets the stream (docs/compat.md) */
    cfg->bad_response_field = H2X_BAD_FIELD_REFUSE;
}


apr_interval_time_t
h2x_apache_stream_timeout(server_rec *s)
{
    h2x_apache_srv_conf_t  *conf = h2x_apache_srv_conf(s);

    if (conf->stream_timeout > 0) {
        return apr_time_from_sec(conf->stream_timeout);
    }

    return s->timeout;
}


apr_size_t
h2x_apache_stream_mem(server_rec *s)
{
    h2x_apache_srv_conf_t  *conf = h2x_apache_srv_conf(s);

    return conf->stream_max_mem_size > 0
           ? (apr_size_t) conf->stream_max_mem_size : 131072;
}


#define H2X_NUM(name, var, help)                                             \
    AP_INIT_TAKE1(name, h2x_apache_set_num, (void *) &var, RSRC_CONF, help)

const command_rec h2x_apache_cmds[] = {
    AP_INIT_FLAG("H2XEarlyHints", h2x_apache_set_early_hints, NULL,
                 RSRC_CONF | OR_FILEINFO | OR_AUTHCFG,
                 "send the H2XEarlyHint fields as a 103 Early Hints "
                 "response before the final one (as H2EarlyHints)"),
    AP_INIT_TAKE2("H2XEarlyHint", h2x_apache_add_early_hint, NULL,
                  RSRC_CONF | OR_FILEINFO | OR_AUTHCFG,
                  "a field (name value) of the 103 Early Hints response "
                  "(as H2EarlyHint)"),
    AP_INIT_FLAG("H2XEngine", h2x_apache_set_engine, NULL, RSRC_CONF,
                 "on to serve HTTP/2 with h2x on this server, off (default) "
                 "to leave it to mod_http2 or HTTP/1.1"),
    AP_INIT_FLAG("H2XDirect", h2x_apache_set_direct, NULL, RSRC_CONF,
                 "on (default) to accept h2c by prior knowledge on "
                 "cleartext connections"),
    AP_INIT_FLAG("H2XModernTLSOnly", h2x_apache_set_modern_tls, NULL,
                 RSRC_CONF, "on (default) to offer h2 only on TLS 1.2 "
                 "or newer"),
    H2X_NUM("H2XMaxSessionStreams", h2x_num_max_session_streams,
            "SETTINGS_MAX_CONCURRENT_STREAMS (default 128)"),
    H2X_NUM("H2XWindowSize", h2x_num_window_size,
            "stream receive window, SETTINGS_INITIAL_WINDOW_SIZE "
            "(default 65536)"),
    H2X_NUM("H2XConnectionWindowSize", h2x_num_connection_window_size,
            "connection receive window (default 1048576)"),
    H2X_NUM("H2XStreamMaxMemSize", h2x_num_stream_max_mem_size,
            "response bytes buffered per stream (default 65536)"),
    H2X_NUM("H2XMaxHeaderListSize", h2x_num_max_header_list_size,
            "decoded request header list size (default 32768)"),
    H2X_NUM("H2XMaxFieldSize", h2x_num_max_field_size,
            "one request header field, name and value (default 8192)"),
    H2X_NUM("H2XMaxHeaderFields", h2x_num_max_header_fields,
            "request header fields including cookie crumbs (default 100)"),
    H2X_NUM("H2XMaxContinuations", h2x_num_max_continuations,
            "CONTINUATION frames per header block (default 8)"),
    H2X_NUM("H2XMaxDataFrameLen", h2x_num_max_frame_size,
            "largest DATA payload sent (default 16384)"),
    H2X_NUM("H2XHeaderTableSize", h2x_num_header_table_size,
            "SETTINGS_HEADER_TABLE_SIZE (default 4096)"),
    H2X_NUM("H2XMaxRequests", h2x_num_max_requests,
            "requests per connection before a graceful GOAWAY "
            "(default 0: unlimited, as mod_http2)"),
    H2X_NUM("H2XMaxResponseHeaderSize", h2x_num_max_response_header_size,
            "largest response or trailer header block sent, name + value "
            "+ 32 per field (default 2097152)"),
    H2X_NUM("H2XMaxUnsentOutput", h2x_num_max_unsent_output,
            "unsent output above which the peer is not read "
            "(default 524288)"),
    H2X_NUM("H2XMaxControlQueue", h2x_num_max_control_queue,
            "queued control frames before ENHANCE_YOUR_CALM (default 1000)"),
    H2X_NUM("H2XMaxSettingsEntries", h2x_num_max_settings_entries,
            "entries in one SETTINGS frame (default 32)"),
    H2X_NUM("H2XMaxNewStreamsPerRead", h2x_num_max_new_streams,
            "streams opened by one read (default: no limit)"),
    H2X_NUM("H2XResetBurst", h2x_num_rst_burst,
            "budget of streams reset before their response or refused "
            "(default 1000)"),
    H2X_NUM("H2XResetRate", h2x_num_rst_rate,
            "reset budget refill per second (default 33)"),
    H2X_NUM("H2XGlitchBurst", h2x_num_glitch_burst,
            "budget of useless frames (default 1000)"),
    H2X_NUM("H2XGlitchRate", h2x_num_glitch_rate,
            "useless frames refill per second (default 100)"),
    H2X_NUM("H2XMaxStreamErrors", h2x_num_max_stream_errors,
            "peer-caused stream errors per connection (default 16)"),
    H2X_NUM("H2XMaxPriorityUpdates", h2x_num_max_priority_updates,
            "PRIORITY_UPDATEs buffered for idle streams (default 100)"),
    H2X_NUM("H2XSettingsTimeout", h2x_num_settings_timeout,
            "milliseconds to wait for a SETTINGS ACK (default 10000)"),
    H2X_NUM("H2XHeaderTimeout", h2x_num_header_timeout,
            "seconds a request header block may take to arrive, "
            "CONTINUATION frames included (default 60, 0: none)"),
    H2X_NUM("H2XStreamTimeout", h2x_num_stream_timeout,
            "seconds a stream may wait on its peer (default: Timeout)"),
    AP_INIT_TAKE1("H2XMinWorkers", h2x_apache_set_workers, NULL, RSRC_CONF,
                  "stream threads per child started at once "
                  "(default ThreadsPerChild)"),
    AP_INIT_TAKE1("H2XMaxWorkers", h2x_apache_set_workers, NULL, RSRC_CONF,
                  "stream threads per child at most "
                  "(default 1.5 x H2XMinWorkers)"),
    AP_INIT_TAKE1("H2XMaxWorkerIdleSeconds", h2x_apache_set_workers, NULL,
                  RSRC_CONF, "seconds an extra stream thread may idle "
                  "before it ends (default 600)"),
    { NULL }
};
