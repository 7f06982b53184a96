/*
 * vigil/replay.h: research ICU stays (vigil/data.h) turned into the HL7
 * v2.5.1 messages a hospital's interface engine would send a ward: one
 * ADT^A01 admitting each patient to a bed, then one ORU^R01 per charting
 * time with the NEWS2 vital signs measured at that time. `vigil replay`
 * (src/cli/cmd_replay.c) sends them over MLLP; tests and benches build the
 * same messages and rows from the same stays.
 *
 * What it does: groups a stay's measurements into observation sets (one per
 * charting time: every PhysioNet 2019 hourly row, every distinct PhysioNet
 * 2012 time) holding only the vitals measured then; gives each stay a
 * synthetic patient (NHS number from the 999 test range, MRN and visit
 * number = the stay id, a date of birth derived from the stay's age); writes
 * the messages with the codes and units docs/hl7.md documents (LOINC
 * 9279-1 RR, 8867-4 HR, 59408-5 SpO2, 8480-6 SBP, 8310-5 temperature,
 * 3150-0 FiO2 in %).
 *
 * What it does not do: no sockets, clock or pacing (the caller's); no
 * invented values: no ACVPU (neither data set records it), no SpO2 from
 * arterial SaO2, nothing carried forward from an earlier hour. A value
 * outside the bounds vigil's HL7 reader accepts (docs/hl7.md) is left out
 * of its message and counted, never clamped.
 *
 * Synthetic identity (REQ REPLAY-SYNTHETIC-NHS): every NHS number starts
 * 999 (the range NHS England reserves for testing; no real patient has
 * one), has a correct modulus-11 check digit, and is a deterministic,
 * injective function of the stay number (see vigil_replay_nhs_number).
 * Names are "SYNTHETIC^REPLAY" so no message can be mistaken for a real
 * patient's.
 *
 * Memory: no allocation; every output is a caller buffer. Thread safety:
 * reentrant.
 */
#ifndef VIGIL_REPLAY_H
#define VIGIL_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/data.h"
#include "vigil/status.h"
#include "vigil/vars.h"
#include "vigil/ward.h"

#define VIGIL_REPLAY_MSG_MAX 4096 /* bytes: always enough for one message and a NUL */

/* The vitals a replayed ORU^R01 can carry, in OBX order. */
typedef enum vigil_replay_vital {
    VIGIL_REPLAY_RR = 0, /* respiration rate, /min (LOINC 9279-1) */
    VIGIL_REPLAY_SPO2,   /* pulse oximetry, % (59408-5) */
    VIGIL_REPLAY_FIO2,   /* inspired oxygen, % (3150-0); the data's fraction x 100 */
    VIGIL_REPLAY_SBP,    /* systolic blood pressure, mm[Hg] (8480-6) */
    VIGIL_REPLAY_HR,     /* heart rate, /min (8867-4) */
    VIGIL_REPLAY_TEMP,   /* body temperature, Cel (8310-5) */
    VIGIL_REPLAY_VITAL_COUNT
} vigil_replay_vital;

/* One observation set: the vitals measured at t_h (NaN = not measured). */
typedef struct vigil_replay_set {
    double t_h; /* hours since ICU admission, as the data set gives it */
    double v[VIGIL_REPLAY_VITAL_COUNT];
} vigil_replay_set;

/* What vigil_replay_sets kept and left out (added to, never reset). */
typedef struct vigil_replay_counts {
    size_t n_sets;
    size_t n_values[VIGIL_REPLAY_VITAL_COUNT];
    size_t n_out_of_bounds[VIGIL_REPLAY_VITAL_COUNT]; /* left out: outside the HL7 bounds */
    size_t n_overwritten;                             /* a second value of one vital at one
                                                         time (2012 invasive and non-invasive
                                                         SBP): the later one is sent */
} vigil_replay_counts;

/* Stable name ("rr", "spo2", "fio2", "sbp", "hr", "temp"); "?" out of range. */
const char *vigil_replay_vital_name(vigil_replay_vital v);

/*
 * Group meas[0..n_meas) (one stay, any order) into observation sets, one per
 * distinct time that has at least one of the vitals above, sorted by time,
 * into out[0..cap). cap = n_meas always suffices. counts (may be NULL) is
 * added to. Returns VIGIL_OK with *out_n sets, VIGIL_ERR_NOMEM when cap is
 * too small (*out_n then 0), VIGIL_ERR_ARG for NULL pointers (meas may be
 * NULL when n_meas is 0).
 */
vigil_status vigil_replay_sets(const vigil_meas *meas, size_t n_meas, vigil_replay_set *out,
                               size_t cap, size_t *out_n, vigil_replay_counts *counts);

/*
 * The synthetic NHS number of stay number n (REQ REPLAY-SYNTHETIC-NHS):
 * "999", then 6 digits, then the modulus-11 check digit. For each 5-digit
 * block b = n / 9 the 6th digit is the (n % 9)-th digit (0-9, ascending)
 * that gives a valid check digit (at least 9 of the 10 do), so distinct
 * n < 900000 give distinct valid numbers. Writes 10 digits and a NUL.
 * VIGIL_ERR_ARG when n >= 900000 or out is NULL.
 */
vigil_status vigil_replay_nhs_number(unsigned long n, char out[VIGIL_NHS_NUMBER_LEN + 1]);

/*
 * The stay number of a stay id: its digits read as a decimal number
 * ("p000001" -> 1, "p100001" -> 100001, "132539" -> 132539). VIGIL_ERR_ARG
 * when the id has no digit, other characters between digits, or the number
 * is 900000 or more (then no synthetic NHS number can be given to it).
 */
vigil_status vigil_replay_stay_number(const char *stay_id, unsigned long *out);

/* One synthetic patient: identifiers and bed. Caller-owned, copyable. */
typedef struct vigil_replay_patient {
    char nhs_number[VIGIL_NHS_NUMBER_LEN + 1];
    char mrn[VIGIL_ID_MAX];   /* the stay id */
    char visit[VIGIL_ID_MAX]; /* PV1-19: the stay id */
    char ward[VIGIL_ID_MAX];  /* PV1-3.1 */
    char bed[VIGIL_ID_MAX];   /* PV1-3.3 */
    char sex;                 /* PID-8: 'F', 'M' or 'U' */
    char dob[9];              /* PID-7 YYYYMMDD, or "" when the age is unknown */
    int64_t admit_ms;         /* ICU hour 0 on the replayed clock, Unix ms UTC */
} vigil_replay_patient;

/*
 * Fill out for stay, admitted to ward (1 to 63 bytes) bed bed_no
 * ("BED01", "BED02", ..., at least two digits) at admit_ms: NHS number from
 * the stay number, MRN and visit number = stay->id, sex from stay->sex, and
 * a date of birth admit_ms minus age_y years (to the day) so that the age
 * in completed years at admission is the data set's (90 for "90 or older").
 * Returns VIGIL_ERR_ARG when the stay id gives no stay number
 * (vigil_replay_stay_number), is longer than 63 bytes, or ward is empty or
 * too long (err says which).
 */
vigil_status vigil_replay_patient_init(const vigil_stay *stay, const char *ward, unsigned bed_no,
                                       int64_t admit_ms, vigil_replay_patient *out, vigil_err *err);

/* Header of one message. */
typedef struct vigil_replay_msg_opts {
    const char *control_id; /* MSH-10: 1 to 63 bytes of [A-Za-z0-9.-_#], required */
    int64_t sent_ms;        /* MSH-7, Unix ms UTC */
    char processing_id;     /* MSH-11: 'P', 'T' or 'D' */
} vigil_replay_msg_opts;

/*
 * ADT^A01 admitting p to p->ward, bed p->bed at p->admit_ms (EVN-6 and
 * PV1-44): MSH, EVN, PID (NHS number ^^^NHS^NH ~ MRN ^^^REPLAY^MR,
 * SYNTHETIC^REPLAY, DOB, sex), PV1 (class I, location, visit number).
 * Segments end in CR. Writes at most cap bytes (VIGIL_REPLAY_MSG_MAX
 * suffices) with a NUL, length without it to *out_n. Returns VIGIL_ERR_ARG
 * for a bad control id or processing id, VIGIL_ERR_NOMEM when cap is too
 * small.
 */
vigil_status vigil_replay_adt_a01(const vigil_replay_patient *p, const vigil_replay_msg_opts *o,
                                  char *out, size_t cap, size_t *out_n, vigil_err *err);

/*
 * ORU^R01 with set s of p, measured at obs_ms (OBR-7 and every OBX-14):
 * MSH, PID, PV1, OBR, then one OBX (NM, LOINC, UCUM unit, status F,
 * responsible observer "REPLAY") per vital present, in vigil_replay_vital
 * order. Numbers are written with at most 4 decimals (trailing zeros
 * dropped). Same buffer contract as vigil_replay_adt_a01; VIGIL_ERR_ARG
 * also for a set with no vital.
 */
vigil_status vigil_replay_oru_r01(const vigil_replay_patient *p, const vigil_replay_set *s,
                                  int64_t obs_ms, const vigil_replay_msg_opts *o, char *out,
                                  size_t cap, size_t *out_n, vigil_err *err);

/* The number text vigil_replay_oru_r01 writes for v (at most 4 decimals). */
void vigil_replay_format_number(double v, char out[32]);

#endif
