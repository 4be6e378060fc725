/*
 * h2x: the HTTP/2 frame layer.
 *
 * The parser is a state machine.  A state either needs a fixed-size field
 * ("need" bytes: the frame header, pad length, priority fields, a SETTINGS
 * entry, ...), taken straight from the input when it is all there and
 * gathered in p->buf otherwise, or eats a variable-length part, handed to
 * the callbacks as slices of the input.
 */

#include <string.h>

#include "h2x_frame.h"


enum {
    H2X_ST_HEAD = 0,
    H2X_ST_PREFACE,

    /* fixed-size fields */
    H2X_ST_PADLEN,
    H2X_ST_HEADERS_PRI,
    H2X_ST_PROMISED,
    H2X_ST_PRIORITY,
    H2X_ST_RST_STREAM,
    H2X_ST_SETTING,
    H2X_ST_PING,
    H2X_ST_GOAWAY,
    H2X_ST_WINDOW_UPDATE,
    H2X_ST_PRIORITY_UPDATE,

    /* slices */
    H2X_ST_DATA,
    H2X_ST_BLOCK,
    H2X_ST_GOAWAY_DEBUG,
    H2X_ST_PRIORITY_FIELD,
    H2X_ST_DISCARD,               /* skip, then end of frame */
    H2X_ST_SKIP,                  /* skip after a stream error */

    H2X_ST_STOP
};


static const char  h2x_frame_preface[] = H2X_PREFACE;


static int h2x_frame_conn_error(h2x_frame_parser_t *p, uint32_t code,
    const char *reason);
static int h2x_frame_stream_error(h2x_frame_parser_t *p, uint32_t code,
    const char *reason);
static int h2x_frame_end(h2x_frame_parser_t *p);
static int h2x_frame_body(h2x_frame_parser_t *p, uint8_t state);
static int h2x_frame_fixed(h2x_frame_parser_t *p, uint8_t state,
    uint8_t need);
static int h2x_frame_head(h2x_frame_parser_t *p, const uint8_t *f);
static int h2x_frame_field(h2x_frame_parser_t *p, const uint8_t *f);
static void h2x_frame_read_priority(h2x_priority_t *pri, const uint8_t *f);


void
h2x_frame_parser_init(h2x_frame_parser_t *p, const h2x_frame_callbacks_t *cb,
    void *data, unsigned options)
{
    memset(p, 0, sizeof(h2x_frame_parser_t));

    p->cb = cb;
    p->data = data;
    p->max_frame_size = H2X_FRAME_DEFAULT_MAX_SIZE;
    p->max_settings = H2X_FRAME_DEFAULT_MAX_SETTINGS;

    if (options & H2X_FRAME_EXPECT_PREFACE) {
        p->state = H2X_ST_PREFACE;
        p->need = 0;

    } else {
        p->state = H2X_ST_HEAD;
        p->need = H2X_FRAME_HEADER_SIZE;
    }
}


int
h2x_frame_parser_set_max_frame_size(h2x_frame_parser_t *p, uint32_t size)
{
    if (size < H2X_FRAME_DEFAULT_MAX_SIZE || size > H2X_FRAME_MAX_SIZE_LIMIT) {
        return H2X_ERROR;
    }

    p->max_frame_size = size;

    return H2X_OK;
}


void
h2x_frame_parser_set_max_settings(h2x_frame_parser_t *p, uint32_t n)
{
    p->max_settings = n;
}


const h2x_frame_error_t *
h2x_frame_parser_error(const h2x_frame_parser_t *p)
{
    return p->err.reason ? &p->err : NULL;
}


int
h2x_frame_parser_idle(const h2x_frame_parser_t *p)
{
    return p->state == H2X_ST_HEAD && p->have == 0 && p->block_stream == 0;
}


int
h2x_frame_parse(h2x_frame_parser_t *p, const uint8_t *in, size_t len)
{
    int                           rc;
    size_t                        avail, n;
    uint32_t                      left;
    const uint8_t                *pos, *end, *f;
    const h2x_frame_callbacks_t  *cb;

    if (p->state == H2X_ST_STOP) {
        return p->rc;
    }

    if (len == 0) {
        return H2X_OK;            /* "in" may be NULL */
    }

    cb = p->cb;
    pos = in;
    end = in + len;

    while (pos < end) {

        avail = (size_t) (end - pos);

        if (p->need) {

            if (p->have == 0 && avail >= p->need) {
                f = pos;
                pos += p->need;

            } else {
                n = p->need - p->have;
                if (n > avail) {
                    n = avail;
                }

                memcpy(p->buf + p->have, pos, n);
                p->have += (uint8_t) n;
                pos += n;

                if (p->have < p->need) {
                    return H2X_OK;
                }

                f = p->buf;
                p->have = 0;
            }

            if (p->state == H2X_ST_HEAD) {
                rc = h2x_frame_head(p, f);

            } else {
                p->remaining -= p->need;
                rc = h2x_frame_field(p, f);
            }

            if (rc != 0) {
                goto stop;
            }

            continue;
        }

        rc = 0;

        switch (p->state) {

        case H2X_ST_DATA:
        case H2X_ST_BLOCK:
        case H2X_ST_GOAWAY_DEBUG:
        case H2X_ST_PRIORITY_FIELD:

            left = p->remaining - p->padding;
            n = avail < left ? avail : left;
            p->remaining -= (uint32_t) n;

            switch (p->state) {

            case H2X_ST_DATA:
                if (cb->on_data) {
                    rc = cb->on_data(p->data, &p->hd, pos, n);
                }
                break;

            case H2X_ST_BLOCK:
                if (cb->on_header_block) {
                    rc = cb->on_header_block(p->data, &p->hd, pos, n);
                }
                break;

            case H2X_ST_GOAWAY_DEBUG:
                if (cb->on_goaway_debug) {
                    rc = cb->on_goaway_debug(p->data, &p->hd, pos, n);
                }
                break;

            default: /* H2X_ST_PRIORITY_FIELD */
                if (cb->on_priority_field) {
                    rc = cb->on_priority_field(p->data, &p->hd, pos, n);
                }
                break;
            }

            pos += n;

            if (rc == 0 && p->remaining == p->padding) {
                rc = h2x_frame_body(p, H2X_ST_DISCARD);
            }

            break;

        case H2X_ST_DISCARD:
        case H2X_ST_SKIP:

            n = avail < p->remaining ? avail : p->remaining;
            p->remaining -= (uint32_t) n;
            pos += n;

            if (p->remaining == 0) {
                if (p->state == H2X_ST_DISCARD) {
                    rc = h2x_frame_end(p);

                } else {
                    p->state = H2X_ST_HEAD;
                    p->need = H2X_FRAME_HEADER_SIZE;
                }
            }

            break;

        case H2X_ST_PREFACE:

            n = H2X_PREFACE_SIZE - p->preface;
            if (n > avail) {
                n = avail;
            }

            /* RFC 9113 3.4 */
            if (memcmp(pos, &h2x_frame_preface[p->preface], n) != 0) {
                rc = h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                          "client sent invalid connection "
                                          "preface");
                break;
            }

            pos += n;
            p->preface += (uint8_t) n;

            if (p->preface == H2X_PREFACE_SIZE) {
                p->state = H2X_ST_HEAD;
                p->need = H2X_FRAME_HEADER_SIZE;
            }

            break;

        default:
            /* unreachable: fixed-size states have need != 0 */
            rc = h2x_frame_conn_error(p, H2X_INTERNAL_ERROR,
                                      "frame parser in invalid state");
            break;
        }

        if (rc != 0) {
            goto stop;
        }
    }

    return H2X_OK;

stop:

    p->state = H2X_ST_STOP;
    p->need = 0;
    p->rc = rc;

    return rc;
}


static int
h2x_frame_conn_error(h2x_frame_parser_t *p, uint32_t code, const char *reason)
{
    p->err.code = code;
    p->err.stream_id = p->hd.stream_id;
    p->err.connection = 1;
    p->err.reason = reason;

    return H2X_ERROR;
}


/* Reports a stream error and skips what is left of the frame. */

static int
h2x_frame_stream_error(h2x_frame_parser_t *p, uint32_t code,
    const char *reason)
{
    h2x_frame_error_t  err;

    if (p->remaining) {
        p->state = H2X_ST_SKIP;
        p->need = 0;

    } else {
        p->state = H2X_ST_HEAD;
        p->need = H2X_FRAME_HEADER_SIZE;
    }

    if (p->cb->on_stream_error == NULL) {
        return 0;
    }

    err.code = code;
    err.stream_id = p->hd.stream_id;
    err.connection = 0;
    err.reason = reason;

    return p->cb->on_stream_error(p->data, &err);
}


static int
h2x_frame_end(h2x_frame_parser_t *p)
{
    p->state = H2X_ST_HEAD;
    p->need = H2X_FRAME_HEADER_SIZE;

    if (p->cb->on_frame_end) {
        return p->cb->on_frame_end(p->data, &p->hd);
    }

    return 0;
}


/*
 * Goes to a variable-length state if there is something before the
 * padding, else to the padding, else ends the frame: the end is reported
 * as soon as the last byte is in, whatever the split of the input.
 */

static int
h2x_frame_body(h2x_frame_parser_t *p, uint8_t state)
{
    if (p->remaining > p->padding) {
        p->state = state;
        p->need = 0;
        return 0;
    }

    if (p->remaining) {
        p->state = H2X_ST_DISCARD;
        p->need = 0;
        return 0;
    }

    return h2x_frame_end(p);
}


static int
h2x_frame_fixed(h2x_frame_parser_t *p, uint8_t state, uint8_t need)
{
    p->state = state;
    p->need = need;

    return 0;
}


static int
h2x_frame_head(h2x_frame_parser_t *p, const uint8_t *f)
{
    int                           rc;
    uint32_t                      len, sid, min;
    uint8_t                       type, flags;
    const h2x_frame_callbacks_t  *cb;

    len = h2x_get_u24(f);
    type = f[3];
    flags = f[4];
    sid = h2x_get_u32(f + 5) & H2X_STREAM_ID_MASK;   /* RFC 9113 4.1 */

    p->hd.length = len;
    p->hd.type = type;
    p->hd.flags = flags;
    p->hd.stream_id = sid;
    p->remaining = len;
    p->padding = 0;

    /* RFC 9113 4.2 */
    if (len > p->max_frame_size) {
        return h2x_frame_conn_error(p, H2X_FRAME_SIZE_ERROR,
                                    "client sent frame with length exceeding "
                                    "max frame size");
    }

    /* RFC 9113 6.2, 6.10: a header block is contiguous */
    if (p->block_stream
        && (type != H2X_FRAME_CONTINUATION || sid != p->block_stream))
    {
        return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                    "client sent frame other than "
                                    "CONTINUATION inside a header block");
    }

    switch (type) {

    case H2X_FRAME_DATA:

        /* RFC 9113 6.1 */
        if (sid == 0) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent DATA frame on stream 0");
        }

        /* RFC 9113 4.2: too small for the mandatory pad length */
        if ((flags & H2X_FLAG_PADDED) && len < 1) {
            return h2x_frame_conn_error(p, H2X_FRAME_SIZE_ERROR,
                                        "client sent padded DATA frame "
                                        "with incorrect length");
        }

        break;

    case H2X_FRAME_HEADERS:

        /* RFC 9113 6.2 */
        if (sid == 0) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent HEADERS frame on "
                                        "stream 0");
        }

        min = ((flags & H2X_FLAG_PADDED) ? 1 : 0)
              + ((flags & H2X_FLAG_PRIORITY) ? H2X_PRIORITY_FIELDS_SIZE : 0);

        /* RFC 9113 4.2 */
        if (len < min) {
            return h2x_frame_conn_error(p, H2X_FRAME_SIZE_ERROR,
                                        "client sent HEADERS frame with "
                                        "incorrect length");
        }

        if (!(flags & H2X_FLAG_END_HEADERS)) {
            p->block_stream = sid;
        }

        break;

    case H2X_FRAME_PRIORITY:

        /* RFC 9113 6.3 */
        if (sid == 0) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent PRIORITY frame on "
                                        "stream 0");
        }

        /* RFC 9113 6.3: a stream error */
        if (len != H2X_PRIORITY_FIELDS_SIZE) {
            return h2x_frame_stream_error(p, H2X_FRAME_SIZE_ERROR,
                                          "client sent PRIORITY frame with "
                                          "incorrect length");
        }

        break;

    case H2X_FRAME_RST_STREAM:

        /* RFC 9113 6.4 */
        if (sid == 0) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent RST_STREAM frame on "
                                        "stream 0");
        }

        if (len != 4) {
            return h2x_frame_conn_error(p, H2X_FRAME_SIZE_ERROR,
                                        "client sent RST_STREAM frame with "
                                        "incorrect length");
        }

        break;

    case H2X_FRAME_SETTINGS:

        /* RFC 9113 6.5 */
        if (sid != 0) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent SETTINGS frame on "
                                        "non-zero stream");
        }

        if ((flags & H2X_FLAG_ACK) && len != 0) {
            return h2x_frame_conn_error(p, H2X_FRAME_SIZE_ERROR,
                                        "client sent SETTINGS frame with "
                                        "ACK flag and non-zero length");
        }

        if (len % H2X_SETTING_SIZE) {
            return h2x_frame_conn_error(p, H2X_FRAME_SIZE_ERROR,
                                        "client sent SETTINGS frame with "
                                        "incorrect length");
        }

        /* CVE-2020-11080 */
        if (len / H2X_SETTING_SIZE > p->max_settings) {
            return h2x_frame_conn_error(p, H2X_ENHANCE_YOUR_CALM,
                                        "client sent SETTINGS frame with "
                                        "too many entries");
        }

        break;

    case H2X_FRAME_PUSH_PROMISE:

        /* RFC 9113 6.6 */
        if (sid == 0) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent PUSH_PROMISE frame on "
                                        "stream 0");
        }

        min = ((flags & H2X_FLAG_PADDED) ? 1 : 0) + 4;

        /* RFC 9113 4.2 */
        if (len < min) {
            return h2x_frame_conn_error(p, H2X_FRAME_SIZE_ERROR,
                                        "client sent PUSH_PROMISE frame "
                                        "with incorrect length");
        }

        if (!(flags & H2X_FLAG_END_HEADERS)) {
            p->block_stream = sid;
        }

        break;

    case H2X_FRAME_PING:

        /* RFC 9113 6.7 */
        if (sid != 0) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent PING frame on "
                                        "non-zero stream");
        }

        if (len != H2X_PING_SIZE) {
            return h2x_frame_conn_error(p, H2X_FRAME_SIZE_ERROR,
                                        "client sent PING frame with "
                                        "incorrect length");
        }

        break;

    case H2X_FRAME_GOAWAY:

        /* RFC 9113 6.8 */
        if (sid != 0) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent GOAWAY frame on "
                                        "non-zero stream");
        }

        if (len < 8) {
            return h2x_frame_conn_error(p, H2X_FRAME_SIZE_ERROR,
                                        "client sent GOAWAY frame with "
                                        "incorrect length");
        }

        break;

    case H2X_FRAME_WINDOW_UPDATE:

        /* RFC 9113 6.9 */
        if (len != 4) {
            return h2x_frame_conn_error(p, H2X_FRAME_SIZE_ERROR,
                                        "client sent WINDOW_UPDATE frame "
                                        "with incorrect length");
        }

        break;

    case H2X_FRAME_CONTINUATION:

        /* RFC 9113 6.10 */
        if (sid == 0) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent CONTINUATION frame on "
                                        "stream 0");
        }

        if (p->block_stream == 0) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent unexpected "
                                        "CONTINUATION frame");
        }

        if (flags & H2X_FLAG_END_HEADERS) {
            p->block_stream = 0;
        }

        break;

    case H2X_FRAME_PRIORITY_UPDATE:

        /* RFC 9218 7.1 */
        if (sid != 0) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent PRIORITY_UPDATE frame "
                                        "on non-zero stream");
        }

        if (len < 4) {
            return h2x_frame_conn_error(p, H2X_FRAME_SIZE_ERROR,
                                        "client sent PRIORITY_UPDATE frame "
                                        "with incorrect length");
        }

        break;

    default:
        /* RFC 9113 5.5: unknown types are ignored */
        break;
    }

    cb = p->cb;

    if (cb->on_frame_header) {
        rc = cb->on_frame_header(p->data, &p->hd);
        if (rc != 0) {
            return rc;
        }
    }

    switch (type) {

    case H2X_FRAME_DATA:
        if (flags & H2X_FLAG_PADDED) {
            return h2x_frame_fixed(p, H2X_ST_PADLEN, 1);
        }
        return h2x_frame_body(p, H2X_ST_DATA);

    case H2X_FRAME_HEADERS:
        if (flags & H2X_FLAG_PADDED) {
            return h2x_frame_fixed(p, H2X_ST_PADLEN, 1);
        }
        if (flags & H2X_FLAG_PRIORITY) {
            return h2x_frame_fixed(p, H2X_ST_HEADERS_PRI,
                                   H2X_PRIORITY_FIELDS_SIZE);
        }
        return h2x_frame_body(p, H2X_ST_BLOCK);

    case H2X_FRAME_PRIORITY:
        return h2x_frame_fixed(p, H2X_ST_PRIORITY, H2X_PRIORITY_FIELDS_SIZE);

    case H2X_FRAME_RST_STREAM:
        return h2x_frame_fixed(p, H2X_ST_RST_STREAM, 4);

    case H2X_FRAME_SETTINGS:
        if (len == 0) {
            return h2x_frame_end(p);
        }
        return h2x_frame_fixed(p, H2X_ST_SETTING, H2X_SETTING_SIZE);

    case H2X_FRAME_PUSH_PROMISE:
        if (flags & H2X_FLAG_PADDED) {
            return h2x_frame_fixed(p, H2X_ST_PADLEN, 1);
        }
        return h2x_frame_fixed(p, H2X_ST_PROMISED, 4);

    case H2X_FRAME_PING:
        return h2x_frame_fixed(p, H2X_ST_PING, H2X_PING_SIZE);

    case H2X_FRAME_GOAWAY:
        return h2x_frame_fixed(p, H2X_ST_GOAWAY, 8);

    case H2X_FRAME_WINDOW_UPDATE:
        return h2x_frame_fixed(p, H2X_ST_WINDOW_UPDATE, 4);

    case H2X_FRAME_CONTINUATION:
        return h2x_frame_body(p, H2X_ST_BLOCK);

    case H2X_FRAME_PRIORITY_UPDATE:
        return h2x_frame_fixed(p, H2X_ST_PRIORITY_UPDATE, 4);

    default:
        return h2x_frame_body(p, H2X_ST_DISCARD);
    }
}


static void
h2x_frame_read_priority(h2x_priority_t *pri, const uint8_t *f)
{
    uint32_t  dep;

    dep = h2x_get_u32(f);

    pri->dependency = dep & H2X_STREAM_ID_MASK;
    pri->exclusive = (uint8_t) (dep >> 31);
    pri->weight = (uint16_t) (f[4] + 1);
}


static int
h2x_frame_field(h2x_frame_parser_t *p, const uint8_t *f)
{
    int                           rc;
    uint16_t                      id;
    uint32_t                      v, extra;
    h2x_priority_t                pri;
    h2x_frame_error_t             err;
    const h2x_frame_callbacks_t  *cb;

    cb = p->cb;

    switch (p->state) {

    case H2X_ST_PADLEN:

        extra = 0;

        if (p->hd.type == H2X_FRAME_HEADERS
            && (p->hd.flags & H2X_FLAG_PRIORITY))
        {
            extra = H2X_PRIORITY_FIELDS_SIZE;

        } else if (p->hd.type == H2X_FRAME_PUSH_PROMISE) {
            extra = 4;
        }

        /* RFC 9113 6.1, 6.2, 6.6 */
        if (f[0] > p->remaining - extra) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent frame with padding "
                                        "exceeding its length");
        }

        p->padding = f[0];

        switch (p->hd.type) {

        case H2X_FRAME_DATA:
            return h2x_frame_body(p, H2X_ST_DATA);

        case H2X_FRAME_HEADERS:
            if (extra) {
                return h2x_frame_fixed(p, H2X_ST_HEADERS_PRI,
                                       H2X_PRIORITY_FIELDS_SIZE);
            }
            return h2x_frame_body(p, H2X_ST_BLOCK);

        default: /* H2X_FRAME_PUSH_PROMISE */
            return h2x_frame_fixed(p, H2X_ST_PROMISED, 4);
        }

    case H2X_ST_HEADERS_PRI:

        h2x_frame_read_priority(&pri, f);

        /* RFC 9113 5.3.1: the block is still decoded, see the header */
        if (pri.dependency == p->hd.stream_id) {
            if (cb->on_stream_error) {
                err.code = H2X_PROTOCOL_ERROR;
                err.stream_id = p->hd.stream_id;
                err.connection = 0;
                err.reason = "client sent HEADERS frame with stream "
                             "depending on itself";

                rc = cb->on_stream_error(p->data, &err);
                if (rc != 0) {
                    return rc;
                }
            }

        } else if (cb->on_priority) {
            rc = cb->on_priority(p->data, &p->hd, &pri);
            if (rc != 0) {
                return rc;
            }
        }

        return h2x_frame_body(p, H2X_ST_BLOCK);

    case H2X_ST_PROMISED:

        if (cb->on_push_promise) {
            rc = cb->on_push_promise(p->data, &p->hd,
                                     h2x_get_u32(f) & H2X_STREAM_ID_MASK);
            if (rc != 0) {
                return rc;
            }
        }

        return h2x_frame_body(p, H2X_ST_BLOCK);

    case H2X_ST_PRIORITY:

        h2x_frame_read_priority(&pri, f);

        /* RFC 9113 5.3.1 */
        if (pri.dependency == p->hd.stream_id) {
            return h2x_frame_stream_error(p, H2X_PROTOCOL_ERROR,
                                          "client sent PRIORITY frame with "
                                          "stream depending on itself");
        }

        if (cb->on_priority) {
            rc = cb->on_priority(p->data, &p->hd, &pri);
            if (rc != 0) {
                return rc;
            }
        }

        return h2x_frame_end(p);

    case H2X_ST_RST_STREAM:

        if (cb->on_rst_stream) {
            rc = cb->on_rst_stream(p->data, &p->hd, h2x_get_u32(f));
            if (rc != 0) {
                return rc;
            }
        }

        return h2x_frame_end(p);

    case H2X_ST_SETTING:

        id = (uint16_t) h2x_get_u16(f);
        v = h2x_get_u32(f + 2);

        switch (id) {

        case H2X_SETTINGS_ENABLE_PUSH:
            /* RFC 9113 6.5.2 */
            if (v > 1) {
                return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                            "client sent SETTINGS frame with "
                                            "incorrect ENABLE_PUSH value");
            }
            break;

        case H2X_SETTINGS_INITIAL_WINDOW_SIZE:
            /* RFC 9113 6.5.2 */
            if (v > H2X_MAX_WINDOW) {
                return h2x_frame_conn_error(p, H2X_FLOW_CONTROL_ERROR,
                                            "client sent SETTINGS frame with "
                                            "incorrect INITIAL_WINDOW_SIZE "
                                            "value");
            }
            break;

        case H2X_SETTINGS_MAX_FRAME_SIZE:
            /* RFC 9113 6.5.2 */
            if (v < H2X_FRAME_DEFAULT_MAX_SIZE
                || v > H2X_FRAME_MAX_SIZE_LIMIT)
            {
                return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                            "client sent SETTINGS frame with "
                                            "incorrect MAX_FRAME_SIZE value");
            }
            break;

        case H2X_SETTINGS_ENABLE_CONNECT_PROTOCOL:
            /* RFC 8441 3 */
            if (v > 1) {
                return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                            "client sent SETTINGS frame with "
                                            "incorrect ENABLE_CONNECT_PROTOCOL"
                                            " value");
            }
            break;

        case H2X_SETTINGS_NO_RFC7540_PRIORITIES:
            /* RFC 9218 2.1 */
            if (v > 1) {
                return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                            "client sent SETTINGS frame with "
                                            "incorrect NO_RFC7540_PRIORITIES"
                                            " value");
            }
            break;

        case H2X_SETTINGS_HEADER_TABLE_SIZE:
        case H2X_SETTINGS_MAX_CONCURRENT_STREAMS:
        case H2X_SETTINGS_MAX_HEADER_LIST_SIZE:
            break;

        default:
            /* RFC 9113 6.5.2: unknown settings are ignored */
            id = 0;
            break;
        }

        if (id && cb->on_setting) {
            rc = cb->on_setting(p->data, &p->hd, id, v);
            if (rc != 0) {
                return rc;
            }
        }

        if (p->remaining) {
            return 0;
        }

        return h2x_frame_end(p);

    case H2X_ST_PING:

        if (cb->on_ping) {
            rc = cb->on_ping(p->data, &p->hd, f);
            if (rc != 0) {
                return rc;
            }
        }

        return h2x_frame_end(p);

    case H2X_ST_GOAWAY:

        if (cb->on_goaway) {
            rc = cb->on_goaway(p->data, &p->hd,
                               h2x_get_u32(f) & H2X_STREAM_ID_MASK,
                               h2x_get_u32(f + 4));
            if (rc != 0) {
                return rc;
            }
        }

        return h2x_frame_body(p, H2X_ST_GOAWAY_DEBUG);

    case H2X_ST_WINDOW_UPDATE:

        v = h2x_get_u32(f) & H2X_STREAM_ID_MASK;

        /* RFC 9113 6.9 */
        if (v == 0) {
            if (p->hd.stream_id == 0) {
                return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                            "client sent WINDOW_UPDATE frame "
                                            "with incorrect window increment "
                                            "0");
            }

            return h2x_frame_stream_error(p, H2X_PROTOCOL_ERROR,
                                          "client sent WINDOW_UPDATE frame "
                                          "with incorrect window increment 0");
        }

        if (cb->on_window_update) {
            rc = cb->on_window_update(p->data, &p->hd, v);
            if (rc != 0) {
                return rc;
            }
        }

        return h2x_frame_end(p);

    case H2X_ST_PRIORITY_UPDATE:

        v = h2x_get_u32(f) & H2X_STREAM_ID_MASK;

        /* RFC 9218 7.1 */
        if (v == 0) {
            return h2x_frame_conn_error(p, H2X_PROTOCOL_ERROR,
                                        "client sent PRIORITY_UPDATE frame "
                                        "for stream 0");
        }

        if (cb->on_priority_update) {
            rc = cb->on_priority_update(p->data, &p->hd, v);
            if (rc != 0) {
                return rc;
            }
        }

        return h2x_frame_body(p, H2X_ST_PRIORITY_FIELD);

    default:
        return h2x_frame_conn_error(p, H2X_INTERNAL_ERROR,
                                    "frame parser in invalid state");
    }
}


/* Serialisers. */

uint8_t *
h2x_frame_write_header(uint8_t *dst, uint32_t length, uint8_t type,
    uint8_t flags, uint32_t stream_id)
{
    dst = h2x_put_u24(dst, length);
    *dst++ = type;
    *dst++ = flags;

    /* RFC 9113 4.1: the reserved bit is sent as 0 */
    return h2x_put_u32(dst, stream_id & H2X_STREAM_ID_MASK);
}


uint8_t *
h2x_frame_write_data(uint8_t *dst, uint32_t stream_id, uint32_t length,
    int end_stream)
{
    return h2x_frame_write_header(dst, length, H2X_FRAME_DATA,
                                  end_stream ? H2X_FLAG_END_STREAM : 0,
                                  stream_id);
}


uint8_t *
h2x_frame_write_headers(uint8_t *dst, uint32_t stream_id, uint32_t length,
    uint8_t flags, const h2x_priority_t *pri)
{
    flags &= H2X_FLAG_END_STREAM | H2X_FLAG_END_HEADERS;

    if (pri == NULL) {
        return h2x_frame_write_header(dst, length, H2X_FRAME_HEADERS, flags,
                                      stream_id);
    }

    dst = h2x_frame_write_header(dst, length + H2X_PRIORITY_FIELDS_SIZE,
                                 H2X_FRAME_HEADERS,
                                 flags | H2X_FLAG_PRIORITY, stream_id);
    dst = h2x_put_u32(dst, (pri->dependency & H2X_STREAM_ID_MASK)
                           | (pri->exclusive ? 0x80000000 : 0));
    *dst++ = (uint8_t) (pri->weight - 1);

    return dst;
}


uint8_t *
h2x_frame_write_continuation(uint8_t *dst, uint32_t stream_id,
    uint32_t length, int end_headers)
{
    return h2x_frame_write_header(dst, length, H2X_FRAME_CONTINUATION,
                                  end_headers ? H2X_FLAG_END_HEADERS : 0,
                                  stream_id);
}


uint8_t *
h2x_frame_write_push_promise(uint8_t *dst, uint32_t stream_id,
    uint32_t promised_stream_id, uint32_t length, int end_headers)
{
    dst = h2x_frame_write_header(dst, length + 4, H2X_FRAME_PUSH_PROMISE,
                                 end_headers ? H2X_FLAG_END_HEADERS : 0,
                                 stream_id);

    return h2x_put_u32(dst, promised_stream_id & H2X_STREAM_ID_MASK);
}


size_t
h2x_frame_header_block_size(size_t block_len, uint32_t max_frame_size)
{
    size_t  frames;

    if (block_len <= max_frame_size) {
        /* the usual case: one frame, no division */
        return block_len + H2X_FRAME_HEADER_SIZE;
    }

    frames = (block_len + max_frame_size - 1) / max_frame_size;

    return block_len + frames * H2X_FRAME_HEADER_SIZE;
}


uint8_t *
h2x_frame_write_header_block(uint8_t *dst, uint32_t stream_id, uint8_t flags,
    const uint8_t *block, size_t block_len, uint32_t max_frame_size)
{
    size_t    frames, i, off, n;
    uint8_t  *out;

    if (block_len <= max_frame_size) {
        /* one frame; the block is usually in place already */
        if (block_len && block != dst + H2X_FRAME_HEADER_SIZE) {
            memmove(dst + H2X_FRAME_HEADER_SIZE, block, block_len);
        }

        h2x_frame_write_headers(dst, stream_id, (uint32_t) block_len,
                                (uint8_t) ((flags & H2X_FLAG_END_STREAM)
                                           | H2X_FLAG_END_HEADERS),
                                NULL);

        return dst + H2X_FRAME_HEADER_SIZE + block_len;
    }

    frames = (block_len + max_frame_size - 1) / max_frame_size;

    /*
     * From the last fragment back: when the block sits at dst + 9, each
     * fragment moves forward over bytes already moved.
     */

    for (i = frames; i-- > 0; /* void */) {
        off = i * max_frame_size;
        n = block_len - off;
        if (n > max_frame_size) {
            n = max_frame_size;
        }

        out = dst + off + i * H2X_FRAME_HEADER_SIZE;

        if (n) {
            memmove(out + H2X_FRAME_HEADER_SIZE, block + off, n);
        }

        if (i == 0) {
            h2x_frame_write_headers(out, stream_id, (uint32_t) n,
                                    (uint8_t) ((flags & H2X_FLAG_END_STREAM)
                                     | (frames == 1 ? H2X_FLAG_END_HEADERS
                                                    : 0)),
                                    NULL);

        } else {
            h2x_frame_write_continuation(out, stream_id, (uint32_t) n,
                                         i == frames - 1);
        }
    }

    return dst + block_len + frames * H2X_FRAME_HEADER_SIZE;
}


uint8_t *
h2x_frame_write_priority(uint8_t *dst, uint32_t stream_id,
    const h2x_priority_t *pri)
{
    dst = h2x_frame_write_header(dst, H2X_PRIORITY_FIELDS_SIZE,
                                 H2X_FRAME_PRIORITY, 0, stream_id);
    dst = h2x_put_u32(dst, (pri->dependency & H2X_STREAM_ID_MASK)
                           | (pri->exclusive ? 0x80000000 : 0));
    *dst++ = (uint8_t) (pri->weight - 1);

    return dst;
}


uint8_t *
h2x_frame_write_rst_stream(uint8_t *dst, uint32_t stream_id, uint32_t code)
{
    dst = h2x_frame_write_header(dst, 4, H2X_FRAME_RST_STREAM, 0, stream_id);

    return h2x_put_u32(dst, code);
}


uint8_t *
h2x_frame_write_settings(uint8_t *dst, const h2x_setting_t *s, size_t n)
{
    size_t  i;

    dst = h2x_frame_write_header(dst, (uint32_t) (n * H2X_SETTING_SIZE),
                                 H2X_FRAME_SETTINGS, 0, 0);

    for (i = 0; i < n; i++) {
        dst = h2x_put_u16(dst, s[i].id);
        dst = h2x_put_u32(dst, s[i].value);
    }

    return dst;
}


uint8_t *
h2x_frame_write_settings_ack(uint8_t *dst)
{
    return h2x_frame_write_header(dst, 0, H2X_FRAME_SETTINGS, H2X_FLAG_ACK,
                                  0);
}


uint8_t *
h2x_frame_write_ping(uint8_t *dst, const uint8_t *opaque, int ack)
{
    dst = h2x_frame_write_header(dst, H2X_PING_SIZE, H2X_FRAME_PING,
                                 ack ? H2X_FLAG_ACK : 0, 0);
    memcpy(dst, opaque, H2X_PING_SIZE);

    return dst + H2X_PING_SIZE;
}


uint8_t *
h2x_frame_write_goaway(uint8_t *dst, uint32_t last_stream_id, uint32_t code,
    const uint8_t *debug, size_t debug_len)
{
    dst = h2x_frame_write_header(dst, (uint32_t) (8 + debug_len),
                                 H2X_FRAME_GOAWAY, 0, 0);
    dst = h2x_put_u32(dst, last_stream_id & H2X_STREAM_ID_MASK);
    dst = h2x_put_u32(dst, code);

    if (debug_len) {
        memcpy(dst, debug, debug_len);
    }

    return dst + debug_len;
}


uint8_t *
h2x_frame_write_window_update(uint8_t *dst, uint32_t stream_id,
    uint32_t increment)
{
    dst = h2x_frame_write_header(dst, 4, H2X_FRAME_WINDOW_UPDATE, 0,
                                 stream_id);

    return h2x_put_u32(dst, increment & H2X_STREAM_ID_MASK);
}


uint8_t *
h2x_frame_write_priority_update(uint8_t *dst, uint32_t prioritized_stream_id,
    const uint8_t *value, size_t value_len)
{
    dst = h2x_frame_write_header(dst, (uint32_t) (4 + value_len),
                                 H2X_FRAME_PRIORITY_UPDATE, 0, 0);
    dst = h2x_put_u32(dst, prioritized_stream_id & H2X_STREAM_ID_MASK);

    if (value_len) {
        memcpy(dst, value, value_len);
    }

    return dst + value_len;
}
