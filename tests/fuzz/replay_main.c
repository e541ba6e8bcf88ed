/*
 * replay_main.c -- runs a fuzz target over saved inputs, without libFuzzer,
 * so that the corpus (seeds and past crashes) is a regression test with
 * any compiler. Arguments are files or directories of files.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run one file through the target; -1 if it cannot be read. */
static int
replay_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        uint8_t *data = NULL;
        size_t size = 0, cap = 0, n;

        if (f == NULL) {
                perror(path);
                return -1;
        }
        do {
                if (size == cap) {
                        uint8_t *p;

                        cap = cap != 0 ? cap * 2 : 65536;
                        if ((p = realloc(data, cap)) == NULL) {
                                free(data);
                                fclose(f);
                                return -1;
                        }
                        data = p;
                }
                n = fread(data + size, 1, cap - size, f);
                size += n;
        } while (n > 0);
        fclose(f);
        /* An exact-size copy, so ASan sees reads past the end of the input. */
        uint8_t *exact = malloc(size != 0 ? size : 1);
        if (exact == NULL) {
                free(data);
                return -1;
        }
        memcpy(exact, data, size);
        free(data);
        LLVMFuzzerTestOneInput(exact, size);
        free(exact);
        return 0;
}

/* Every regular file in dir; returns files run, or -1. */
static int
replay_dir(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        char path[4096];
        int count = 0;

        if (d == NULL) {
                perror(dir);
                return -1;
        }
        while ((de = readdir(d)) != NULL) {
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                        continue;
                if (replay_file(path) < 0) {
                        closedir(d);
                        return -1;
                }
                count++;
        }
        closedir(d);
        return count;
}

int
main(int argc, char **argv)
{
        int total = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                int n;

                if (stat(argv[i], &st) != 0) {
                        perror(argv[i]);
                        return 1;
                }
                n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]);
                if (n < 0)
                        return 1;
                total += S_ISDIR(st.st_mode) ? n : 1;
        }
        printf("replayed %d inputs\n", total);
        return total > 0 ? 0 : 1;
}
