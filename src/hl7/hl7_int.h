/*
 * hl7_int.h: helpers shared by the files of src/hl7, private to the module.
 */
#ifndef VIGIL_HL7_INT_H
#define VIGIL_HL7_INT_H

#include <stdarg.h>

#include "vigil/hl7.h"

/*
 * Fill fault (may be NULL) and return st. loc_seg may be NULL (no location).
 * The text is printf-formatted and truncated to VIGIL_ERR_MSG_MAX.
 */
vigil_status vigil__hl7_fail(vigil_hl7_fault *fault, vigil_status st, vigil_hl7_ack_code ack,
                             vigil_hl7_errcode code, vigil_hl7_reason reason, const char *loc_seg,
                             unsigned seq, unsigned field, unsigned rep, unsigned comp,
                             const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 11, 12)))
#endif
    ;

/* The same with a va_list. */
vigil_status vigil__hl7_vfail(vigil_hl7_fault *fault, vigil_status st, vigil_hl7_ack_code ack,
                              vigil_hl7_errcode code, vigil_hl7_reason reason, const char *loc_seg,
                              unsigned seq, unsigned field, unsigned rep, unsigned comp,
                              const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 11, 0)))
#endif
    ;

/* True when version (MSH-12.1) is one vigil accepts. */
int vigil__hl7_version_ok(const char *version);

/* The k-th (1-based) piece of v split at sep; empty when there are fewer. One
 * pass over v, no copy. */
vigil_hl7_view vigil__hl7_piece(vigil_hl7_view v, char sep, unsigned k);

/* Field `field` of segment i, all its repetitions, escaped (a view into the
 * message); empty when absent, and for MSH-1 and MSH-2. One pass. */
vigil_hl7_view vigil__hl7_field(const vigil_hl7_msg *msg, size_t i, unsigned field);

/* True when v is empty or the HL7 null "" (two double quotes). */
int vigil__hl7_blank(vigil_hl7_view v);

/* True when v equals the NUL-terminated s exactly. */
int vigil__hl7_eq(vigil_hl7_view v, const char *s);

/* 1-based occurrence of segment i's id among segments 0..i. */
unsigned vigil__hl7_seq(const vigil_hl7_msg *msg, size_t i);

/*
 * Decode the escaped view v into out (cap bytes, NUL-terminated) as an
 * identifier: at least one byte, no control bytes, valid UTF-8, at most
 * cap - 1 bytes. Returns VIGIL_OK or VIGIL_ERR_PARSE with a short cause in
 * why (a static string).
 */
vigil_status vigil__hl7_ident(const vigil_hl7_seps *seps, vigil_hl7_view v, char *out, size_t cap,
                              const char **why);

/* Patient identifiers from PID-3 and administrative sex from PID-8 (shared
 * by ORU and ADT). */
typedef struct vigil__hl7_patient {
    char nhs_number[VIGIL_NHS_NUMBER_LEN + 1];
    char mrn[VIGIL_ID_MAX];
    vigil_admin_sex sex; /* PID-8; NONE when empty or not a table 0001 code */
} vigil__hl7_patient;

/*
 * Read PID-3 of segment i (a PID): the NHS number (CX.5 identifier type NH,
 * or CX.4 assigning authority NHS without a type), validated with
 * vigil_nhs_number_parse, and the first local number (CX.5 MR or PI); with
 * profile->pid3_untyped_mrn (profile NULL: the default, on), the first
 * identifier with no type is the local number when no MR or PI is sent.
 * Needs at least one. Also PID-8 administrative sex (REQ HL7-PID8-SEX).
 * Returns VIGIL_OK or an error with fault (AE).
 */
vigil_status vigil__hl7_pid_ids(const vigil_hl7_msg *msg, size_t i,
                                const vigil_hl7_profile *profile, vigil__hl7_patient *out,
                                vigil_hl7_fault *fault);

/*
 * The profile for the message whose header is hdr: the first of
 * opts->profiles whose sender matches MSH-3.1 and MSH-4.1, else the default
 * written into *dflt. The result is borrowed from opts or is dflt.
 */
const vigil_hl7_profile *vigil__hl7_profile_for(const vigil_hl7_opts *opts,
                                                const vigil_hl7_header *hdr,
                                                vigil_hl7_profile *dflt);

/*
 * True for a placeholder date/time: only zeros (e.g. `00000000`), which
 * some systems send for "unknown". Read as absent where the field is
 * optional.
 */
int vigil__hl7_placeholder_dtm(vigil_hl7_view v);

/*
 * Read a TS/DTM field (component 1 of segment i, field f) as Unix ms with
 * at least min_prec. *present is 0 when the field is empty (VIGIL_OK).
 * Returns an error with fault (AE 102) for a bad value.
 */
vigil_status vigil__hl7_ts_field(const vigil_hl7_msg *msg, size_t i, unsigned f,
                                 vigil_hl7_prec min_prec, const vigil_hl7_opts *opts, int *present,
                                 int64_t *out_ms, vigil_hl7_fault *fault);

#endif
