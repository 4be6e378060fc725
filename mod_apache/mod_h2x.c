/*
 * mod_h2x: h2x as an alternate HTTP/2 handler for Apache httpd.
 *
 * The module record and its hooks.  The adapter's parts:
 *
 *   h2x_apache_config.c    directives, per-server configuration
 *   h2x_apache_proto.c     claiming connections (ALPN h2, h2c by prior
 *                          knowledge), env vars, %{HTTP2}
 *   h2x_apache_session.c   the connection thread: engine, socket, wake-ups
 *   h2x_apache_workers.c   the stream worker threads
 *   h2x_apache_stream.c    secondary connection and request_rec per stream
 *   h2x_apache_filters.c   the filters between a stream and its connection
 *   h2x_apache_status.c    SetHandler h2x-status
 */

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "h2x_apache.h"


static int
h2x_apache_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                      apr_pool_t *ptemp)
{
    (void) pconf;
    (void) plog;
    (void) ptemp;

    h2x_apache_config_pre();

    return OK;
}


static int
h2x_apache_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *s)
{
    (void) plog;
    (void) ptemp;

    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10700)
                 "mod_h2x %s loaded", H2X_VERSION);

    return h2x_apache_proto_post_config(pconf, s);
}


static void
h2x_apache_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec  *vs;
    int          used = 0;

    h2x_apache_session_child_init(pchild);
    (void) h2x_apache_status_child_init(pchild);

    for (vs = s; vs; vs = vs->next) {
        if (h2x_apache_engine_enabled(vs)) {
            used = 1;
            break;
        }
    }

    if (!used || !h2x_apache_mpm_ok) {
        return;
    }

    if (h2x_apache_stream_child_init(pchild) != APR_SUCCESS
        || h2x_apache_workers_child_init(pchild, s) != APR_SUCCESS)
    {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10706)
                     "h2x: cannot set up the stream workers; HTTP/2 by "
                     "h2x is off in this child");
        h2x_apache_mpm_ok = 0;
    }
}


static void
h2x_apache_register_hooks(apr_pool_t *p)
{
    (void) p;

    ap_hook_pre_config(h2x_apache_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(h2x_apache_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(h2x_apache_child_init, NULL, NULL, APR_HOOK_MIDDLE);

    h2x_apache_proto_register_hooks();
    h2x_apache_filters_register();
    h2x_apache_status_register_hooks();
}


AP_DECLARE_MODULE(h2x) = {
    STANDARD20_MODULE_STUFF,
    h2x_apache_create_dir_conf,    /* create per-directory config */
    h2x_apache_merge_dir_conf,     /* merge per-directory config */
    h2x_apache_create_srv_conf,    /* create per-server config */
    h2x_apache_merge_srv_conf,     /* merge per-server config */
    h2x_apache_cmds,               /* command table */
    h2x_apache_register_hooks,     /* register hooks */
    AP_MODULE_FLAG_NONE            /* flags */
};
