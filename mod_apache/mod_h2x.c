/*
 * mod_h2x: h2x as an alternate HTTP/2 handler for Apache httpd.
 *
 * This file holds the module record and its per-server configuration.
 * H2XEngine switches the engine on for a virtual host; the protocol
 * hooks that claim connections come with the adapter.
 */

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "h2x.h"


module AP_MODULE_DECLARE_DATA h2x_module;


#define H2X_APACHE_UNSET  -1


typedef struct {
    int                        engine;   /* H2XEngine on|off */
} h2x_apache_srv_conf_t;


static void *
h2x_apache_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    h2x_apache_srv_conf_t  *conf;

    (void) s;

    conf = apr_pcalloc(p, sizeof(*conf));
    conf->engine = H2X_APACHE_UNSET;

    return conf;
}


static void *
h2x_apache_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    h2x_apache_srv_conf_t  *base = basev;
    h2x_apache_srv_conf_t  *add = addv;
    h2x_apache_srv_conf_t  *conf;

    conf = apr_pcalloc(p, sizeof(*conf));
    conf->engine = (add->engine != H2X_APACHE_UNSET) ? add->engine
                                                     : base->engine;

    return conf;
}


static const char *
h2x_apache_set_engine(cmd_parms *cmd, void *dconf, int flag)
{
    h2x_apache_srv_conf_t  *conf;

    (void) dconf;

    conf = ap_get_module_config(cmd->server->module_config, &h2x_module);
    conf->engine = flag ? 1 : 0;

    return NULL;
}


int
h2x_apache_engine_enabled(server_rec *s)
{
    h2x_apache_srv_conf_t  *conf;

    conf = ap_get_module_config(s->module_config, &h2x_module);

    return conf->engine == 1;
}


static int
h2x_apache_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *s)
{
    (void) pconf;
    (void) plog;
    (void) ptemp;

    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10700)
                 "mod_h2x %s (engine API %s) loaded", H2X_VERSION,
                 H2X_VERSION);

    return OK;
}


static void
h2x_apache_register_hooks(apr_pool_t *p)
{
    (void) p;

    ap_hook_post_config(h2x_apache_post_config, NULL, NULL, APR_HOOK_MIDDLE);
}


static const command_rec h2x_apache_cmds[] = {
    AP_INIT_FLAG("H2XEngine", h2x_apache_set_engine, NULL, RSRC_CONF,
                 "on to serve HTTP/2 with h2x on this server, off (default) "
                 "to leave it to mod_http2 or HTTP/1.1"),
    { NULL }
};


AP_DECLARE_MODULE(h2x) = {
    STANDARD20_MODULE_STUFF,
    NULL,                          /* create per-directory config */
    NULL,                          /* merge per-directory config */
    h2x_apache_create_srv_conf,    /* create per-server config */
    h2x_apache_merge_srv_conf,     /* merge per-server config */
    h2x_apache_cmds,               /* command table */
    h2x_apache_register_hooks,     /* register hooks */
    AP_MODULE_FLAG_NONE            /* flags */
};
