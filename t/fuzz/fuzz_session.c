/*
 * libFuzzer target: a whole server session fed arbitrary bytes, driven as
 * an adapter would drive it: requests answered (memory and file chunks,
 * trailers, 1xx), bodies consumed, streams reset now and then, released
 * on close, output drained in partial writes, timers ticked.
 *
 * Input: byte 0 = options (bit 0: prepend a valid preface, SETTINGS and
 * SETTINGS ACK; bits 1-2: configuration variant), byte 1 = seed of the
 * feed split sizes and adapter choices, the rest = client bytes.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "h2x_session.h"
#include "h2x_frame.h"
#include "fuzz_util.h"


#define MAX_LIVE  64


typedef struct {
    h2x_session_t  *s;
    uint32_t        rng;
    h2x_stream_t   *live[MAX_LIVE];
    size_t          nlive;
    fref_t          file;
    uint64_t        now;
    uint8_t         rd[40];
} fz_t;


static uint32_t
fz_rnd(fz_t *f)
{
    f->rng = f->rng * 1103515245 + 12345;
    return f->rng >> 16;
}


static void
fz_respond(fz_t *f, h2x_stream_t *st)
{
    h2x_chunk_t   c;
    h2x_header_t  h;
    uint32_t      r;

    r = fz_rnd(f);

    h.name = (const uint8_t *) "content-type";
    h.name_len = 12;
    h.value = (const uint8_t *) "text/plain";
    h.value_len = 10;
    h.flags = 0;

    if (r & 1) {
        (void) h2x_stream_submit_response(f->s, st, 100, NULL, 0, 0);
    }

    if (r & 2) {
        (void) h2x_stream_submit_response(f->s, st, 204, &h, 1, 1);
        return;
    }

    if (h2x_stream_submit_response(f->s, st, 200, &h, 1, 0) != H2X_OK) {
        return;
    }

    c.ref = &f->file;
    c.len = (r >> 4) % 40000;

    if (r & 4) {
        c.data = NULL;
        c.offset = (r >> 8) % 1000;
    } else {
        c.data = body + (r >> 8) % 1000;
        c.offset = 0;
    }

    if (r & 8) {
        (void) h2x_stream_write(f->s, st, &c, 0);
        (void) h2x_stream_write(f->s, st, &c, 0);
        (void) h2x_stream_submit_trailers(f->s, st, &h, 1);

    } else {
        (void) h2x_stream_write(f->s, st, &c, 1);
    }
}


static int
fz_on_request(h2x_session_t *s, h2x_stream_t *st, const h2x_request_t *req,
    void *user)
{
    fz_t  *f = user;

    (void) s;

    if (f->nlive < MAX_LIVE) {
        f->live[f->nlive++] = st;
        h2x_stream_set_data(st, st);
    }

    if (req->end_stream || (fz_rnd(f) & 3) == 0) {
        fz_respond(f, st);
    }

    return (fz_rnd(f) % 50) == 0 ? H2X_ERROR : H2X_OK;
}


static int
fz_on_data(h2x_session_t *s, h2x_stream_t *st, const uint8_t *data,
    size_t len, unsigned flags, void *user)
{
    fz_t  *f = user;

    (void) data;

    if (len && (fz_rnd(f) & 7)) {
        h2x_stream_consumed(s, st, len);
    }

    if (flags & H2X_DATA_END_STREAM) {
        fz_respond(f, st);
    }

    return H2X_OK;
}


static void
fz_forget(fz_t *f, h2x_stream_t *st)
{
    size_t  i;

    for (i = 0; i < f->nlive; i++) {
        if (f->live[i] == st) {
            f->live[i] = f->live[--f->nlive];
            return;
        }
    }
}


static void
fz_on_close(h2x_session_t *s, h2x_stream_t *st, uint32_t code, void *user)
{
    fz_t  *f = user;

    (void) code;

    fz_forget(f, st);
    h2x_stream_release(s, st);
}


static void
fz_drain(fz_t *f)
{
    size_t         n, want;
    h2x_segment_t  seg[16];
    int            rounds;

    for (rounds = 0; rounds < 64; rounds++) {
        n = h2x_session_pending(f->s, seg, 1 + fz_rnd(f) % 16);
        if (n == 0) {
            return;
        }

        want = (fz_rnd(f) & 1) ? (size_t) -1 : 1 + fz_rnd(f) % 5000;
        h2x_session_sent(f->s, fuzz_write(seg, n, want));
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t             f;
    h2x_config_t     cfg;
    h2x_callbacks_t  cb;
    size_t           off, n, i;
    uint8_t          pre[64], *p;
    uint8_t          opt;

    if (size < 2) {
        return 0;
    }

    opt = data[0];
    memset(&f, 0, sizeof(f));
    f.rng = data[1] | 0x100;
    f.file.base = body;
    f.now = 1;

    h2x_config_init(&cfg);

    switch ((opt >> 1) & 3) {
    case 1:
        cfg.initial_window_size = 100;
        cfg.max_concurrent_streams = 4;
        cfg.chunk_size = 1000;
        cfg.max_unsent_output = 4096;
        break;
    case 2:
        cfg.max_header_list_size = 200;
        cfg.max_header_fields = 5;
        cfg.max_continuations = 2;
        cfg.glitch_burst = 5;
        cfg.rst_burst = 3;
        cfg.max_stream_errors = 2;
        cfg.max_control_queue = 4;
        cfg.enable_connect_protocol = 1;
        break;
    case 3:
        cfg.header_table_size = 0;
        cfg.max_requests = 3;
        cfg.max_frame_size = 1 << 20;
        break;
    default:
        break;
    }

    memset(&cb, 0, sizeof(cb));
    cb.on_request = fz_on_request;
    cb.on_stream_close = fz_on_close;
    if (opt & 0x10) {
        cb.on_data = fz_on_data;
    }

    f.s = h2x_session_new(&cfg, &cb, &f, NULL);
    if (f.s == NULL) {
        return 0;
    }

    if (opt & 1) {
        p = pre;
        memcpy(p, H2X_PREFACE, H2X_PREFACE_SIZE);
        p += H2X_PREFACE_SIZE;
        p = h2x_frame_write_settings(p, NULL, 0);
        p = h2x_frame_write_settings_ack(p);
        (void) h2x_session_feed(f.s, pre, p - pre, f.now);
    }

    data += 2;
    size -= 2;
    off = 0;

    while (off < size) {
        n = (opt & 0x20) ? 1 + fz_rnd(&f) % 97 : size - off;
        if (n > size - off) {
            n = size - off;
        }

        if (h2x_session_feed(f.s, data + off, n, f.now) < 0) {
            break;
        }
        off += n;

        /* an adapter's own actions between reads */
        if (f.nlive && (fz_rnd(&f) % 8) == 0) {
            i = fz_rnd(&f) % f.nlive;
            switch (fz_rnd(&f) % 4) {
            case 0:
                (void) h2x_stream_reset(f.s, f.live[i], H2X_CANCEL);
                break;
            case 1:
                fz_respond(&f, f.live[i]);
                break;
            case 2:
                (void) h2x_stream_queued(f.live[i]);
                /* the body as a host reads it, in small pieces */
                (void) h2x_stream_read(f.s, f.live[i], f.rd,
                                       1 + fz_rnd(&f) % sizeof(f.rd),
                                       (h2x_stream_id(f.live[i]) & 2)
                                       ? H2X_READ_CHUNKED : 0);
                break;
            default:
                h2x_stream_release(f.s, f.live[i]);
                f.live[i] = f.live[--f.nlive];
                break;
            }
        }

        if ((fz_rnd(&f) % 64) == 0) {
            (void) h2x_session_goaway(f.s, H2X_NO_ERROR, fz_rnd(&f) & 1);
        }

        f.now += fz_rnd(&f) % 3000;
        if (h2x_session_next_timeout(f.s) <= f.now) {
            h2x_session_tick(f.s, f.now);
        }

        if (fz_rnd(&f) & 1) {
            fz_drain(&f);
        }

        (void) h2x_session_want_read(f.s);
        (void) h2x_session_want_close(f.s);
        (void) h2x_session_memory(f.s);
    }

    fz_drain(&f);

    /* streams still held by the adapter */
    while (f.nlive) {
        h2x_stream_release(f.s, f.live[--f.nlive]);
    }

    fz_drain(&f);
    h2x_session_free(f.s);

    return 0;
}
