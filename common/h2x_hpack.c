/*
 * h2x_hpack: HPACK (RFC 7541).
 *
 * Decoder: a resumable state machine over the representations of
 * section 6.  Strings are decoded straight into the caller's output (or,
 * for a field past a soft limit that must still enter the dynamic table,
 * into a scratch area of the table's size), so the state carried between
 * fragments is a few integers and at most 64 bits of Huffman input.
 * Runs of indexed fields take a tight loop.
 *
 * Huffman decoding reads 64-bit big-endian words into a bit accumulator
 * and looks up the next H2X_HUFF_PEEK (12) bits in a generated table
 * that gives one or two symbols per lookup when their codes fit; longer
 * codes (rare characters) are resolved canonically from the next 32 bits.
 * Encoding writes into the output at once and falls back to the raw
 * octets as soon as the Huffman form is no shorter.
 *
 * Both dynamic tables are FIFO byte rings (an entry's octets are
 * contiguous modulo the ring size) with a ring of entry descriptors; the
 * decoder keeps entries as name NUL value NUL, ready to copy out.  The
 * encoder indexes its entries by two hash chains (name, name + value)
 * whose links are entry ids: an id older than the oldest live entry ends
 * a chain, so eviction costs nothing.  It looks up the dynamic table
 * before the static one, as most fields of a connection repeat.
 */

#include <string.h>

#include "h2x_hpack.h"
#include "h2x_huff_table.h"


#if defined(__GNUC__)
#define h2x_likely(x)    __builtin_expect(!!(x), 1)
#define h2x_unlikely(x)  __builtin_expect(!!(x), 0)
#define h2x_inline       inline __attribute__((always_inline))
#else
#define h2x_likely(x)    (x)
#define h2x_unlikely(x)  (x)
#define h2x_inline       inline
#endif


#define H2X_HPACK_STATIC_COUNT  61


/* ---- helpers ----------------------------------------------------------- */

static inline uint64_t
h2x_load_be64(const uint8_t *p)
{
    uint64_t  v;

    memcpy(&v, p, 8);
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#elif !defined(__GNUC__)
    v = (uint64_t) p[0] << 56 | (uint64_t) p[1] << 48 | (uint64_t) p[2] << 40
        | (uint64_t) p[3] << 32 | (uint64_t) p[4] << 24
        | (uint64_t) p[5] << 16 | (uint64_t) p[6] << 8 | p[7];
#endif
    return v;
}


static uint32_t
h2x_pow2_at_least(uint32_t n)
{
    uint32_t  p;

    for (p = 1; p < n; p <<= 1) { /* void */ }

    return p;
}


/* memcpy() for the short strings of headers: no call below 32 octets,
 * and never a byte outside [src, src + n). */
static inline void
h2x_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
    uint64_t  a, b;
    uint32_t  c, d;

    if (n >= 8) {
        if (n > 16) {
            if (n > 32) {
                memcpy(dst, src, n);
                return;
            }
            /* the first 16 and the last 16, overlapping */
            memcpy(&a, src, 8);
            memcpy(&b, src + 8, 8);
            memcpy(dst, &a, 8);
            memcpy(dst + 8, &b, 8);
            memcpy(&a, src + n - 16, 8);
            memcpy(&b, src + n - 8, 8);
            memcpy(dst + n - 16, &a, 8);
            memcpy(dst + n - 8, &b, 8);
            return;
        }
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
        memcpy(&c, src, 4);
        memcpy(&d, src + n - 4, 4);
        memcpy(dst, &c, 4);
        memcpy(dst + n - 4, &d, 4);
    } else if (n) {
        dst[0] = src[0];
        dst[n >> 1] = src[n >> 1];
        dst[n - 1] = src[n - 1];
    }
}


/* memcmp() == 0 for short strings, without a call below 33 octets. */
static inline int
h2x_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint64_t  x, y, z, w, t, u, v, r;
    uint32_t  c, d, e, f;

    if (n >= 8) {
        if (n > 16) {
            if (n > 32) {
                return memcmp(a, b, n) == 0;
            }
            /* the first 16 and the last 16, overlapping */
            memcpy(&x, a, 8);
            memcpy(&y, b, 8);
            memcpy(&z, a + 8, 8);
            memcpy(&w, b + 8, 8);
            memcpy(&t, a + n - 16, 8);
            memcpy(&u, b + n - 16, 8);
            memcpy(&v, a + n - 8, 8);
            memcpy(&r, b + n - 8, 8);
            return ((x ^ y) | (z ^ w) | (t ^ u) | (v ^ r)) == 0;
        }
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&z, a + n - 8, 8);
        memcpy(&w, b + n - 8, 8);
        return ((x ^ y) | (z ^ w)) == 0;
    }
    if (n >= 4) {
        memcpy(&c, a, 4);
        memcpy(&d, b, 4);
        memcpy(&e, a + n - 4, 4);
        memcpy(&f, b + n - 4, 4);
        return ((c ^ d) | (e ^ f)) == 0;
    }
    return n == 0
           || (a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1]);
}


/*
 * Copy n octets in 32-octet pieces: reads up to 31 octets past src + n
 * and writes up to 31 past dst + n, both of which the caller provides.
 */
#define H2X_WILD  32

typedef struct {
    uint64_t  a, b;
} h2x_16_t;

static inline void
h2x_copy_wild(uint8_t *dst, const uint8_t *src, size_t n)
{
    h2x_16_t  t, u;
    size_t    i;

    for (i = 0; i < n; i += 32) {
        memcpy(&t, src + i, 16);
        memcpy(&u, src + i + 16, 16);
        memcpy(dst + i, &t, 16);
        memcpy(dst + i + 16, &u, 16);
    }
}


/* Copy n bytes from a ring at offset off (wrapping) to dst. */
static inline void
h2x_ring_read(uint8_t *dst, const uint8_t *ring, uint32_t size, uint32_t off,
    size_t n)
{
    size_t  first;

    first = size - off;
    if (h2x_likely(n <= first)) {
        h2x_copy(dst, ring + off, n);
    } else {
        memcpy(dst, ring + off, first);
        memcpy(dst + first, ring, n - first);
    }
}


static inline void
h2x_ring_write(uint8_t *ring, uint32_t size, uint32_t off, const uint8_t *src,
    size_t n)
{
    size_t  first;

    first = size - off;
    if (h2x_likely(n <= first)) {
        h2x_copy(ring + off, src, n);
    } else {
        memcpy(ring + off, src, first);
        memcpy(ring, src + first, n - first);
    }
}


static inline int
h2x_ring_equal(const uint8_t *ring, uint32_t size, uint32_t off,
    const uint8_t *s, size_t n)
{
    size_t  first;

    first = size - off;
    if (h2x_likely(n <= first)) {
        return h2x_equal(ring + off, s, n);
    }
    return memcmp(ring + off, s, first) == 0
           && memcmp(ring, s + first, n - first) == 0;
}


static inline uint32_t
h2x_ring_off(uint32_t size, uint32_t off, size_t add)
{
    uint64_t  o;

    o = (uint64_t) off + add;
    return (uint32_t) (o >= size ? o - size : o);
}


/* ---- Huffman ----------------------------------------------------------- */

size_t
h2x_huff_encoded_len(const uint8_t *s, size_t len)
{
    uint64_t  bits;
    size_t    i;

    bits = 0;
    for (i = 0; i < len; i++) {
        bits += h2x_huff_enc[s[i]] >> 32;
    }

    return (size_t) ((bits + 7) >> 3);
}


/*
 * Huffman-encode s into dst, giving up (returning 0) as soon as the
 * result would not be shorter than limit octets; dst needs limit + 4
 * octets of room.  Returns the encoded length.
 */
static inline size_t
h2x_huff_encode_lt(uint8_t *dst, const uint8_t *s, size_t len, size_t limit)
{
    uint8_t   *p, *stop;
    uint64_t   acc, e;
    unsigned   nb;
    uint32_t   w;
    size_t     i;

    p = dst;
    stop = dst + limit;
    acc = 0;
    nb = 0;

    for (i = 0; i < len; i++) {
        e = h2x_huff_enc[s[i]];
        acc = acc << (e >> 32) | (uint32_t) e;
        nb += (unsigned) (e >> 32);
        if (nb >= 32) {
            nb -= 32;
            w = (uint32_t) (acc >> nb);
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            w = __builtin_bswap32(w);
            memcpy(p, &w, 4);
#else
            p[0] = (uint8_t) (w >> 24);
            p[1] = (uint8_t) (w >> 16);
            p[2] = (uint8_t) (w >> 8);
            p[3] = (uint8_t) w;
#endif
            p += 4;
            if (p >= stop) {
                return 0;
            }
        }
    }

    while (nb >= 8) {
        nb -= 8;
        *p++ = (uint8_t) (acc >> nb);
    }

    if (nb) {
        /* pad with the most significant bits of EOS: all ones */
        *p++ = (uint8_t) ((acc << (8 - nb)) | (0xff >> nb));
    }

    return p < stop ? (size_t) (p - dst) : 0;
}


size_t
h2x_huff_encode(uint8_t *dst, const uint8_t *s, size_t len)
{
    /* a code is at most 30 bits: 4 octets per symbol always do */
    return h2x_huff_encode_lt(dst, s, len, (size_t) -1 / 2);
}


/* The nb valid bits of a left-justified accumulator, the rest zero. */
static inline uint64_t
h2x_huff_keep(uint64_t acc, unsigned nb)
{
    return nb >= 64 ? acc : nb ? acc & ~(~(uint64_t) 0 >> nb) : 0;
}


#define H2X_HUFF_OK      0
#define H2X_HUFF_FULL    1
#define H2X_HUFF_BAD    -1


/*
 * Decode the Huffman bytes [*pp, end), a piece of a string, appending the
 * symbols to out[*olen ..] (store != 0) or only counting them (store ==
 * 0), while *olen < room.  The bit state (*pacc, *pnb: the next bits
 * of the string, left-justified) carries over between pieces.  Returns
 * H2X_HUFF_OK with all of the piece consumed, H2X_HUFF_FULL when out is
 * full (*pp tells how far it got; call again with more room) or
 * H2X_HUFF_BAD on EOS.  The caller checks the padding at the string end.
 */
static h2x_inline int
h2x_huff_run(uint64_t *pacc, unsigned *pnb, const uint8_t **pp,
    const uint8_t *end, const uint8_t *readable, uint8_t *out, size_t *polen,
    size_t room, int store)
{
    const uint8_t  *p;
    uint64_t        acc;
    uint32_t        v, e;
    unsigned        nb, l, k, sym, j;
    size_t          olen;
    int             rc;

    p = *pp;
    acc = *pacc;
    nb = *pnb;
    olen = *polen;
    rc = H2X_HUFF_OK;

    for ( ;; ) {

        /*
         * Fast: with 8 input octets and room for 8 symbols at hand, load
         * 56 bits or more and resolve 4 windows of 12 bits, each giving
         * one or two symbols, without any other check.
         */
        while (store && end - p >= 8 && room - olen >= 8) {
            if (nb <= 56) {
                acc |= h2x_load_be64(p) >> nb;
                k = (63 - nb) >> 3;
                p += k;
                nb += k << 3;
            }
            for (j = 0; j < 4; j++) {
                e = h2x_huff_dec[acc >> (64 - H2X_HUFF_PEEK)];
                if (h2x_unlikely(e == 0)) {
                    goto one;
                }
                out[olen] = (uint8_t) e;
                out[olen + 1] = (uint8_t) (e >> 8);
                l = (e >> 16) & 0x1f;
                olen += 1 + (l != (e >> 24));
                acc <<= l;
                nb -= l;
            }
        }

        /*
         * Tail: fewer than 8 octets left in this piece.  Take them all
         * (as far as the accumulator goes) and resolve windows while
         * both of their codes are complete; 64 bits hold at most 12
         * symbols, so one check of the room covers them.
         */
        if (store && end - p < 8 && room - olen >= 16) {
            if (readable - p >= 8 && nb <= 56) {
                /* one load, the octets past the string masked off */
                k = (unsigned) (end - p);
                if (k > (64 - nb) >> 3) {
                    k = (64 - nb) >> 3;
                }
                if (k) {
                    acc |= (h2x_load_be64(p) & (~(uint64_t) 0 << (64 - 8 * k)))
                           >> nb;
                    p += k;
                    nb += 8 * k;
                }
            } else {
                while (nb <= 56 && p < end) {
                    acc |= (uint64_t) *p++ << (56 - nb);
                    nb += 8;
                }
            }
            for ( ;; ) {
                e = h2x_huff_dec[acc >> (64 - H2X_HUFF_PEEK)];
                l = (e >> 16) & 0x1f;
                if (e == 0 || l > nb) {
                    break;
                }
                out[olen] = (uint8_t) e;
                out[olen + 1] = (uint8_t) (e >> 8);
                olen += 1 + (l != (e >> 24));
                acc <<= l;
                nb -= l;
            }
        }

    one:

        /* one symbol, whatever it takes: refill as far as input lasts */
        if (nb > 56) {
            /* void */
        } else if (end - p >= 8) {
            acc |= h2x_load_be64(p) >> nb;
            k = (63 - nb) >> 3;
            p += k;
            nb += k << 3;
        } else {
            while (nb <= 56 && p < end) {
                acc |= (uint64_t) *p++ << (56 - nb);
                nb += 8;
            }
        }

        if (nb < 5) {
            break;   /* p == end */
        }

        e = h2x_huff_dec[acc >> (64 - H2X_HUFF_PEEK)];
        if (h2x_likely(e != 0)) {
            l = e >> 24;
            sym = e & 0xff;
        } else {
            v = (uint32_t) (acc >> 32);
            for (l = H2X_HUFF_PEEK + 1; l < 30 && v >= h2x_huff_limit[l]; l++)
            {
                /* void */
            }
            sym = h2x_huff_sorted[(int32_t) (v >> (32 - l))
                                  - h2x_huff_base[l]];
        }

        if (l > nb) {
            break;   /* p == end: the rest of the code comes later */
        }

        if (h2x_unlikely(sym == 256)) {
            return H2X_HUFF_BAD;
        }

        if (h2x_unlikely(olen >= room)) {
            rc = H2X_HUFF_FULL;
            break;
        }

        if (store) {
            out[olen] = (uint8_t) sym;
        }
        olen++;
        acc <<= l;
        nb -= l;
    }

    *pp = p;
    *pacc = h2x_huff_keep(acc, nb);
    *pnb = nb;
    *polen = olen;

    return rc;
}


/* The bits left at the end of a string must be a prefix of EOS (all
 * ones) of at most 7 bits (RFC 7541 5.2). */
static inline int
h2x_huff_padding_ok(uint64_t acc, unsigned nb)
{
    return nb <= 7 && (nb == 0 || (acc >> (64 - nb)) == (1u << nb) - 1);
}


ptrdiff_t
h2x_huff_decode(uint8_t *dst, size_t room, const uint8_t *s, size_t len)
{
    uint64_t        acc;
    unsigned        nb;
    size_t          olen;
    const uint8_t  *p;

    acc = 0;
    nb = 0;
    olen = 0;
    p = s;

    if (h2x_huff_run(&acc, &nb, &p, s + len, s + len, dst, &olen, room, 1)
        != H2X_HUFF_OK
        || !h2x_huff_padding_ok(acc, nb))
    {
        return -1;
    }

    return (ptrdiff_t) olen;
}


/* ---- decoder ----------------------------------------------------------- */

void
h2x_hpack_limits_init(h2x_hpack_limits_t *limits)
{
    limits->max_table_size = H2X_HPACK_DEFAULT_TABLE_SIZE;
    limits->max_list_size = H2X_HPACK_DEFAULT_MAX_LIST_SIZE;
    limits->max_field_size = H2X_HPACK_DEFAULT_MAX_FIELD_SIZE;
    limits->max_fields = H2X_HPACK_DEFAULT_MAX_FIELDS;
    limits->hard_list_size = H2X_HPACK_DEFAULT_HARD_LIST_SIZE;
    limits->hard_fields = H2X_HPACK_DEFAULT_HARD_FIELDS;
}


/* states */
enum {
    H2X_HS_REP = 0,          /* start of a representation */
    H2X_HS_INT,              /* continuation of its integer */
    H2X_HS_NAME_LEN,         /* first byte of the name length */
    H2X_HS_NAME_LEN_INT,
    H2X_HS_NAME,             /* name bytes */
    H2X_HS_VALUE_LEN,
    H2X_HS_VALUE_LEN_INT,
    H2X_HS_VALUE
};

/* representations */
enum {
    H2X_HR_INDEXED = 0,
    H2X_HR_INC,              /* literal with incremental indexing */
    H2X_HR_NOIDX,            /* literal without indexing */
    H2X_HR_NEVER,            /* literal never indexed */
    H2X_HR_SIZE              /* dynamic table size update */
};


int
h2x_hpack_dec_init(h2x_hpack_dec_t *dec, const h2x_allocator_t *alloc,
    const h2x_hpack_limits_t *limits)
{
    uint32_t  n;

    memset(dec, 0, sizeof(*dec));
    dec->alloc = alloc;
    if (limits) {
        dec->limits = *limits;
    } else {
        h2x_hpack_limits_init(&dec->limits);
    }

    if (dec->limits.max_table_size > (1u << 30)) {
        return H2X_ERROR;
    }

    dec->ring_size = dec->limits.max_table_size;
    dec->max_size = dec->limits.max_table_size;
    n = h2x_pow2_at_least(dec->ring_size / H2X_HPACK_ENTRY_OVERHEAD + 1);
    dec->ent_mask = n - 1;

    dec->ents = h2x_alloc(alloc, n * sizeof(h2x_hpack_dent_t));
    dec->ring = h2x_alloc(alloc, dec->ring_size + H2X_WILD);
    dec->scratch = h2x_alloc(alloc, dec->ring_size + 2);

    if (dec->ents == NULL || dec->ring == NULL || dec->scratch == NULL) {
        h2x_hpack_dec_free(dec);
        return H2X_NOMEM;
    }

    return H2X_OK;
}


void
h2x_hpack_dec_free(h2x_hpack_dec_t *dec)
{
    if (dec->alloc == NULL) {
        return;
    }

    h2x_free(dec->alloc, dec->ents);
    h2x_free(dec->alloc, dec->ring);
    h2x_free(dec->alloc, dec->scratch);
    dec->ents = NULL;
    dec->ring = NULL;
    dec->scratch = NULL;
}


static void
h2x_hpack_dec_evict(h2x_hpack_dec_t *dec, uint32_t max)
{
    h2x_hpack_dent_t  *e;
    uint32_t           n;

    while (dec->size > max) {
        e = &dec->ents[(dec->head - dec->count) & dec->ent_mask];
        n = e->name_len + e->value_len;
        dec->size -= n + H2X_HPACK_ENTRY_OVERHEAD;
        dec->ring_used -= n + 2;
        dec->count--;
    }
}


/*
 * The decoder's ring keeps each entry as name NUL value NUL, ready to be
 * copied out in one piece (the 32 octets of overhead per entry leave
 * room for the NULs).  When the value follows the name that way in
 * memory already, the entry is written in one piece too.
 */
static void
h2x_hpack_dec_insert(h2x_hpack_dec_t *dec, const uint8_t *name,
    size_t name_len, const uint8_t *value, size_t value_len, uint32_t sidx)
{
    h2x_hpack_dent_t  *e;
    size_t             size;
    uint32_t           off, voff;
    uint8_t            nul;

    size = name_len + value_len + H2X_HPACK_ENTRY_OVERHEAD;

    if (size > dec->max_size) {
        /* RFC 7541 4.4: an entry larger than the table empties it */
        h2x_hpack_dec_evict(dec, 0);
        return;
    }

    h2x_hpack_dec_evict(dec, dec->max_size - (uint32_t) size);

    off = dec->ring_head;
    if (value == name + name_len + 1) {
        h2x_ring_write(dec->ring, dec->ring_size, off, name,
                       name_len + value_len + 2);
    } else {
        nul = 0;
        h2x_ring_write(dec->ring, dec->ring_size, off, name, name_len);
        voff = h2x_ring_off(dec->ring_size, off, name_len);
        h2x_ring_write(dec->ring, dec->ring_size, voff, &nul, 1);
        voff = h2x_ring_off(dec->ring_size, voff, 1);
        h2x_ring_write(dec->ring, dec->ring_size, voff, value, value_len + 1);
    }
    dec->ring_head = h2x_ring_off(dec->ring_size, off,
                                  name_len + value_len + 2);
    dec->ring_used += (uint32_t) (name_len + value_len + 2);

    e = &dec->ents[dec->head & dec->ent_mask];
    e->off = off;
    e->name_len = (uint32_t) name_len;
    e->value_len = (uint32_t) value_len;
    e->sidx = sidx;
    dec->head++;
    dec->count++;
    dec->size += (uint32_t) size;
}


int
h2x_hpack_dec_set_max_table_size(h2x_hpack_dec_t *dec, uint32_t size)
{
    if (size > dec->ring_size) {
        return H2X_ERROR;
    }

    dec->limits.max_table_size = size;
    if (dec->max_size > size) {
        dec->max_size = size;
        h2x_hpack_dec_evict(dec, size);
    }

    return H2X_OK;
}


static inline int
h2x_hpack_fail(h2x_hpack_dec_t *dec, int rc)
{
    dec->failed = 1;
    dec->fail_rc = rc;
    return rc;
}


/*
 * Integer continuation bytes (RFC 7541 5.1): at most 5 of them, and the
 * value must fit 32 bits.  Returns 1 when complete (value in dec->ival),
 * 0 when the input ended first, -1 on overflow.
 */
static inline int
h2x_hpack_int_more(h2x_hpack_dec_t *dec, const uint8_t **pp,
    const uint8_t *end)
{
    const uint8_t  *p;
    uint64_t        v;
    unsigned        s, b;

    p = *pp;
    v = dec->ival;
    s = dec->ishift;

    while (p < end) {
        b = *p++;
        v += (uint64_t) (b & 0x7f) << s;
        if (v > 0xffffffffu) {
            return -1;
        }
        if (!(b & 0x80)) {
            dec->ival = (uint32_t) v;
            *pp = p;
            return 1;
        }
        s += 7;
        if (s > 28) {
            return -1;
        }
    }

    dec->ival = (uint32_t) v;
    dec->ishift = s;
    *pp = p;

    return 0;
}


/* Check the hard caps for what is counted so far.  0 or CALM. */
static inline int
h2x_hpack_hard(h2x_hpack_dec_t *dec, size_t more)
{
    if (dec->list_size + H2X_HPACK_ENTRY_OVERHEAD + more
        > dec->limits.hard_list_size)
    {
        return H2X_HPACK_CALM;
    }
    return 0;
}


/* An indexed field (RFC 7541 6.1). */
static h2x_inline int
h2x_hpack_indexed(h2x_hpack_dec_t *dec, uint32_t idx, h2x_hpack_out_t *out)
{
    const h2x_hpack_static_t  *st;
    const h2x_hpack_dent_t    *e;
    h2x_header_t              *h;
    uint8_t                   *d;
    size_t                     nlen, vlen;
    uint32_t                   voff;

    if (idx == 0) {
        return H2X_ERROR;
    }

    if (idx <= H2X_HPACK_STATIC_COUNT) {
        st = &h2x_hpack_static[idx];
        e = NULL;
        nlen = st->name_len;
        vlen = st->value_len;

    } else {
        idx -= H2X_HPACK_STATIC_COUNT + 1;
        if (idx >= dec->count) {
            return H2X_ERROR;
        }
        st = NULL;
        e = &dec->ents[(dec->head - 1 - idx) & dec->ent_mask];
        nlen = e->name_len;
        vlen = e->value_len;
    }

    dec->field_start = 0;
    dec->nfields++;
    dec->list_size += nlen + vlen + H2X_HPACK_ENTRY_OVERHEAD;

    if (dec->nfields > dec->limits.hard_fields
        || dec->list_size > dec->limits.hard_list_size)
    {
        return H2X_HPACK_CALM;
    }

    if (dec->too_large) {
        return H2X_OK;
    }

    if (dec->nfields > dec->limits.max_fields
        || dec->list_size > dec->limits.max_list_size
        || nlen + vlen > dec->limits.max_field_size
        || out->nfields >= out->max_fields)
    {
        dec->too_large = 1;
        return H2X_OK;
    }

    h = &out->fields[out->nfields];

    if (st) {
        h->name = (const uint8_t *) st->name;
        h->value = (const uint8_t *) st->value;
        h->flags = H2X_HEADER_STATIC_NAME
                   | (unsigned) h2x_hpack_static_first[idx] << 8;

    } else if (e->sidx) {
        /* the name is a static one: copy the value only */
        if (out->size - out->len < vlen + 1) {
            dec->too_large = 1;
            return H2X_OK;
        }
        d = out->buf + out->len;
        voff = h2x_ring_off(dec->ring_size, e->off, nlen + 1);
        if (h2x_likely(voff + vlen + 1 <= dec->ring_size
                       && out->size - out->len >= vlen + 1 + H2X_WILD))
        {
            h2x_copy_wild(d, dec->ring + voff, vlen + 1);
        } else {
            h2x_ring_read(d, dec->ring, dec->ring_size, voff, vlen + 1);
        }
        h->name = (const uint8_t *) h2x_hpack_static[e->sidx].name;
        h->value = d;
        h->flags = H2X_HEADER_STATIC_NAME
                   | (unsigned) h2x_hpack_static_first[e->sidx] << 8;
        out->len += vlen + 1;

    } else {
        if (out->size - out->len < nlen + vlen + 2) {
            dec->too_large = 1;
            return H2X_OK;
        }
        d = out->buf + out->len;
        if (h2x_likely(e->off + nlen + vlen + 2 <= dec->ring_size
                       && out->size - out->len >= nlen + vlen + 2 + H2X_WILD))
        {
            /* not wrapped, and room to spare: 16 octets at a time */
            h2x_copy_wild(d, dec->ring + e->off, nlen + vlen + 2);
        } else {
            h2x_ring_read(d, dec->ring, dec->ring_size, e->off,
                          nlen + vlen + 2);
        }
        h->name = d;
        h->value = d + nlen + 1;
        h->flags = 0;
        out->len += nlen + vlen + 2;
    }

    h->name_len = nlen;
    h->value_len = vlen;
    out->nfields++;

    return H2X_OK;
}


/* An integer (RFC 7541 5.1) of at most 3 continuation octets, wholly in
 * [p, last), or NULL. */
static h2x_inline const uint8_t *
h2x_hpack_int_fast(const uint8_t *p, const uint8_t *last, unsigned mask,
    uint32_t *v)
{
    uint32_t  x, c;
    unsigned  s;

    x = *p++ & mask;

    if (x < mask) {
        *v = x;
        return p;
    }

    for (s = 0; s < 21; s += 7) {
        if (p == last) {
            return NULL;
        }
        c = *p++;
        x += (c & 0x7f) << s;
        if (!(c & 0x80)) {
            *v = x;
            return p;
        }
    }

    return NULL;
}


/*
 * A literal (RFC 7541 6.2) whose name is a static one (by index, or by
 * a dynamic entry with a static name) and whose value is wholly in this
 * fragment, well within the limits: decoded in one go, without the state
 * machine.  Returns p unchanged when any of this does not hold (or the
 * string is invalid): the general path decides, with nothing changed.
 * Anything taken here the general path would take the same way.
 */
static const uint8_t *
h2x_hpack_literal_fast(h2x_hpack_dec_t *dec, const uint8_t *p,
    const uint8_t *last, h2x_hpack_out_t *out)
{
    const h2x_hpack_limits_t  *lim;
    const h2x_hpack_dent_t    *e;
    const uint8_t             *q, *end;
    h2x_header_t              *h;
    uint8_t                   *d;
    size_t                     nlen, vlen, max_list, room, avail, olen;
    uint64_t                   acc;
    uint32_t                   idx, slen;
    unsigned                   b, rep, huff, nb;

    b = *p;

    if (b & 0x40) {
        rep = H2X_HR_INC;
        q = h2x_hpack_int_fast(p, last, 0x3f, &idx);

    } else if ((b & 0xe0) == 0) {
        rep = (b & 0x10) ? H2X_HR_NEVER : H2X_HR_NOIDX;
        q = h2x_hpack_int_fast(p, last, 0x0f, &idx);

    } else {
        return p;
    }

    if (q == NULL || q == last || idx == 0 || dec->too_large) {
        return p;
    }

    if (idx > H2X_HPACK_STATIC_COUNT) {
        idx -= H2X_HPACK_STATIC_COUNT + 1;
        if (idx >= dec->count) {
            return p;
        }
        e = &dec->ents[(dec->head - 1 - idx) & dec->ent_mask];
        if (e->sidx == 0) {
            return p;
        }
        idx = e->sidx;
    }

    huff = *q & 0x80;
    q = h2x_hpack_int_fast(q, last, 0x7f, &slen);
    if (q == NULL || (size_t) (last - q) < slen) {
        return p;
    }

    lim = &dec->limits;
    max_list = lim->max_list_size < lim->hard_list_size
               ? lim->max_list_size : lim->hard_list_size;
    nlen = h2x_hpack_static[idx].name_len;
    avail = out->size - out->len;

    /* the value may take what the tightest limit leaves */
    if (dec->nfields >= lim->max_fields || dec->nfields >= lim->hard_fields
        || out->nfields >= out->max_fields
        || dec->list_size + H2X_HPACK_ENTRY_OVERHEAD + nlen > max_list
        || nlen > lim->max_field_size || nlen + 1 > avail)
    {
        return p;
    }

    room = max_list - dec->list_size - H2X_HPACK_ENTRY_OVERHEAD - nlen;
    if (room > lim->max_field_size - nlen) {
        room = lim->max_field_size - nlen;
    }
    if (room > avail - nlen - 1) {
        room = avail - nlen - 1;
    }

    d = out->buf + out->len;
    end = q + slen;

    if (huff) {
        acc = 0;
        nb = 0;
        olen = 0;
        if (h2x_huff_run(&acc, &nb, &q, end, last, d, &olen, room, 1)
            != H2X_HUFF_OK
            || !h2x_huff_padding_ok(acc, nb))
        {
            return p;
        }
        vlen = olen;

    } else {
        if (slen > room) {
            return p;
        }
        h2x_copy(d, q, slen);
        vlen = slen;
    }

    d[vlen] = '\0';

    h = &out->fields[out->nfields++];
    h->name = (const uint8_t *) h2x_hpack_static[idx].name;
    h->name_len = nlen;
    h->value = d;
    h->value_len = vlen;
    h->flags = (rep == H2X_HR_NEVER ? H2X_HEADER_NEVER_INDEX
                : rep == H2X_HR_NOIDX ? H2X_HEADER_NO_INDEX : 0)
               | H2X_HEADER_STATIC_NAME
               | (unsigned) h2x_hpack_static_first[idx] << 8;
    out->len += vlen + 1;

    dec->field_start = 0;
    dec->nfields++;
    dec->list_size += nlen + vlen + H2X_HPACK_ENTRY_OVERHEAD;

    if (rep == H2X_HR_INC) {
        h2x_hpack_dec_insert(dec, h->name, nlen, d, vlen, idx);
    }

    return end;
}


/*
 * Runs of one-octet indexed fields (RFC 7541 6.1) and of literals with a
 * static name, well within the limits.  Indexed fields: the counters stay
 * in registers and each field is checked against what is left of the
 * limits, counted down.  Stops at the first octet that is not such a
 * field or that comes near a limit (or an index error, or a wrapped
 * entry, or less than H2X_WILD of room): the general path takes it from
 * there with nothing changed.
 */
static const uint8_t *
h2x_hpack_fast_run(h2x_hpack_dec_t *dec, const uint8_t *p,
    const uint8_t *last, h2x_hpack_out_t *out)
{
    const h2x_hpack_static_t  *st;
    const h2x_hpack_dent_t    *e, *ents;
    const h2x_hpack_limits_t  *lim;
    const uint8_t             *ring, *q;
    h2x_header_t              *h, *fields;
    uint8_t                   *d, *buf;
    size_t                     nout, nout0, len, fields_left, list_left,
                               list_left0, max_field, room, n, nlen, vlen,
                               max_nf, max_list;
    uint32_t                   idx, off, count, head, mask, ring_size;
    unsigned                   b;

    /* locals: the stores into the fields could alias the structures */
    lim = &dec->limits;
    max_nf = lim->max_fields < lim->hard_fields ? lim->max_fields
                                                : lim->hard_fields;
    max_list = lim->max_list_size < lim->hard_list_size
               ? lim->max_list_size : lim->hard_list_size;
    max_field = lim->max_field_size;

    ents = dec->ents;
    mask = dec->ent_mask;
    ring = dec->ring;
    ring_size = dec->ring_size;

    fields = out->fields;
    buf = out->buf;

    for ( ;; ) {

        if (dec->too_large) {
            return p;
        }

        nout0 = out->nfields;
        fields_left = max_nf > dec->nfields ? max_nf - dec->nfields : 0;
        n = out->max_fields > nout0 ? out->max_fields - nout0 : 0;
        if (n < fields_left) {
            fields_left = n;
        }
        list_left = max_list > dec->list_size ? max_list - dec->list_size
                                              : 0;
        list_left0 = list_left;

        count = dec->count;
        head = dec->head - 1;
        len = out->len;
        room = out->size - len;
        nout = nout0;

        for ( /* void */ ; p < last; p++) {
            b = *p;

            if (!(b & 0x80) || b == 0x80 || b == 0xff || fields_left == 0) {
                break;
            }

            idx = b & 0x7f;

            if (idx <= H2X_HPACK_STATIC_COUNT) {
                st = &h2x_hpack_static[idx];
                nlen = st->name_len;
                vlen = st->value_len;

                if (nlen + vlen + H2X_HPACK_ENTRY_OVERHEAD > list_left
                    || nlen + vlen > max_field)
                {
                    break;
                }

                h = &fields[nout];
                h->name = (const uint8_t *) st->name;
                h->value = (const uint8_t *) st->value;
                h->flags = H2X_HEADER_STATIC_NAME
                           | (unsigned) h2x_hpack_static_first[idx] << 8;

            } else {
                idx -= H2X_HPACK_STATIC_COUNT + 1;
                if (idx >= count) {
                    break;
                }

                e = &ents[(head - idx) & mask];
                nlen = e->name_len;
                vlen = e->value_len;

                if (nlen + vlen + H2X_HPACK_ENTRY_OVERHEAD > list_left
                    || nlen + vlen > max_field)
                {
                    break;
                }

                h = &fields[nout];
                d = buf + len;

                if (e->sidx) {
                    /* the name is a static one: copy the value only */
                    n = vlen + 1;
                    off = h2x_ring_off(ring_size, e->off, nlen + 1);
                    if (off + n > ring_size || n + H2X_WILD > room) {
                        break;
                    }
                    h2x_copy_wild(d, ring + off, n);
                    h->name = (const uint8_t *)
                                  h2x_hpack_static[e->sidx].name;
                    h->value = d;
                    h->flags = H2X_HEADER_STATIC_NAME
                               | (unsigned) h2x_hpack_static_first[e->sidx]
                                 << 8;

                } else {
                    n = nlen + vlen + 2;
                    if (e->off + n > ring_size || n + H2X_WILD > room) {
                        break;
                    }
                    h2x_copy_wild(d, ring + e->off, n);
                    h->name = d;
                    h->value = d + nlen + 1;
                    h->flags = 0;
                }

                len += n;
                room -= n;
            }

            h->name_len = nlen;
            h->value_len = vlen;
            nout++;
            fields_left--;
            list_left -= nlen + vlen + H2X_HPACK_ENTRY_OVERHEAD;
        }

        if (nout != nout0) {
            dec->field_start = 0;
            dec->nfields += nout - nout0;
            dec->list_size += list_left0 - list_left;
            out->nfields = nout;
            out->len = len;
        }

        if (p == last || (*p & 0x80)) {
            return p;
        }

        /* literals with a static name, the next most common */
        q = h2x_hpack_literal_fast(dec, p, last, out);
        if (q == p) {
            return p;
        }

        p = q;
    }
}


/*
 * A literal starts (RFC 7541 6.2): choose where its strings go.  Within
 * the soft limits they go to the output, with a room that enforces the
 * field and list limits; past them, a field with incremental indexing
 * goes to the scratch area (it must still enter the table), others are
 * only checked.
 */
static void
h2x_hpack_literal_begin(h2x_hpack_dec_t *dec, h2x_hpack_out_t *out)
{
    const h2x_hpack_limits_t  *lim;
    size_t                     budget, avail;

    dec->field_start = 0;
    dec->name_len = 0;
    dec->value_len = 0;
    dec->dst_len = 0;
    dec->discard = 0;
    dec->nostore = 0;
    dec->sname = NULL;
    dec->sname_idx = 0;

    lim = &dec->limits;

    if (!dec->too_large) {
        if (dec->nfields >= lim->max_fields
            || out->nfields >= out->max_fields
            || dec->list_size + H2X_HPACK_ENTRY_OVERHEAD > lim->max_list_size)
        {
            dec->too_large = 1;

        } else {
            budget = lim->max_list_size - dec->list_size
                     - H2X_HPACK_ENTRY_OVERHEAD;
            if (budget > lim->max_field_size) {
                budget = lim->max_field_size;
            }
            avail = out->size - out->len;
            dec->dst = out->buf + out->len;
            dec->dst_room = budget + 2 < avail ? budget + 2 : avail;
            return;
        }
    }

    dec->discard = 1;
    if (dec->rep == H2X_HR_INC) {
        dec->dst = dec->scratch;
        dec->dst_room = dec->ring_size + 2;
    } else {
        dec->dst = NULL;
        dec->dst_room = 0;
        dec->nostore = 1;
    }
}


/* The field's strings no longer fit where they were going (a soft limit
 * was reached, or the scratch area is too small). */
static void
h2x_hpack_spill(h2x_hpack_dec_t *dec)
{
    dec->too_large = 1;

    if (!dec->discard) {
        dec->discard = 1;
        if (dec->rep == H2X_HR_INC && dec->dst_len <= dec->ring_size + 2) {
            memcpy(dec->scratch, dec->dst, dec->dst_len);
            dec->dst = dec->scratch;
            dec->dst_room = dec->ring_size + 2;
            return;
        }
    }

    /* an entry this large empties the table: its bytes are not needed */
    dec->nostore = 1;
    dec->dst = NULL;
}


/* The literal's name comes from a table (name index != 0). */
static int
h2x_hpack_literal_name(h2x_hpack_dec_t *dec, uint32_t idx)
{
    const h2x_hpack_dent_t  *e;
    size_t                   nlen;

    if (idx <= H2X_HPACK_STATIC_COUNT) {
        dec->sname = (const uint8_t *) h2x_hpack_static[idx].name;
        dec->sname_idx = idx;
        nlen = h2x_hpack_static[idx].name_len;
        dec->name_len = nlen;

        if (!dec->discard) {
            /* the name counts against the budget but takes no room */
            if (nlen + 1 > dec->dst_room) {
                h2x_hpack_spill(dec);
            } else {
                dec->dst_room -= nlen;
            }
        }
        return H2X_OK;
    }

    idx -= H2X_HPACK_STATIC_COUNT + 1;
    if (idx >= dec->count) {
        return H2X_ERROR;
    }

    e = &dec->ents[(dec->head - 1 - idx) & dec->ent_mask];
    if (e->sidx) {
        return h2x_hpack_literal_name(dec, e->sidx);
    }

    nlen = e->name_len;
    dec->name_len = nlen;

    while (!dec->nostore && nlen + 2 > dec->dst_room) {
        h2x_hpack_spill(dec);
    }

    if (!dec->nostore) {
        h2x_ring_read(dec->dst, dec->ring, dec->ring_size, e->off, nlen + 1);
        dec->dst_len = nlen + 1;
    }

    return H2X_OK;
}


/*
 * A string length is known: check it against the limits before reading
 * the string.  value: 0 for the name, 1 for the value.
 */
static h2x_inline int
h2x_hpack_string_begin(h2x_hpack_dec_t *dec, int value)
{
    size_t  len, least, need;

    len = dec->ival;
    dec->slen = dec->ival;
    dec->hbits = 0;
    dec->hnbits = 0;

    /* the fewest octets the string can decode to */
    least = dec->huff ? len * 8 / 30 : len;

    if (h2x_hpack_hard(dec, dec->name_len + dec->value_len + least)) {
        return H2X_HPACK_CALM;
    }

    /* the string, its NUL, and the value's NUL after a name */
    need = least + 1 + (value ? 0 : 1);
    while (!dec->nostore && dec->dst_len + need > dec->dst_room) {
        h2x_hpack_spill(dec);
    }

    return H2X_OK;
}


/*
 * Read string bytes [*pp, end) of the current string.  Huffman output is
 * bounded symbol by symbol: by the room where it goes (then the field
 * spills to the scratch area or is only checked) and, whatever the
 * fragmentation, by the hard cap on decoded bytes (then CALM).
 */
static h2x_inline int
h2x_hpack_string_run(h2x_hpack_dec_t *dec, const uint8_t **pp,
    const uint8_t *end, int value)
{
    const uint8_t  *p, *stop;
    size_t          n, olen, room, nuls, used, hard_left, *len;
    int             rc;

    p = *pp;
    n = (size_t) (end - p);
    if (n > dec->slen) {
        n = dec->slen;
    }
    stop = p + n;
    len = value ? &dec->value_len : &dec->name_len;
    nuls = value ? 1 : 2;

    if (!dec->huff) {
        /* the length was checked against the hard cap when it came */
        while (!dec->nostore && dec->dst_len + n + nuls > dec->dst_room) {
            h2x_hpack_spill(dec);
        }
        if (!dec->nostore) {
            h2x_copy(dec->dst + dec->dst_len, p, n);
            dec->dst_len += n;
        }
        *len += n;
        p = stop;

    } else {
        for ( ;; ) {
            used = dec->list_size + H2X_HPACK_ENTRY_OVERHEAD + dec->name_len
                   + dec->value_len;
            hard_left = dec->limits.hard_list_size > used
                        ? dec->limits.hard_list_size - used : 0;

            if (dec->nostore) {
                olen = 0;
                rc = h2x_huff_run(&dec->hbits, &dec->hnbits, &p, stop, end,
                                  NULL, &olen, hard_left, 0);
                *len += olen;
                if (rc == H2X_HUFF_OK) {
                    break;
                }
                return rc == H2X_HUFF_BAD ? H2X_ERROR : H2X_HPACK_CALM;
            }

            room = dec->dst_room - nuls;
            if (room > dec->dst_len + hard_left) {
                room = dec->dst_len + hard_left;
            }
            olen = dec->dst_len;
            rc = h2x_huff_run(&dec->hbits, &dec->hnbits, &p, stop, end,
                              dec->dst, &olen, room, 1);
            *len += olen - dec->dst_len;
            dec->dst_len = olen;

            if (rc == H2X_HUFF_OK) {
                break;
            }
            if (rc == H2X_HUFF_BAD) {
                return H2X_ERROR;
            }
            if (dec->dst_len >= dec->dst_room - nuls) {
                /* full: continue in the scratch area or only check */
                h2x_hpack_spill(dec);
                continue;
            }
            return H2X_HPACK_CALM;
        }
    }

    dec->slen -= (uint32_t) n;
    *pp = p;

    if (dec->slen == 0) {
        if (dec->huff && !h2x_huff_padding_ok(dec->hbits, dec->hnbits)) {
            return H2X_ERROR;
        }
        if (!dec->nostore) {
            dec->dst[dec->dst_len++] = '\0';
        }
    }

    return H2X_OK;
}


/* A literal is complete. */
static h2x_inline int
h2x_hpack_literal_end(h2x_hpack_dec_t *dec, h2x_hpack_out_t *out)
{
    h2x_header_t   *h;
    const uint8_t  *name, *value;
    size_t          nlen, vlen;

    nlen = dec->name_len;
    vlen = dec->value_len;

    dec->nfields++;
    dec->list_size += nlen + vlen + H2X_HPACK_ENTRY_OVERHEAD;

    if (dec->nfields > dec->limits.hard_fields
        || dec->list_size > dec->limits.hard_list_size)
    {
        return H2X_HPACK_CALM;
    }

    if (dec->nostore) {
        name = NULL;
        value = NULL;
    } else if (dec->sname) {
        name = dec->sname;
        value = dec->dst;
    } else {
        name = dec->dst;
        value = dec->dst + nlen + 1;
    }

    if (!dec->discard) {
        h = &out->fields[out->nfields++];
        h->name = name;
        h->name_len = nlen;
        h->value = value;
        h->value_len = vlen;
        h->flags = dec->rep == H2X_HR_NEVER ? H2X_HEADER_NEVER_INDEX
                   : dec->rep == H2X_HR_NOIDX ? H2X_HEADER_NO_INDEX : 0;
        if (dec->sname_idx) {
            h->flags |= H2X_HEADER_STATIC_NAME
                        | (unsigned) h2x_hpack_static_first[dec->sname_idx]
                              << 8;
        }
        out->len += dec->dst_len;
    }

    if (dec->rep == H2X_HR_INC) {
        if (dec->nostore) {
            h2x_hpack_dec_evict(dec, 0);
        } else {
            h2x_hpack_dec_insert(dec, name, nlen, value, vlen,
                                 dec->sname_idx);
        }
    }

    return H2X_OK;
}


/*
 * A string length is complete (state H2X_HS_NAME_LEN[_INT] or
 * H2X_HS_VALUE_LEN[_INT]): check it and go to the string's bytes, or
 * finish an empty string at once.
 */
static h2x_inline int
h2x_hpack_string_ready(h2x_hpack_dec_t *dec, h2x_hpack_out_t *out)
{
    int  value, rc;

    value = dec->state >= H2X_HS_VALUE_LEN;

    rc = h2x_hpack_string_begin(dec, value);
    if (rc != H2X_OK) {
        return rc;
    }

    dec->state = value ? H2X_HS_VALUE : H2X_HS_NAME;

    if (dec->slen) {
        return H2X_OK;
    }

    /* empty string: a Huffman one has no padding either */
    if (!dec->nostore) {
        dec->dst[dec->dst_len++] = '\0';
    }

    if (!value) {
        dec->state = H2X_HS_VALUE_LEN;
        return H2X_OK;
    }

    dec->state = H2X_HS_REP;
    return h2x_hpack_literal_end(dec, out);
}


/* The integer of a representation is complete. */
static h2x_inline int
h2x_hpack_rep_int(h2x_hpack_dec_t *dec, h2x_hpack_out_t *out)
{
    int  rc;

    switch (dec->rep) {

    case H2X_HR_INDEXED:
        dec->state = H2X_HS_REP;
        return h2x_hpack_indexed(dec, dec->ival, out);

    case H2X_HR_SIZE:
        if (!dec->field_start || dec->ival > dec->limits.max_table_size) {
            return H2X_ERROR;
        }
        dec->max_size = dec->ival;
        h2x_hpack_dec_evict(dec, dec->max_size);
        dec->state = H2X_HS_REP;
        return H2X_OK;

    default:
        h2x_hpack_literal_begin(dec, out);
        if (dec->ival == 0) {
            dec->state = H2X_HS_NAME_LEN;
            return H2X_OK;
        }
        rc = h2x_hpack_literal_name(dec, dec->ival);
        dec->state = H2X_HS_VALUE_LEN;
        return rc;
    }
}


int
h2x_hpack_decode(h2x_hpack_dec_t *dec, const uint8_t *in, size_t len,
    int end, h2x_hpack_out_t *out)
{
    const uint8_t  *p, *last;
    unsigned        b;
    int             rc;

    if (dec->failed) {
        return dec->fail_rc;
    }

    if (!dec->in_block) {
        dec->in_block = 1;
        dec->field_start = 1;
        dec->too_large = 0;
        dec->list_size = 0;
        dec->nfields = 0;
        dec->state = H2X_HS_REP;
    }

    if (len == 0) {
        /* in may be NULL: no pointer arithmetic on it */
        static const uint8_t  empty[1] = { 0 };

        in = empty;
    }

    p = in;
    last = in + len;
    rc = H2X_OK;

    while (p < last) {

        switch (dec->state) {

        case H2X_HS_REP:
            /* runs of indexed fields, the most common representation */
            p = h2x_hpack_fast_run(dec, p, last, out);
            if (p == last) {
                goto done;
            }

            while ((*p & 0x80) && *p != 0xff) {
                rc = h2x_hpack_indexed(dec, *p++ & 0x7f, out);
                if (h2x_unlikely(rc != H2X_OK)) {
                    return h2x_hpack_fail(dec, rc);
                }
                if (p == last) {
                    goto done;
                }
            }

            b = *p++;
            dec->ishift = 0;

            if (b & 0x80) {
                dec->rep = H2X_HR_INDEXED;
                dec->ival = b & 0x7f;
                if (h2x_likely(dec->ival != 0x7f)) {
                    rc = h2x_hpack_indexed(dec, dec->ival, out);
                    break;
                }

            } else if (b & 0x40) {
                dec->rep = H2X_HR_INC;
                dec->ival = b & 0x3f;
                if (dec->ival != 0x3f) {
                    rc = h2x_hpack_rep_int(dec, out);
                    break;
                }

            } else if (b & 0x20) {
                dec->rep = H2X_HR_SIZE;
                dec->ival = b & 0x1f;
                if (dec->ival != 0x1f) {
                    rc = h2x_hpack_rep_int(dec, out);
                    break;
                }

            } else {
                dec->rep = (b & 0x10) ? H2X_HR_NEVER : H2X_HR_NOIDX;
                dec->ival = b & 0x0f;
                if (dec->ival != 0x0f) {
                    rc = h2x_hpack_rep_int(dec, out);
                    break;
                }
            }

            dec->state = H2X_HS_INT;
            /* fall through */

        case H2X_HS_INT:
            rc = h2x_hpack_int_more(dec, &p, last);
            if (rc <= 0) {
                rc = rc < 0 ? H2X_ERROR : H2X_OK;
                break;
            }
            rc = h2x_hpack_rep_int(dec, out);
            break;

        case H2X_HS_NAME_LEN:
        case H2X_HS_VALUE_LEN:
            b = *p++;
            dec->huff = (b & 0x80) != 0;
            dec->ival = b & 0x7f;
            dec->ishift = 0;
            if (dec->ival == 0x7f) {
                dec->state++;   /* to the _LEN_INT state */
                break;
            }
            rc = h2x_hpack_string_ready(dec, out);
            break;

        case H2X_HS_NAME_LEN_INT:
        case H2X_HS_VALUE_LEN_INT:
            rc = h2x_hpack_int_more(dec, &p, last);
            if (rc <= 0) {
                rc = rc < 0 ? H2X_ERROR : H2X_OK;
                break;
            }
            rc = h2x_hpack_string_ready(dec, out);
            break;

        case H2X_HS_NAME:
        case H2X_HS_VALUE:
            rc = h2x_hpack_string_run(dec, &p, last,
                                      dec->state == H2X_HS_VALUE);
            if (rc == H2X_OK && dec->slen == 0) {
                if (dec->state == H2X_HS_NAME) {
                    dec->state = H2X_HS_VALUE_LEN;
                } else {
                    dec->state = H2X_HS_REP;
                    rc = h2x_hpack_literal_end(dec, out);
                }
            }
            break;
        }

        if (h2x_unlikely(rc != H2X_OK)) {
            return h2x_hpack_fail(dec, rc);
        }
    }

done:

    if (!end) {
        return dec->too_large ? H2X_HPACK_TOO_LARGE : H2X_AGAIN;
    }

    if (dec->state != H2X_HS_REP) {
        return h2x_hpack_fail(dec, H2X_ERROR);
    }

    dec->in_block = 0;

    return dec->too_large ? H2X_HPACK_TOO_LARGE : H2X_OK;
}


/* ---- encoder ----------------------------------------------------------- */

/* After this many entries of a name evicted unused, stop indexing it. */
#define H2X_HPACK_UNUSED_MAX  4

/* What the default policy does with a field, by static name index. */
#define H2X_EP_INDEX    0
#define H2X_EP_LITERAL  1   /* without indexing: values rarely repeat */
#define H2X_EP_NEVER    2   /* sensitive: never indexed */
#define H2X_EP_COOKIE   3   /* never indexed when shorter than 20 bytes */

static const uint8_t  h2x_hpack_enc_policy[62] = {
    [4] = H2X_EP_LITERAL,   /* :path */
    [5] = H2X_EP_LITERAL,
    [21] = H2X_EP_LITERAL,  /* age */
    [23] = H2X_EP_NEVER,    /* authorization */
    [28] = H2X_EP_LITERAL,  /* content-length */
    [32] = H2X_EP_COOKIE,   /* cookie */
    [34] = H2X_EP_LITERAL,  /* etag */
    [40] = H2X_EP_LITERAL,  /* if-modified-since */
    [41] = H2X_EP_LITERAL,  /* if-none-match */
    [46] = H2X_EP_LITERAL,  /* location */
    [49] = H2X_EP_NEVER,    /* proxy-authorization */
    [55] = H2X_EP_NEVER,    /* set-cookie */
};


/*
 * Hash for the encoder's table: the length, the first and last 16 octets
 * and 8 in the middle, in constant time whatever the length.  Strings
 * that differ elsewhere only collide; every candidate is compared in
 * full anyway, and a chain is at most the table's entries long.
 */
static inline uint32_t
h2x_hpack_hash(const uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t  w0, w1, w2, w3, w4, h;
    uint32_t  a, b;

    w2 = w3 = w4 = 0;   /* used when n > 16 only */

    if (n >= 8) {
        memcpy(&w0, p, 8);
        memcpy(&w1, p + n - 8, 8);
        if (n > 16) {
            memcpy(&w2, p + 8, 8);
            memcpy(&w3, p + n - 16, 8);
            memcpy(&w4, p + n / 2 - 4, 8);
        }
    } else if (n >= 4) {
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        w0 = a;
        w1 = b;
    } else {
        w0 = n ? (uint64_t) p[0] << 16 | (uint64_t) p[n >> 1] << 8 | p[n - 1]
               : 0;
        w1 = 0;
    }

    h = (seed + n) * 0x9e3779b97f4a7c15ull;
    h ^= (w0 ^ 0xa0761d6478bd642full) * (w1 ^ 0xe7037ed1a0b428dbull);
    if (n > 16) {
        h ^= (w2 ^ 0x8ebc6af09c88c6e3ull) * (w3 ^ 0x589965cc75374cc3ull);
        h ^= (w4 ^ h) * 0x1d8e4e27c47d124full;
    }
    h ^= h >> 32;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;

    return (uint32_t) h;
}


/* Two words sampled from a string (all of it up to 16 octets). */
static inline void
h2x_hpack_sample(const uint8_t *p, size_t n, uint64_t *w0, uint64_t *w1)
{
    uint64_t  a, b, c;
    uint32_t  x, y;

    if (n >= 8) {
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
        if (n > 16) {
            memcpy(&c, p + 8, 8);
            a ^= c * 0x9fb21c651e98df25ull;
            memcpy(&c, p + n - 16, 8);
            b ^= c * 0xc2b2ae3d27d4eb4full;
            memcpy(&c, p + n / 2 - 4, 8);
            a += c;
        }
    } else if (n >= 4) {
        memcpy(&x, p, 4);
        memcpy(&y, p + n - 4, 4);
        a = x;
        b = y;
    } else {
        a = n ? (uint64_t) p[0] << 16 | (uint64_t) p[n >> 1] << 8 | p[n - 1]
              : 0;
        b = 0;
    }

    *w0 = a;
    *w1 = b;
}


/* The hash of a whole field, in one go, from samples of both strings. */
static inline uint32_t
h2x_hpack_field_hash(const uint8_t *name, size_t nlen, const uint8_t *value,
    size_t vlen)
{
    uint64_t  a0, a1, b0, b1, h;

    h2x_hpack_sample(name, nlen, &a0, &a1);
    h2x_hpack_sample(value, vlen, &b0, &b1);

    h = (a0 ^ nlen ^ 0xa0761d6478bd642full) * (b0 ^ 0xe7037ed1a0b428dbull);
    h ^= (a1 ^ 0x8ebc6af09c88c6e3ull)
         * (b1 ^ (uint64_t) vlen << 32 ^ 0x589965cc75374cc3ull);
    h ^= h >> 32;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;

    return (uint32_t) h;
}


/* The lowest static index whose name is name, or 0. */
static inline unsigned
h2x_hpack_static_find(const uint8_t *name, size_t len)
{
    unsigned  i;

    if (len == 0 || len > 27) {
        return 0;
    }

    i = h2x_hpack_static_slot[H2X_HPACK_STATIC_HASH(name, len)];

    if (i && h2x_hpack_static[i].name_len == len
        && h2x_equal((const uint8_t *) h2x_hpack_static[i].name, name, len))
    {
        return i;
    }

    return 0;
}


int
h2x_hpack_enc_init(h2x_hpack_enc_t *enc, const h2x_allocator_t *alloc,
    uint32_t cap)
{
    uint32_t  n, b;

    memset(enc, 0, sizeof(*enc));
    enc->alloc = alloc;

    if (cap == 0) {
        cap = H2X_HPACK_DEFAULT_TABLE_SIZE;
    }
    if (cap > (1u << 30)) {
        cap = 1u << 30;
    }

    enc->cap = cap;
    enc->ring_size = cap;
    enc->next_id = 1;
    enc->oldest_id = 1;

    /* the peer's decoder starts with 4096 (RFC 9113 6.5.2) */
    enc->max_size = H2X_HPACK_DEFAULT_TABLE_SIZE;
    if (cap < enc->max_size) {
        enc->update_pending = 1;
        enc->update_min = cap;
        enc->update_final = cap;
    }

    n = h2x_pow2_at_least(cap / H2X_HPACK_ENTRY_OVERHEAD + 1);
    b = n * 2;
    enc->ent_mask = n - 1;
    enc->bucket_mask = b - 1;

    enc->ents = h2x_alloc(alloc, n * sizeof(h2x_hpack_eent_t));
    enc->buckets = h2x_alloc(alloc, 2 * b * sizeof(uint32_t));
    enc->ring = h2x_alloc(alloc, cap + 1);

    if (enc->ents == NULL || enc->buckets == NULL || enc->ring == NULL) {
        h2x_hpack_enc_free(enc);
        return H2X_NOMEM;
    }

    enc->name_buckets = enc->buckets + b;
    memset(enc->buckets, 0, 2 * b * sizeof(uint32_t));

    return H2X_OK;
}


void
h2x_hpack_enc_free(h2x_hpack_enc_t *enc)
{
    if (enc->alloc == NULL) {
        return;
    }

    h2x_free(enc->alloc, enc->ents);
    h2x_free(enc->alloc, enc->buckets);
    h2x_free(enc->alloc, enc->ring);
    enc->ents = NULL;
    enc->buckets = NULL;
    enc->name_buckets = NULL;
    enc->ring = NULL;
}


void
h2x_hpack_enc_set_peer_table_size(h2x_hpack_enc_t *enc, uint32_t size)
{
    if (size > enc->cap) {
        size = enc->cap;
    }

    if (!enc->update_pending || size < enc->update_min) {
        enc->update_min = size;
    }
    enc->update_final = size;
    enc->update_pending = 1;
}


/* Evict down to max; learn (policy != 0) whether entries were of use. */
static void
h2x_hpack_enc_evict(h2x_hpack_enc_t *enc, uint32_t max, int learn)
{
    h2x_hpack_eent_t  *e;
    uint32_t           n;

    while (enc->size > max) {
        e = &enc->ents[enc->oldest_id & enc->ent_mask];
        if (learn) {
            if (e->used) {
                enc->unused[e->slot] = 0;
            } else if (enc->unused[e->slot] < 64) {
                enc->unused[e->slot]++;
            }
        }
        n = e->name_len + e->value_len;
        enc->size -= n + H2X_HPACK_ENTRY_OVERHEAD;
        enc->ring_used -= n;
        enc->oldest_id++;
    }
}


/* Ids are about to wrap: renumber the live entries by a multiple of the
 * slot count, so that their slots stay where they are. */
static void
h2x_hpack_enc_renumber(h2x_hpack_enc_t *enc)
{
    h2x_hpack_eent_t  *e;
    uint32_t           base, id, i, *b;

    base = (enc->oldest_id - 1) & ~enc->ent_mask;

    for (id = enc->oldest_id; id != enc->next_id; id++) {
        e = &enc->ents[id & enc->ent_mask];
        e->next = e->next >= enc->oldest_id ? e->next - base : 0;
        e->next_name = e->next_name >= enc->oldest_id
                       ? e->next_name - base : 0;
    }

    b = enc->buckets;
    for (i = 0; i < 2 * (enc->bucket_mask + 1); i++) {
        b[i] = b[i] >= enc->oldest_id ? b[i] - base : 0;
    }

    enc->oldest_id -= base;
    enc->next_id -= base;
}


static void
h2x_hpack_enc_insert(h2x_hpack_enc_t *enc, const uint8_t *name,
    size_t name_len, const uint8_t *value, size_t value_len,
    uint32_t hash, uint32_t name_hash, unsigned sidx)
{
    h2x_hpack_eent_t  *e;
    size_t             size;
    uint32_t           id, *b;

    size = name_len + value_len + H2X_HPACK_ENTRY_OVERHEAD;

    if (size > enc->max_size) {
        h2x_hpack_enc_evict(enc, 0, 1);
        return;
    }

    h2x_hpack_enc_evict(enc, enc->max_size - (uint32_t) size, 1);

    if (h2x_unlikely(enc->next_id == 0xffffffff)) {
        h2x_hpack_enc_renumber(enc);
    }

    id = enc->next_id++;
    e = &enc->ents[id & enc->ent_mask];

    e->off = enc->ring_head;
    e->name_len = (uint32_t) name_len;
    e->value_len = (uint32_t) value_len;
    h2x_ring_write(enc->ring, enc->ring_size, e->off, name, name_len);
    h2x_ring_write(enc->ring, enc->ring_size,
                   h2x_ring_off(enc->ring_size, e->off, name_len),
                   value, value_len);
    enc->ring_head = h2x_ring_off(enc->ring_size, e->off,
                                  name_len + value_len);
    enc->ring_used += (uint32_t) (name_len + value_len);
    enc->size += (uint32_t) size;

    e->hash = hash;
    b = &enc->buckets[hash & enc->bucket_mask];
    e->next = *b;
    *b = id;

    e->name_hash = name_hash;
    e->sidx = (uint16_t) sidx;
    e->slot = (uint8_t) (sidx ? sidx : 64 + (name_hash & 63));
    e->used = 0;
    if (sidx == 0) {
        /* names of the static table are always found there */
        b = &enc->name_buckets[name_hash & enc->bucket_mask];
        e->next_name = *b;
        *b = id;
    } else {
        e->next_name = 0;
    }
}


static inline size_t
h2x_hpack_int_len(size_t v, unsigned prefix)
{
    size_t  max, n;

    max = ((size_t) 1 << prefix) - 1;
    if (v < max) {
        return 1;
    }

    v -= max;
    for (n = 2; v >= 128; n++) {
        v >>= 7;
    }

    return n;
}


static inline uint8_t *
h2x_hpack_put_int(uint8_t *p, size_t v, unsigned prefix, unsigned first)
{
    size_t  max;

    max = ((size_t) 1 << prefix) - 1;
    if (h2x_likely(v < max)) {
        *p++ = (uint8_t) (first | v);
        return p;
    }

    *p++ = (uint8_t) (first | max);
    v -= max;
    while (v >= 128) {
        *p++ = (uint8_t) (0x80 | (v & 0x7f));
        v >>= 7;
    }
    *p++ = (uint8_t) v;

    return p;
}


/*
 * A string literal: Huffman-coded when that is shorter.  The Huffman
 * octets are written where the raw ones would go and the attempt stops
 * once it is no shorter, so the string is read once; the length prefix
 * shrinks (and the octets move) only when the shorter length needs fewer
 * prefix octets.  Writes at most 4 octets past the raw form's end.
 */
static inline uint8_t *
h2x_hpack_put_str(h2x_hpack_enc_t *enc, uint8_t *p, const uint8_t *s,
    size_t len)
{
    size_t  hlen, k, kh;

    if (len && !(enc->mode & H2X_HPACK_ENC_NO_HUFFMAN)) {
        k = h2x_hpack_int_len(len, 7);
        hlen = h2x_huff_encode_lt(p + k, s, len, len);
        if (hlen) {
            kh = h2x_hpack_int_len(hlen, 7);
            if (kh != k) {
                memmove(p + kh, p + k, hlen);
            }
            p = h2x_hpack_put_int(p, hlen, 7, 0x80);
            return p + hlen;
        }
    }

    p = h2x_hpack_put_int(p, len, 7, 0);
    h2x_copy(p, s, len);

    return p + len;
}


/*
 * Per field, with lengths below 2^40: a literal name takes 1 + 7 + 7
 * octets of first octet and length prefixes, an indexed name 6 + 7, and
 * a Huffman attempt may run 4 octets past the raw form before it gives
 * up: 19 at most, so H2X_HPACK_FIELD_BOUND (23) covers it.  Plus two size
 * updates.
 */

size_t
h2x_hpack_enc_bound(const h2x_hpack_enc_t *enc, const h2x_header_t *h,
    size_t n)
{
    size_t  total, i;

    total = enc->update_pending ? 12 : 0;

    for (i = 0; i < n; i++) {
        if ((h[i].name_len | h[i].value_len) >> 40) {
            return (size_t) -1;
        }
        total += h[i].name_len + h[i].value_len + H2X_HPACK_FIELD_BOUND;
        if (total >> 62) {
            return (size_t) -1;
        }
    }

    return total;
}


/* The static index of name: value, or 0. */
static inline unsigned
h2x_hpack_static_value(unsigned sidx, const uint8_t *value, size_t vlen)
{
    const h2x_hpack_static_t  *st;
    unsigned                   j, end;

    end = sidx + h2x_hpack_static_span[sidx];
    for (j = sidx; j < end; j++) {
        st = &h2x_hpack_static[j];
        if (st->value_len == vlen
            && h2x_equal((const uint8_t *) st->value, value, vlen))
        {
            return j;
        }
    }

    return 0;
}


/*
 * Per field: pseudo-headers first try the static table (":status: 200",
 * ":method: GET"); then the dynamic table is searched for the exact field
 * (most fields of a connection repeat: that is the path to keep short);
 * only then is the name looked up in the static table, for the policy,
 * an exact static match or the name's index.
 */
int
h2x_hpack_encode(h2x_hpack_enc_t *enc, const h2x_header_t *h, size_t n,
    uint8_t *buf, size_t size, size_t *written)
{
    const h2x_header_t      *f;
    h2x_hpack_eent_t        *e;
    uint8_t                 *p;
    size_t                   i, nlen, vlen;
    uint32_t                 id, hash, name_hash, nidx;
    unsigned                 sidx, j, policy, never, index, looked;

    if (size < h2x_hpack_enc_bound(enc, h, n)) {
        *written = 0;
        return H2X_AGAIN;
    }

    p = buf;

    if (enc->update_pending) {
        if (enc->update_min < enc->update_final) {
            p = h2x_hpack_put_int(p, enc->update_min, 5, 0x20);
            h2x_hpack_enc_evict(enc, enc->update_min, 0);
        }
        p = h2x_hpack_put_int(p, enc->update_final, 5, 0x20);
        enc->max_size = enc->update_final;
        h2x_hpack_enc_evict(enc, enc->max_size, 0);
        enc->update_pending = 0;
    }

    for (i = 0; i < n; i++) {
        f = &h[i];
        nlen = f->name_len;
        vlen = f->value_len;
        sidx = 0;
        looked = 0;

        if (nlen && f->name[0] == ':') {
            sidx = h2x_hpack_static_find(f->name, nlen);
            looked = 1;
            if (sidx && !(f->flags & H2X_HEADER_NEVER_INDEX)) {
                j = h2x_hpack_static_value(sidx, f->value, vlen);
                if (j) {
                    p = h2x_hpack_put_int(p, j, 7, 0x80);
                    continue;
                }
            }
        }

        hash = h2x_hpack_field_hash(f->name, nlen, f->value, vlen);

        /* an exact match in the dynamic table; sensitive fields are
         * never put there, and the caller's never-indexed stay literal */
        if (!(f->flags & H2X_HEADER_NEVER_INDEX)) {
            for (id = enc->buckets[hash & enc->bucket_mask];
                 id >= enc->oldest_id;
                 id = e->next)
            {
                e = &enc->ents[id & enc->ent_mask];
                if (e->hash == hash && e->value_len == vlen
                    && e->name_len == nlen
                    && h2x_ring_equal(enc->ring, enc->ring_size, e->off,
                                      f->name, nlen)
                    && h2x_ring_equal(enc->ring, enc->ring_size,
                                      h2x_ring_off(enc->ring_size, e->off,
                                                   nlen),
                                      f->value, vlen))
                {
                    break;
                }
            }

            if (id >= enc->oldest_id) {
                enc->ents[id & enc->ent_mask].used = 1;
                p = h2x_hpack_put_int(p, H2X_HPACK_STATIC_COUNT
                                         + (enc->next_id - id), 7, 0x80);
                continue;
            }
        }

        if (!looked) {
            sidx = h2x_hpack_static_find(f->name, nlen);
        }
        policy = h2x_hpack_enc_policy[sidx];
        name_hash = sidx ? 0 : h2x_hpack_hash(f->name, nlen, 0x100);

        if (enc->mode & H2X_HPACK_ENC_INDEX_ALL) {
            never = (f->flags & H2X_HEADER_NEVER_INDEX) != 0;
            index = !never && !(f->flags & H2X_HEADER_NO_INDEX);

        } else {
            never = (f->flags & H2X_HEADER_NEVER_INDEX)
                    || policy == H2X_EP_NEVER
                    || (policy == H2X_EP_COOKIE && vlen < 20);
            index = !never && !(f->flags & H2X_HEADER_NO_INDEX)
                    && (policy != H2X_EP_LITERAL
                        || (f->flags & H2X_HEADER_INDEX))
                    && (nlen + vlen + H2X_HPACK_ENTRY_OVERHEAD) * 4
                       <= (size_t) enc->max_size * 3;

            j = sidx ? sidx : 64 + (name_hash & 63);
            if (index && !(f->flags & H2X_HEADER_INDEX)
                && enc->unused[j] >= H2X_HPACK_UNUSED_MAX
                && (++enc->probe[j] & 15) != 0)
            {
                /* this name's values lately left the table unused */
                index = 0;
            }
        }

        /* an exact match in the static table (regular names) */
        if (sidx && !never && !looked) {
            j = h2x_hpack_static_value(sidx, f->value, vlen);
            if (j) {
                p = h2x_hpack_put_int(p, j, 7, 0x80);
                continue;
            }
        }

        /* the name: static index, dynamic index, or literal */
        nidx = sidx;
        if (!sidx) {
            for (id = enc->name_buckets[name_hash & enc->bucket_mask];
                 id >= enc->oldest_id;
                 id = e->next_name)
            {
                e = &enc->ents[id & enc->ent_mask];
                if (e->name_hash == name_hash && e->name_len == nlen
                    && h2x_ring_equal(enc->ring, enc->ring_size, e->off,
                                      f->name, nlen))
                {
                    nidx = H2X_HPACK_STATIC_COUNT + (enc->next_id - id);
                    break;
                }
            }
        }

        if (index) {
            p = h2x_hpack_put_int(p, nidx, 6, 0x40);
        } else {
            p = h2x_hpack_put_int(p, nidx, 4,
                                  (f->flags & H2X_HEADER_NEVER_INDEX)
                                  || (never
                                      && !(enc->mode & H2X_HPACK_ENC_NO_NEVER))
                                  ? 0x10 : 0x00);
        }

        if (nidx == 0) {
            p = h2x_hpack_put_str(enc, p, f->name, nlen);
        }
        p = h2x_hpack_put_str(enc, p, f->value, vlen);

        if (index) {
            h2x_hpack_enc_insert(enc, f->name, nlen, f->value, vlen, hash,
                                 name_hash, sidx);
        }
    }

    *written = (size_t) (p - buf);

    return H2X_OK;
}


/* ---- primitives and inspection ----------------------------------------- */

size_t
h2x_hpack_encode_int(uint8_t *dst, uint32_t v, unsigned prefix,
    unsigned first)
{
    return (size_t) (h2x_hpack_put_int(dst, v, prefix, first) - dst);
}


int
h2x_hpack_decode_int(const uint8_t *in, size_t len, unsigned prefix,
    uint32_t *v)
{
    h2x_hpack_dec_t  dec;
    const uint8_t   *p;
    unsigned         max;
    int              rc;

    if (len == 0) {
        return 0;
    }

    max = (1u << prefix) - 1;
    if ((in[0] & max) < max) {
        *v = in[0] & max;
        return 1;
    }

    dec.ival = max;
    dec.ishift = 0;
    p = in + 1;
    rc = h2x_hpack_int_more(&dec, &p, in + len);
    if (rc <= 0) {
        return rc;
    }

    *v = dec.ival;
    return (int) (p - in);
}


uint32_t
h2x_hpack_dec_table_size(const h2x_hpack_dec_t *dec)
{
    return dec->size;
}


uint32_t
h2x_hpack_dec_table_count(const h2x_hpack_dec_t *dec)
{
    return dec->count;
}


int
h2x_hpack_dec_table_entry(const h2x_hpack_dec_t *dec, uint32_t i,
    uint8_t *buf, size_t size, size_t *name_len, size_t *value_len)
{
    const h2x_hpack_dent_t  *e;

    if (i >= dec->count) {
        return H2X_ERROR;
    }

    e = &dec->ents[(dec->head - 1 - i) & dec->ent_mask];
    if ((size_t) e->name_len + e->value_len > size) {
        return H2X_ERROR;
    }

    h2x_ring_read(buf, dec->ring, dec->ring_size, e->off, e->name_len);
    h2x_ring_read(buf + e->name_len, dec->ring, dec->ring_size,
                  h2x_ring_off(dec->ring_size, e->off, e->name_len + 1),
                  e->value_len);
    *name_len = e->name_len;
    *value_len = e->value_len;

    return H2X_OK;
}


uint32_t
h2x_hpack_enc_table_size(const h2x_hpack_enc_t *enc)
{
    return enc->size;
}


uint32_t
h2x_hpack_enc_table_count(const h2x_hpack_enc_t *enc)
{
    return enc->next_id - enc->oldest_id;
}


int
h2x_hpack_enc_table_entry(const h2x_hpack_enc_t *enc, uint32_t i,
    uint8_t *buf, size_t size, size_t *name_len, size_t *value_len)
{
    const h2x_hpack_eent_t  *e;

    if (i >= enc->next_id - enc->oldest_id) {
        return H2X_ERROR;
    }

    e = &enc->ents[(enc->next_id - 1 - i) & enc->ent_mask];
    if ((size_t) e->name_len + e->value_len > size) {
        return H2X_ERROR;
    }

    h2x_ring_read(buf, enc->ring, enc->ring_size, e->off,
                  (size_t) e->name_len + e->value_len);
    *name_len = e->name_len;
    *value_len = e->value_len;

    return H2X_OK;
}
