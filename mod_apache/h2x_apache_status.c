/*
 * mod_h2x: the status handler (SetHandler h2x-status).
 *
 * Reports, as JSON, the engine's counters (h2x_stats_t, same field names
 * as the nginx module's status) summed over the connections this child
 * process has finished, plus live connections and the worker pool.
 * Counters are per child process.
 */

#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "h2x_apache.h"

APLOG_USE_MODULE(h2x);


static apr_thread_mutex_t  *h2x_apache_status_mutex;
static h2x_stats_t          h2x_apache_totals;
static apr_uint64_t         h2x_apache_conns_total;
static apr_int64_t          h2x_apache_conns_active;


static const char  *h2x_apache_frame_names[11] = {
    "data", "headers", "priority", "rst_stream", "settings", "push_promise",
    "ping", "goaway", "window_update", "continuation", "altsvc"
};


apr_status_t
h2x_apache_status_child_init(apr_pool_t *pchild)
{
    memset(&h2x_apache_totals, 0, sizeof(h2x_apache_totals));
    h2x_apache_conns_total = 0;
    h2x_apache_conns_active = 0;

    return apr_thread_mutex_create(&h2x_apache_status_mutex,
                                   APR_THREAD_MUTEX_DEFAULT, pchild);
}


void
h2x_apache_status_conn(int delta)
{
    if (h2x_apache_status_mutex == NULL) {
        return;
    }

    apr_thread_mutex_lock(h2x_apache_status_mutex);
    h2x_apache_conns_active += delta;
    if (delta > 0) {
        h2x_apache_conns_total++;
    }
    apr_thread_mutex_unlock(h2x_apache_status_mutex);
}


void
h2x_apache_status_add(const h2x_stats_t *st)
{
    const uint64_t  *from = (const uint64_t *) st;
    uint64_t        *to = (uint64_t *) &h2x_apache_totals;
    apr_size_t       i;

    if (h2x_apache_status_mutex == NULL || st == NULL) {
        return;
    }

    apr_thread_mutex_lock(h2x_apache_status_mutex);
    for (i = 0; i < sizeof(h2x_stats_t) / sizeof(uint64_t); i++) {
        to[i] += from[i];
    }
    apr_thread_mutex_unlock(h2x_apache_status_mutex);
}


static void
h2x_apache_json_frames(request_rec *r, const char *name, const uint64_t *v,
                       uint64_t other)
{
    int  i;

    ap_rprintf(r, "  \"%s\": {", name);
    for (i = 0; i < 11; i++) {
        ap_rprintf(r, "\"%s\": %" APR_UINT64_T_FMT ", ",
                   h2x_apache_frame_names[i], (apr_uint64_t) v[i]);
    }
    ap_rprintf(r, "\"other\": %" APR_UINT64_T_FMT "},\n",
               (apr_uint64_t) other);
}


#define H2X_JSON(name)                                                       \
    ap_rprintf(r, "    \"" #name "\": %" APR_UINT64_T_FMT "%s\n",            \
               (apr_uint64_t) t.name, last ? "" : ",")


static int
h2x_apache_status_handler(request_rec *r)
{
    h2x_stats_t   t;
    apr_uint64_t  total;
    apr_int64_t   active;
    int           threads, busy, queued, last = 0;

    if (strcmp(r->handler, H2X_APACHE_STATUS_HANDLER) != 0) {
        return DECLINED;
    }

    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }

    if (h2x_apache_status_mutex) {
        apr_thread_mutex_lock(h2x_apache_status_mutex);
        t = h2x_apache_totals;
        total = h2x_apache_conns_total;
        active = h2x_apache_conns_active;
        apr_thread_mutex_unlock(h2x_apache_status_mutex);
    } else {
        memset(&t, 0, sizeof(t));
        total = 0;
        active = 0;
    }

    h2x_apache_workers_stats(&threads, &busy, &queued);

    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-cache");

    if (r->header_only) {
        return OK;
    }

    ap_rprintf(r, "{\n  \"version\": \"%s\",\n  \"server\": \"apache\",\n"
               "  \"pid\": %" APR_PID_T_FMT ",\n", H2X_VERSION, getpid());
    ap_rprintf(r, "  \"connections\": {\"active\": %" APR_INT64_T_FMT
               ", \"total\": %" APR_UINT64_T_FMT "},\n", active, total);
    ap_rprintf(r, "  \"workers\": {\"threads\": %d, \"busy\": %d, "
               "\"queued\": %d},\n", threads, busy, queued);

    h2x_apache_json_frames(r, "frames_in", t.frames_in, t.frames_in_other);
    h2x_apache_json_frames(r, "frames_out", t.frames_out, 0);

    ap_rprintf(r, "  \"totals\": {\n");
    H2X_JSON(streams);
    H2X_JSON(streams_refused);
    H2X_JSON(resets_in);
    H2X_JSON(resets_out);
    H2X_JSON(goaways_in);
    H2X_JSON(goaways_out);
    H2X_JSON(bytes_in);
    last = 1;
    H2X_JSON(bytes_out);
    last = 0;
    ap_rprintf(r, "  },\n  \"abuse\": {\n");
    H2X_JSON(rapid_reset);
    H2X_JSON(stream_errors);
    H2X_JSON(continuation_flood);
    H2X_JSON(header_too_large);
    H2X_JSON(hpack_bomb);
    H2X_JSON(settings_flood);
    H2X_JSON(ping_flood);
    H2X_JSON(priority_flood);
    H2X_JSON(window_update_flood);
    H2X_JSON(empty_frame_flood);
    H2X_JSON(unknown_frame_flood);
    H2X_JSON(control_queue_flood);
    H2X_JSON(stream_id_exhausted);
    last = 1;
    H2X_JSON(header_timeout);
    ap_rprintf(r, "  }\n}\n");

    return OK;
}


void
h2x_apache_status_register_hooks(void)
{
    ap_hook_handler(h2x_apache_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
}
