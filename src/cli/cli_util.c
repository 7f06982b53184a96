/*
 * cli_util.c: helpers the subcommands share: where the research data live,
 * and a progress line on stderr (only on a terminal).
 */
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/model.h"

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

/* The live monitor's inputs: the model's *_last features that are stored
 * vital signs, renamed to the store's names, with their training ranges;
 * the alert threshold from the bundle (docs/server.md "Monitoring"). */
vigil_status vigil_cli_live_monitor_cfg(const char *bundle_path, vigil_monitor_cfg *cfg,
                                        vigil_err *err)
{
    static const struct {
        const char *feature, *vital;
    } map[] = {
        {"hr_last", "hr_bpm"},     {"resp_last", "rr_bpm"},    {"rr_last", "rr_bpm"},
        {"spo2_last", "spo2_pct"}, {"o2sat_last", "spo2_pct"}, {"temp_last", "temp_c"},
        {"sbp_last", "sbp_mmhg"},
    };
    vigil_model *m = NULL;
    json_error_t je;
    json_t *b = json_load_file(bundle_path, 0, &je);
    if (b == NULL) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, NULL, "%s", je.text);
    }
    vigil_status s = vigil_model_load(bundle_path, &m, err);
    if (s != VIGIL_OK) {
        json_decref(b);
        return s;
    }
    vigil_model_info info;
    vigil_model_get_info(m, &info);
    vigil_monitor_cfg_defaults(cfg);
    cfg->threshold = info.threshold;
    const json_t *ranges = json_object_get(json_object_get(b, "ranges"), "features");
    for (size_t i = 0; i < info.n_inputs; i++) {
        const char *name = vigil_model_input_name(m, i);
        const json_t *r = json_array_get(ranges, i);
        for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
            if (strcmp(name, map[k].feature) == 0 && json_is_number(json_object_get(r, "p005")) &&
                cfg->n_inputs < VIGIL_MONITOR_MAX_INPUTS) {
                vigil_monitor_input *in = &cfg->inputs[cfg->n_inputs++];
                snprintf(in->name, sizeof in->name, "%s", map[k].vital);
                in->lo = json_number_value(json_object_get(r, "p005"));
                in->hi = json_number_value(json_object_get(r, "p995"));
            }
        }
    }
    vigil_model_free(m);
    json_decref(b);
    return VIGIL_OK;
}
