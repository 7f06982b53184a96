/*
 * cli_util.c: helpers the subcommands share: where the research data live,
 * and a progress line on stderr (only on a terminal).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int vigil_cli_data_dir(char *out, size_t cap)
{
    const char *env = getenv("VIGIL_DATA_DIR");
    if (env != NULL && env[0] != '\0' && is_dir(env)) {
        snprintf(out, cap, "%s", env);
        return 0;
    }
    if (is_dir("../shared/data")) {
        snprintf(out, cap, "../shared/data");
        return 0;
    }
    /* next to the repository the binary was built in: <repo>/build/vigil */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(exe, '/');
            if (slash == NULL) {
                break;
            }
            *slash = '\0';
            char cand[PATH_MAX + 32];
            snprintf(cand, sizeof cand, "%s/../shared/data", exe);
            if (is_dir(cand)) {
                snprintf(out, cap, "%s", cand);
                return 0;
            }
        }
    }
    return -1;
}

void vigil_cli_progress(const char *fmt, ...)
{
    if (!isatty(STDERR_FILENO)) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fputc('\r', stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\033[K", stderr);
    va_end(ap);
    fflush(stderr);
}

void vigil_cli_progress_done(void)
{
    if (isatty(STDERR_FILENO)) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

void vigil_cli_bar(const char *what, size_t done, size_t total)
{
    if (total == 0) {
        return;
    }
    int width = 30;
    int fill = (int)((double)done / (double)total * width);
    char bar[64];
    for (int i = 0; i < width; i++) {
        bar[i] = i < fill ? '#' : '.';
    }
    bar[width] = '\0';
    vigil_cli_progress("%s [%s] %3d%% %zu/%zu", what, bar,
                       (int)(100.0 * (double)done / (double)total), done, total);
}
