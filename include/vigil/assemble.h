/*
 * vigil/assemble.h: observation sets assembled, not overwritten.
 *
 * Real feeds send one patient's vital signs in pieces: a monitor sends heart
 * rate and SpO2 in one HL7 message and blood pressure in the next, FHIR
 * sends one Observation per vital sign, a nurse completes a set in two
 * goes. Scored one piece at a time each piece is an incomplete set, and a
 * piece carrying only a normal heart rate would make a deteriorating patient
 * look routine. This module keeps, per patient, the latest value of each
 * NEWS2 parameter with its measurement time, and assembles an arriving set
 * with the values measured within a short window of it
 * (REQ OBS-ASSEMBLE-WINDOW): values measured together form one set,
 * whichever way they arrive. The set as it arrived is what is stored; the
 * assembled set is what NEWS2 scores.
 *
 * Rules (docs/escalation.md, "Observation sets assembled, not overwritten"):
 *  - A parameter the arriving set carries is always its own value.
 *  - A parameter it lacks is taken from the latest value of that parameter
 *    measured within window_ms of the arriving set's time (before or after
 *    it: a late piece joins its set too). Outside the window it stays
 *    missing, so the set stays incomplete and its score a lower bound.
 *  - Air/oxygen is a parameter like the others; the SpO2 scale, age and
 *    pregnancy are the patient's, never assembled (the caller sets them).
 *
 * Pure: no I/O, no allocation, no clock, no globals. Thread safety: each
 * vigil_obs_recent belongs to one caller.
 */
#ifndef VIGIL_ASSEMBLE_H
#define VIGIL_ASSEMBLE_H

#include <stdint.h>

#include "vigil/news2.h"

/* The default assembly window: 5 minutes (vigil policy, docs/escalation.md). */
#define VIGIL_ASSEMBLE_WINDOW_MS_DEFAULT ((int64_t)5 * 60 * 1000)
/* The longest window a site may configure: 15 minutes. Longer would merge
 * values that were not measured together into one "set". */
#define VIGIL_ASSEMBLE_WINDOW_MS_MAX ((int64_t)15 * 60 * 1000)

/* The latest value of each NEWS2 parameter and when it was measured. Plain
 * value, copyable. Parameter p is known when (known & (1u << p)). */
typedef struct vigil_obs_recent {
    unsigned known;
    vigil_obs obs;                         /* values; only known ones are read */
    int64_t t_ms[VIGIL_NEWS2_PARAM_COUNT]; /* measured time of each known value */
} vigil_obs_recent;

/* Nothing known. */
void vigil_obs_recent_init(vigil_obs_recent *r);

/* The parameters a set carries: bit (1u << vigil_news2_param) each. 0 means
 * an empty set (nothing to score). */
unsigned vigil_obs_carried(const vigil_obs *obs);

/* Note a set measured at t_ms: each parameter it carries replaces the
 * recorded one when it is at least as recent (a late set never overwrites a
 * newer value). */
void vigil_obs_recent_note(vigil_obs_recent *r, const vigil_obs *obs, int64_t t_ms);

/* Assemble the set obs measured at t_ms with the values in r measured
 * within window_ms of t_ms (inclusive), into *out (which may be obs).
 * Returns the mask of parameters taken from r. window_ms <= 0 assembles
 * nothing. REQ OBS-ASSEMBLE-WINDOW */
unsigned vigil_obs_assemble(const vigil_obs_recent *r, const vigil_obs *obs, int64_t t_ms,
                            int64_t window_ms, vigil_obs *out);

#endif
