/*
 * fuzz_hl7.c: libFuzzer target for the HL7 v2 parser, ORU^R01/ADT
 * extraction and the ACK builder (vigil/hl7.h). Built and run by
 * scripts/fuzz.sh; seeds in fuzz/corpus/hl7 (the golden messages).
 *
 * Besides "no crash, no leak, no undefined behaviour" it checks invariants:
 * the status and the ACK code agree; every event is plausible and carries a
 * valid NHS number or none; an ACK is always built and parses back as an
 * ACK; every field of a parsed message can be read and unescaped; escaping
 * then unescaping gives the bytes back.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/hl7.h"
#include "vigil/news2.h"
#include "vigil/ward.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant: on failure say which, then abort so libFuzzer keeps the input. */
#define check(cond) check_at((cond), #cond, __LINE__)

static void check_at(int cond, const char *what, int line)
{
    if (!cond) {
        fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, line, what);
        abort();
    }
}

static void walk_fields(const vigil_hl7_msg *m)
{
    char out[512];
    /* bounded so each input stays cheap: the parser itself saw every segment */
    size_t n_seg = m->n_seg < 24 ? m->n_seg : 24;
    for (size_t i = 0; i < n_seg; i++) {
        for (unsigned f = 1; f <= 16; f++) {
            unsigned nr = vigil_hl7_reps(m, i, f);
            for (unsigned r = 1; r <= (nr > 3 ? 3 : nr); r++) {
                for (unsigned c = 0; c <= 4; c++) {
                    for (unsigned s = 0; s <= (c > 0 ? 2u : 0u); s++) {
                        vigil_hl7_view v;
                        check(vigil_hl7_get(m, i, f, r, c, s, &v) == VIGIL_OK);
                        check(v.n == 0 || (v.p >= m->text && v.p + v.n <= m->text + m->len));
                        size_t n = 0;
                        vigil_status st = vigil_hl7_unescape(&m->seps, v, out, sizeof out, &n);
                        check(n < sizeof out && out[n] == '\0');
                        check(st == VIGIL_OK || st == VIGIL_ERR_PARSE || st == VIGIL_ERR_NOMEM);
                    }
                }
            }
        }
    }
}

static void check_result(const vigil_hl7_result *r, vigil_status st)
{
    check((st == VIGIL_OK) == (r->fault.ack == VIGIL_HL7_AA));
    check(r->n_events <= VIGIL_HL7_MAX_EVENTS);
    if (st != VIGIL_OK) {
        check(r->n_events == 0);
        check(r->fault.text[0] != '\0');
    }
    for (size_t k = 0; k < r->n_events; k++) {
        const vigil_obs_event *e = &r->events[k];
        check(vigil_news2_validate(&e->obs, NULL) == VIGIL_OK);
        check(e->obs.spo2_scale == 1); /* never inferred from HL7 */
        check(e->nhs_number[0] == '\0' || vigil_nhs_number_valid(e->nhs_number));
        check(e->nhs_number[0] != '\0' || e->mrn[0] != '\0');
        check(e->source == VIGIL_SRC_HL7);
    }
    if (r->kind == VIGIL_HL7_KIND_ADT && st == VIGIL_OK) {
        check(r->adt.kind != VIGIL_ADT_NONE);
        check(r->adt.nhs_number[0] == '\0' || vigil_nhs_number_valid(r->adt.nhs_number));
    }
}

/* The versions the ACK echoes (as vigil_hl7_header_read accepts them). */
static int version_ok(const vigil_hl7_result *r)
{
    static const char *const v[] = {"2.3", "2.3.1", "2.4", "2.5",   "2.5.1", "2.6",
                                    "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2", "2.9"};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        if (strcmp(r->hdr.version, v[k]) == 0) {
            return 1;
        }
    }
    return 0;
}

static void check_ack(const vigil_hl7_result *r)
{
    static char ack[VIGIL_HL7_ACK_MAX];
    size_t n = 0;
    bool oru = r->kind == VIGIL_HL7_KIND_ORU_R01;
    vigil_hl7_ack_opts o = {.control_id = "FUZZACK1",
                            .t_ms = 1735689600000LL,
                            .app = "VIGIL",
                            .facility = "RX1",
                            .warnings = oru ? r->oru.warnings : NULL,
                            .n_warnings = oru ? r->oru.n_warnings : 0};
    check(vigil_hl7_ack_build(&r->hdr, &r->fault, &o, ack, sizeof ack, &n) == VIGIL_OK);
    check(n == strlen(ack));
    static vigil_hl7_result back;
    vigil_hl7_opts any; /* the ACK echoes MSH-11, which may be T or D */
    vigil_hl7_opts_init(&any);
    any.processing = VIGIL_HL7_PROC_P | VIGIL_HL7_PROC_T | VIGIL_HL7_PROC_D;
    check(vigil_hl7_decode(ack, n, &any, &back) == VIGIL_OK);
    check(back.kind == VIGIL_HL7_KIND_ACK);
    check(strcmp(back.hdr.control_id, "FUZZACK1") == 0);
    check(strcmp(back.hdr.version, version_ok(r) ? r->hdr.version : "2.5.1") == 0);
    /* MSA-2 decodes to the original control id */
    static vigil_hl7_msg m;
    check(vigil_hl7_parse(ack, n, &m, NULL) == VIGIL_OK);
    size_t msa = vigil_hl7_find(&m, "MSA", 0);
    check(msa == 1);
    vigil_hl7_view v;
    check(vigil_hl7_get(&m, msa, 2, 1, 0, 0, &v) == VIGIL_OK);
    char id[VIGIL_HL7_CTRL_MAX];
    if (r->hdr.control_id[0] != '\0') {
        check(vigil_hl7_unescape(&m.seps, v, id, sizeof id, NULL) == VIGIL_OK);
        check(strcmp(id, r->hdr.control_id) == 0);
    }
}

static void check_escape_roundtrip(const uint8_t *data, size_t size)
{
    static const vigil_hl7_seps seps = {'|', '^', '~', '\\', '&'};
    size_t n = size > 200 ? 200 : size;
    if (memchr(data, 0, n) != NULL) {
        return; /* NUL cannot be escaped into HL7 text */
    }
    char esc[1024], back[256];
    size_t en = 0, bn = 0;
    check(vigil_hl7_escape(&seps, (const char *)data, n, esc, sizeof esc, &en) == VIGIL_OK);
    vigil_hl7_view v = {esc, en};
    check(vigil_hl7_unescape(&seps, v, back, sizeof back, &bn) == VIGIL_OK);
    check(bn == n && memcmp(back, data, n) == 0);
}

static void check_dtm(const uint8_t *data, size_t size)
{
    size_t n = size > 32 ? 32 : size;
    for (int tz = 0; tz < VIGIL_HL7_TZ_COUNT; tz++) {
        int64_t t = 0;
        vigil_status st = vigil_hl7_dtm_parse((const char *)data, n, VIGIL_HL7_PREC_YEAR,
                                              (vigil_hl7_tz)tz, &t, NULL);
        if (st == VIGIL_OK) {
            /* 1900 to 2999, give or take an offset */
            check(t > -2300000000000LL && t < 32600000000000LL);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vigil_hl7_result r;
    vigil_hl7_opts opts;
    vigil_hl7_opts_init(&opts);
    /* vary the options with the input so both time readings are covered */
    if (size > 0 && (data[size - 1] & 1)) {
        opts.local_tz = VIGIL_HL7_TZ_UTC;
        opts.processing = VIGIL_HL7_PROC_P | VIGIL_HL7_PROC_T | VIGIL_HL7_PROC_D;
    }
    vigil_status st = vigil_hl7_decode((const char *)data, size, &opts, &r);
    check_result(&r, st);
    check_ack(&r);
    static vigil_hl7_msg m;
    if (vigil_hl7_parse((const char *)data, size, &m, NULL) == VIGIL_OK) {
        walk_fields(&m);
    }
    check_escape_roundtrip(data, size);
    check_dtm(data, size);
    return 0;
}
