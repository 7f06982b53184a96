/*
 * cmd_train_exec.c: `vigil train ARGS` runs `vigil-train ARGS`, the training
 * binary built beside vigil (src/cli/train/). Training links libxgboost and the
 * serving binary must not (STYLE.md section 1), so this file only finds the
 * other binary and replaces the process with it.
 * Does not: search PATH (the two binaries come from one build and must match).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* <dir of this executable>/vigil-train into out; 0, or -1 when it cannot be named. */
static int train_path(char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        return -1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL) {
        return -1;
    }
    *slash = '\0';
    int w = snprintf(out, cap, "%s/vigil-train", self);
    return w > 0 && (size_t)w < cap ? 0 : -1;
}

int vigil_cli_train_exec(int argc, char **argv)
{
    char path[PATH_MAX];
    if (train_path(path, sizeof path) != 0) {
        fprintf(stderr, "vigil train: cannot find this program's folder\n");
        return VIGIL_EXIT_IO;
    }
    (void)argc;
    argv[0] = path;
    execv(path, argv);
    fprintf(stderr,
            "vigil train: training is its own binary, %s, and it could not be run "
            "(built only where XGBoost is installed: scripts/setup.sh, make build)\n",
            path);
    return VIGIL_EXIT_IO;
}
