/*
 * h2x_status: the engine's counters of this worker as JSON, the sum of
 * the closed sessions and of the live ones.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_h2x_module.h"


static ngx_int_t ngx_http_h2x_status_handler(ngx_http_request_t *r);
static void ngx_http_h2x_stats_sum(h2x_stats_t *sum, const h2x_stats_t *st);


static h2x_stats_t  ngx_http_h2x_closed_stats;


/* the engine counts types 0x0 .. 0x9 by type, the others together */
#define NGX_HTTP_H2X_FRAME_TYPES  10

static const char  *ngx_http_h2x_frame_names[NGX_HTTP_H2X_FRAME_TYPES] = {
    "DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
    "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"
};


char *
ngx_http_h2x_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_h2x_status_handler;

    return NGX_CONF_OK;
}


void
ngx_http_h2x_stats_add(const h2x_stats_t *st)
{
    if (st) {
        ngx_http_h2x_stats_sum(&ngx_http_h2x_closed_stats, st);
    }
}


static void
ngx_http_h2x_stats_sum(h2x_stats_t *sum, const h2x_stats_t *st)
{
    ngx_uint_t  i;

    for (i = 0; i < 11; i++) {
        sum->frames_in[i] += st->frames_in[i];
        sum->frames_out[i] += st->frames_out[i];
    }

    sum->frames_in_other += st->frames_in_other;
    sum->streams += st->streams;
    sum->streams_refused += st->streams_refused;
    sum->resets_in += st->resets_in;
    sum->resets_out += st->resets_out;
    sum->goaways_in += st->goaways_in;
    sum->goaways_out += st->goaways_out;
    sum->bytes_in += st->bytes_in;
    sum->bytes_out += st->bytes_out;

    sum->rapid_reset += st->rapid_reset;
    sum->stream_errors += st->stream_errors;
    sum->continuation_flood += st->continuation_flood;
    sum->header_too_large += st->header_too_large;
    sum->hpack_bomb += st->hpack_bomb;
    sum->settings_flood += st->settings_flood;
    sum->ping_flood += st->ping_flood;
    sum->priority_flood += st->priority_flood;
    sum->window_update_flood += st->window_update_flood;
    sum->empty_frame_flood += st->empty_frame_flood;
    sum->unknown_frame_flood += st->unknown_frame_flood;
    sum->control_queue_flood += st->control_queue_flood;
    sum->stream_id_exhausted += st->stream_id_exhausted;
    sum->header_timeout += st->header_timeout;
}


static ngx_int_t
ngx_http_h2x_status_handler(ngx_http_request_t *r)
{
    u_char                     *p;
    size_t                      len;
    ngx_int_t                   rc;
    ngx_uint_t                  i, active, streams;
    ngx_buf_t                  *b;
    ngx_chain_t                 out;
    ngx_queue_t                *q;
    h2x_stats_t                 sum;
    ngx_http_h2x_connection_t  *h2c;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    sum = ngx_http_h2x_closed_stats;
    active = 0;
    streams = 0;

    if (ngx_queue_prev(&ngx_http_h2x_connections) != NULL) {
        for (q = ngx_queue_head(&ngx_http_h2x_connections);
             q != ngx_queue_sentinel(&ngx_http_h2x_connections);
             q = ngx_queue_next(q))
        {
            h2c = ngx_queue_data(q, ngx_http_h2x_connection_t, all);

            if (h2c->session == NULL) {
                continue;
            }

            ngx_http_h2x_stats_sum(&sum, h2x_session_stats(h2c->session));
            active++;
            streams += h2x_session_streams(h2c->session);
        }
    }

    len = 4096;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    p = ngx_slprintf(p, b->end,
                     "{\"version\":\"%s\",\"pid\":%P,"
                     "\"connections\":{\"active\":%ui,\"total\":%ui},"
                     "\"streams\":{\"active\":%ui,\"total\":%uL,"
                     "\"refused\":%uL},",
                     H2X_VERSION, ngx_pid, active,
                     ngx_http_h2x_total_connections, streams,
                     sum.streams, sum.streams_refused);

    p = ngx_slprintf(p, b->end, "\"frames_in\":{");

    for (i = 0; i < NGX_HTTP_H2X_FRAME_TYPES; i++) {
        p = ngx_slprintf(p, b->end, "\"%s\":%uL,",
                         ngx_http_h2x_frame_names[i], sum.frames_in[i]);
    }

    p = ngx_slprintf(p, b->end, "\"other\":%uL},\"frames_out\":{",
                     sum.frames_in_other);

    for (i = 0; i < NGX_HTTP_H2X_FRAME_TYPES; i++) {
        p = ngx_slprintf(p, b->end, "%s\"%s\":%uL", i ? "," : "",
                         ngx_http_h2x_frame_names[i], sum.frames_out[i]);
    }

    p = ngx_slprintf(p, b->end,
                     "},\"resets\":{\"received\":%uL,\"sent\":%uL},"
                     "\"goaways\":{\"received\":%uL,\"sent\":%uL},"
                     "\"bytes\":{\"received\":%uL,\"sent\":%uL},",
                     sum.resets_in, sum.resets_out,
                     sum.goaways_in, sum.goaways_out,
                     sum.bytes_in, sum.bytes_out);

    p = ngx_slprintf(p, b->end,
                     "\"abuse\":{\"rapid_reset\":%uL,\"stream_errors\":%uL,"
                     "\"continuation_flood\":%uL,\"header_too_large\":%uL,"
                     "\"hpack_bomb\":%uL,\"settings_flood\":%uL,"
                     "\"ping_flood\":%uL,\"priority_flood\":%uL,"
                     "\"window_update_flood\":%uL,"
                     "\"empty_frame_flood\":%uL,"
                     "\"unknown_frame_flood\":%uL,"
                     "\"control_queue_flood\":%uL,"
                     "\"stream_id_exhausted\":%uL,"
                     "\"header_timeout\":%uL}}\n",
                     sum.rapid_reset, sum.stream_errors,
                     sum.continuation_flood, sum.header_too_large,
                     sum.hpack_bomb, sum.settings_flood, sum.ping_flood,
                     sum.priority_flood, sum.window_update_flood,
                     sum.empty_frame_flood, sum.unknown_frame_flood,
                     sum.control_queue_flood, sum.stream_id_exhausted,
                     sum.header_timeout);

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
