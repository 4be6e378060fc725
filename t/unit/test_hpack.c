/*
 * Unit tests of common/h2x_hpack.c: RFC 7541 Appendix C, integers,
 * Huffman, dynamic table size updates, limits and bombs, fragments split
 * everywhere, allocation failures, the encoder's policy and bounds.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h2x_hpack.h"
#include "unit_util.h"


/* ---- helpers ----------------------------------------------------------- */

/* dst is an array: its size bounds the bytes */
#define hex(dst, s)  tu_hex(dst, sizeof(dst), s)


static void
enc_new(h2x_hpack_enc_t *enc, uint32_t cap)
{
    assert_int_equal(h2x_hpack_enc_init(enc, h2x_allocator_default(), cap),
                     H2X_OK);
}


static void
dec_new(h2x_hpack_dec_t *dec, const h2x_hpack_limits_t *lim)
{
    assert_int_equal(h2x_hpack_dec_init(dec, h2x_allocator_default(), lim),
                     H2X_OK);
}


/* Everything a decoded block gives, as one comparable byte string. */
typedef struct {
    uint8_t   buf[1 << 18];
    size_t    len;
} render_t;


static void
put(render_t *r, const void *p, size_t n)
{
    assert_true(r->len + n <= sizeof(r->buf));
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}


static void
putf(render_t *r, const char *fmt, ...)
{
    char     tmp[256];
    va_list  ap;
    int      n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    put(r, tmp, (size_t) n);
}


static void
render_fields(render_t *r, const h2x_hpack_out_t *out)
{
    size_t  i;

    for (i = 0; i < out->nfields; i++) {
        const h2x_header_t  *h = &out->fields[i];

        /* decoded strings are NUL-terminated */
        assert_int_equal(h->name[h->name_len], 0);
        assert_int_equal(h->value[h->value_len], 0);
        put(r, h->name, h->name_len);
        put(r, ": ", 2);
        put(r, h->value, h->value_len);
        if (h->flags & (H2X_HEADER_NEVER_INDEX | H2X_HEADER_NO_INDEX)) {
            putf(r, " [%s]", h->flags & H2X_HEADER_NEVER_INDEX ? "never"
                                                               : "noidx");
        }
        put(r, "\n", 1);
    }
}


static void
render_table(render_t *r, const h2x_hpack_dec_t *dec)
{
    uint8_t   buf[65536];
    size_t    nl, vl;
    uint32_t  i;

    putf(r, "table %u:", h2x_hpack_dec_table_size(dec));
    for (i = 0; i < h2x_hpack_dec_table_count(dec); i++) {
        assert_int_equal(h2x_hpack_dec_table_entry(dec, i, buf, sizeof(buf),
                                                   &nl, &vl), H2X_OK);
        putf(r, " [%u] (s = %zu) ", i + 1, nl + vl + 32);
        put(r, buf, nl);
        put(r, ": ", 2);
        put(r, buf + nl, vl);
    }
    put(r, "\n", 1);
}


#define MODE_WHOLE  -1
#define MODE_BYTES  -2

/* Feed one block in the given way: whole, byte by byte, or in two
 * fragments split at "mode" (>= 0).  Returns the final result. */
static int
feed_block(h2x_hpack_dec_t *dec, const uint8_t *in, size_t len, int mode,
    h2x_hpack_out_t *out)
{
    size_t  i, k;
    int     rc;

    if (mode == MODE_WHOLE) {
        return h2x_hpack_decode(dec, in, len, 1, out);
    }

    if (mode == MODE_BYTES) {
        if (len == 0) {
            return h2x_hpack_decode(dec, NULL, 0, 1, out);
        }
        for (i = 0; i < len; i++) {
            rc = h2x_hpack_decode(dec, in + i, 1, i == len - 1, out);
            if (rc != H2X_AGAIN && rc != H2X_HPACK_TOO_LARGE
                && i != len - 1)
            {
                return rc;
            }
        }
        return rc;
    }

    k = (size_t) mode < len ? (size_t) mode : len;
    rc = h2x_hpack_decode(dec, in, k, 0, out);
    if (rc != H2X_AGAIN && rc != H2X_HPACK_TOO_LARGE) {
        return rc;
    }
    return h2x_hpack_decode(dec, in + k, len - k, 1, out);
}


typedef struct {
    const uint8_t  *data;
    size_t          len;
} blk_t;


static h2x_header_t  fields_buf[4096];
static uint8_t       out_buf[1 << 17];


/* Decode a sequence of blocks with a new decoder, rendering the fields,
 * results and table after each block. */
static void
run_seq(const h2x_hpack_limits_t *lim, const blk_t *b, size_t n, int mode,
    render_t *r)
{
    h2x_hpack_dec_t  dec;
    h2x_hpack_out_t  out;
    size_t           i;
    int              rc;

    r->len = 0;
    dec_new(&dec, lim);

    for (i = 0; i < n; i++) {
        h2x_hpack_out_init(&out, fields_buf,
                           sizeof(fields_buf) / sizeof(fields_buf[0]),
                           out_buf, sizeof(out_buf));
        rc = feed_block(&dec, b[i].data, b[i].len, mode, &out);
        putf(r, "rc %d\n", rc);
        if (rc == H2X_OK) {
            render_fields(r, &out);
        }
        if (rc == H2X_OK || rc == H2X_HPACK_TOO_LARGE) {
            render_table(r, &dec);
        }
        if (rc != H2X_OK && rc != H2X_HPACK_TOO_LARGE) {
            break;
        }
    }

    h2x_hpack_dec_free(&dec);
}


static render_t  r_whole, r_other;


/* The sequence decodes the same whole, byte by byte, and split in two at
 * every point; returns the whole rendering in r_whole. */
static void
check_all_splits(const h2x_hpack_limits_t *lim, const blk_t *b, size_t n)
{
    size_t  i, max;
    int     k;

    run_seq(lim, b, n, MODE_WHOLE, &r_whole);

    run_seq(lim, b, n, MODE_BYTES, &r_other);
    assert_int_equal(r_other.len, r_whole.len);
    assert_memory_equal(r_other.buf, r_whole.buf, r_whole.len);

    max = 0;
    for (i = 0; i < n; i++) {
        max = b[i].len > max ? b[i].len : max;
    }
    for (k = 0; k <= (int) max; k++) {
        run_seq(lim, b, n, k, &r_other);
        if (r_other.len != r_whole.len
            || memcmp(r_other.buf, r_whole.buf, r_whole.len) != 0)
        {
            fprintf(stderr, "split at %d differs:\n%.*s\n---\n%.*s\n", k,
                    (int) r_other.len, r_other.buf, (int) r_whole.len,
                    r_whole.buf);
            fail();
        }
    }
}


static void
expect_render(const char *expected)
{
    if (r_whole.len != strlen(expected)
        || memcmp(r_whole.buf, expected, r_whole.len) != 0)
    {
        fprintf(stderr, "got:\n%.*s\nexpected:\n%s\n", (int) r_whole.len,
                r_whole.buf, expected);
        fail();
    }
}


/* Decode blocks given in hex with all splits; compare to expected. */
static void
check_hex_seq(const h2x_hpack_limits_t *lim, const char **hexes, size_t n,
    const char *expected)
{
    static uint8_t  data[8][4096];
    blk_t           b[8] = { { NULL, 0 } };
    size_t          i;

    for (i = 0; i < n; i++) {
        b[i].data = data[i];
        b[i].len = hex(data[i], hexes[i]);
    }

    check_all_splits(lim, b, n);
    expect_render(expected);
}


/* ---- C.1 and integer edge cases ---------------------------------------- */

static void
test_integers(void **state)
{
    uint8_t   buf[16];
    uint32_t  v, vals[9];
    size_t    n, i;
    unsigned  prefix;

    (void) state;

    /* C.1.1: 10 with a 5-bit prefix */
    assert_int_equal(h2x_hpack_encode_int(buf, 10, 5, 0), 1);
    assert_int_equal(buf[0], 0x0a);
    /* C.1.2: 1337 with a 5-bit prefix */
    assert_int_equal(h2x_hpack_encode_int(buf, 1337, 5, 0), 3);
    assert_int_equal(buf[0], 0x1f);
    assert_int_equal(buf[1], 0x9a);
    assert_int_equal(buf[2], 0x0a);
    assert_int_equal(h2x_hpack_decode_int(buf, 3, 5, &v), 3);
    assert_int_equal(v, 1337);
    /* C.1.3: 42 at an octet boundary */
    assert_int_equal(h2x_hpack_encode_int(buf, 42, 8, 0), 1);
    assert_int_equal(buf[0], 42);

    for (prefix = 1; prefix <= 8; prefix++) {
        uint32_t  max = (1u << prefix) - 1;

        vals[0] = 0;
        vals[1] = max - 1;
        vals[2] = max;
        vals[3] = max + 1;
        vals[4] = max + 127;
        vals[5] = max + 128;
        vals[6] = 1u << 28;
        vals[7] = 0xfffffffe;
        vals[8] = 0xffffffff;

        for (i = 0; i < 9; i++) {
            memset(buf, 0, sizeof(buf));
            n = h2x_hpack_encode_int(buf, vals[i], prefix,
                                     prefix < 8 ? 0xffu << prefix & 0xff : 0);
            assert_true(n >= 1 && n <= 6);
            assert_int_equal(n == 1, vals[i] < max);
            assert_int_equal(h2x_hpack_decode_int(buf, n, prefix, &v),
                             (int) n);
            assert_int_equal(v, vals[i]);
            /* every strict prefix is incomplete */
            if (n > 1) {
                assert_int_equal(h2x_hpack_decode_int(buf, n - 1, prefix, &v),
                                 0);
            }
        }
    }

    /* 2^32 - 1 with a 5-bit prefix is the largest value */
    n = hex(buf, "1f e0 ff ff ff 0f");
    assert_int_equal(h2x_hpack_decode_int(buf, n, 5, &v), 6);
    assert_int_equal(v, 0xffffffff);
    /* 2^32 overflows */
    n = hex(buf, "1f e1 ff ff ff 0f");
    assert_int_equal(h2x_hpack_decode_int(buf, n, 5, &v), -1);
    n = hex(buf, "1f ff ff ff ff 1f");
    assert_int_equal(h2x_hpack_decode_int(buf, n, 5, &v), -1);
    /* five continuation octets with zero padding are fine, six are not */
    n = hex(buf, "1f 80 80 80 80 00");
    assert_int_equal(h2x_hpack_decode_int(buf, n, 5, &v), 6);
    assert_int_equal(v, 31);
    n = hex(buf, "1f 80 80 80 80 80 00");
    assert_int_equal(h2x_hpack_decode_int(buf, n, 5, &v), -1);
    n = hex(buf, "ff 80 80 80 80 80 80 80 80 80 80 01");
    assert_int_equal(h2x_hpack_decode_int(buf, n, 8, &v), -1);
}


static int
decode_hex(const h2x_hpack_limits_t *lim, const char *s)
{
    static uint8_t   data[1 << 16];
    h2x_hpack_dec_t  dec;
    h2x_hpack_out_t  out;
    size_t           n;
    int              rc;

    n = hex(data, s);
    dec_new(&dec, lim);
    h2x_hpack_out_init(&out, fields_buf, 4096, out_buf, sizeof(out_buf));
    rc = h2x_hpack_decode(&dec, data, n, 1, &out);
    h2x_hpack_dec_free(&dec);
    return rc;
}


static void
test_integer_errors_in_blocks(void **state)
{
    (void) state;

    /* an index of 2^32 */
    assert_int_equal(decode_hex(NULL, "ff 81 ff ff ff 0f"), H2X_ERROR);
    /* too many continuation octets in an index */
    assert_int_equal(decode_hex(NULL, "ff 80 80 80 80 80 01"), H2X_ERROR);
    /* a string length overflowing 32 bits */
    assert_int_equal(decode_hex(NULL, "40 7f ff ff ff ff 7f"), H2X_ERROR);
    /* a huge string length (2^32 - 1): checked against the limits
     * before reading */
    assert_int_equal(decode_hex(NULL, "40 7f 80 ff ff ff 0f"),
                     H2X_HPACK_CALM);
    /* index 0, and an index past the tables */
    assert_int_equal(decode_hex(NULL, "80"), H2X_ERROR);
    assert_int_equal(decode_hex(NULL, "be"), H2X_ERROR);
    assert_int_equal(decode_hex(NULL, "7e 01 61"), H2X_ERROR);
    assert_int_equal(decode_hex(NULL, "82"), H2X_OK);
    assert_int_equal(decode_hex(NULL, "bd"), H2X_OK);
    /* ending inside a representation */
    assert_int_equal(decode_hex(NULL, "40 0a 63 75"), H2X_ERROR);
    assert_int_equal(decode_hex(NULL, "ff"), H2X_ERROR);
    assert_int_equal(decode_hex(NULL, "40"), H2X_ERROR);
    assert_int_equal(decode_hex(NULL, "41 83 f1 e3"), H2X_ERROR);
    assert_int_equal(decode_hex(NULL, ""), H2X_OK);
}


/* The block's last call may carry no bytes and a NULL pointer. */
static void
test_empty_final_fragment(void **state)
{
    static const uint8_t  get[] = { 0x82, 0x86 };
    h2x_hpack_dec_t       dec;
    h2x_hpack_out_t       out;

    (void) state;

    dec_new(&dec, NULL);
    h2x_hpack_out_init(&out, fields_buf, 4096, out_buf, sizeof(out_buf));

    assert_int_equal(h2x_hpack_decode(&dec, NULL, 0, 0, &out), H2X_AGAIN);
    assert_int_equal(h2x_hpack_decode(&dec, get, sizeof(get), 0, &out),
                     H2X_AGAIN);
    assert_int_equal(h2x_hpack_decode(&dec, NULL, 0, 1, &out), H2X_OK);
    assert_int_equal(out.nfields, 2);
    assert_string_equal((const char *) out.fields[1].value, "http");

    /* a block of no fields at all */
    h2x_hpack_out_init(&out, fields_buf, 4096, out_buf, sizeof(out_buf));
    assert_int_equal(h2x_hpack_decode(&dec, NULL, 0, 1, &out), H2X_OK);
    assert_int_equal(out.nfields, 0);

    h2x_hpack_dec_free(&dec);
}


/* ---- Huffman ----------------------------------------------------------- */

static void
test_huffman_roundtrip(void **state)
{
    static uint8_t  s[4096], enc[4096 * 4], dec[4096];
    size_t          n, len, i, round;
    ptrdiff_t       d;

    (void) state;

    /* C.4.1 */
    n = h2x_huff_encode(enc, (const uint8_t *) "www.example.com", 15);
    assert_int_equal(n, 12);
    hex(s, "f1e3 c2e5 f23a 6ba0 ab90 f4ff");
    assert_memory_equal(enc, s, 12);

    /* every octet alone, and all of them together */
    for (i = 0; i < 256; i++) {
        s[0] = (uint8_t) i;
        n = h2x_huff_encode(enc, s, 1);
        assert_int_equal(n, h2x_huff_encoded_len(s, 1));
        d = h2x_huff_decode(dec, sizeof(dec), enc, n);
        assert_int_equal(d, 1);
        assert_int_equal(dec[0], i);
    }
    for (i = 0; i < 256; i++) {
        s[i] = (uint8_t) i;
    }
    n = h2x_huff_encode(enc, s, 256);
    assert_int_equal(n, h2x_huff_encoded_len(s, 256));
    d = h2x_huff_decode(dec, sizeof(dec), enc, n);
    assert_int_equal(d, 256);
    assert_memory_equal(dec, s, 256);

    /* no room: refused, not overrun */
    assert_int_equal(h2x_huff_decode(dec, 255, enc, n), -1);

    /* random strings of every kind */
    srand(7541);
    for (round = 0; round < 3000; round++) {
        len = (size_t) rand() % (round < 2000 ? 64 : 4096);
        for (i = 0; i < len; i++) {
            switch (round % 3) {
            case 0:  s[i] = (uint8_t) rand(); break;
            case 1:  s[i] = (uint8_t) ('a' + rand() % 26); break;
            default: s[i] = (uint8_t) (rand() % 2 ? 0xff : rand() % 32);
            }
        }
        n = h2x_huff_encode(enc, s, len);
        assert_int_equal(n, h2x_huff_encoded_len(s, len));
        d = h2x_huff_decode(dec, sizeof(dec), enc, n);
        assert_int_equal(d, (ptrdiff_t) len);
        assert_memory_equal(dec, s, len);
    }
}


static void
test_huffman_invalid(void **state)
{
    uint8_t  in[16], out[64];
    size_t   n;

    (void) state;

    /* 'a' (00011) and 3 bits of padding: fine */
    assert_int_equal(h2x_huff_decode(out, sizeof(out), (uint8_t *) "\x1f", 1),
                     1);
    assert_int_equal(out[0], 'a');
    /* padding that is not all ones */
    assert_int_equal(h2x_huff_decode(out, sizeof(out), (uint8_t *) "\x18", 1),
                     -1);
    assert_int_equal(h2x_huff_decode(out, sizeof(out), (uint8_t *) "\x1e", 1),
                     -1);
    /* padding longer than 7 bits: 'a' then 11 ones */
    assert_int_equal(h2x_huff_decode(out, sizeof(out),
                                     (uint8_t *) "\x1f\xff", 2), -1);
    /* 8 ones alone */
    assert_int_equal(h2x_huff_decode(out, sizeof(out), (uint8_t *) "\xff", 1),
                     -1);
    /* EOS (30 ones) inside the string, then 'a' */
    n = hex(in, "ff ff ff fc 7f");
    assert_int_equal(h2x_huff_decode(out, sizeof(out), in, n), -1);
    /* EOS at the end, padded */
    n = hex(in, "ff ff ff ff");
    assert_int_equal(h2x_huff_decode(out, sizeof(out), in, n), -1);
    /* an incomplete long code */
    n = hex(in, "ff ff fe");
    assert_int_equal(h2x_huff_decode(out, sizeof(out), in, n), -1);
    /* empty */
    assert_int_equal(h2x_huff_decode(out, sizeof(out), in, 0), 0);

    /* the same errors inside a block are COMPRESSION_ERROR */
    assert_int_equal(decode_hex(NULL, "41 81 18"), H2X_ERROR);
    assert_int_equal(decode_hex(NULL, "41 82 1f ff"), H2X_ERROR);
    assert_int_equal(decode_hex(NULL, "41 85 ff ff ff fc 7f"), H2X_ERROR);
    assert_int_equal(decode_hex(NULL, "40 81 ff 01 61"), H2X_ERROR);
    assert_int_equal(decode_hex(NULL, "41 81 1f"), H2X_OK);
    assert_int_equal(decode_hex(NULL, "41 80"), H2X_OK);
}


/* ---- C.2 .. C.6 --------------------------------------------------------- */

static void
test_c2(void **state)
{
    const char  *c21[] = { "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f"
                           "6d2d 6865 6164 6572" };
    const char  *c22[] = { "040c 2f73 616d 706c 652f 7061 7468" };
    const char  *c23[] = { "1008 7061 7373 776f 7264 0673 6563 7265 74" };
    const char  *c24[] = { "82" };

    (void) state;

    check_hex_seq(NULL, c21, 1,
        "rc 0\ncustom-key: custom-header\n"
        "table 55: [1] (s = 55) custom-key: custom-header\n");
    check_hex_seq(NULL, c22, 1,
        "rc 0\n:path: /sample/path [noidx]\ntable 0:\n");
    check_hex_seq(NULL, c23, 1,
        "rc 0\npassword: secret [never]\ntable 0:\n");
    check_hex_seq(NULL, c24, 1, "rc 0\n:method: GET\ntable 0:\n");
}


static const char  *c3[] = {
    "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    "8286 84be 5808 6e6f 2d63 6163 6865",
    "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661"
    "6c75 65"
};

static const char  *c4[] = {
    "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
    "8286 84be 5886 a8eb 1064 9cbf",
    "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"
};

static const char  *c34_expected =
    "rc 0\n"
    ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n"
    "table 57: [1] (s = 57) :authority: www.example.com\n"
    "rc 0\n"
    ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n"
    "cache-control: no-cache\n"
    "table 110: [1] (s = 53) cache-control: no-cache"
    " [2] (s = 57) :authority: www.example.com\n"
    "rc 0\n"
    ":method: GET\n:scheme: https\n:path: /index.html\n"
    ":authority: www.example.com\ncustom-key: custom-value\n"
    "table 164: [1] (s = 54) custom-key: custom-value"
    " [2] (s = 53) cache-control: no-cache"
    " [3] (s = 57) :authority: www.example.com\n";

static const char  *c5[] = {
    "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63"
    "7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073"
    "3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    "4803 3330 37c1 c0bf",
    "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133"
    "3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48"
    "514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178"
    "2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31"
};

static const char  *c6[] = {
    "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504"
    "0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae"
    "43d3",
    "4883 640e ffc1 c0bf",
    "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff"
    "c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af"
    "2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50"
    "07"
};

#define DATE1  "Mon, 21 Oct 2013 20:13:21 GMT"
#define DATE2  "Mon, 21 Oct 2013 20:13:22 GMT"
#define LOC    "https://www.example.com"
#define COOKIE "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"

static const char  *c56_expected =
    "rc 0\n"
    ":status: 302\ncache-control: private\ndate: " DATE1 "\n"
    "location: " LOC "\n"
    "table 222: [1] (s = 63) location: " LOC
    " [2] (s = 65) date: " DATE1
    " [3] (s = 52) cache-control: private"
    " [4] (s = 42) :status: 302\n"
    "rc 0\n"
    ":status: 307\ncache-control: private\ndate: " DATE1 "\n"
    "location: " LOC "\n"
    "table 222: [1] (s = 42) :status: 307"
    " [2] (s = 63) location: " LOC
    " [3] (s = 65) date: " DATE1
    " [4] (s = 52) cache-control: private\n"
    "rc 0\n"
    ":status: 200\ncache-control: private\ndate: " DATE2 "\n"
    "location: " LOC "\ncontent-encoding: gzip\n"
    "set-cookie: " COOKIE "\n"
    "table 215: [1] (s = 98) set-cookie: " COOKIE
    " [2] (s = 52) content-encoding: gzip"
    " [3] (s = 65) date: " DATE2 "\n";


static h2x_hpack_limits_t *
limits_256(void)
{
    static h2x_hpack_limits_t  lim;

    h2x_hpack_limits_init(&lim);
    lim.max_table_size = 256;
    return &lim;
}


/* The fields of a rendering's blocks, re-encoded with an encoder in the
 * given mode, must give the expected bytes (skip_update: the encoder
 * first emits a size update of that many octets). */
static void
check_reencode(const char **hexes, size_t n, uint32_t cap, unsigned mode,
    size_t skip_update, const int *exact)
{
    static uint8_t   data[4096], enc_out[8192];
    h2x_hpack_enc_t  enc;
    h2x_hpack_dec_t  dec, dec2;
    h2x_hpack_out_t  out, out2;
    h2x_header_t     f2[64];
    static uint8_t   b2[8192];
    h2x_hpack_limits_t  lim;
    size_t           i, len, w;

    h2x_hpack_limits_init(&lim);
    lim.max_table_size = cap;
    enc_new(&enc, cap);
    enc.mode = mode;
    dec_new(&dec, &lim);
    dec_new(&dec2, &lim);

    for (i = 0; i < n; i++) {
        len = hex(data, hexes[i]);
        h2x_hpack_out_init(&out, fields_buf, 64, out_buf, sizeof(out_buf));
        assert_int_equal(h2x_hpack_decode(&dec, data, len, 1, &out), H2X_OK);

        assert_int_equal(h2x_hpack_encode(&enc, out.fields, out.nfields,
                                          enc_out, sizeof(enc_out), &w),
                         H2X_OK);
        assert_true(w <= h2x_hpack_enc_bound(&enc, out.fields, out.nfields)
                         + 12);
        if (i == 0 && skip_update) {
            assert_true(w >= skip_update);
            assert_int_equal(enc_out[0] & 0xe0, 0x20);
        }
        if (exact == NULL || exact[i]) {
            size_t  skip = i == 0 ? skip_update : 0;

            assert_int_equal(w - skip, len);
            assert_memory_equal(enc_out + skip, data, len);
        }

        /* whatever the bytes, they decode to the same list */
        h2x_hpack_out_init(&out2, f2, 64, b2, sizeof(b2));
        assert_int_equal(h2x_hpack_decode(&dec2, enc_out, w, 1, &out2),
                         H2X_OK);
        {
            render_t  *ra = &r_whole, *rb = &r_other;

            ra->len = rb->len = 0;
            render_fields(ra, &out);
            render_fields(rb, &out2);
            assert_int_equal(ra->len, rb->len);
            assert_memory_equal(ra->buf, rb->buf, ra->len);
        }
        assert_int_equal(h2x_hpack_enc_table_size(&enc),
                         h2x_hpack_dec_table_size(&dec));
    }

    h2x_hpack_enc_free(&enc);
    h2x_hpack_dec_free(&dec);
    h2x_hpack_dec_free(&dec2);
}


static void
test_c3_requests(void **state)
{
    (void) state;

    check_hex_seq(NULL, c3, 3, c34_expected);
    check_reencode(c3, 3, 4096,
                   H2X_HPACK_ENC_INDEX_ALL | H2X_HPACK_ENC_NO_HUFFMAN, 0,
                   NULL);
}


static void
test_c4_requests_huffman(void **state)
{
    (void) state;

    check_hex_seq(NULL, c4, 3, c34_expected);
    check_reencode(c4, 3, 4096, H2X_HPACK_ENC_INDEX_ALL, 0, NULL);
}


static void
test_c5_responses(void **state)
{
    (void) state;

    check_hex_seq(limits_256(), c5, 3, c56_expected);
    /* the encoder first tells the peer its table is 256: 3f e1 01 */
    check_reencode(c5, 3, 256,
                   H2X_HPACK_ENC_INDEX_ALL | H2X_HPACK_ENC_NO_HUFFMAN, 3,
                   NULL);
}


static void
test_c6_responses_huffman(void **state)
{
    /* C.6.2 Huffman-codes "307" in 3 octets: we keep it raw (not shorter) */
    static const int  exact[] = { 1, 0, 1 };

    (void) state;

    check_hex_seq(limits_256(), c6, 3, c56_expected);
    check_reencode(c6, 3, 256, H2X_HPACK_ENC_INDEX_ALL, 3, exact);
}


/* ---- dynamic table size updates ---------------------------------------- */

static void
test_size_updates(void **state)
{
    const char  *two_then_field[] = { "20 3f e1 1f 82" };
    const char  *fill_then_zero[] = {
        "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        "20 82",
        "3f e1 1f 400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865"
        "6164 6572 be"
    };

    (void) state;

    /* two updates at the start of a block, then a field */
    check_hex_seq(NULL, two_then_field, 1, "rc 0\n:method: GET\ntable 0:\n");

    /* size 0 evicts everything; growing again refills */
    check_hex_seq(NULL, fill_then_zero, 3,
        "rc 0\ncustom-key: custom-header\n"
        "table 55: [1] (s = 55) custom-key: custom-header\n"
        "rc 0\n:method: GET\ntable 0:\n"
        "rc 0\ncustom-key: custom-header\ncustom-key: custom-header\n"
        "table 55: [1] (s = 55) custom-key: custom-header\n");

    /* in the middle of a block */
    assert_int_equal(decode_hex(NULL, "82 20"), H2X_ERROR);
    assert_int_equal(decode_hex(NULL, "82 3f e1 1f"), H2X_ERROR);
    /* above our SETTINGS_HEADER_TABLE_SIZE */
    assert_int_equal(decode_hex(NULL, "3f e2 1f"), H2X_ERROR);
    assert_int_equal(decode_hex(limits_256(), "3f e2 01"), H2X_ERROR);
    assert_int_equal(decode_hex(limits_256(), "3f e1 01 82"), H2X_OK);
    /* an update alone is a valid (empty) block */
    assert_int_equal(decode_hex(NULL, "3f e1 1f"), H2X_OK);
}


static void
test_size_update_limit_lowered(void **state)
{
    h2x_hpack_dec_t  dec;
    h2x_hpack_out_t  out;
    uint8_t          in[64];
    size_t           n;

    (void) state;

    dec_new(&dec, NULL);
    n = hex(in, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865"
                "6164 6572");
    h2x_hpack_out_init(&out, fields_buf, 64, out_buf, sizeof(out_buf));
    assert_int_equal(h2x_hpack_decode(&dec, in, n, 1, &out), H2X_OK);
    assert_int_equal(h2x_hpack_dec_table_size(&dec), 55);

    /* we advertise less: the table shrinks, larger updates are refused */
    assert_int_equal(h2x_hpack_dec_set_max_table_size(&dec, 8192), H2X_ERROR);
    assert_int_equal(h2x_hpack_dec_set_max_table_size(&dec, 32), H2X_OK);
    assert_int_equal(h2x_hpack_dec_table_size(&dec), 0);
    n = hex(in, "3f 02");   /* 33 */
    assert_int_equal(h2x_hpack_decode(&dec, in, n, 1, &out), H2X_ERROR);
    h2x_hpack_dec_free(&dec);
}


/* ---- limits ------------------------------------------------------------ */

/* Append a literal with incremental indexing, literal name. */
static size_t
lit(uint8_t *p, unsigned first, const char *name, size_t vlen, char fill)
{
    uint8_t  *s = p;
    size_t    nlen = strlen(name);

    *p++ = (uint8_t) first;
    p += h2x_hpack_encode_int(p, (uint32_t) nlen, 7, 0);
    memcpy(p, name, nlen);
    p += nlen;
    p += h2x_hpack_encode_int(p, (uint32_t) vlen, 7, 0);
    memset(p, fill, vlen);
    p += vlen;
    return (size_t) (p - s);
}


static int
decode_with(h2x_hpack_dec_t *dec, const uint8_t *in, size_t n,
    h2x_hpack_out_t *out, size_t max_fields, size_t size)
{
    h2x_hpack_out_init(out, fields_buf, max_fields, out_buf, size);
    return h2x_hpack_decode(dec, in, n, 1, out);
}


static void
test_limit_list_size(void **state)
{
    static uint8_t      in[1 << 16];
    h2x_hpack_limits_t  lim;
    h2x_hpack_dec_t     dec;
    h2x_hpack_out_t     out;
    size_t              n;

    (void) state;

    h2x_hpack_limits_init(&lim);
    lim.max_list_size = 1000;

    dec_new(&dec, &lim);

    /* 3 x (1 + 300 + 32) = 999: fits exactly */
    n = 0;
    n += lit(in + n, 0x00, "a", 300, 'x');
    n += lit(in + n, 0x00, "b", 300, 'y');
    n += lit(in + n, 0x00, "c", 300, 'z');
    assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16), H2X_OK);
    assert_int_equal(out.nfields, 3);

    /* one more byte is too large; the fields before it were output */
    n = 0;
    n += lit(in + n, 0x00, "a", 300, 'x');
    n += lit(in + n, 0x00, "b", 300, 'y');
    n += lit(in + n, 0x40, "c", 302, 'z');
    n += lit(in + n, 0x40, "d", 10, 'w');
    assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16),
                     H2X_HPACK_TOO_LARGE);
    assert_int_equal(out.nfields, 2);
    /* ... and the indexed literals after the limit entered the table */
    assert_int_equal(h2x_hpack_dec_table_count(&dec), 2);
    assert_int_equal(h2x_hpack_dec_table_size(&dec), 1 + 302 + 32 + 1 + 10
                                                     + 32);

    /* the next block is unaffected and sees those entries */
    n = hex(in, "be bf");
    assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16), H2X_OK);
    assert_int_equal(out.nfields, 2);
    assert_int_equal(out.fields[0].name[0], 'd');
    assert_int_equal(out.fields[1].value_len, 302);

    /* the output buffer counts as a limit too */
    n = 0;
    n += lit(in + n, 0x00, "a", 300, 'x');
    assert_int_equal(decode_with(&dec, in, n, &out, 100, 303), H2X_OK);
    assert_int_equal(decode_with(&dec, in, n, &out, 100, 302),
                     H2X_HPACK_TOO_LARGE);
    assert_int_equal(decode_with(&dec, in, n, &out, 0, 1000),
                     H2X_HPACK_TOO_LARGE);

    h2x_hpack_dec_free(&dec);
}


static void
test_limit_field_size_and_count(void **state)
{
    static uint8_t      in[1 << 16];
    h2x_hpack_limits_t  lim;
    h2x_hpack_dec_t     dec;
    h2x_hpack_out_t     out;
    size_t              n, i;

    (void) state;

    h2x_hpack_limits_init(&lim);
    lim.max_field_size = 100;
    lim.max_fields = 10;
    dec_new(&dec, &lim);

    n = lit(in, 0x00, "abcd", 96, 'x');
    assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16), H2X_OK);
    n = lit(in, 0x00, "abcd", 97, 'x');
    assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16),
                     H2X_HPACK_TOO_LARGE);
    /* a static name counts although it is not copied */
    n = hex(in, "7a 60");   /* user-agent (10) + 96 */
    memset(in + 2, 'u', 96);
    assert_int_equal(decode_with(&dec, in, n + 96, &out, 100, 1 << 16),
                     H2X_HPACK_TOO_LARGE);
    in[1] = 90;
    assert_int_equal(decode_with(&dec, in, 2 + 90, &out, 100, 1 << 16),
                     H2X_OK);
    assert_int_equal(out.fields[0].flags & H2X_HEADER_STATIC_NAME,
                     H2X_HEADER_STATIC_NAME);
    assert_int_equal(H2X_HEADER_STATIC_INDEX(out.fields[0].flags), 58);

    /* a Huffman value that decodes past the limit, with indexing: the
     * field is dropped but still enters the table */
    {
        uint8_t   s[200];
        uint32_t  before = h2x_hpack_dec_table_size(&dec);

        memset(s, 'a', sizeof(s));
        n = 0;
        in[n++] = 0x40;
        in[n++] = 1;
        in[n++] = 'k';
        i = h2x_huff_encoded_len(s, 200);
        n += h2x_hpack_encode_int(in + n, (uint32_t) i, 7, 0x80);
        n += h2x_huff_encode(in + n, s, 200);
        assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16),
                         H2X_HPACK_TOO_LARGE);
        assert_int_equal(out.nfields, 0);
        assert_int_equal(h2x_hpack_dec_table_size(&dec),
                         before + 1 + 200 + 32);
        /* split everywhere: the same */
        for (i = 0; i <= n; i++) {
            h2x_hpack_dec_t  d2;

            dec_new(&d2, &lim);
            assert_int_equal(feed_block(&d2, in, n, (int) i, &out),
                             H2X_HPACK_TOO_LARGE);
            assert_int_equal(h2x_hpack_dec_table_size(&d2), 1 + 200 + 32);
            h2x_hpack_dec_free(&d2);
        }
    }

    /* field count */
    for (i = 0; i < 11; i++) {
        in[i] = 0x82;
    }
    assert_int_equal(decode_with(&dec, in, 10, &out, 100, 1 << 16), H2X_OK);
    assert_int_equal(decode_with(&dec, in, 11, &out, 100, 1 << 16),
                     H2X_HPACK_TOO_LARGE);
    assert_int_equal(out.nfields, 10);

    h2x_hpack_dec_free(&dec);
}


static void
test_limit_hard_caps(void **state)
{
    static uint8_t      in[1 << 16];
    h2x_hpack_limits_t  lim;
    h2x_hpack_dec_t     dec;
    h2x_hpack_out_t     out;
    size_t              n;

    (void) state;

    /* defaults: 1001 fields is a calm-down */
    dec_new(&dec, NULL);
    memset(in, 0x82, 1001);
    assert_int_equal(decode_with(&dec, in, 1000, &out, 4096, 1 << 16),
                     H2X_HPACK_TOO_LARGE);
    assert_int_equal(decode_with(&dec, in, 1001, &out, 4096, 1 << 16),
                     H2X_HPACK_CALM);
    /* and the decoder stays failed */
    assert_int_equal(decode_with(&dec, in, 1, &out, 4096, 1 << 16),
                     H2X_HPACK_CALM);
    h2x_hpack_dec_free(&dec);

    /* a string beyond the hard byte cap is refused from its length */
    h2x_hpack_limits_init(&lim);
    dec_new(&dec, &lim);
    n = hex(in, "00 01 61 7f 81 ff 03");   /* value of 65535 + 127 - ... */
    assert_int_equal(decode_with(&dec, in, n, &out, 4096, 1 << 16),
                     H2X_HPACK_CALM);
    h2x_hpack_dec_free(&dec);
}


/* The classic bomb: a large entry referenced 10 000 times. */
static void
test_bomb(void **state)
{
    static uint8_t      in[20000];
    h2x_hpack_limits_t  lim;
    h2x_hpack_dec_t     dec;
    h2x_hpack_out_t     out;
    size_t              n, i;

    (void) state;

    /* with the default hard caps: GOAWAY ENHANCE_YOUR_CALM at once */
    dec_new(&dec, NULL);
    n = lit(in, 0x40, "x", 4000, 'b');
    assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16), H2X_OK);
    memset(in, 0xbe, 10000);
    assert_int_equal(decode_with(&dec, in, 10000, &out, 100, 1 << 16),
                     H2X_HPACK_CALM);
    h2x_hpack_dec_free(&dec);

    /* with the hard caps out of the way: 431, the output holds no more
     * than the soft limit, and the table stays in sync */
    h2x_hpack_limits_init(&lim);
    lim.hard_fields = 1000000;
    lim.hard_list_size = (size_t) 1 << 40;
    dec_new(&dec, &lim);
    n = lit(in, 0x40, "x", 4000, 'b');
    assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16), H2X_OK);

    memset(in, 0xbe, 10000);
    n = 10000;
    /* with a new entry at the end, after the limit */
    n += lit(in + n, 0x40, "y", 10, 'c');
    assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16),
                     H2X_HPACK_TOO_LARGE);
    assert_true(out.len <= H2X_HPACK_DEFAULT_MAX_LIST_SIZE);
    assert_true(out.nfields <= 8);

    /* next block: y (43) is 62, x (4033) is 63, 4076 in all */
    n = hex(in, "be bf");
    assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16), H2X_OK);
    assert_int_equal(out.fields[0].name[0], 'y');
    assert_int_equal(out.fields[0].value_len, 10);
    assert_int_equal(out.fields[1].name[0], 'x');
    assert_int_equal(out.fields[1].value_len, 4000);
    assert_int_equal(h2x_hpack_dec_table_count(&dec), 2);
    assert_int_equal(h2x_hpack_dec_table_size(&dec), 4076);
    n = hex(in, "c0");
    assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16), H2X_ERROR);
    h2x_hpack_dec_free(&dec);

    /* many fields, each past the limit, all incremental: the table must
     * follow exactly (compare with a decoder without limits) */
    {
        h2x_hpack_dec_t  ref;
        uint8_t          a[8192], b[8192];
        size_t           al, av, bl, bv;

        h2x_hpack_limits_init(&lim);
        lim.max_list_size = 100;
        lim.hard_list_size = (size_t) 1 << 30;
        lim.hard_fields = 100000;
        dec_new(&dec, &lim);
        h2x_hpack_limits_init(&lim);
        lim.max_list_size = lim.hard_list_size = (size_t) 1 << 30;
        lim.max_fields = lim.hard_fields = 100000;
        dec_new(&ref, &lim);
        n = 0;
        for (i = 0; i < 40; i++) {
            char  name[16];

            snprintf(name, sizeof(name), "n%zu", i);
            n += lit(in + n, 0x40, name, 50 + i * 7, (char) ('a' + i));
            in[n++] = i ? 0xbf : 0xbe;
        }
        assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16),
                         H2X_HPACK_TOO_LARGE);
        assert_int_equal(decode_with(&ref, in, n, &out, 4096, 1 << 17),
                         H2X_OK);
        assert_int_equal(h2x_hpack_dec_table_count(&dec),
                         h2x_hpack_dec_table_count(&ref));
        assert_int_equal(h2x_hpack_dec_table_size(&dec),
                         h2x_hpack_dec_table_size(&ref));
        for (i = 0; i < h2x_hpack_dec_table_count(&ref); i++) {
            assert_int_equal(h2x_hpack_dec_table_entry(&dec, (uint32_t) i, a,
                                                       sizeof(a), &al, &av),
                             H2X_OK);
            assert_int_equal(h2x_hpack_dec_table_entry(&ref, (uint32_t) i, b,
                                                       sizeof(b), &bl, &bv),
                             H2X_OK);
            assert_int_equal(al + av, bl + bv);
            assert_memory_equal(a, b, al + av);
        }
        h2x_hpack_dec_free(&dec);
        h2x_hpack_dec_free(&ref);
    }
}


/* A Huffman bomb: a long string of the longest codes is bounded by the
 * hard cap while being decoded, not after. */
static void
test_huffman_bomb(void **state)
{
    static uint8_t  in[1 << 17], s[1 << 16];
    size_t          n, hl;

    (void) state;

    memset(s, 'a', sizeof(s));
    hl = h2x_huff_encoded_len(s, sizeof(s));
    n = 0;
    in[n++] = 0x00;
    in[n++] = 0x01;
    in[n++] = 'k';
    n += h2x_hpack_encode_int(in + n, (uint32_t) hl, 7, 0x80);
    n += h2x_huff_encode(in + n, s, sizeof(s));
    assert_int_equal(decode_hex(NULL, ""), H2X_OK);
    {
        h2x_hpack_dec_t  dec;
        h2x_hpack_out_t  out;

        dec_new(&dec, NULL);
        assert_int_equal(decode_with(&dec, in, n, &out, 100, 1 << 16),
                         H2X_HPACK_CALM);
        h2x_hpack_dec_free(&dec);
    }
}


/* ---- allocation failures ----------------------------------------------- */

static int  alloc_left, alloc_live;

static void *
failing_alloc(size_t size, void *ctx)
{
    void  *p;

    (void) ctx;
    if (alloc_left-- <= 0) {
        return NULL;
    }
    p = malloc(size);
    alloc_live++;
    return p;
}


static void
failing_free(void *p, void *ctx)
{
    (void) ctx;
    if (p) {
        alloc_live--;
    }
    free(p);
}


static void
test_alloc_failure(void **state)
{
    h2x_allocator_t  a = { failing_alloc, failing_free, NULL };
    h2x_hpack_dec_t  dec;
    h2x_hpack_enc_t  enc;
    int              k, rc;

    (void) state;

    for (k = 0; k < 10; k++) {
        alloc_left = k;
        alloc_live = 0;
        rc = h2x_hpack_dec_init(&dec, &a, NULL);
        if (rc == H2X_OK) {
            h2x_hpack_dec_free(&dec);
        } else {
            assert_int_equal(rc, H2X_NOMEM);
            h2x_hpack_dec_free(&dec);   /* harmless after a failure */
        }
        assert_int_equal(alloc_live, 0);

        alloc_left = k;
        alloc_live = 0;
        rc = h2x_hpack_enc_init(&enc, &a, 0);
        if (rc == H2X_OK) {
            h2x_hpack_enc_free(&enc);
        } else {
            assert_int_equal(rc, H2X_NOMEM);
            h2x_hpack_enc_free(&enc);
        }
        assert_int_equal(alloc_live, 0);
    }
}


/* ---- encoder ----------------------------------------------------------- */

#define HDR(n, v)  { (const uint8_t *) (n), sizeof(n) - 1, \
                     (const uint8_t *) (v), sizeof(v) - 1, 0 }
#define HDRF(n, v, f)  { (const uint8_t *) (n), sizeof(n) - 1, \
                         (const uint8_t *) (v), sizeof(v) - 1, (f) }


/* Encode a list and decode it back: same fields; returns the size. */
static size_t
roundtrip(h2x_hpack_enc_t *enc, h2x_hpack_dec_t *dec, const h2x_header_t *h,
    size_t n, h2x_hpack_out_t *out)
{
    static uint8_t  buf[1 << 16];
    size_t          w, i;

    assert_int_equal(h2x_hpack_encode(enc, h, n, buf, sizeof(buf), &w),
                     H2X_OK);
    h2x_hpack_out_init(out, fields_buf, 4096, out_buf, sizeof(out_buf));
    assert_int_equal(h2x_hpack_decode(dec, buf, w, 1, out), H2X_OK);
    assert_int_equal(out->nfields, n);
    for (i = 0; i < n; i++) {
        assert_int_equal(out->fields[i].name_len, h[i].name_len);
        assert_memory_equal(out->fields[i].name, h[i].name, h[i].name_len);
        assert_int_equal(out->fields[i].value_len, h[i].value_len);
        assert_memory_equal(out->fields[i].value, h[i].value,
                            h[i].value_len);
    }
    assert_int_equal(h2x_hpack_enc_table_size(enc),
                     h2x_hpack_dec_table_size(dec));
    return w;
}


/* H2X_HPACK_ENC_NO_NEVER: sensitive fields as literals without indexing */
static void
test_encoder_no_never(void **state)
{
    const h2x_header_t  h[] = {
        HDR("set-cookie", "a=b"),
        HDRF("x-secret", "s3cr3t", H2X_HEADER_NEVER_INDEX),
    };
    h2x_hpack_enc_t  enc;
    h2x_hpack_dec_t  dec;
    h2x_hpack_out_t  out;

    (void) state;

    enc_new(&enc, 0);
    dec_new(&dec, NULL);
    enc.mode |= H2X_HPACK_ENC_NO_NEVER;

    roundtrip(&enc, &dec, h, 2, &out);
    assert_int_equal(out.fields[0].flags
                     & (H2X_HEADER_NEVER_INDEX | H2X_HEADER_NO_INDEX),
                     H2X_HEADER_NO_INDEX);
    /* the caller's own never-indexed stays so */
    assert_int_equal(out.fields[1].flags
                     & (H2X_HEADER_NEVER_INDEX | H2X_HEADER_NO_INDEX),
                     H2X_HEADER_NEVER_INDEX);
    assert_int_equal(h2x_hpack_enc_table_count(&enc), 0);
}


static void
test_encoder_policy(void **state)
{
    const h2x_header_t  resp[] = {
        HDR(":status", "200"),
        HDR("server", "h2x"),
        HDR("content-type", "text/html; charset=utf-8"),
        HDR("content-length", "1234"),
        HDR("etag", "\"abc\""),
        HDR("set-cookie", "a=b"),
        HDR("authorization", "Basic xyz"),
        HDR("cookie", "short=1"),
        HDR("cookie", "long-cookie-value-that-is-not-secret=1"),
        HDRF("x-secret", "s3cr3t", H2X_HEADER_NEVER_INDEX),
        HDRF("x-once", "v", H2X_HEADER_NO_INDEX),
    };
    size_t           n = sizeof(resp) / sizeof(resp[0]), w1, w2, i;
    h2x_hpack_enc_t  enc;
    h2x_hpack_dec_t  dec;
    h2x_hpack_out_t  out;
    unsigned         expect[sizeof(resp) / sizeof(resp[0])] = {
        0, 0, 0, H2X_HEADER_NO_INDEX, H2X_HEADER_NO_INDEX,
        H2X_HEADER_NEVER_INDEX, H2X_HEADER_NEVER_INDEX,
        H2X_HEADER_NEVER_INDEX, 0, H2X_HEADER_NEVER_INDEX,
        H2X_HEADER_NO_INDEX
    };

    (void) state;

    enc_new(&enc, 0);
    dec_new(&dec, NULL);

    w1 = roundtrip(&enc, &dec, resp, n, &out);
    for (i = 0; i < n; i++) {
        assert_int_equal(out.fields[i].flags
                         & (H2X_HEADER_NEVER_INDEX | H2X_HEADER_NO_INDEX),
                         expect[i]);
    }
    /* server, content-type, the long cookie entered the table */
    assert_int_equal(h2x_hpack_enc_table_count(&enc), 3);

    /* the second time the indexed ones are one octet each */
    w2 = roundtrip(&enc, &dec, resp, n, &out);
    assert_true(w2 < w1);
    for (i = 0; i < n; i++) {
        assert_int_equal(out.fields[i].flags
                         & (H2X_HEADER_NEVER_INDEX | H2X_HEADER_NO_INDEX),
                         i < 3 || i == 8 ? 0 : expect[i]);
    }

    /* a value larger than 3/4 of the table is not indexed */
    {
        static char   big[3100];
        h2x_header_t  h = { (const uint8_t *) "x-big", 5,
                            (const uint8_t *) big, sizeof(big), 0 };

        memset(big, 'q', sizeof(big));
        roundtrip(&enc, &dec, &h, 1, &out);
        assert_int_equal(out.fields[0].flags, H2X_HEADER_NO_INDEX);
        assert_int_equal(h2x_hpack_enc_table_count(&enc), 3);
    }

    h2x_hpack_enc_free(&enc);
    h2x_hpack_dec_free(&dec);
}


static void
test_encoder_huffman_choice(void **state)
{
    h2x_hpack_enc_t  enc;
    uint8_t          buf[256];
    size_t           w;
    /* lowercase text shrinks; these octets grow */
    h2x_header_t     a = HDRF("x-a", "abcdefgh", H2X_HEADER_NO_INDEX);
    h2x_header_t     b = HDRF("x-b", "\x01\x02\x03\xfe", H2X_HEADER_NO_INDEX);

    (void) state;

    enc_new(&enc, 0);
    assert_int_equal(h2x_hpack_encode(&enc, &a, 1, buf, sizeof(buf), &w),
                     H2X_OK);
    /* 00, name "x-a" Huffman (3 -> 3? no: raw), value Huffman */
    assert_int_equal(buf[0], 0x00);
    assert_true(buf[1 + 1 + (buf[1] & 0x7f)] & 0x80);
    assert_int_equal(h2x_hpack_encode(&enc, &b, 1, buf, sizeof(buf), &w),
                     H2X_OK);
    assert_int_equal(buf[1 + 1 + (buf[1] & 0x7f)], 4);   /* raw, 4 octets */
    h2x_hpack_enc_free(&enc);
}


static void
test_encoder_size_updates(void **state)
{
    h2x_hpack_enc_t  enc;
    h2x_hpack_dec_t  dec;
    h2x_hpack_out_t  out;
    uint8_t          buf[256];
    size_t           w;
    h2x_header_t     h = HDR("x-k", "v");

    (void) state;

    enc_new(&enc, 0);
    dec_new(&dec, NULL);

    /* nothing pending at first: 4096 is the default on both sides */
    assert_int_equal(h2x_hpack_encode(&enc, &h, 1, buf, sizeof(buf), &w),
                     H2X_OK);
    assert_int_equal(buf[0], 0x40);
    h2x_hpack_out_init(&out, fields_buf, 64, out_buf, sizeof(out_buf));
    assert_int_equal(h2x_hpack_decode(&dec, buf, w, 1, &out), H2X_OK);

    /* shrink to 0 and grow to 1024 before the next block: both */
    h2x_hpack_enc_set_peer_table_size(&enc, 0);
    h2x_hpack_enc_set_peer_table_size(&enc, 1024);
    assert_int_equal(h2x_hpack_encode(&enc, &h, 1, buf, sizeof(buf), &w),
                     H2X_OK);
    assert_int_equal(buf[0], 0x20);
    assert_int_equal(buf[1], 0x3f);
    assert_int_equal(buf[2], 0xe1);
    assert_int_equal(buf[3], 0x07);
    assert_int_equal(buf[4], 0x40);   /* x-k was evicted by the 0 */
    h2x_hpack_out_init(&out, fields_buf, 64, out_buf, sizeof(out_buf));
    assert_int_equal(h2x_hpack_decode(&dec, buf, w, 1, &out), H2X_OK);
    assert_int_equal(h2x_hpack_dec_table_count(&dec), 1);

    /* a larger peer table is capped at ours (4096) */
    h2x_hpack_enc_set_peer_table_size(&enc, 1u << 20);
    assert_int_equal(h2x_hpack_encode(&enc, &h, 1, buf, sizeof(buf), &w),
                     H2X_OK);
    assert_int_equal(buf[0], 0x3f);
    assert_int_equal(buf[1], 0xe1);
    assert_int_equal(buf[2], 0x1f);
    assert_int_equal(buf[3], 0xbe);
    h2x_hpack_out_init(&out, fields_buf, 64, out_buf, sizeof(out_buf));
    assert_int_equal(h2x_hpack_decode(&dec, buf, w, 1, &out), H2X_OK);

    h2x_hpack_enc_free(&enc);
    h2x_hpack_dec_free(&dec);

    /* our cap below 4096 is announced in the first block */
    enc_new(&enc, 100);
    assert_int_equal(h2x_hpack_encode(&enc, &h, 1, buf, sizeof(buf), &w),
                     H2X_OK);
    assert_int_equal(buf[0], 0x3f);
    assert_int_equal(buf[1], 100 - 31);
    h2x_hpack_enc_free(&enc);
}


static void
test_encoder_bound(void **state)
{
    static uint8_t      buf[1 << 18], vals[1 << 14];
    h2x_header_t        h[32];
    char                names[32][16];
    h2x_hpack_enc_t     enc;
    h2x_hpack_dec_t     dec;
    h2x_hpack_out_t     out;
    h2x_hpack_limits_t  lim;
    size_t              n, i, bound, w, round;

    (void) state;

    h2x_hpack_limits_init(&lim);
    lim.max_list_size = lim.hard_list_size = sizeof(out_buf);
    lim.max_field_size = sizeof(out_buf);
    enc_new(&enc, 0);
    dec_new(&dec, &lim);
    for (i = 0; i < sizeof(vals); i++) {
        vals[i] = (uint8_t) (i * 7 + i / 13);
    }

    srand(1234);
    for (round = 0; round < 500; round++) {
        n = (size_t) rand() % 32;
        for (i = 0; i < n; i++) {
            snprintf(names[i], sizeof(names[i]), "h%d", rand() % 40);
            h[i].name = (const uint8_t *) names[i];
            h[i].name_len = strlen(names[i]);
            h[i].value = vals + rand() % 100;
            h[i].value_len = (size_t) (rand() % 8 ? rand() % 50
                                                  : rand() % 8000);
            h[i].flags = 0;
        }
        if (round % 50 == 7) {
            h2x_hpack_enc_set_peer_table_size(&enc, (uint32_t) rand() % 5000);
        }

        bound = h2x_hpack_enc_bound(&enc, h, n);
        /* too small by one: nothing written, nothing changed */
        if (bound > 0) {
            memset(buf, 0xaa, sizeof(buf));
            assert_int_equal(h2x_hpack_encode(&enc, h, n, buf, bound - 1, &w),
                             H2X_AGAIN);
            assert_int_equal(buf[0], 0xaa);
        }
        memset(buf, 0xaa, sizeof(buf));
        assert_int_equal(h2x_hpack_encode(&enc, h, n, buf, bound, &w),
                         H2X_OK);
        assert_true(w <= bound);
        assert_int_equal(buf[bound], 0xaa);

        h2x_hpack_out_init(&out, fields_buf, 4096, out_buf, sizeof(out_buf));
        assert_int_equal(h2x_hpack_decode(&dec, buf, w, 1, &out), H2X_OK);
        assert_int_equal(out.nfields, n);
        for (i = 0; i < n; i++) {
            assert_int_equal(out.fields[i].value_len, h[i].value_len);
            assert_memory_equal(out.fields[i].value, h[i].value,
                                h[i].value_len);
        }
    }

    h2x_hpack_enc_free(&enc);
    h2x_hpack_dec_free(&dec);
}


/* Many insertions: ids wrap without losing matches. */
static void
test_encoder_id_wrap(void **state)
{
    h2x_hpack_enc_t  enc;
    h2x_hpack_dec_t  dec;
    h2x_hpack_out_t  out;
    char             v[32];
    h2x_header_t     h[2];
    size_t           i, w;

    (void) state;

    enc_new(&enc, 0);
    dec_new(&dec, NULL);
    enc.next_id = 0xffffffff - 500;
    enc.oldest_id = enc.next_id;

    for (i = 0; i < 1000; i++) {
        snprintf(v, sizeof(v), "value-%zu", i % 150);
        h[0] = (h2x_header_t) { (const uint8_t *) "x-a", 3,
                                (const uint8_t *) v, strlen(v), 0 };
        h[1] = (h2x_header_t) { (const uint8_t *) "x-a", 3,
                                (const uint8_t *) v, strlen(v), 0 };
        w = roundtrip(&enc, &dec, h, 2, &out);
        /* the second is always an exact match: one octet */
        (void) w;
        assert_int_equal(out.fields[1].flags, 0);
    }
    assert_true(enc.next_id < 1000);

    h2x_hpack_enc_free(&enc);
    h2x_hpack_dec_free(&dec);
}


/* Names whose entries keep leaving the table unused stop being indexed
 * (a request id); a probe now and then lets them come back. */
static void
test_encoder_adaptive(void **state)
{
    h2x_hpack_enc_t  enc;
    h2x_hpack_dec_t  dec;
    h2x_hpack_out_t  out;
    char             id[64], big[600];
    h2x_header_t     h[3];
    size_t           i, noidx;

    (void) state;

    enc_new(&enc, 0);
    dec_new(&dec, NULL);
    memset(big, 'z', sizeof(big));

    noidx = 0;
    for (i = 0; i < 200; i++) {
        snprintf(id, sizeof(id), "%032llx",
                 (unsigned long long) i * 0x9e3779b97f4a7c15ull);
        h[0] = (h2x_header_t) { (const uint8_t *) "server", 6,
                                (const uint8_t *) "h2x", 3, 0 };
        h[1] = (h2x_header_t) { (const uint8_t *) "x-request-id", 12,
                                (const uint8_t *) id, 32, 0 };
        /* a large unique value pushes entries out quickly */
        h[2] = (h2x_header_t) { (const uint8_t *) "x-blob", 6,
                                (const uint8_t *) big, 500 + i % 90, 0 };
        roundtrip(&enc, &dec, h, 3, &out);
        if (i >= 100) {
            /* server stays an exact match: indexed */
            assert_int_equal(out.fields[0].flags
                             & (H2X_HEADER_NO_INDEX | H2X_HEADER_NEVER_INDEX),
                             0);
            noidx += (out.fields[1].flags & H2X_HEADER_NO_INDEX) != 0;
        }
    }
    /* the ids are literals without indexing, bar a probe in 16 */
    assert_true(noidx >= 90);
    assert_true(noidx < 100);

    /* when values repeat again, a probe's entry is used and indexing
     * resumes */
    for (i = 0; i < 40; i++) {
        h[1] = (h2x_header_t) { (const uint8_t *) "x-request-id", 12,
                                (const uint8_t *) "same-id", 7, 0 };
        roundtrip(&enc, &dec, h, 2, &out);
    }
    assert_int_equal(out.fields[1].flags, 0);
    assert_true(h2x_hpack_enc_table_count(&enc) >= 2);

    /* the caller's H2X_HEADER_INDEX overrides it */
    for (i = 0; i < 200; i++) {
        snprintf(id, sizeof(id), "%032llx",
                 (unsigned long long) i * 0x2545f4914f6cdd1dull);
        h[1] = (h2x_header_t) { (const uint8_t *) "x-request-id", 12,
                                (const uint8_t *) id, 32,
                                i >= 150 ? H2X_HEADER_INDEX : 0 };
        h[2] = (h2x_header_t) { (const uint8_t *) "x-blob", 6,
                                (const uint8_t *) big, 500 + i % 90, 0 };
        roundtrip(&enc, &dec, h, 3, &out);
        if (i >= 150) {
            assert_int_equal(out.fields[1].flags, 0);
        }
    }

    h2x_hpack_enc_free(&enc);
    h2x_hpack_dec_free(&dec);

    /* evictions by a table size update teach nothing */
    enc_new(&enc, 0);
    dec_new(&dec, NULL);
    for (i = 0; i < 10; i++) {
        h[0] = (h2x_header_t) { (const uint8_t *) "x-k", 3,
                                (const uint8_t *) "v", 1, 0 };
        roundtrip(&enc, &dec, h, 1, &out);
        h2x_hpack_enc_set_peer_table_size(&enc, 0);
        h2x_hpack_enc_set_peer_table_size(&enc, 4096);
        roundtrip(&enc, &dec, h, 1, &out);
        assert_int_equal(out.fields[0].flags, 0);
    }
    h2x_hpack_enc_free(&enc);
    h2x_hpack_dec_free(&dec);
}


/* A dynamic entry whose name was given by static index keeps it: its
 * fields carry the static name (not copied) and the flag. */
static void
test_dynamic_static_names(void **state)
{
    h2x_hpack_dec_t  dec;
    h2x_hpack_out_t  out;
    uint8_t          in[256];
    size_t           n;

    (void) state;

    dec_new(&dec, NULL);
    /* C.3.1, then C.3.2's ":authority" (62) and "cache-control" */
    n = hex(in, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d");
    h2x_hpack_out_init(&out, fields_buf, 64, out_buf, sizeof(out_buf));
    assert_int_equal(h2x_hpack_decode(&dec, in, n, 1, &out), H2X_OK);
    n = hex(in, "be 5808 6e6f 2d63 6163 6865 400a 6375 7374 6f6d 2d6b 6579"
                "0161 be c0");
    h2x_hpack_out_init(&out, fields_buf, 64, out_buf, sizeof(out_buf));
    assert_int_equal(h2x_hpack_decode(&dec, in, n, 1, &out), H2X_OK);
    assert_int_equal(out.nfields, 5);
    /* :authority from the dynamic table */
    assert_int_equal(out.fields[0].flags, H2X_HEADER_STATIC_NAME | 1 << 8);
    assert_string_equal((const char *) out.fields[0].name, ":authority");
    assert_string_equal((const char *) out.fields[0].value,
                        "www.example.com");
    /* custom-key came as a literal name: no flag */
    assert_int_equal(out.fields[2].flags, 0);
    /* custom-key again (62): still no flag; :authority (64): the flag */
    assert_int_equal(out.fields[3].flags, 0);
    assert_string_equal((const char *) out.fields[3].name, "custom-key");
    assert_int_equal(out.fields[4].flags, H2X_HEADER_STATIC_NAME | 1 << 8);
    assert_string_equal((const char *) out.fields[4].name, ":authority");

    /* a literal whose name refers to that entry gets the static name */
    n = hex(in, "7f 01 03 61 62 63");   /* name index 64: :authority */
    h2x_hpack_out_init(&out, fields_buf, 64, out_buf, sizeof(out_buf));
    assert_int_equal(h2x_hpack_decode(&dec, in, n, 1, &out), H2X_OK);
    assert_int_equal(out.fields[0].flags, H2X_HEADER_STATIC_NAME | 1 << 8);
    assert_string_equal((const char *) out.fields[0].name, ":authority");
    assert_string_equal((const char *) out.fields[0].value, "abc");

    h2x_hpack_dec_free(&dec);
}


/* Huffman forms whose length prefix is shorter than the raw one's (the
 * octets move), and octets whose Huffman form is longer than raw (the
 * attempt gives up): exact round trips, nothing written past the bound. */
static void
test_encoder_string_edges(void **state)
{
    static uint8_t   buf[4096], v[1024];
    h2x_hpack_enc_t  enc;
    h2x_hpack_dec_t  dec;
    h2x_hpack_out_t  out;
    h2x_header_t     h;
    size_t           len, i, w, bound;

    (void) state;

    enc_new(&enc, 0);
    dec_new(&dec, NULL);

    for (len = 100; len < 400; len++) {
        for (i = 0; i < len; i++) {
            /* lowercase: about 5.3 bits; 0xfe..: 26+ bits */
            v[i] = len % 2 ? (uint8_t) ('a' + i % 26) : (uint8_t) (0xf0 + i % 16);
        }
        h = (h2x_header_t) { (const uint8_t *) "x-v", 3, v, len,
                             H2X_HEADER_NO_INDEX };
        bound = h2x_hpack_enc_bound(&enc, &h, 1);
        memset(buf, 0xaa, sizeof(buf));
        assert_int_equal(h2x_hpack_encode(&enc, &h, 1, buf, bound, &w),
                         H2X_OK);
        assert_int_equal(buf[bound], 0xaa);
        if (len % 2) {
            /* Huffman-coded, and shorter */
            assert_true(buf[5] & 0x80);
            assert_true(w < len);
        } else {
            /* raw: 00, 03 "x-v", the length prefix, the octets */
            assert_int_equal(buf[5], len < 127 ? len : 0x7f);
            assert_int_equal(w, 5 + (len < 127 ? 1 : len < 255 ? 2 : 3)
                                + len);
        }
        h2x_hpack_out_init(&out, fields_buf, 64, out_buf, sizeof(out_buf));
        assert_int_equal(h2x_hpack_decode(&dec, buf, w, 1, &out), H2X_OK);
        assert_int_equal(out.fields[0].value_len, len);
        assert_memory_equal(out.fields[0].value, v, len);
    }

    h2x_hpack_enc_free(&enc);
    h2x_hpack_dec_free(&dec);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_integer_errors_in_blocks),
        cmocka_unit_test(test_empty_final_fragment),
        cmocka_unit_test(test_huffman_roundtrip),
        cmocka_unit_test(test_huffman_invalid),
        cmocka_unit_test(test_c2),
        cmocka_unit_test(test_c3_requests),
        cmocka_unit_test(test_c4_requests_huffman),
        cmocka_unit_test(test_c5_responses),
        cmocka_unit_test(test_c6_responses_huffman),
        cmocka_unit_test(test_size_updates),
        cmocka_unit_test(test_size_update_limit_lowered),
        cmocka_unit_test(test_limit_list_size),
        cmocka_unit_test(test_limit_field_size_and_count),
        cmocka_unit_test(test_limit_hard_caps),
        cmocka_unit_test(test_bomb),
        cmocka_unit_test(test_huffman_bomb),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_encoder_policy),
        cmocka_unit_test(test_encoder_no_never),
        cmocka_unit_test(test_encoder_huffman_choice),
        cmocka_unit_test(test_encoder_size_updates),
        cmocka_unit_test(test_encoder_bound),
        cmocka_unit_test(test_encoder_id_wrap),
        cmocka_unit_test(test_encoder_adaptive),
        cmocka_unit_test(test_dynamic_static_names),
        cmocka_unit_test(test_encoder_string_edges),
    };

    return cmocka_run_group_tests_name("hpack", tests, NULL, NULL);
}
