/*
 * Shared by the session fuzz targets: the response body, the file that
 * file chunks point into, and the adapter's side of a write.
 */

#ifndef _FUZZ_UTIL_H_INCLUDED_
#define _FUZZ_UTIL_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "h2x_session.h"


/* memory chunks point into it, and so does the file */
static uint8_t  body[70000];


/* a file chunk's ref: the file, mapped */
typedef struct {
    const uint8_t  *base;
} fref_t;


/*
 * How much of the pending segments a write of at most limit bytes takes;
 * the last byte of each segment is touched on the way, as a write would:
 * it must be readable.
 */
static size_t
fuzz_write(const h2x_segment_t *seg, size_t n, size_t limit)
{
    size_t            i, total;
    volatile uint8_t  sink;

    total = 0;

    for (i = 0; i < n && total < limit; i++) {
        if (seg[i].data) {
            sink = seg[i].data[seg[i].len - 1];
        } else {
            sink = ((fref_t *) seg[i].ref)->base[seg[i].offset
                                                 + seg[i].len - 1];
        }
        (void) sink;
        total += seg[i].len < limit - total ? seg[i].len : limit - total;
    }

    return total;
}


#endif /* _FUZZ_UTIL_H_INCLUDED_ */
