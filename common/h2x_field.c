/*
 * h2x_field: the rules for response fields (headers, interim headers and
 * trailers) that both adapters hand to the engine, in one place.
 *
 *   - connection-specific fields (RFC 9113 8.2.2) are not carried by
 *     HTTP/2: dropped, as the builtins of both hosts drop them;
 *   - a name or value HTTP/2 cannot carry (RFC 9113 8.2.1, RFC 9110 5.1,
 *     5.5) is dropped (counted in stats.response_fields_dropped) or
 *     refuses the block, as the host's builtin does
 *     (h2x_config_t.bad_response_field);
 *   - whitespace around a value is trimmed (RFC 9113 8.2.1), as
 *     mod_http2 does;
 *   - the list is bounded (h2x_config_t.max_response_header_size).
 */

#include <string.h>

#include "h2x_session_int.h"


/*
 * Fields of a response that HTTP/2 does not carry: the hop-by-hop fields
 * of HTTP/1.1 (RFC 9113 8.2.2, RFC 9110 7.6.1, 7.8), by length.
 */
static const struct {
    size_t       len;
    const char  *name;
} h2x_field_hop[] = {
    { 2,  "te" },
    { 7,  "upgrade" },
    { 10, "connection" },
    { 10, "keep-alive" },
    { 14, "http2-settings" },
    { 16, "proxy-connection" },
    { 17, "transfer-encoding" }
};


/* RFC 9110 5.6.2 tchar, lowercase only (RFC 9113 8.2.1). */
static const uint8_t  h2x_field_tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
    ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
    ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1
};


static int
h2x_field_is_hop(const uint8_t *name, size_t len)
{
    size_t  i, k;

    if (len < 2 || len > 17) {
        return 0;
    }

    for (i = 0; i < sizeof(h2x_field_hop) / sizeof(h2x_field_hop[0]); i++) {
        if (h2x_field_hop[i].len != len) {
            continue;
        }

        for (k = 0; k < len; k++) {
            if ((name[k] | 0x20) != (uint8_t) h2x_field_hop[i].name[k]) {
                break;
            }
        }

        if (k == len) {
            return 1;
        }
    }

    return 0;
}


/* field-content (RFC 9110 5.5): HTAB, SP, VCHAR, obs-text. */
static int
h2x_field_value_ok(const uint8_t *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
            return 0;
        }
    }

    return 1;
}


int
h2x_response_field(const h2x_header_t *f)
{
    size_t  i;

    if (h2x_field_is_hop(f->name, f->name_len)) {
        return H2X_FIELD_HOP;
    }

    if (f->name_len == 0) {
        return H2X_FIELD_BAD_NAME;
    }

    for (i = 0; i < f->name_len; i++) {
        if (!h2x_field_tchar[f->name[i]]) {
            return H2X_FIELD_BAD_NAME;
        }
    }

    if (!h2x_field_value_ok(f->value, f->value_len)) {
        return H2X_FIELD_BAD_VALUE;
    }

    return H2X_FIELD_OK;
}


size_t
h2x_response_header_size(const h2x_header_t *h, size_t n)
{
    size_t  i, size;

    size = 0;

    for (i = 0; i < n; i++) {
        size += h[i].name_len + h[i].value_len + 32;
    }

    return size;
}


static int
h2x_field_ws(uint8_t c)
{
    return c == ' ' || c == '\t';
}


/*
 * The fields of a response block as they go out.  *out is NULL when h
 * can be sent as it is, else a copy of the entries (not of the bytes)
 * without the dropped fields and with values trimmed, for
 * h2x_response_fields_free().  H2X_TOO_LARGE over the bound, H2X_ERROR
 * for a field that refuses the block.
 */
int
h2x_response_fields(h2x_session_t *s, h2x_stream_t *st, const h2x_header_t *h,
    size_t n, h2x_header_t **out, size_t *nout)
{
    int            kind;
    size_t         i, k;
    h2x_header_t  *c;

    (void) st;

    *out = NULL;
    *nout = n;

    if (s->cfg.max_response_header_size
        && h2x_response_header_size(h, n) > s->cfg.max_response_header_size)
    {
        return H2X_TOO_LARGE;
    }

    for (i = 0; i < n; i++) {
        if (h2x_response_field(&h[i]) != H2X_FIELD_OK
            || (h[i].value_len
                && (h2x_field_ws(h[i].value[0])
                    || h2x_field_ws(h[i].value[h[i].value_len - 1]))))
        {
            break;
        }
    }

    if (i == n) {
        return H2X_OK;
    }

    c = h2x_s_alloc(s, n * sizeof(h2x_header_t));
    if (c == NULL) {
        return H2X_NOMEM;
    }

    k = 0;

    for (i = 0; i < n; i++) {
        kind = h2x_response_field(&h[i]);

        if (kind == H2X_FIELD_HOP) {
            continue;
        }

        if (kind != H2X_FIELD_OK) {
            if (s->cfg.bad_response_field == H2X_BAD_FIELD_REFUSE) {
                h2x_s_free(s, c);
                return H2X_ERROR;
            }

            s->stats.response_fields_dropped++;
            continue;
        }

        c[k] = h[i];

        while (c[k].value_len && h2x_field_ws(c[k].value[0])) {
            c[k].value++;
            c[k].value_len--;
        }

        while (c[k].value_len
               && h2x_field_ws(c[k].value[c[k].value_len - 1]))
        {
            c[k].value_len--;
        }

        k++;
    }

    *out = c;
    *nout = k;

    return H2X_OK;
}


void
h2x_response_fields_free(h2x_session_t *s, h2x_header_t *c)
{
    if (c) {
        h2x_s_free(s, c);
    }
}
