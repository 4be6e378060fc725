/*
 * Unit tests of common/h2x.c: allocator and error code names.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "h2x.h"


static void
test_error_code_names(void **state)
{
    (void) state;

    assert_string_equal(h2x_error_code_name(H2X_NO_ERROR), "NO_ERROR");
    assert_string_equal(h2x_error_code_name(H2X_ENHANCE_YOUR_CALM),
                        "ENHANCE_YOUR_CALM");
    assert_string_equal(h2x_error_code_name(H2X_HTTP_1_1_REQUIRED),
                        "HTTP_1_1_REQUIRED");
    assert_string_equal(h2x_error_code_name(0xe), "UNKNOWN");
    assert_string_equal(h2x_error_code_name(0xffffffff), "UNKNOWN");
}


static void
test_default_allocator(void **state)
{
    const h2x_allocator_t  *a;
    char                   *p;

    (void) state;

    a = h2x_allocator_default();
    p = h2x_alloc(a, 64);
    assert_non_null(p);
    memset(p, 0xa5, 64);
    h2x_free(a, p);
    h2x_free(a, NULL);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_error_code_names),
        cmocka_unit_test(test_default_allocator),
    };

    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
