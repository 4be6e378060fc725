/*
 * h2x_request: request and response header validation (RFC 9113 8.2,
 * 8.3), cookie crumbs (8.2.3) and the RFC 9218 priority field.
 */

#include <string.h>

#include "h2x_session_int.h"


/* Kinds of fields the session cares about. */
enum {
    H2X_F_OTHER = 0,
    H2X_F_METHOD,
    H2X_F_SCHEME,
    H2X_F_AUTHORITY,
    H2X_F_PATH,
    H2X_F_PROTOCOL,
    H2X_F_PSEUDO_UNKNOWN,
    H2X_F_COOKIE,
    H2X_F_HOST,
    H2X_F_CONTENT_LENGTH,
    H2X_F_TE,
    H2X_F_CONNECTION,       /* connection-specific: malformed */
    H2X_F_PRIORITY
};


#if defined(__GNUC__)
#define h2x_req_inline   inline __attribute__((always_inline))
#else
#define h2x_req_inline   inline
#endif


#define h2x_name_is(f, s)                                                    \
    ((f)->name_len == sizeof(s) - 1                                          \
     && memcmp((f)->name, s, sizeof(s) - 1) == 0)


/*
 * Kinds of static-table names (RFC 7541 Appendix A), by the lowest index
 * of each name, as the decoder flags them; every other name is
 * H2X_F_OTHER.
 */
static const uint8_t  h2x_static_kind[256] = {
    [1] = H2X_F_AUTHORITY,
    [2] = H2X_F_METHOD,
    [4] = H2X_F_PATH,
    [6] = H2X_F_SCHEME,
    [8] = H2X_F_PSEUDO_UNKNOWN,           /* :status */
    [28] = H2X_F_CONTENT_LENGTH,
    [32] = H2X_F_COOKIE,
    [38] = H2X_F_HOST,
    [57] = H2X_F_CONNECTION               /* transfer-encoding */
};


/* The kind of a name given as a literal. */
static unsigned
h2x_name_kind(const h2x_header_t *f)
{
    if (f->name_len == 0) {
        return H2X_F_OTHER;
    }

    if (f->name[0] == ':') {
        switch (f->name_len) {
        case 5:
            return h2x_name_is(f, ":path") ? H2X_F_PATH
                                           : H2X_F_PSEUDO_UNKNOWN;
        case 7:
            if (h2x_name_is(f, ":method")) {
                return H2X_F_METHOD;
            }
            return h2x_name_is(f, ":scheme") ? H2X_F_SCHEME
                                             : H2X_F_PSEUDO_UNKNOWN;
        case 9:
            return h2x_name_is(f, ":protocol") ? H2X_F_PROTOCOL
                                               : H2X_F_PSEUDO_UNKNOWN;
        case 10:
            return h2x_name_is(f, ":authority") ? H2X_F_AUTHORITY
                                                : H2X_F_PSEUDO_UNKNOWN;
        default:
            return H2X_F_PSEUDO_UNKNOWN;
        }
    }

    switch (f->name_len) {
    case 2:
        return h2x_name_is(f, "te") ? H2X_F_TE : H2X_F_OTHER;
    case 4:
        return h2x_name_is(f, "host") ? H2X_F_HOST : H2X_F_OTHER;
    case 6:
        return h2x_name_is(f, "cookie") ? H2X_F_COOKIE : H2X_F_OTHER;
    case 7:
        return h2x_name_is(f, "upgrade") ? H2X_F_CONNECTION : H2X_F_OTHER;
    case 8:
        return h2x_name_is(f, "priority") ? H2X_F_PRIORITY : H2X_F_OTHER;
    case 10:
        if (h2x_name_is(f, "connection") || h2x_name_is(f, "keep-alive")) {
            return H2X_F_CONNECTION;
        }
        return H2X_F_OTHER;
    case 14:
        return h2x_name_is(f, "content-length") ? H2X_F_CONTENT_LENGTH
                                                : H2X_F_OTHER;
    case 16:
        return h2x_name_is(f, "proxy-connection") ? H2X_F_CONNECTION
                                                  : H2X_F_OTHER;
    case 17:
        return h2x_name_is(f, "transfer-encoding") ? H2X_F_CONNECTION
                                                   : H2X_F_OTHER;
    default:
        return H2X_F_OTHER;
    }
}


/*
 * RFC 9113 8.2.1: bytes allowed in field names (after a pseudo-header's
 * colon): not 0x00-0x20, not 'A'-'Z', not 0x7f-0xff, not ':'.
 */
static const uint8_t  h2x_name_char[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,      /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,      /* 0x10 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,      /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1,      /* 0x30 */
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,      /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1,      /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,      /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,      /* 0x70 */
};


#define H2X_ONES        0x0101010101010101ULL
#define H2X_HIGHS       0x8080808080808080ULL
#define H2X_LOWS        0x7f7f7f7f7f7f7f7fULL


static int
h2x_name_chars(const uint8_t *p, size_t len)
{
    size_t    i;
    unsigned  ok;

    ok = 1;

    for (i = 0; i < len; i++) {
        ok &= h2x_name_char[p[i]];
    }

    return (int) ok;
}


static h2x_req_inline int
h2x_name_valid(const uint8_t *p, size_t len, int pseudo)
{
    size_t    i;
    uint64_t  w, l, m;

    if (pseudo) {
        p++;
        len = len ? len - 1 : 0;
    }

    if (len == 0) {
        return 0;
    }

    if (len < 8) {
        return h2x_name_chars(p, len);
    }

    /*
     * Eight bytes at a time, the last word overlapping the one before;
     * the suspicious bits of every word are gathered, and only a name
     * with one is checked byte by byte.
     */
    m = 0;

    for (i = 0; /* void */ ; i += 8) {
        if (i + 8 > len) {
            i = len - 8;
        }

        memcpy(&w, p + i, 8);
        l = w & H2X_LOWS;

        m |= ((w - H2X_ONES * 0x21) & ~w)                 /* < 0x21 */
             | ((w + H2X_ONES * (127 - 0x7e)) | w)        /* > 0x7e */
             | ((H2X_ONES * (127 + 0x5b) - l) & ~w
                & (l + H2X_ONES * (127 - 0x40)))          /* 'A'-'Z' */
             | (((w ^ (H2X_ONES * ':')) - H2X_ONES)
                & ~(w ^ (H2X_ONES * ':')));               /* ':' */

        if (i + 8 == len) {
            break;
        }
    }

    if ((m & H2X_HIGHS) == 0) {
        return 1;
    }

    return h2x_name_chars(p, len);
}


/* Bytes never allowed in field values (RFC 9113 8.2.1). */
static int
h2x_value_chars(const uint8_t *p, size_t len)
{
    size_t    i;
    unsigned  bad;

    bad = 0;

    for (i = 0; i < len; i++) {
        bad |= (p[i] == '\0') | (p[i] == '\r') | (p[i] == '\n');
    }

    return !bad;
}


/*
 * RFC 9113 8.2.1: field values.  Words are tested for a byte below 0x0e
 * (NUL, CR, LF, but also HTAB), the results of all the words gathered;
 * only a value with such a byte is checked byte by byte.
 */
static const uint8_t  h2x_value_edge[256] = {
    ['\t'] = 1, [' '] = 1                 /* no leading or trailing */
};


static h2x_req_inline int
h2x_value_valid(const uint8_t *p, size_t len)
{
    size_t    i;
    uint32_t  a, b;
    uint64_t  w, m;

    if (len == 0) {
        return 1;
    }

    if (h2x_value_edge[p[0]] | h2x_value_edge[p[len - 1]]) {
        return 0;
    }

    if (len >= 8) {
        m = 0;

        for (i = 0; i + 8 < len; i += 8) {
            memcpy(&w, p + i, 8);
            m |= (w - H2X_ONES * 0x0e) & ~w;
        }

        memcpy(&w, p + len - 8, 8);
        m |= (w - H2X_ONES * 0x0e) & ~w;

        if ((m & H2X_HIGHS) == 0) {
            return 1;
        }

    } else if (len >= 4) {
        memcpy(&a, p, 4);
        memcpy(&b, p + len - 4, 4);

        if (((((a - 0x0e0e0e0eu) & ~a) | ((b - 0x0e0e0e0eu) & ~b))
             & 0x80808080u) == 0)
        {
            return 1;
        }
    }

    return h2x_value_chars(p, len);
}


#define H2X_F_INVALID  0xff


/*
 * The kind of a literal name of 8 to 32 octets, or H2X_F_INVALID
 * (RFC 9113 8.2.1; a leading ':' is a pseudo-header's).  Clients send
 * the same few names in every request: the names found valid lately are
 * kept with their kind, and a name equal to one kept, octet for octet,
 * takes its kind without being checked again.  Four words cover any
 * name of this length.
 */
static h2x_req_inline unsigned
h2x_name_memo(h2x_session_t *s, const h2x_header_t *f)
{
    size_t            len;
    unsigned          kind;
    uint64_t          a, b, c, d;
    const uint8_t    *p;
    h2x_name_memo_t  *m;

    p = f->name;
    len = f->name_len;

    if (s->name_memo == NULL) {
        /* an idle session freed it */
        if (!h2x_name_valid(p, len, p[0] == ':')) {
            return H2X_F_INVALID;
        }

        return h2x_name_kind(f);
    }

    memcpy(&a, p, 8);
    memcpy(&b, p + len - 8, 8);
    c = 0;
    d = 0;

    if (len > 16) {
        memcpy(&c, p + 8, 8);
        memcpy(&d, p + len - 16, 8);
    }

    m = s->name_memo[((a ^ c ^ (b + len) * 0xff51afd7ed558ccdULL)
                      * 0x9e3779b97f4a7c15ULL) >> 60];

    if (m[0].len == len && m[0].w[0] == a && m[0].w[1] == b
        && m[0].w[2] == c && m[0].w[3] == d)
    {
        return m[0].kind;
    }

    if (m[1].len == len && m[1].w[0] == a && m[1].w[1] == b
        && m[1].w[2] == c && m[1].w[3] == d)
    {
        return m[1].kind;
    }

    if (!h2x_name_valid(p, len, p[0] == ':')) {
        return H2X_F_INVALID;
    }

    kind = h2x_name_kind(f);

    /* the older of the set goes */
    m[1] = m[0];
    m->w[0] = a;
    m->w[1] = b;
    m->w[2] = c;
    m->w[3] = d;
    m->len = (uint8_t) len;
    m->kind = (uint8_t) kind;

    return kind;
}


/*
 * A request or trailer field: its kind, or H2X_F_INVALID when it is not
 * valid (RFC 9113 8.2.1).  Static names need no check.
 */
static unsigned
h2x_value_no_ctl(const uint8_t *p, size_t len)
{
    size_t    i;
    unsigned  bad;

    bad = 0;

    for (i = 0; i < len; i++) {
        bad |= (p[i] < 0x20 && p[i] != '\t') | (p[i] == 0x7f);
    }

    return !bad;
}


static unsigned
h2x_value_lenient(h2x_session_t *s, h2x_header_t *f)
{
    const uint8_t  *p;
    size_t          len;

    p = f->value;
    len = f->value_len;

    if (s->cfg.value_ows == H2X_OWS_STRIP) {
        while (len && (p[0] == ' ' || p[0] == '\t')) {
            p++;
            len--;
        }

        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
            len--;
        }
    }

    if (!h2x_value_chars(p, len)) {
        return 0;
    }

    f->value = p;
    f->value_len = len;

    return 1;
}


static h2x_req_inline unsigned
h2x_field_check(h2x_session_t *s, h2x_header_t *f)
{
    unsigned  kind;

    if (f->flags & H2X_HEADER_STATIC_NAME) {
        kind = h2x_static_kind[H2X_HEADER_STATIC_INDEX(f->flags)];

    } else if (f->name_len >= 8 && f->name_len <= 32) {
        kind = h2x_name_memo(s, f);
        if (kind == H2X_F_INVALID) {
            return H2X_F_INVALID;
        }

    } else if (h2x_name_valid(f->name, f->name_len,
                              f->name_len && f->name[0] == ':'))
    {
        kind = h2x_name_kind(f);

    } else {
        return H2X_F_INVALID;
    }

    if (!h2x_value_valid(f->value, f->value_len)
        /* leading or trailing SP/HTAB, where the host takes them */
        && (s->cfg.value_ows == H2X_OWS_RESET || !h2x_value_lenient(s, f)))
    {
        return H2X_F_INVALID;
    }

    if (s->cfg.value_no_ctl && !h2x_value_no_ctl(f->value, f->value_len)) {
        return H2X_F_INVALID;
    }

    return kind;
}


static int
h2x_parse_length(const uint8_t *p, size_t len, int64_t *out)
{
    size_t   i;
    int64_t  v;

    if (len == 0 || len > 18) {
        return H2X_ERROR;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return H2X_ERROR;
        }
        v = v * 10 + (p[i] - '0');
    }

    *out = v;

    return H2X_OK;
}


static int
h2x_strcaseeq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t   i;
    uint8_t  ca, cb;

    if (alen != blen) {
        return 0;
    }

    for (i = 0; i < alen; i++) {
        ca = a[i];
        cb = b[i];
        if (ca >= 'A' && ca <= 'Z') {
            ca |= 0x20;
        }
        if (cb >= 'A' && cb <= 'Z') {
            cb |= 0x20;
        }
        if (ca != cb) {
            return 0;
        }
    }

    return 1;
}


static void
h2x_set_str(h2x_str_t *s, const h2x_header_t *f)
{
    s->data = (const char *) f->value;
    s->len = f->value_len;
}


/*
 * Validates a request header list (RFC 9113 8.2, 8.3), fills req, and
 * compacts f in place to the regular fields with cookie crumbs joined.
 * Returns H2X_OK or H2X_ERROR (malformed: stream PROTOCOL_ERROR).
 */
int
h2x_request_parse(h2x_session_t *s, h2x_header_t *f, size_t n,
    h2x_request_t *req, const h2x_header_t **priority, const char **reason)
{
    size_t         i, w, cookie_at, ncookies, room, clen;
    uint8_t       *cbuf;
    unsigned       kind, seen, regular;
    int64_t        cl;
    h2x_header_t  *host;
    static const h2x_str_t  empty = { "", 0 };

    req->method = empty;
    req->scheme = empty;
    req->authority = empty;
    req->path = empty;
    req->protocol = empty;
    req->content_length = -1;
    *priority = NULL;

    seen = 0;
    regular = 0;
    host = NULL;
    w = 0;
    cookie_at = 0;
    ncookies = 0;
    clen = 0;
    room = s->hbuf_size - s->hb_out.size;
    cbuf = s->hbuf + s->hb_out.size;

    for (i = 0; i < n; i++) {

        kind = h2x_field_check(s, &f[i]);

        if (kind == H2X_F_OTHER) {
            /* most fields: nothing more to look at */
            regular = 1;

            if (w != i) {
                f[w] = f[i];
            }

            w++;
            continue;
        }

        if (kind == H2X_F_INVALID) {
            /* RFC 9113 8.2.1 */
            *reason = "client sent invalid header field";
            return H2X_ERROR;
        }

        if (kind >= H2X_F_METHOD && kind <= H2X_F_PSEUDO_UNKNOWN) {

            /* RFC 9113 8.3 */
            if (regular) {
                *reason = "client sent pseudo-header after regular field";
                return H2X_ERROR;
            }

            if (kind == H2X_F_PSEUDO_UNKNOWN) {
                *reason = "client sent unknown pseudo-header";
                return H2X_ERROR;
            }

            if (seen & (1u << kind)) {
                *reason = "client sent duplicate pseudo-header";
                return H2X_ERROR;
            }

            seen |= 1u << kind;

            switch (kind) {
            case H2X_F_METHOD:
                h2x_set_str(&req->method, &f[i]);
                break;
            case H2X_F_SCHEME:
                h2x_set_str(&req->scheme, &f[i]);
                break;
            case H2X_F_AUTHORITY:
                h2x_set_str(&req->authority, &f[i]);
                break;
            case H2X_F_PATH:
                h2x_set_str(&req->path, &f[i]);
                break;
            default: /* H2X_F_PROTOCOL */
                h2x_set_str(&req->protocol, &f[i]);
                break;
            }

            continue;
        }

        regular = 1;

        switch (kind) {

        case H2X_F_CONNECTION:
            /* RFC 9113 8.2.2 */
            *reason = "client sent connection-specific header";
            return H2X_ERROR;

        case H2X_F_TE:
            /* RFC 9113 8.2.2 */
            if (!(f[i].value_len == 8
                  && memcmp(f[i].value, "trailers", 8) == 0))
            {
                *reason = "client sent invalid \"te\" header";
                return H2X_ERROR;
            }
            break;

        case H2X_F_CONTENT_LENGTH:
            /* RFC 9110 8.6, RFC 9113 8.1.1 */
            if (h2x_parse_length(f[i].value, f[i].value_len, &cl) != H2X_OK
                || (req->content_length >= 0 && req->content_length != cl))
            {
                *reason = "client sent invalid \"content-length\" header";
                return H2X_ERROR;
            }
            req->content_length = cl;
            break;

        case H2X_F_HOST:
            if (host) {
                *reason = "client sent duplicate \"host\" header";
                return H2X_ERROR;
            }
            host = &f[i];
            break;

        case H2X_F_PRIORITY:
            /* RFC 9218 5: kept for the scheduler (and the adapter) */
            f[w] = f[i];
            *priority = &f[w++];
            continue;

        case H2X_F_COOKIE:
            /* RFC 9113 8.2.3: crumbs are joined into the first one */
            if (ncookies++ == 0) {
                cookie_at = w;
                f[w++] = f[i];
                continue;
            }

            if (ncookies == 2) {
                if (f[cookie_at].value_len + 1 > room) {
                    *reason = "client sent too large cookies";
                    return H2X_ERROR;
                }
                memcpy(cbuf, f[cookie_at].value, f[cookie_at].value_len);
                clen = f[cookie_at].value_len;
            }

            if (clen + 2 + f[i].value_len + 1 > room) {
                *reason = "client sent too large cookies";
                return H2X_ERROR;
            }

            cbuf[clen++] = ';';
            cbuf[clen++] = ' ';
            memcpy(cbuf + clen, f[i].value, f[i].value_len);
            clen += f[i].value_len;
            cbuf[clen] = '\0';

            f[cookie_at].value = cbuf;
            f[cookie_at].value_len = clen;

            continue;

        default:
            break;
        }

        if (w != i) {
            f[w] = f[i];
        }

        w++;
    }

    /* RFC 9113 8.3.1, 8.5; RFC 8441 4 */
    if (!(seen & (1u << H2X_F_METHOD))) {
        *reason = "client sent no :method header";
        return H2X_ERROR;
    }

    if (req->method.len == 7 && memcmp(req->method.data, "CONNECT", 7) == 0
        && !(seen & (1u << H2X_F_PROTOCOL)))
    {
        if ((seen & ((1u << H2X_F_SCHEME) | (1u << H2X_F_PATH)))
            || !(seen & (1u << H2X_F_AUTHORITY)))
        {
            *reason = "client sent invalid CONNECT request";
            return H2X_ERROR;
        }

    } else {
        if (seen & (1u << H2X_F_PROTOCOL)) {
            if (!s->cfg.enable_connect_protocol
                || !(req->method.len == 7
                     && memcmp(req->method.data, "CONNECT", 7) == 0))
            {
                *reason = "client sent unexpected :protocol header";
                return H2X_ERROR;
            }

            if (!(seen & (1u << H2X_F_AUTHORITY))) {
                *reason = "client sent extended CONNECT without :authority";
                return H2X_ERROR;
            }
        }

        if ((seen & ((1u << H2X_F_SCHEME) | (1u << H2X_F_PATH)))
            != ((1u << H2X_F_SCHEME) | (1u << H2X_F_PATH)))
        {
            *reason = "client sent no :scheme or :path header";
            return H2X_ERROR;
        }

        if (req->path.len == 0
            || !(req->path.data[0] == '/'
                 || (req->path.len == 1 && req->path.data[0] == '*'
                     && req->method.len == 7
                     && memcmp(req->method.data, "OPTIONS", 7) == 0)))
        {
            *reason = "client sent invalid :path header";
            return H2X_ERROR;
        }
    }

    if (host) {
        if (seen & (1u << H2X_F_AUTHORITY)) {
            /* RFC 9113 8.3.1: they should not differ */
            if (s->cfg.host_mismatch == H2X_HOST_RESET
                && !h2x_strcaseeq(host->value, host->value_len,
                                  (const uint8_t *) req->authority.data,
                                  req->authority.len))
            {
                *reason = "client sent \"host\" differing from :authority";
                return H2X_ERROR;
            }

        } else {
            h2x_set_str(&req->authority, host);
        }
    }

    req->headers = f;
    req->nheaders = w;

    return H2X_OK;
}


/* Trailers: regular fields only (RFC 9113 8.1, 8.2). */
int
h2x_trailers_check(h2x_session_t *s, h2x_header_t *f, size_t n,
    const char **reason)
{
    size_t    i;
    unsigned  kind;

    for (i = 0; i < n; i++) {

        kind = h2x_field_check(s, &f[i]);

        if (kind == H2X_F_INVALID) {
            /* RFC 9113 8.2.1 */
            *reason = "client sent invalid trailer field";
            return H2X_ERROR;
        }

        /* RFC 9113 8.1 */
        if (kind >= H2X_F_METHOD && kind <= H2X_F_PSEUDO_UNKNOWN) {
            *reason = "client sent pseudo-header in trailers";
            return H2X_ERROR;
        }

        /* RFC 9113 8.2.2 */
        if (kind == H2X_F_CONNECTION || kind == H2X_F_TE) {
            *reason = "client sent connection-specific trailer";
            return H2X_ERROR;
        }
    }

    return H2X_OK;
}


/*
 * RFC 9218 4, 5: the Priority field value, an sf-dictionary with "u"
 * (integer 0..7) and "i" (boolean).  Unknown members and parameters are
 * ignored; a value that does not parse leaves the defaults.
 */
int
h2x_priority_parse(const uint8_t *p, size_t len, uint8_t *urgency,
    uint8_t *incremental)
{
    uint8_t        key, u, inc;
    const uint8_t *end;

    if (len == 3 && p[0] == 'u' && p[1] == '=' && p[2] >= '0' && p[2] <= '7')
    {
        /* the usual "u=N" */
        *urgency = (uint8_t) (p[2] - '0');
        return H2X_OK;
    }

    end = p + len;
    u = *urgency;
    inc = *incremental;

    while (p < end) {

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == end) {
            break;
        }

        key = *p;

        if (!(key >= 'a' && key <= 'z') && key != '*') {
            return H2X_ERROR;
        }

        /* the key: lcalpha / "*" then lcalpha / DIGIT / "_-.*" */
        p++;
        while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= '0'
                           && *p <= '9') || *p == '_' || *p == '-'
                           || *p == '.' || *p == '*'))
        {
            key = 0;   /* multi-character key: not ours */
            p++;
        }

        if (p < end && *p == '=') {
            p++;

            if (p < end && *p == '?' && p + 1 < end
                && (p[1] == '0' || p[1] == '1'))
            {
                if (key == 'i') {
                    inc = (uint8_t) (p[1] - '0');
                }
                p += 2;

            } else if (p < end && *p >= '0' && *p <= '9') {
                if (key == 'u' && (p + 1 == end || p[1] < '0' || p[1] > '9')
                    && *p <= '7')
                {
                    u = (uint8_t) (*p - '0');
                }
                while (p < end && *p >= '0' && *p <= '9') {
                    p++;
                }

            } else {
                /* tokens, strings: skip to the next member */
                while (p < end && *p != ',' && *p != ';') {
                    p++;
                }
            }

        } else if (key == 'i') {
            inc = 1;
        }

        /* parameters are ignored */
        while (p < end && *p != ',') {
            p++;
        }

        if (p < end) {
            p++;
        }
    }

    *urgency = u;
    *incremental = inc;

    return H2X_OK;
}


/* --- HTTP/1.1 chunked framing of a request body (RFC 9112 7.1) ------ */

enum {
    H2X_CHUNKED_START = 0,  /* next: a chunk head, or the last chunk */
    H2X_CHUNKED_HEAD,       /* head bytes of the current chunk */
    H2X_CHUNKED_DATA,       /* its data */
    H2X_CHUNKED_CRLF,       /* the CRLF after it */
    H2X_CHUNKED_LAST,       /* "0" CRLF */
    H2X_CHUNKED_TRAILER,    /* trailer field i, byte off of its line */
    H2X_CHUNKED_END,        /* the final CRLF */
    H2X_CHUNKED_DONE
};


void
h2x_chunked_init(h2x_chunked_t *c)
{
    memset(c, 0, sizeof(h2x_chunked_t));
}


/* Copies what is left of c->head into out. */
static size_t
h2x_chunked_head(h2x_chunked_t *c, uint8_t *out, size_t size)
{
    size_t  n;

    n = c->head_len - c->head_pos;
    if (n > size) {
        n = size;
    }

    memcpy(out, c->head + c->head_pos, n);
    c->head_pos += (uint8_t) n;

    return n;
}


static void
h2x_chunked_set_head(h2x_chunked_t *c, const char *s, size_t len)
{
    memcpy(c->head, s, len);
    c->head_len = (uint8_t) len;
    c->head_pos = 0;
}


/*
 * One line of the trailer section, "name: value" CRLF, from byte off:
 * the bytes are produced where they are needed, nothing is kept.
 */
static size_t
h2x_chunked_field(const h2x_header_t *h, size_t off, uint8_t *out,
    size_t size)
{
    size_t          w, n, at, len;
    const uint8_t  *src;

    w = 0;

    while (w < size) {
        if (off < h->name_len) {
            src = h->name + off;
            len = h->name_len - off;

        } else if (off < h->name_len + 2) {
            at = off - h->name_len;
            src = (const uint8_t *) ": " + at;
            len = 2 - at;

        } else if (off < h->name_len + 2 + h->value_len) {
            at = off - h->name_len - 2;
            src = h->value + at;
            len = h->value_len - at;

        } else if (off < h->name_len + 4 + h->value_len) {
            at = off - h->name_len - 2 - h->value_len;
            src = (const uint8_t *) "\r\n" + at;
            len = 2 - at;

        } else {
            break;
        }

        n = len < size - w ? len : size - w;
        memcpy(out + w, src, n);
        w += n;
        off += n;
    }

    return w;
}


size_t
h2x_chunked_frame(h2x_chunked_t *c, uint8_t *out, size_t size,
    const uint8_t *in, size_t *in_len, int last, const h2x_header_t *tr,
    size_t ntr)
{
    int       i;
    char      hex[20];
    size_t    w, n, avail, taken, line;
    uint64_t  v;

    avail = *in_len;
    taken = 0;
    w = 0;

    while (w < size) {

        switch (c->state) {

        case H2X_CHUNKED_START:
            if (avail > taken) {
                /* one chunk for what is there: its size is known now */
                c->left = avail - taken;

                v = c->left;
                i = sizeof(hex) - 2;
                hex[i] = '\r';
                hex[i + 1] = '\n';
                do {
                    hex[--i] = "0123456789abcdef"[v & 0xf];
                    v >>= 4;
                } while (v);

                h2x_chunked_set_head(c, hex + i, sizeof(hex) - i);
                c->state = H2X_CHUNKED_HEAD;
                break;
            }

            if (!last) {
                goto done;
            }

            h2x_chunked_set_head(c, "0\r\n", 3);
            c->state = H2X_CHUNKED_LAST;
            break;

        case H2X_CHUNKED_HEAD:
            w += h2x_chunked_head(c, out + w, size - w);
            if (c->head_pos == c->head_len) {
                c->state = H2X_CHUNKED_DATA;
            }
            break;

        case H2X_CHUNKED_DATA:
            n = c->left;
            if (n > avail - taken) {
                /* the caller hands the rest of the chunk later */
                n = avail - taken;
            }
            if (n > size - w) {
                n = size - w;
            }
            if (n == 0) {
                goto done;
            }

            memcpy(out + w, in + taken, n);
            w += n;
            taken += n;
            c->left -= n;

            if (c->left == 0) {
                h2x_chunked_set_head(c, "\r\n", 2);
                c->state = H2X_CHUNKED_CRLF;
            }
            break;

        case H2X_CHUNKED_CRLF:
            w += h2x_chunked_head(c, out + w, size - w);
            if (c->head_pos == c->head_len) {
                c->state = H2X_CHUNKED_START;
            }
            break;

        case H2X_CHUNKED_LAST:
            w += h2x_chunked_head(c, out + w, size - w);
            if (c->head_pos == c->head_len) {
                c->field = 0;
                c->off = 0;
                c->state = H2X_CHUNKED_TRAILER;
            }
            break;

        case H2X_CHUNKED_TRAILER:
            if (tr == NULL || c->field >= ntr) {
                h2x_chunked_set_head(c, "\r\n", 2);
                c->state = H2X_CHUNKED_END;
                break;
            }

            n = h2x_chunked_field(&tr[c->field], c->off, out + w, size - w);
            w += n;
            c->off += n;

            line = tr[c->field].name_len + tr[c->field].value_len + 4;
            if (c->off == line) {
                c->field++;
                c->off = 0;
            }
            break;

        case H2X_CHUNKED_END:
            w += h2x_chunked_head(c, out + w, size - w);
            if (c->head_pos == c->head_len) {
                c->state = H2X_CHUNKED_DONE;
            }
            break;

        default: /* H2X_CHUNKED_DONE */
            goto done;
        }
    }

done:

    *in_len = taken;

    return w;
}


int
h2x_chunked_done(const h2x_chunked_t *c)
{
    return c->state == H2X_CHUNKED_DONE;
}
