/*
 * Unit tests of common/h2x_frame.c: the serialisers, byte for byte, and
 * the header block splitter.  The round trips through the parser are in
 * test_frame.c; the cross-check with nghttp2 is in test_frame_nghttp2.c.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h2x_frame.h"
#include "unit_util.h"


#define GUARD  0xcc


static uint8_t  buf[3 * 16384 + 256];


static void
fill(void)
{
    memset(buf, GUARD, sizeof(buf));
}


/* Compares what [buf, end) holds with the hex string, and the guard. */

static void
expect(const uint8_t *end, const char *hex)
{
    size_t   n;
    uint8_t  want[256];

    n = tu_hex(want, sizeof(want), hex);

    assert_int_equal(end - buf, n);
    assert_memory_equal(buf, want, n);
    /* nothing written past the end */
    assert_int_equal(buf[n], GUARD);
}



/* The call writes into a freshly guarded buf. */
#define expect_write(call, hex)                                              \
    do {                                                                     \
        fill();                                                              \
        expect(call, hex);                                                   \
    } while (0)


static void
test_header(void **state)
{
    (void) state;

    expect_write(h2x_frame_write_header(buf, 0x123456, 0xab, 0xcd, 0x01020304),
                 "123456 ab cd 01020304");

    /* the reserved bit is cleared on send */
    expect_write(h2x_frame_write_header(buf, 0, 0, 0, 0xffffffff),
                 "000000 00 00 7fffffff");

    expect_write(h2x_frame_write_header(buf, 0xffffff, 0x10, 0, 0),
                 "ffffff 10 00 00000000");
}


static void
test_data(void **state)
{
    (void) state;

    expect_write(h2x_frame_write_data(buf, 1, 16384, 0),
                 "004000 00 00 00000001");
    expect_write(h2x_frame_write_data(buf, 0x7fffffff, 0, 1),
                 "000000 00 01 7fffffff");
}


static void
test_headers(void **state)
{
    h2x_priority_t  pri;

    (void) state;

    expect_write(h2x_frame_write_headers(buf, 3, 10, H2X_FLAG_END_HEADERS
                                                     | H2X_FLAG_END_STREAM,
                                         NULL),
                 "00000a 01 05 00000003");

    /* only END_STREAM and END_HEADERS are taken from flags */
    expect_write(h2x_frame_write_headers(buf, 3, 10, 0xff, NULL),
                 "00000a 01 05 00000003");

    pri.dependency = 1;
    pri.weight = 256;
    pri.exclusive = 1;
    expect_write(h2x_frame_write_headers(buf, 5, 2, H2X_FLAG_END_HEADERS,
                                         &pri),
                 "000007 01 24 00000005 80000001 ff");

    pri.dependency = 0x80000007;
    pri.weight = 1;
    pri.exclusive = 0;
    expect_write(h2x_frame_write_headers(buf, 5, 0, 0, &pri),
                 "000005 01 20 00000005 00000007 00");
}


static void
test_continuation_push_promise(void **state)
{
    (void) state;

    expect_write(h2x_frame_write_continuation(buf, 7, 100, 1),
                 "000064 09 04 00000007");
    expect_write(h2x_frame_write_continuation(buf, 7, 0, 0),
                 "000000 09 00 00000007");

    expect_write(h2x_frame_write_push_promise(buf, 1, 0x80000002, 3, 1),
                 "000007 05 04 00000001 00000002");
    expect_write(h2x_frame_write_push_promise(buf, 1, 4, 0, 0),
                 "000004 05 00 00000001 00000004");
}


static void
test_control(void **state)
{
    h2x_priority_t  pri;
    h2x_setting_t   s[3];
    const uint8_t   opaque[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

    (void) state;

    pri.dependency = 3;
    pri.weight = 16;
    pri.exclusive = 0;
    expect_write(h2x_frame_write_priority(buf, 5, &pri),
                 "000005 02 00 00000005 00000003 0f");
    assert_int_equal(H2X_FRAME_PRIORITY_SIZE, 14);

    expect_write(h2x_frame_write_rst_stream(buf, 9, H2X_CANCEL),
                 "000004 03 00 00000009 00000008");
    assert_int_equal(H2X_FRAME_RST_STREAM_SIZE, 13);

    s[0].id = H2X_SETTINGS_MAX_CONCURRENT_STREAMS;
    s[0].value = 128;
    s[1].id = H2X_SETTINGS_INITIAL_WINDOW_SIZE;
    s[1].value = 0x7fffffff;
    s[2].id = H2X_SETTINGS_NO_RFC7540_PRIORITIES;
    s[2].value = 1;
    expect_write(h2x_frame_write_settings(buf, s, 3),
                 "000012 04 00 00000000 0003 00000080 0004 7fffffff"
                 "0009 00000001");
    assert_int_equal(H2X_FRAME_SETTINGS_SIZE(3), 27);

    expect_write(h2x_frame_write_settings(buf, s, 0), "000000 04 00 00000000");

    expect_write(h2x_frame_write_settings_ack(buf), "000000 04 01 00000000");

    expect_write(h2x_frame_write_ping(buf, opaque, 0),
                 "000008 06 00 00000000 0102030405060708");
    expect_write(h2x_frame_write_ping(buf, opaque, 1),
                 "000008 06 01 00000000 0102030405060708");
    assert_int_equal(H2X_FRAME_PING_SIZE, 17);

    expect_write(h2x_frame_write_goaway(buf, 0x80000005, H2X_ENHANCE_YOUR_CALM,
                                        (const uint8_t *) "calm", 4),
                 "00000c 07 00 00000000 00000005 0000000b 63616c6d");
    expect_write(h2x_frame_write_goaway(buf, 0, H2X_NO_ERROR, NULL, 0),
                 "000008 07 00 00000000 00000000 00000000");
    assert_int_equal(H2X_FRAME_GOAWAY_SIZE(4), 21);

    expect_write(h2x_frame_write_window_update(buf, 0, 0x7fffffff),
                 "000004 08 00 00000000 7fffffff");
    expect_write(h2x_frame_write_window_update(buf, 3, 0xffffffff),
                 "000004 08 00 00000003 7fffffff");
    assert_int_equal(H2X_FRAME_WINDOW_UPDATE_SIZE, 13);

    expect_write(h2x_frame_write_priority_update(buf, 3,
                                                 (const uint8_t *) "u=1", 3),
                 "000007 10 00 00000000 00000003 753d31");
    expect_write(h2x_frame_write_priority_update(buf, 0x80000001, NULL, 0),
                 "000004 10 00 00000000 00000001");
    assert_int_equal(H2X_FRAME_PRIORITY_UPDATE_SIZE(3), 16);
}


static void
test_big_endian(void **state)
{
    uint8_t  b[4];

    (void) state;

    assert_ptr_equal(h2x_put_u16(b, 0xabcd), b + 2);
    assert_int_equal(b[0], 0xab);
    assert_int_equal(b[1], 0xcd);
    assert_int_equal(h2x_get_u16(b), 0xabcd);

    assert_ptr_equal(h2x_put_u24(b, 0x123456), b + 3);
    assert_int_equal(b[0], 0x12);
    assert_int_equal(b[2], 0x56);
    assert_int_equal(h2x_get_u24(b), 0x123456);

    assert_ptr_equal(h2x_put_u32(b, 0xfedcba98), b + 4);
    assert_int_equal(b[0], 0xfe);
    assert_int_equal(b[3], 0x98);
    assert_int_equal(h2x_get_u32(b), 0xfedcba98);
}


/*
 * Checks the frames of a split header block in buf: HEADERS then
 * CONTINUATIONs of the expected payload sizes, fragments that put back
 * together give "block", END_HEADERS on the last only.
 */

static void
check_block(const uint8_t *end, uint32_t sid, uint8_t end_stream,
    const uint8_t *block, size_t len, const size_t *sizes, size_t nframes)
{
    size_t          i, off;
    uint8_t         flags;
    const uint8_t  *p;

    p = buf;
    off = 0;

    for (i = 0; i < nframes; i++) {
        assert_true(p + H2X_FRAME_HEADER_SIZE <= end);
        assert_int_equal(h2x_get_u24(p), sizes[i]);
        assert_int_equal(p[3], i == 0 ? H2X_FRAME_HEADERS
                                      : H2X_FRAME_CONTINUATION);

        flags = (i == nframes - 1) ? H2X_FLAG_END_HEADERS : 0;
        if (i == 0) {
            flags |= end_stream;
        }

        assert_int_equal(p[4], flags);
        assert_int_equal(h2x_get_u32(p + 5), sid);
        p += H2X_FRAME_HEADER_SIZE;

        assert_memory_equal(p, block + off, sizes[i]);
        p += sizes[i];
        off += sizes[i];
    }

    assert_ptr_equal(p, end);
    assert_int_equal(off, len);
    assert_int_equal(*end, GUARD);
}


static void
test_header_block(void **state)
{
    size_t          i, n;
    uint8_t        *end;
    static uint8_t  block[40000];
    const size_t    three[] = { 16384, 16384, 7232 };
    const size_t    one[] = { 16384 };
    const size_t    two[] = { 16384, 1 };
    const size_t    zero[] = { 0 };
    const size_t    small[] = { 100, 100, 50 };

    (void) state;

    for (i = 0; i < sizeof(block); i++) {
        block[i] = (uint8_t) (i * 7 + (i >> 8));
    }

    /* sizes */
    assert_int_equal(h2x_frame_header_block_size(0, 16384), 9);
    assert_int_equal(h2x_frame_header_block_size(1, 16384), 10);
    assert_int_equal(h2x_frame_header_block_size(16384, 16384), 16393);
    assert_int_equal(h2x_frame_header_block_size(16385, 16384), 16403);
    assert_int_equal(h2x_frame_header_block_size(40000, 16384), 40027);

    /* from another buffer */
    fill();
    end = h2x_frame_write_header_block(buf, 1, H2X_FLAG_END_STREAM, block,
                                       40000, 16384);
    assert_int_equal(end - buf, h2x_frame_header_block_size(40000, 16384));
    check_block(end, 1, H2X_FLAG_END_STREAM, block, 40000, three, 3);

    /* in place: the block encoded at buf + 9 */
    fill();
    memcpy(buf + H2X_FRAME_HEADER_SIZE, block, 40000);
    end = h2x_frame_write_header_block(buf, 3, 0, buf + H2X_FRAME_HEADER_SIZE,
                                       40000, 16384);
    check_block(end, 3, 0, block, 40000, three, 3);

    /* exactly one frame */
    fill();
    memcpy(buf + H2X_FRAME_HEADER_SIZE, block, 16384);
    end = h2x_frame_write_header_block(buf, 5, H2X_FLAG_END_STREAM,
                                       buf + H2X_FRAME_HEADER_SIZE, 16384,
                                       16384);
    check_block(end, 5, H2X_FLAG_END_STREAM, block, 16384, one, 1);

    /* one byte over */
    fill();
    end = h2x_frame_write_header_block(buf, 5, 0, block, 16385, 16384);
    check_block(end, 5, 0, block, 16385, two, 2);

    /* empty block: one HEADERS with END_HEADERS */
    fill();
    end = h2x_frame_write_header_block(buf, 7, H2X_FLAG_END_STREAM, block, 0,
                                       16384);
    check_block(end, 7, H2X_FLAG_END_STREAM, block, 0, zero, 1);

    /* a small max (as a test): in place, several moves */
    fill();
    memcpy(buf + H2X_FRAME_HEADER_SIZE, block, 250);
    n = h2x_frame_header_block_size(250, 100);
    assert_int_equal(n, 277);
    end = h2x_frame_write_header_block(buf, 9, 0, buf + H2X_FRAME_HEADER_SIZE,
                                       250, 100);
    check_block(end, 9, 0, block, 250, small, 3);

    /* the reserved bit is not sent */
    fill();
    end = h2x_frame_write_header_block(buf, 0x80000009, 0, block, 1, 16384);
    assert_int_equal(h2x_get_u32(buf + 5), 9);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_data),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_continuation_push_promise),
        cmocka_unit_test(test_control),
        cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_header_block),
    };

    return cmocka_run_group_tests_name("frame_write", tests, NULL, NULL);
}
