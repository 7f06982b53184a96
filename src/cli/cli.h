/*
 * cli.h: the vigil command's subcommands. Each returns the process exit
 * status: VIGIL_EXIT_OK, VIGIL_EXIT_DATA (some input refused),
 * VIGIL_EXIT_USAGE (bad options), VIGIL_EXIT_IO (a file could not be read).
 */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

enum {
    VIGIL_EXIT_OK = 0,
    VIGIL_EXIT_DATA = 1,
    VIGIL_EXIT_USAGE = 2,
    VIGIL_EXIT_IO = 3,
};

typedef struct vigil_cli_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} vigil_cli_cmd;

int vigil_cli_news2(int argc, char **argv);
int vigil_cli_vitals(int argc, char **argv);
int vigil_cli_audit(int argc, char **argv);
int vigil_cli_migrate(int argc, char **argv);
int vigil_cli_data(int argc, char **argv);
int vigil_cli_hl7(int argc, char **argv);

int vigil_cli_evaluate(int argc, char **argv);
/* vigil-train's command (src/cli/train/, its own binary: never linked into vigil). */
int vigil_cli_train(int argc, char **argv);
/* `vigil train`: execs vigil-train beside this binary with the same arguments;
 * returns only when that fails (VIGIL_EXIT_IO, with a message on stderr). */
int vigil_cli_train_exec(int argc, char **argv);
int vigil_cli_explain(int argc, char **argv);
int vigil_cli_adapt(int argc, char **argv);

#include "vigil/hl7.h"
#include "vigil/monitor.h"
#include <stddef.h>

/* Where the research data are: $VIGIL_DATA_DIR, ../shared/data, or beside the
 * repository the binary was built in. 0 on success. */
int vigil_cli_data_dir(char *out, size_t cap);
/* A progress line on stderr, redrawn in place; nothing when stderr is not a terminal. */
void vigil_cli_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vigil_cli_progress_done(void);
void vigil_cli_bar(const char *what, size_t done, size_t total);
int vigil_cli_serve(int argc, char **argv);
/* Read an HL7 interface profile file (docs/hl7.md) into *out; 0, or -1 with a
 * message on stderr naming the file and line. */
int vigil_cli_hl7_profile_load(const char *path, vigil_hl7_profile *out);
/* The IANA zone called name, loaded once per process (tzdata's TZif files);
 * NULL with a message on stderr when it cannot be loaded. Lives until exit. */
const vigil_tz *vigil_cli_tz_get(const char *name);
/* The --tz option of `vigil hl7` and `vigil serve` (REQ HL7-TIME-ZONE-DEFAULT):
 * arg london, utc, refuse or an IANA zone (Europe/Paris) sets how o reads a
 * local time without a UTC offset from a sender whose profile names no zone.
 * 0, or -1 with a message on stderr naming cmd ("vigil serve"). */
int vigil_cli_tz_option(const char *cmd, const char *arg, vigil_hl7_opts *o);
int vigil_cli_replay(int argc, char **argv);
int vigil_cli_validate(int argc, char **argv);
/* `vigil validate --db STORE --from DATE --to DATE` (validate_db.c): the live
 * model's figures from a store over a date range, as JSON to out ("-" or
 * NULL: stdout). An exit code. */
int vigil_cli_validate_db(const char *model, const char *db, const char *from, const char *to,
                          const char *out);
int vigil_cli_monitor(int argc, char **argv);
/* The live monitor's configuration from a model bundle: its *_last inputs that
 * are stored vital signs (renamed rr_bpm, spo2_pct, sbp_mmhg, hr_bpm, temp_c)
 * with their training ranges, and its threshold; defaults otherwise
 * (`vigil serve`, `vigil monitor --db`). */
vigil_status vigil_cli_live_monitor_cfg(const char *bundle_path, vigil_monitor_cfg *cfg,
                                        vigil_err *err);

/* The local validation report (docs/eval.md, "Validation report"). */
#include <jansson.h>

#include "vigil/cohort.h"
#include "vigil/model.h"
/* Largest subgroup AUROC gap from the overall AUROC the report accepts. */
#define VIGIL_CLI_SUBGROUP_TOLERANCE 0.05
/* SHA-256 of a file as 64 hex digits (cap >= 65); 0, or -1 when unreadable. */
int vigil_cli_file_sha256(const char *path, char *hex, size_t cap);
/* The "validation" object of `vigil evaluate --model --json` for an hourly
 * (2019) cohort: risk and news2 have c->n_rows entries; threshold is the
 * bundle's. *out is a new reference. */
vigil_status vigil_cli_validation_json(const vigil_model *m, const char *bundle_path,
                                       const vigil_cohort *c, const double *risk,
                                       const double *news2, double threshold, json_t **out,
                                       vigil_err *err);
/* `vigil evaluate` with argv, returning its JSON array instead of printing
 * it (*out a new reference, NULL on failure); the exit status. */
int vigil_cli_evaluate_json(int argc, char **argv, json_t **out);
/* Write the validation report of one `vigil evaluate --model --json` entry
 * as a self-contained HTML file; 0, or -1 with a message on stderr. */
int vigil_cli_validation_html(const json_t *entry, const json_t *bundle, const char *path);

#endif
