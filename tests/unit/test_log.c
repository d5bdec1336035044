/* Unit tests for common/log: escaping, and whole lines from many threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

enum { THREADS = 4, LINES = 2000 };

/* Points stderr (fd 2) at a fresh temporary file; returns the saved fd. */
static int redirect_stderr(FILE **tmp)
{
        int saved = dup(STDERR_FILENO);

        assert_true(saved >= 0);
        *tmp = tmpfile();
        assert_non_null(*tmp);
        assert_int_equal(dup2(fileno(*tmp), STDERR_FILENO), STDERR_FILENO);
        return saved;
}

static void restore_stderr(int saved)
{
        assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
        close(saved);
}

static void test_log__logfmt_escapes(void **state)
{
        char line[256];
        FILE *tmp;
        int saved;
        (void)state;

        tp_log_set_json(0);
        tp_log_set_service("tthc-test");
        saved = redirect_stderr(&tmp);
        tp_log_info("a \"quoted\" \\ line\nand\ta tab");
        restore_stderr(saved);
        rewind(tmp);
        assert_non_null(fgets(line, sizeof(line), tmp));
        assert_non_null(strstr(line, " level=info service=tthc-test msg=\"a "
                                     "\\\"quoted\\\" \\\\ line\\nand\\u0009a "
                                     "tab\"\n"));
        assert_null(fgets(line, sizeof(line), tmp));
        fclose(tmp);
}

static void *log_lines(void *arg)
{
        int id = (int)(intptr_t)arg;

        for (int i = 0; i < LINES; i++)
                tp_log_info("thread %d line %d %s", id, i,
                            "padding padding padding padding padding");
        return NULL;
}

/* librdkafka logs from its own threads: each line must reach the file
 * whole, never cut by another thread's line. */
static void test_log__threads_write_whole_lines(void **state)
{
        pthread_t th[THREADS];
        int seen[THREADS] = {0};
        char line[512];
        FILE *tmp;
        int saved;
        (void)state;

        tp_log_set_json(1);
        tp_log_set_service("tthc-test");
        saved = redirect_stderr(&tmp);
        for (int t = 0; t < THREADS; t++)
                assert_int_equal(pthread_create(&th[t], NULL, log_lines,
                                                (void *)(intptr_t)t),
                                 0);
        for (int t = 0; t < THREADS; t++)
                pthread_join(th[t], NULL);
        restore_stderr(saved);
        rewind(tmp);
        while (fgets(line, sizeof(line), tmp)) {
                int id, n, end = 0;
                char *msg = strstr(line, "\"msg\":\"thread ");

                assert_non_null(msg);
                assert_int_equal(strncmp(line, "{\"ts\":\"", 7), 0);
                assert_int_equal(sscanf(msg,
                                        "\"msg\":\"thread %d line %d "
                                        "padding padding padding "
                                        "padding padding\"}%n",
                                        &id, &n, &end),
                                 2);
                assert_true(end > 0 && msg[end] == '\n' && msg[end + 1] == 0);
                assert_true(id >= 0 && id < THREADS);
                assert_int_equal(n, seen[id]); /* in order per thread */
                seen[id]++;
        }
        for (int t = 0; t < THREADS; t++)
                assert_int_equal(seen[t], LINES);
        fclose(tmp);
        tp_log_set_json(0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_log__logfmt_escapes),
                cmocka_unit_test(test_log__threads_write_whole_lines),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
