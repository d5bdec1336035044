/* replay.c - a plain main for fuzz_decode.c: runs every file named on the
 * command line (directories: every regular file in them) through
 * LLVMFuzzerTestOneInput once, so the checked-in corpus and every crash
 * reproducer are regression-tested by ctest under gcc (+ASan/UBSan with
 * -DTTHC_SANITIZE=ON). Prints how many inputs ran; exits 0 unless an input
 * aborted (a sanitizer report or a broken invariant ends the process). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        unsigned char *buf = NULL;
        size_t cap = 0, len = 0, n;

        if (!f) {
                perror(path);
                return -1;
        }
        for (;;) {
                if (len == cap) {
                        unsigned char *nb;
                        cap = cap ? cap * 2 : 4096;
                        nb = realloc(buf, cap);
                        if (!nb) {
                                fclose(f);
                                free(buf);
                                return -1;
                        }
                        buf = nb;
                }
                n = fread(buf + len, 1, cap - len, f);
                if (n == 0)
                        break;
                len += n;
        }
        fclose(f);
        /* an exact-size heap copy, so ASan sees reads past the end */
        {
                unsigned char *exact = malloc(len ? len : 1);
                if (!exact) {
                        free(buf);
                        return -1;
                }
                if (len)
                        memcpy(exact, buf, len);
                free(buf);
                /* named first, so a sanitizer report follows its input */
                fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
                LLVMFuzzerTestOneInput(exact, len);
                free(exact);
        }
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, size_t *count)
{
        struct stat st;
        DIR *d;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0, cap = 0;
        int rc = 0;

        if (stat(path, &st) != 0) {
                perror(path);
                return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
                if (run_file(path) != 0)
                        return -1;
                (*count)++;
                return 0;
        }
        d = opendir(path);
        if (!d) {
                perror(path);
                return -1;
        }
        while ((de = readdir(d)) != NULL) {
                size_t l;
                if (de->d_name[0] == '.')
                        continue;
                if (n == cap) {
                        char **nn;
                        cap = cap ? cap * 2 : 64;
                        nn = realloc(names, cap * sizeof(*names));
                        if (!nn)
                                abort();
                        names = nn;
                }
                l = strlen(path) + strlen(de->d_name) + 2;
                names[n] = malloc(l);
                if (!names[n])
                        abort();
                snprintf(names[n], l, "%s/%s", path, de->d_name);
                n++;
        }
        closedir(d);
        if (n)
                qsort(names, n, sizeof(*names), cmp_str);
        for (size_t i = 0; i < n; i++) {
                if (rc == 0 && run_path(names[i], count) != 0)
                        rc = -1;
                free(names[i]);
        }
        free(names);
        return rc;
}

int main(int argc, char **argv)
{
        size_t count = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
                return 2;
        }
        LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc; i++)
                if (run_path(argv[i], &count) != 0)
                        return 1;
        printf("fuzz_replay: %zu inputs ran clean\n", count);
        return count > 0 ? 0 : 1;
}
