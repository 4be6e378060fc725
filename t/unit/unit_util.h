/*
 * Small helpers shared by the frame and HPACK unit tests: hex strings
 * into bytes, and a text trace built with printf-style appends.
 *
 * Include after <cmocka.h>.  Every function is static inline so that a
 * test file may use any subset.
 */

#ifndef _UNIT_UTIL_H_INCLUDED_
#define _UNIT_UTIL_H_INCLUDED_


#include <stdarg.h>
#include <stdio.h>


/* Hex digits ("0a 1b2c"; spaces and newlines ignored) into dst. */
static inline size_t
tu_hex(uint8_t *dst, size_t size, const char *hex)
{
    size_t        n;
    unsigned int  v;

    n = 0;

    while (*hex) {
        if (*hex == ' ' || *hex == '\n') {
            hex++;
            continue;
        }

        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        assert_true(n < size);
        dst[n++] = (uint8_t) v;
        hex += 2;
    }

    return n;
}


typedef struct {
    char      text[8192];
    size_t    len;
} tu_text_t;


static inline void
tu_textf(tu_text_t *t, const char *fmt, ...)
{
    int      n;
    va_list  ap;

    va_start(ap, fmt);
    n = vsnprintf(t->text + t->len, sizeof(t->text) - t->len, fmt, ap);
    va_end(ap);

    assert_true(n > 0 && (size_t) n < sizeof(t->text) - t->len);
    t->len += (size_t) n;
}


#endif /* _UNIT_UTIL_H_INCLUDED_ */
