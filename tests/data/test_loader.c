/*
 * test_loader.c: the PhysioNet 2019 and 2012 loaders (src/data): counts on
 * real slices read from the archives in place, header checks, crafted
 * malformed files (bad field count, bad number, bad time) reported with file
 * and line and counted, implausible values counted and dropped, strict
 * mode, content detection, folders versus archives.
 *
 * Expected counts on the real slices were measured independently with
 * Python's tarfile + pandas over the same members (the first 200 files of
 * each archive), not with this loader:
 *   training_setA: 7556 rows, 52978 plausible values, 4 implausible, 203922
 *                  NaN cells, 20 stays with SepsisLabel 1 (p000001..p000200)
 *   training_setB: 7792 rows, 51027 values, 1 implausible, 213900 NaN, 14 sepsis
 *   set-a: 88106 rows, 86819 measurements, 87 implausible measurements,
 *          110 values of -1, 25 deaths (132539..133038)
 *   set-b: 87266 rows, 86004 measurements, 62 implausible, 115 -1, 20 deaths
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/data_int.h"
#include "vigil/data.h"
#include "vigil/util.h"
#include "vigil_test.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *data_dir(void)
{
    const char *d = getenv("VIGIL_DATA_DIR");
    return d != NULL ? d : "../shared/data";
}

/* Full path of a shared data file, or NULL (test skipped) when absent. */
static const char *shared(const char *rel, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", data_dir(), rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

typedef struct tally {
    size_t stays, rows, meas, sepsis, deaths, with_outcome;
    char first_id[64], last_id[64];
    char set[64]; /* the first stay's set label */
} tally;

static void drain(vigil_data *d, tally *t)
{
    for (;;) {
        const vigil_stay *s = NULL;
        const vigil_meas *m = NULL;
        size_t n = 0;
        vigil_err e = {0};
        vigil_status st = vigil_data_next(d, &s, &m, &n, &e);
        if (st != VIGIL_OK) {
            print_error("next: %s\n", e.msg);
        }
        assert_int_equal(st, VIGIL_OK);
        if (s == NULL) {
            break;
        }
        if (t->stays == 0) {
            snprintf(t->first_id, sizeof t->first_id, "%s", s->id);
            snprintf(t->set, sizeof t->set, "%s", s->set);
        }
        snprintf(t->last_id, sizeof t->last_id, "%s", s->id);
        t->stays++;
        t->rows += s->n_rows;
        t->meas += n;
        t->sepsis += s->sepsis_any ? 1 : 0;
        t->deaths += s->in_hospital_death == 1 ? 1 : 0;
        t->with_outcome += s->has_outcome ? 1 : 0;
        for (size_t i = 0; i < n; i++) {
            assert_true(isfinite(m[i].value));
            assert_true((unsigned)m[i].var < VIGIL_VAR_COUNT);
        }
    }
}

static vigil_data *open_path(const char *path, size_t max_files)
{
    vigil_data_opts o;
    vigil_data_opts_init(&o);
    o.max_stay_files = max_files;
    vigil_data *d = NULL;
    vigil_err e = {0};
    vigil_status st = vigil_data_open(path, &o, &d, &e);
    if (st != VIGIL_OK) {
        print_error("open %s: %s\n", path, e.msg);
    }
    assert_int_equal(st, VIGIL_OK);
    return d;
}

static void check_2019_slice(const char *rel, size_t rows, size_t meas, size_t impl, size_t nan,
                             size_t sepsis, const char *first, const char *last, const char *set)
{
    char buf[4096];
    const char *p = shared(rel, buf, sizeof buf);
    if (p == NULL) {
        skip();
    }
    vigil_data *d = open_path(p, 200);
    tally t = {0};
    drain(d, &t);
    const vigil_data_summary *s = vigil_data_summary_get(d);
    assert_int_equal(t.stays, 200);
    assert_int_equal(s->n_stay_files[VIGIL_DATA_PN2019], 200);
    assert_int_equal(t.rows, rows);
    assert_int_equal(s->n_rows, rows);
    assert_int_equal(s->n_rows_dropped, 0);
    assert_int_equal(t.meas, meas);
    assert_int_equal(s->n_issues[VIGIL_DATA_IMPLAUSIBLE], impl);
    assert_int_equal(s->n_nan, nan);
    /* every measurement cell is a value, NaN, or counted implausible */
    assert_int_equal(meas + impl + nan, rows * 34);
    assert_int_equal(t.sepsis, sepsis);
    assert_int_equal(s->n_sepsis_stays, sepsis);
    assert_string_equal(t.first_id, first);
    assert_string_equal(t.last_id, last);
    for (unsigned i = 0; i < VIGIL_DATA_ISSUE_COUNT; i++) {
        if (i != VIGIL_DATA_IMPLAUSIBLE) {
            assert_int_equal(s->n_issues[i], 0);
        }
    }
    assert_string_equal(t.set, set);
    vigil_data_close(d);
}

/* REQ DATA-2019-HEADER */
static void loader_counts_first_200_stays_of_2019_set_a_in_place(void **state)
{
    (void)state;
    check_2019_slice("physionet2019/training_setA.tar.gz", 7556, 52978, 4, 203922, 20, "p000001",
                     "p000200", "training_setA");
}

static void loader_counts_first_200_stays_of_2019_set_b_in_place(void **state)
{
    (void)state;
    check_2019_slice("physionet2019/training_setB.tar.gz", 7792, 51027, 1, 213900, 14, "p100001",
                     "p100200", "training_setB");
}

static void check_2012_slice(const char *rel, size_t rows, size_t meas, size_t impl, size_t unknown,
                             size_t deaths, const char *first, const char *last)
{
    char buf[4096];
    const char *p = shared(rel, buf, sizeof buf);
    if (p == NULL) {
        skip();
    }
    vigil_data *d = open_path(p, 200);
    tally t = {0};
    drain(d, &t);
    const vigil_data_summary *s = vigil_data_summary_get(d);
    assert_int_equal(t.stays, 200);
    assert_int_equal(s->n_outcome_files, 2); /* Outcomes-a and -b, found by content */
    assert_int_equal(s->n_outcome_rows, 8000);
    assert_int_equal(t.with_outcome, 200);
    assert_int_equal(t.rows, rows);
    assert_int_equal(s->n_rows, rows);
    assert_int_equal(t.meas, meas);
    assert_int_equal(s->n_unknown_marker, unknown);
    assert_int_equal(t.deaths, deaths);
    assert_int_equal(s->n_deaths, deaths);
    assert_string_equal(t.first_id, first);
    assert_string_equal(t.last_id, last);
    /* no descriptor in these slices is implausible (measured), so every
     * implausible value is a measurement; each is counted under its variable */
    assert_int_equal(s->n_issues[VIGIL_DATA_IMPLAUSIBLE], impl);
    size_t by_var = 0;
    for (unsigned v = 0; v < VIGIL_VAR_COUNT; v++) {
        by_var += s->n_implausible[v];
        assert_int_equal(s->n_implausible[v], s->n_too_low[v] + s->n_too_high[v]);
    }
    assert_int_equal(by_var, impl);
    assert_int_equal(s->n_issues[VIGIL_DATA_NO_OUTCOME], 0);
    assert_int_equal(s->n_issues[VIGIL_DATA_FIELD_COUNT], 0);
    assert_int_equal(s->n_issues[VIGIL_DATA_BAD_NUMBER], 0);
    assert_int_equal(s->n_issues[VIGIL_DATA_BAD_TIME], 0);
    assert_int_equal(s->n_issues[VIGIL_DATA_UNKNOWN_PARAMETER], 0);
    assert_int_equal(s->n_issues[VIGIL_DATA_ID_MISMATCH], 0);
    vigil_data_close(d);
}

/* REQ DATA-2012-HEADER REQ DATA-2012-UNKNOWN REQ DATA-OUTCOMES-SEARCH */
static void loader_counts_first_200_stays_of_2012_set_a_with_outcomes(void **state)
{
    (void)state;
    check_2012_slice("physionet2012/set-a.tar.gz", 88106, 86819, 87, 110, 25, "132539", "133038");
}

static void loader_counts_first_200_stays_of_2012_set_b_with_outcomes(void **state)
{
    (void)state;
    check_2012_slice("physionet2012/set-b.tar.gz", 87266, 86004, 62, 115, 20, "142675", "143194");
}

/* ---------------------------------------------------------------- crafted */

#define H2019                                                                                      \
    "HR|O2Sat|Temp|SBP|MAP|DBP|Resp|EtCO2|BaseExcess|HCO3|FiO2|pH|PaCO2|SaO2|AST|"                 \
    "BUN|Alkalinephos|Calcium|Chloride|Creatinine|Bilirubin_direct|Glucose|"                       \
    "Lactate|Magnesium|Phosphate|Potassium|Bilirubin_total|TroponinI|Hct|Hgb|PTT|"                 \
    "WBC|Fibrinogen|Platelets|Age|Gender|Unit1|Unit2|HospAdmTime|ICULOS|SepsisLabel\n"

/* 33 NaN lab/vital columns after HR ... built per row below */
#define NAN33                                                                                      \
    "NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|"                 \
    "NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN"

typedef struct issue_log {
    size_t n;
    vigil_data_issue kind[32];
    long line[32];
    char file[32][64];
} issue_log;

static void log_issue(vigil_data_issue issue, const char *file, long line, const char *msg,
                      void *ctx)
{
    (void)msg;
    issue_log *l = ctx;
    if (l->n < 32) {
        l->kind[l->n] = issue;
        l->line[l->n] = line;
        snprintf(l->file[l->n], sizeof l->file[l->n], "%s", file);
        l->n++;
    }
}

static vigil_data *open_mem(const vigil_mem_file *f, size_t n, bool strict, issue_log *log)
{
    vigil_file_source src;
    assert_int_equal(vigil_file_source_open_memory(f, n, &src, NULL), VIGIL_OK);
    vigil_data_opts o;
    vigil_data_opts_init(&o);
    o.strict = strict;
    o.on_issue = log != NULL ? log_issue : NULL;
    o.issue_ctx = log;
    vigil_data *d = NULL;
    assert_int_equal(vigil_data_open_source(src, &o, &d, NULL), VIGIL_OK);
    return d;
}

static vigil_mem_file mem(const char *name, const char *text)
{
    vigil_mem_file f = {name, text, strlen(text)};
    return f;
}

/* REQ DATA-ROW-ERRORS */
static void loader_reports_bad_field_count_number_and_time_with_file_and_line(void **state)
{
    (void)state;
    static const char psv[] =
        H2019 "80|" NAN33 "|60|1|NaN|NaN|-1.5|1|0\n"   /* line 2: fine */
              "81|" NAN33 "|60|1|NaN|NaN|-1.5|2\n"     /* line 3: 40 fields */
              "8x|" NAN33 "|60|1|NaN|NaN|-1.5|3|0\n"   /* line 4: bad number */
              "83|" NAN33 "|60|1|NaN|NaN|-1.5|1|0\n"   /* line 5: ICULOS repeats */
              "84|" NAN33 "|60|1|NaN|NaN|-1.5|2.5|0\n" /* line 6: ICULOS not whole */
              "85|" NAN33 "|60|1|NaN|NaN|-1.5|3|1\n";  /* line 7: fine */
    static const char txt[] = "Time,Parameter,Value\n"
                              "00:00,RecordID,777\n"
                              "00:00,Age,50\n"
                              "00:00,Gender,1\n"
                              "00:00,Height,-1\n"
                              "00:00,ICUType,3\n"
                              "00:00,Weight,80\n"
                              "00:10,HR,90\n"
                              "0x:10,HR,91\n"  /* line 9: bad time */
                              "01:75,HR,92\n"  /* line 10: minutes >= 60 */
                              "01:10,HR\n"     /* line 11: 2 fields */
                              "01:20,HR,abc\n" /* line 12: bad number */
                              "01:30,Foo,1\n"  /* line 13: unknown parameter */
                              "02:00,HR,95\n";
    vigil_mem_file files[] = {mem("setX/p999.psv", psv), mem("setY/777.txt", txt)};
    issue_log log = {0};
    vigil_data *d = open_mem(files, N_OF(files), false, &log);
    tally t = {0};
    drain(d, &t);
    const vigil_data_summary *s = vigil_data_summary_get(d);
    assert_int_equal(t.stays, 2);
    assert_int_equal(s->n_issues[VIGIL_DATA_FIELD_COUNT], 2);
    assert_int_equal(s->n_issues[VIGIL_DATA_BAD_NUMBER], 2);
    assert_int_equal(s->n_issues[VIGIL_DATA_BAD_TIME], 4);
    assert_int_equal(s->n_issues[VIGIL_DATA_UNKNOWN_PARAMETER], 1);
    assert_int_equal(s->n_issues[VIGIL_DATA_NO_OUTCOME], 1);
    assert_int_equal(s->n_issues[VIGIL_DATA_ICULOS_GAP], 1);
    assert_int_equal(s->n_rows_dropped, 9);
    assert_int_equal(s->n_rows, 6 + 13);
    static const struct {
        const char *file;
        long line;
        vigil_data_issue kind;
    } want[] = {
        {"setX/p999.psv", 3, VIGIL_DATA_FIELD_COUNT},
        {"setX/p999.psv", 4, VIGIL_DATA_BAD_NUMBER},
        {"setX/p999.psv", 5, VIGIL_DATA_BAD_TIME},
        {"setX/p999.psv", 6, VIGIL_DATA_BAD_TIME},
        {"setX/p999.psv", 7, VIGIL_DATA_ICULOS_GAP}, /* 1 -> 3: kept, hour 2 unknown */
        {"setY/777.txt", 9, VIGIL_DATA_BAD_TIME},
        {"setY/777.txt", 10, VIGIL_DATA_BAD_TIME},
        {"setY/777.txt", 11, VIGIL_DATA_FIELD_COUNT},
        {"setY/777.txt", 12, VIGIL_DATA_BAD_NUMBER},
        {"setY/777.txt", 13, VIGIL_DATA_UNKNOWN_PARAMETER},
        {"setY/777.txt", 0, VIGIL_DATA_NO_OUTCOME},
    };
    assert_int_equal(log.n, N_OF(want));
    for (size_t i = 0; i < N_OF(want); i++) {
        assert_string_equal(log.file[i], want[i].file);
        assert_int_equal(log.line[i], want[i].line);
        assert_int_equal(log.kind[i], want[i].kind);
    }
    /* the summary keeps the messages, naming file and line */
    assert_true(s->n_messages >= 3);
    assert_non_null(strstr(s->messages[0], "setX/p999.psv:3:"));
    assert_non_null(strstr(s->messages[0], "expected 41 fields, got 40"));
    vigil_data_close(d);
}

static void loader_keeps_good_rows_of_a_file_with_bad_ones(void **state)
{
    (void)state;
    static const char psv[] = H2019 "80|" NAN33 "|60|1|NaN|NaN|-1.5|1|0\n"
                                    "bad row\n"
                                    "85|" NAN33 "|60|1|NaN|NaN|-1.5|2|1\n";
    vigil_mem_file files[] = {mem("a/p1.psv", psv)};
    vigil_data *d = open_mem(files, 1, false, NULL);
    const vigil_stay *s = NULL;
    const vigil_meas *m = NULL;
    size_t n = 0;
    assert_int_equal(vigil_data_next(d, &s, &m, &n, NULL), VIGIL_OK);
    assert_non_null(s);
    assert_int_equal(s->n_rows, 2);
    assert_int_equal(n, 2);
    assert_true(m[0].t_h == 1.0 && m[0].var == VIGIL_VAR_HR && m[0].value == 80.0);
    assert_true(m[1].t_h == 2.0 && m[1].value == 85.0);
    assert_int_equal(s->n_labels, 2);
    assert_int_equal(s->label_first_hour, 1);
    assert_int_equal(s->sepsis_label[0], 0);
    assert_int_equal(s->sepsis_label[1], 1);
    assert_true(s->sepsis_any);
    assert_string_equal(s->id, "p1");
    assert_string_equal(s->set, "a");
    assert_true(s->age_y == 60.0);
    assert_int_equal(s->sex, VIGIL_SEX_MALE);
    assert_int_equal(s->icu_flags, 0);
    assert_true(s->hosp_adm_time_h == -1.5);
    vigil_data_close(d);
}

static void loader_2019_gap_hours_have_unknown_labels(void **state)
{
    (void)state;
    static const char psv[] = H2019 "80|" NAN33 "|60|1|NaN|NaN|-1.5|4|0\n"
                                    "81|" NAN33 "|60|1|NaN|NaN|-1.5|6|1\n";
    vigil_mem_file files[] = {mem("g/p3.psv", psv)};
    vigil_data *d = open_mem(files, 1, false, NULL);
    const vigil_stay *s = NULL;
    assert_int_equal(vigil_data_next(d, &s, NULL, NULL, NULL), VIGIL_OK);
    assert_non_null(s);
    assert_int_equal(s->label_first_hour, 4);
    assert_int_equal(s->n_labels, 3);
    assert_int_equal(s->sepsis_label[0], 0);
    assert_int_equal(s->sepsis_label[1], VIGIL_LABEL_UNKNOWN);
    assert_int_equal(s->sepsis_label[2], 1);
    assert_true(s->first_t_h == 4.0 && s->last_t_h == 6.0);
    assert_int_equal(vigil_data_summary_get(d)->n_issues[VIGIL_DATA_ICULOS_GAP], 1);
    vigil_data_close(d);
}

static void loader_strict_mode_stops_at_the_first_malformed_row(void **state)
{
    (void)state;
    static const char psv[] = H2019 "80|" NAN33 "|60|1|NaN|NaN|-1.5|1|0\n"
                                    "81|" NAN33 "|60|1|NaN|NaN|-1.5|2|7\n";
    vigil_mem_file files[] = {mem("s/p2.psv", psv)};
    vigil_data *d = open_mem(files, 1, true, NULL);
    const vigil_stay *s = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_data_next(d, &s, NULL, NULL, &e), VIGIL_ERR_PARSE);
    assert_null(s);
    assert_int_equal(e.line, 3);
    assert_non_null(strstr(e.msg, "s/p2.psv:3:"));
    assert_non_null(strstr(e.msg, "SepsisLabel"));
    /* the reader cannot go on after an error */
    assert_int_not_equal(vigil_data_next(d, &s, NULL, NULL, NULL), VIGIL_OK);
    vigil_data_close(d);
}

/* REQ DATA-2019-HEADER REQ DATA-2012-HEADER */
static void loader_refuses_files_whose_header_is_wrong(void **state)
{
    (void)state;
    static const char psv[] = "HR|O2Sat|Temp\n80|95|37\n";
    static const char txt[] = "Time,Param,Value\n00:00,RecordID,1\n";
    static const char other[] = "just some notes\n";
    vigil_mem_file files[] = {mem("x/p1.psv", psv), mem("x/1.txt", txt), mem("x/README", other),
                              mem("x/empty.psv", "")};
    issue_log log = {0};
    vigil_data *d = open_mem(files, N_OF(files), false, &log);
    tally t = {0};
    drain(d, &t);
    const vigil_data_summary *s = vigil_data_summary_get(d);
    assert_int_equal(t.stays, 0);
    assert_int_equal(s->n_files, 4);
    assert_int_equal(s->n_issues[VIGIL_DATA_BAD_HEADER], 2);
    assert_int_equal(s->n_issues[VIGIL_DATA_UNRECOGNISED], 1);
    assert_int_equal(s->n_issues[VIGIL_DATA_EMPTY_FILE], 1);
    assert_int_equal(log.line[0], 1);
    assert_string_equal(log.file[0], "x/p1.psv");
    assert_string_equal(log.file[1], "x/1.txt");
    vigil_data_close(d);
}

/* REQ VARS-PLAUSIBLE */
static void loader_counts_and_drops_implausible_values(void **state)
{
    (void)state;
    /* Temp 50 C, Resp 100/min (2019's known quirks), FiO2 4000 */
    static const char txt[] = "Time,Parameter,Value\n"
                              "00:00,RecordID,5\n"
                              "00:00,Height,437\n"
                              "01:00,pH,735\n"
                              "01:00,Temp,-17.8\n"
                              "01:00,FiO2,60\n";
    char row[1024];
    snprintf(row, sizeof row,
             H2019 "80|97|50|120|80|60|100|NaN|NaN|NaN|4000|%s|60|1|NaN|NaN|-1.5|1|0\n",
             "NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|NaN|"
             "NaN|NaN|NaN|NaN");
    vigil_mem_file files[] = {mem("a/p1.psv", row), mem("b/5.txt", txt)};
    vigil_data *d = open_mem(files, N_OF(files), false, NULL);
    const vigil_stay *s = NULL;
    const vigil_meas *m = NULL;
    size_t n = 0;
    assert_int_equal(vigil_data_next(d, &s, &m, &n, NULL), VIGIL_OK);
    assert_non_null(s);
    /* HR, SpO2, SBP, MAP, DBP kept; Temp, Resp, FiO2 dropped */
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_true(m[i].var != VIGIL_VAR_TEMP && m[i].var != VIGIL_VAR_RESP &&
                    m[i].var != VIGIL_VAR_FIO2);
    }
    assert_int_equal(vigil_data_next(d, &s, &m, &n, NULL), VIGIL_OK);
    assert_non_null(s);
    /* pH 735 and Temp -17.8 dropped; FiO2 60 (a percentage) kept as 0.6 */
    assert_int_equal(n, 1);
    assert_int_equal(m[0].var, VIGIL_VAR_FIO2);
    assert_true(fabs(m[0].value - 0.6) < 1e-12);
    assert_true(isnan(s->height_cm));
    const vigil_data_summary *sum = vigil_data_summary_get(d);
    assert_int_equal(sum->n_implausible[VIGIL_VAR_TEMP], 2);
    assert_int_equal(sum->n_too_high[VIGIL_VAR_TEMP], 1);
    assert_int_equal(sum->n_too_low[VIGIL_VAR_TEMP], 1);
    assert_int_equal(sum->n_implausible[VIGIL_VAR_RESP], 1);
    assert_int_equal(sum->n_implausible[VIGIL_VAR_FIO2], 1);
    assert_int_equal(sum->n_implausible[VIGIL_VAR_PH], 1);
    assert_int_equal(sum->n_implausible[VIGIL_VAR_HEIGHT], 1);
    assert_int_equal(sum->n_converted[VIGIL_VAR_FIO2], 1);
    assert_int_equal(sum->n_issues[VIGIL_DATA_IMPLAUSIBLE], 6);
    assert_int_equal(sum->n_rows_dropped, 0);
    vigil_data_close(d);
}

/* REQ DATA-2012-UNKNOWN */
static void loader_2012_reads_descriptors_unknowns_and_weight(void **state)
{
    (void)state;
    static const char txt[] = "Time,Parameter,Value\n"
                              "00:00,RecordID,42\n"
                              "00:00,Age,90\n"
                              "00:00,Gender,-1\n"
                              "00:00,Height,-1\n"
                              "00:00,ICUType,2\n"
                              "00:00,Weight,81.5\n"
                              "00:00,GCS,15\n"
                              "00:00,Weight,82\n"
                              "00:37,NISysABP,120\n"
                              "00:37,SysABP,118\n"
                              "01:00,Weight,-1\n"
                              "05:07,MechVent,1\n"
                              "47:59,HR,70\n";
    vigil_mem_file files[] = {mem("set-q/42.txt", txt)};
    vigil_data *d = open_mem(files, 1, false, NULL);
    const vigil_stay *s = NULL;
    const vigil_meas *m = NULL;
    size_t n = 0;
    assert_int_equal(vigil_data_next(d, &s, &m, &n, NULL), VIGIL_OK);
    assert_non_null(s);
    assert_string_equal(s->id, "42");
    assert_string_equal(s->set, "set-q");
    assert_int_equal(s->format, VIGIL_DATA_PN2012);
    assert_true(s->age_y == 90.0);
    assert_int_equal(s->sex, VIGIL_SEX_UNKNOWN);
    assert_int_equal(s->ethnicity, VIGIL_ETHNICITY_UNKNOWN);
    assert_true(isnan(s->height_cm));
    assert_int_equal(s->icu_flags, VIGIL_ICU_CARDIAC_SURGERY);
    assert_true(s->weight_kg == 81.5);
    assert_true(isnan(s->hosp_adm_time_h));
    assert_null(s->sepsis_label);
    assert_false(s->has_outcome);
    assert_int_equal(s->in_hospital_death, -1);
    /* first record: GCS at 00:00; last: HR at 47:59 */
    assert_true(s->first_t_h == 0.0);
    assert_true(fabs(s->last_t_h - (47.0 + 59.0 / 60.0)) < 1e-12);
    assert_int_equal(s->n_rows, 13);
    /* GCS, second Weight (a measurement), SBP twice, MechVent, HR */
    assert_int_equal(n, 6);
    assert_int_equal(m[1].var, VIGIL_VAR_WEIGHT);
    assert_true(m[1].value == 82.0);
    assert_int_equal(m[2].var, VIGIL_VAR_SBP);
    assert_int_equal(m[3].var, VIGIL_VAR_SBP);
    assert_true(fabs(m[2].t_h - 37.0 / 60.0) < 1e-12);
    const vigil_data_summary *sum = vigil_data_summary_get(d);
    assert_int_equal(sum->n_unknown_marker, 3); /* Gender, Height, Weight -1 */
    vigil_data_close(d);
}

/* REQ DATA-2019-AGE */
static void loader_2019_age_100_is_stored_as_90_or_older(void **state)
{
    (void)state;
    char row[1024];
    snprintf(row, sizeof row, H2019 "80|%s|100|0|1|0|-3|1|0\n", NAN33);
    vigil_mem_file files[] = {mem("a/p5.psv", row)};
    vigil_data *d = open_mem(files, 1, false, NULL);
    const vigil_stay *s = NULL;
    assert_int_equal(vigil_data_next(d, &s, NULL, NULL, NULL), VIGIL_OK);
    assert_non_null(s);
    assert_true(s->age_y == 90.0);
    assert_true(s->age_90_plus);
    assert_int_equal(s->sex, VIGIL_SEX_FEMALE);
    assert_int_equal(s->icu_flags, VIGIL_ICU_MEDICAL);
    vigil_data_close(d);
}

static void loader_detects_the_format_by_content_not_by_name(void **state)
{
    (void)state;
    char row[1024];
    snprintf(row, sizeof row, H2019 "80|%s|60|1|NaN|NaN|-1|1|0\n", NAN33);
    static const char txt[] = "Time,Parameter,Value\n00:00,RecordID,9\n00:05,HR,70\n";
    vigil_mem_file files[] = {mem("d/p1.data", row), mem("d/9.csv", txt)};
    vigil_data *d = open_mem(files, N_OF(files), false, NULL);
    const vigil_stay *s = NULL;
    assert_int_equal(vigil_data_next(d, &s, NULL, NULL, NULL), VIGIL_OK);
    assert_non_null(s);
    assert_int_equal(s->format, VIGIL_DATA_PN2019);
    assert_int_equal(vigil_data_next(d, &s, NULL, NULL, NULL), VIGIL_OK);
    assert_non_null(s);
    assert_int_equal(s->format, VIGIL_DATA_PN2012);
    assert_int_equal(vigil_data_next(d, &s, NULL, NULL, NULL), VIGIL_OK);
    assert_null(s);
    vigil_data_close(d);
}

/* Write a file (test helper for folder layouts). */
static void write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* REQ DATA-OUTCOMES-SEARCH */
static void loader_reads_an_extracted_folder_like_the_archive(void **state)
{
    (void)state;
    char buf[4096];
    const char *p = shared("physionet2012/set-b.tar.gz", buf, sizeof buf);
    const char *po = NULL;
    char obuf[4096];
    po = shared("physionet2012/Outcomes-b.txt", obuf, sizeof obuf);
    if (p == NULL || po == NULL) {
        skip();
    }
    /* Extract the first 25 members into tmp/set-b/ through the loader's own
     * source, put the outcomes beside the folder under another name. */
    char tmpl[512];
    char *root = vigil_test_mkdtemp(tmpl, sizeof tmpl, "vigil-test");
    assert_non_null(root);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/set-b", root);
    assert_int_equal(mkdir(dir, 0700), 0);
    vigil_file_source src;
    assert_int_equal(vigil_file_source_open_path(p, &src, NULL), VIGIL_OK);
    char names[25][600];
    for (int i = 0; i < 25; i++) {
        const char *name = NULL;
        char *data = NULL;
        size_t len = 0;
        assert_int_equal(src.next(src.self, &name, &data, &len, NULL), VIGIL_OK);
        assert_non_null(name);
        const char *base = strrchr(name, '/');
        snprintf(names[i], sizeof names[i], "%s/%s", dir, base + 1);
        write_file(names[i], data, len);
    }
    src.close(src.self);
    vigil_file_source osrc;
    assert_int_equal(vigil_file_source_open_path(po, &osrc, NULL), VIGIL_OK);
    const char *oname = NULL;
    char *odata = NULL;
    size_t olen = 0;
    assert_int_equal(osrc.next(osrc.self, &oname, &odata, &olen, NULL), VIGIL_OK);
    char opath[600];
    snprintf(opath, sizeof opath, "%s/results.csv", root);
    write_file(opath, odata, olen);
    osrc.close(osrc.self);

    tally ta = {0}, tf = {0};
    vigil_data *da = open_path(p, 25);
    drain(da, &ta);
    vigil_data *df = open_path(dir, 0);
    drain(df, &tf);
    const vigil_data_summary *sf = vigil_data_summary_get(df);
    assert_int_equal(tf.stays, 25);
    assert_int_equal(tf.rows, ta.rows);
    assert_int_equal(tf.meas, ta.meas);
    assert_int_equal(tf.deaths, ta.deaths);
    assert_int_equal(tf.with_outcome, 25); /* results.csv found beside the folder */
    assert_int_equal(sf->n_outcome_files, 1);
    assert_string_equal(tf.first_id, ta.first_id);
    assert_string_equal(tf.last_id, ta.last_id);
    vigil_data_close(da);
    vigil_data_close(df);
    for (int i = 0; i < 25; i++) {
        unlink(names[i]);
    }
    unlink(opath);
    rmdir(dir);
    rmdir(root);
}

static void loader_fast_number_path_matches_strict_parser(void **state)
{
    (void)state;
    static const char *const ok[] = {"0",
                                     "-0",
                                     "1",
                                     "97",
                                     "36.65",
                                     "0.21",
                                     ".5",
                                     "5.",
                                     "+3.25",
                                     "-1.5",
                                     "1e3",
                                     " 7 ",
                                     "123456789012345",
                                     "1234567890123456789",
                                     "0.1",
                                     "2.675",
                                     "1.0000000000000002",
                                     "7.35"};
    static const char *const bad[] = {"",    "-",   ".",   "1.2.3", "abc",
                                      "NaN", "inf", "1,5", "12a",   "--1"};
    for (size_t i = 0; i < N_OF(ok); i++) {
        double a = 0, b = 0;
        assert_true(vigil__data_parse_num(ok[i], &a));
        assert_int_equal(vigil_parse_double(ok[i], &b), VIGIL_OK);
        if (memcmp(&a, &b, sizeof a) != 0) {
            print_error("%s: %.17g vs %.17g\n", ok[i], a, b);
        }
        assert_memory_equal(&a, &b, sizeof a);
    }
    for (size_t i = 0; i < N_OF(bad); i++) {
        double a = 0;
        assert_false(vigil__data_parse_num(bad[i], &a));
    }
}

static void loader_summary_text_names_counts_and_issues(void **state)
{
    (void)state;
    static const char psv[] = H2019 "oops\n";
    vigil_mem_file files[] = {mem("z/p1.psv", psv)};
    vigil_data *d = open_mem(files, 1, false, NULL);
    tally t = {0};
    drain(d, &t);
    char text[8192];
    size_t need = vigil_data_summary_format(vigil_data_summary_get(d), text, sizeof text);
    assert_true(need < sizeof text);
    assert_non_null(strstr(text, "issue field_count"));
    assert_non_null(strstr(text, "z/p1.psv:2: expected 41 fields, got 1"));
    char tiny[8];
    assert_int_equal(vigil_data_summary_format(vigil_data_summary_get(d), tiny, sizeof tiny), need);
    assert_int_equal(strlen(tiny), 7);
    vigil_data_close(d);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(loader_counts_first_200_stays_of_2019_set_a_in_place),
    cmocka_unit_test(loader_counts_first_200_stays_of_2019_set_b_in_place),
    cmocka_unit_test(loader_counts_first_200_stays_of_2012_set_a_with_outcomes),
    cmocka_unit_test(loader_counts_first_200_stays_of_2012_set_b_with_outcomes),
    cmocka_unit_test(loader_reports_bad_field_count_number_and_time_with_file_and_line),
    cmocka_unit_test(loader_keeps_good_rows_of_a_file_with_bad_ones),
    cmocka_unit_test(loader_2019_gap_hours_have_unknown_labels),
    cmocka_unit_test(loader_strict_mode_stops_at_the_first_malformed_row),
    cmocka_unit_test(loader_refuses_files_whose_header_is_wrong),
    cmocka_unit_test(loader_counts_and_drops_implausible_values),
    cmocka_unit_test(loader_2012_reads_descriptors_unknowns_and_weight),
    cmocka_unit_test(loader_2019_age_100_is_stored_as_90_or_older),
    cmocka_unit_test(loader_detects_the_format_by_content_not_by_name),
    cmocka_unit_test(loader_reads_an_extracted_folder_like_the_archive),
    cmocka_unit_test(loader_fast_number_path_matches_strict_parser),
    cmocka_unit_test(loader_summary_text_names_counts_and_issues),
};

VIGIL_TEST_MAIN(tests)
