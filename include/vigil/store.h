/*
 * vigil/store.h: durable storage for the ward service: patients, admissions
 * and bed moves, observation sets and their scores, escalation episodes,
 * alerts and acknowledgements, staff concerns and Martha's Rule calls, daily
 * "better / same / worse" answers, AI opt-outs, SpO2 Scale 2 decisions,
 * revised escalation plans, users and roles; every write and every read of
 * patient data leaves a hash-chained audit record (vigil/audit.h).
 *
 * A vigil_store is an opaque handle over a backend chosen by the scheme of
 * the URI given to vigil_store_open (a registry of the backends built in;
 * docs/store.md lists them and what each URI form means). Backend-independent
 * rules (NHS number check digit, plausibility, reasons that must be given,
 * roles that may decide) are checked here before the backend is called; the
 * backend adds its own constraints as a second line. See docs/store.md.
 *
 * Does not: decide escalation policy (levels, intervals, who is paged: that
 * is core/server), authorise requests (server), or keep data in memory
 * between calls.
 *
 * Durability: every write function returns VIGIL_OK only after its
 * transaction has committed durably (on stable storage, surviving a crash
 * or power loss of the machine; how each backend ensures it: docs/store.md),
 * so a caller may acknowledge a message as soon as the call returns. On error
 * nothing of the call is written, except where a function says otherwise
 * (the batch put).
 *
 * Audit: every call that writes or reads patient data takes a vigil_actor
 * (who, why) and appends its audit records in the same transaction as the
 * data: no write without its audit record, no audited write that was not
 * made. A read whose audit record cannot be written fails.
 *
 * Thread safety: a vigil_store must not be used by two threads at once;
 * open one per thread (they may open the same URI). Functions that take
 * no vigil_store are reentrant.
 *
 * Times are Unix milliseconds UTC (int64_t, suffix _ms); 0 means "none"
 * where a field says so. Ids are positive int64_t; 0 means "none".
 */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vigil/escalation.h"
#include "vigil/news2.h"
#include "vigil/status.h"
#include "vigil/ward.h"

/* The schema version this code writes; each backend records it in the
 * database it migrates (docs/store.md, "Migrations"). */
#define VIGIL_STORE_SCHEMA_VERSION 12

/* Text limits (bytes, without the NUL). Longer input is refused, never cut. */
#define VIGIL_STORE_NAME_MAX 127    /* display names, wards, beds, channels */
#define VIGIL_STORE_TEXT_MAX 2000   /* concerns, reasons, notes, plans */
#define VIGIL_STORE_WARDS_MAX 8     /* wards in one user's scope */
#define VIGIL_PASSWORD_MIN 10       /* characters */
#define VIGIL_PASSWORD_HASH_MAX 128 /* >= crypto_pwhash_STRBYTES */

typedef struct vigil_store vigil_store;

/*
 * Who is acting and why. Both strings are borrowed for the call, required,
 * non-empty; user at most VIGIL_ID_MAX - 1 bytes (a username or a service
 * name such as "hl7-listener"), reason at most 255 bytes ("direct care",
 * "ingest", "monthly Martha's Rule return").
 */
typedef struct vigil_actor {
    const char *user;
    const char *reason;
} vigil_actor;

/* ---- opening ------------------------------------------------------------ */

enum {
    VIGIL_STORE_READONLY = 1u << 0, /* no writes, no migration; the store must exist
                                       at the current schema version */
    VIGIL_STORE_NO_ROW_CACHE = 1u << 1, /* read every ward-list row from the backend, keeping
                                           none between calls (docs/store.md, "The ward
                                           list's rows in memory"): for tests and diagnosis */
};

/*
 * Open (creating if needed, unless READONLY) the store at uri and bring its
 * schema to VIGIL_STORE_SCHEMA_VERSION, one migration per transaction.
 * uri: "SCHEME:REST" for a backend registered under SCHEME, or a plain
 * path for the default backend (docs/store.md, "Opening").
 * Returns VIGIL_ERR_NOT_FOUND for a scheme with no backend built in,
 * VIGIL_ERR_MISMATCH for a database newer than this code or one that is not
 * a vigil store, VIGIL_ERR_IO when the store cannot be opened or cannot give
 * the durability above. *out is set only on success; release it with
 * vigil_store_close.
 */
vigil_status vigil_store_open(const char *uri, unsigned flags, vigil_store **out, vigil_err *err);

/* Close the store and release everything it holds. NULL is a no-op. */
void vigil_store_close(vigil_store *st);

/*
 * Batches: the store calls made between vigil_store_batch_begin and
 * vigil_store_batch_commit share ONE durable transaction (one commit). Each
 * call is still all or none on its own (a savepoint) and still returns its
 * own status, but nothing of the batch is durable until the commit returns
 * VIGIL_OK; if the commit fails, or after vigil_store_batch_rollback,
 * nothing of the batch is stored. Batches do not nest (VIGIL_ERR_ARG).
 * After an I/O error that ends the transaction, every further call of the
 * batch fails with VIGIL_ERR_IO rather than run on its own.
 */
vigil_status vigil_store_batch_begin(vigil_store *st, vigil_err *err);
vigil_status vigil_store_batch_commit(vigil_store *st, vigil_err *err);
void vigil_store_batch_rollback(vigil_store *st);

/*
 * Make durable (on the disk) the commits that were made without waiting for
 * it: the ward list's read-audit transactions (vigil_store_ward_list_get) are
 * committed before it returns, so they survive a crash of the process, but
 * they reach the disk with the next durable commit or with this call.
 * VIGIL_OK at once when there is nothing to make durable. Not thread-safe
 * (the store's thread).
 */
vigil_status vigil_store_sync(vigil_store *st, vigil_err *err);

/* The name of the store's backend ("sqlite"). Static string. */
const char *vigil_store_backend_name(const vigil_store *st);

/*
 * Fault injection, for tests (docs/store.md, "Conformance and faults"): a
 * store opened as "faulty:URI" is the store at URI (any other store URI)
 * with every call passed through, until armed here. VIGIL_STORE_FAULT_CALL:
 * after n_pass more calls the next one fails with VIGIL_ERR_IO before it
 * reaches the store (nothing written). VIGIL_STORE_FAULT_COMMIT: after n_pass
 * more commits (a batch's commit, or a writing call's own commit outside a
 * batch) the next one is rolled back and fails with VIGIL_ERR_IO, as a
 * commit the engine refused. Each fires once; n_pass -1 disarms. Returns
 * VIGIL_ERR_ARG when st was not opened through "faulty:". May be called from
 * any thread (the counters are atomic).
 */
typedef enum vigil_store_fault {
    VIGIL_STORE_FAULT_CALL,
    VIGIL_STORE_FAULT_COMMIT,
    VIGIL_STORE_FAULT_COUNT
} vigil_store_fault;
vigil_status vigil_store_fault_arm(vigil_store *st, vigil_store_fault kind, int n_pass);
/* Faults of kind injected so far into st; -1 when st is not a faulty: store. */
long vigil_store_fault_injected(vigil_store *st, vigil_store_fault kind);

/* ---- patients, admissions, bed moves ------------------------------------ */

typedef struct vigil_patient {
    int64_t id;                                /* 0 before it is stored */
    char nhs_number[VIGIL_NHS_NUMBER_LEN + 1]; /* 10 digits, or "" when unknown */
    char mrn[VIGIL_ID_MAX];                    /* local hospital number, or "" */
    char name[VIGIL_STORE_NAME_MAX + 1];       /* display name, or "" */
    char birth_date[11];                       /* YYYY-MM-DD, or "" */
    vigil_admin_sex sex;                             /* administrative sex; NONE when not recorded */
} vigil_patient;

/*
 * Find the patient with p's NHS number or MRN, or create one. At least one
 * identifier is required; an NHS number must pass its check digit
 * (REQ NHS-NUMBER-CHECK). An identifier the stored patient lacks is added;
 * name and birth date are filled when stored empty. Administrative sex is
 * the latest stated (it may change): a given female, male or other replaces
 * the stored value, unknown only fills an empty one, NONE changes nothing
 * (REQ STORE-SEX-LATEST; also for the patient of vigil_store_put_obs). VIGIL_ERR_CONFLICT when
 * the NHS number and the MRN belong to different patients, or the stored
 * patient has a different value. *out_id gets the patient id.
 */
vigil_status vigil_store_patient_ensure(vigil_store *st, const vigil_actor *who,
                                        const vigil_patient *p, int64_t *out_id, vigil_err *err);

/* Read one patient by id (audited read). VIGIL_ERR_NOT_FOUND if none. */
vigil_status vigil_store_patient_get(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                     vigil_patient *out, vigil_err *err);

/* Find a patient by NHS number (when nhs non-empty) else by MRN (audited
 * read when found). VIGIL_ERR_NOT_FOUND if none. */
vigil_status vigil_store_patient_find(vigil_store *st, const vigil_actor *who, const char *nhs,
                                      const char *mrn, vigil_patient *out, vigil_err *err);

/*
 * Admit a patient to ward/bed at t_ms. One open admission per patient
 * (VIGIL_ERR_CONFLICT otherwise). bed may be "" (not yet allocated).
 */
vigil_status vigil_store_admit(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                               const char *ward, const char *bed, int64_t t_ms,
                               int64_t *out_admission_id, vigil_err *err);

/* Move an open admission to ward/bed at t_ms (closes the current bed stay). */
vigil_status vigil_store_move(vigil_store *st, const vigil_actor *who, int64_t admission_id,
                              const char *ward, const char *bed, int64_t t_ms, vigil_err *err);

/* Discharge an open admission at t_ms (closes its bed stay). */
vigil_status vigil_store_discharge(vigil_store *st, const vigil_actor *who, int64_t admission_id,
                                   int64_t t_ms, vigil_err *err);

/* ---- observation sets and scores ---------------------------------------- */

/* The AI model's view of one observation set. Strings are borrowed. */
typedef struct vigil_store_ai {
    double risk;                  /* the model's raw output (finite) */
    double prob;                  /* calibrated probability, 0..1 */
    const char *explanation_json; /* a JSON object or array, or NULL */
    const char *model_version;    /* required, non-empty, < VIGIL_ID_MAX bytes */
    bool low_confidence;          /* an input was outside the training ranges */
} vigil_store_ai;

/*
 * A score for one observation set. news2 must be exactly what
 * vigil_news2_score gives for the set's observations, or, when assembled is
 * given (REQ OBS-ASSEMBLE-WINDOW, vigil/assemble.h), for that assembled set,
 * which must hold every value the set carries unchanged; the values it adds
 * come from the patient's other sets measured within the assembly window
 * (checked: VIGIL_ERR_MISMATCH otherwise). ai is NULL when no AI score was
 * made (patient opted out, model not loaded). Borrowed for the call.
 */
typedef struct vigil_store_score {
    vigil_news2 news2;
    const vigil_store_ai *ai;
    int64_t t_ms;               /* when scored */
    const vigil_obs *assembled; /* NULL: the set was scored as it arrived */
} vigil_store_score;

/* The outcome of storing one observation event. */
typedef struct vigil_store_put {
    vigil_status status; /* VIGIL_OK, or why this item was refused */
    int64_t patient_id;
    int64_t obs_id;
    int64_t score_id;            /* 0 when no score is stored for the set */
    bool duplicate;              /* the same message (source, source id, content) was stored
                                    before: nothing new was written but its audit record */
    char msg[VIGIL_ERR_MSG_MAX]; /* detail when status != VIGIL_OK */
} vigil_store_put;

/*
 * Store one observation event (and its score when score is non-NULL) in one
 * durable transaction; the patient is found or created from the event's
 * NHS number / MRN (as vigil_store_patient_ensure) and the set is linked to
 * the patient's open admission. Values are checked with
 * vigil_news2_validate; missing values are stored as NULL.
 * Idempotent per (source, source_id): a resent identical message returns
 * the stored ids with duplicate = true; the same id with different content
 * is VIGIL_ERR_CONFLICT. An empty source_id disables this check.
 * Returns out->status (also in err). Returns only after COMMIT.
 */
vigil_status vigil_store_put_obs(vigil_store *st, const vigil_actor *who, const vigil_obs_event *ev,
                                 const vigil_store_score *score, vigil_store_put *out,
                                 vigil_err *err);

/* One item of a batch: both pointers borrowed for the call; score may be NULL.
 * unit groups items that must be stored all or none (e.g. the observation
 * sets of one HL7 message): adjacent items with the same non-zero unit form
 * one unit; 0 means the item stands alone. */
typedef struct vigil_store_obs_item {
    const vigil_obs_event *ev;
    const vigil_store_score *score;
    unsigned unit;
} vigil_store_obs_item;

/*
 * Store n items in ONE durable transaction (group commit): each unit (an
 * item, or adjacent items sharing a non-zero unit) is all or none, so
 * a refused item is rolled back with the rest of its unit and reported in
 * out[i] (the other items of the unit get the same status and a message
 * naming the item that was refused) while the other units are stored. Returns VIGIL_OK when the
 * transaction committed (then every out[i] with status VIGIL_OK is durable), or an error when it
 * did not (then nothing of the batch is stored and out[] must be ignored). out must hold n entries.
 * n may be 0.
 */
vigil_status vigil_store_put_obs_batch(vigil_store *st, const vigil_actor *who,
                                       const vigil_store_obs_item *items, size_t n,
                                       vigil_store_put *out, vigil_err *err);

/* Store the score of an already stored set (one score per set:
 * VIGIL_ERR_CONFLICT when it has one). */
vigil_status vigil_store_put_score(vigil_store *st, const vigil_actor *who, int64_t obs_id,
                                   const vigil_store_score *score, int64_t *out_score_id,
                                   vigil_err *err);

/* The AI's score for an already stored score row (the ward server scores the
 * AI after it has acknowledged the set: docs/server.md "The AI, after the ACK"). */
typedef struct vigil_store_ai_item {
    int64_t score_id;
    vigil_store_ai ai; /* strings borrowed for the call */
} vigil_store_ai_item;

/*
 * Add AI scores to stored scores in ONE durable transaction, each with its
 * audit record ("score.ai"). status[i] is VIGIL_OK when item i was stored,
 * VIGIL_ERR_NOT_FOUND when there is no such score, VIGIL_ERR_CONFLICT when
 * the score already has an AI part (it is never overwritten), or the reason
 * the AI part is malformed (as for vigil_store_put_score). Refused items
 * write nothing; the others are still stored. Returns VIGIL_OK when the
 * transaction committed. status must hold n entries; n may be 0.
 */
vigil_status vigil_store_put_ai_batch(vigil_store *st, const vigil_actor *who,
                                      const vigil_store_ai_item *items, size_t n,
                                      vigil_status *status, vigil_err *err);

/*
 * Silent mode (issue 14): a shadow model's score of a stored score row,
 * kept for local validation and never shown, alerted on or used by the
 * escalation policy. One per (score, model version): a second is
 * VIGIL_ERR_CONFLICT; an unknown score VIGIL_ERR_NOT_FOUND. ai is checked
 * as for vigil_store_put_ai_batch (its explanation is not kept). Audited.
 */
vigil_status vigil_store_put_shadow(vigil_store *st, const vigil_actor *who, int64_t score_id,
                                    const vigil_store_ai *ai, vigil_err *err);

/* One stored observation set with its score, as read back. */
typedef struct vigil_store_obs_row {
    int64_t obs_id;
    int64_t patient_id;
    int64_t admission_id; /* 0 when none */
    int64_t received_ms;
    vigil_obs_event ev; /* nhs_number/mrn: the patient's identifiers */
    bool has_score;
    int64_t score_id;
    int64_t scored_ms;
    vigil_news2 news2;
    bool has_ai;
    double ai_risk;
    double ai_prob;
    bool ai_low_confidence; /* false also for scores stored before schema 3 */
    char model_version[VIGIL_ID_MAX];
    char *explanation_json; /* owned by the list; NULL when none */
} vigil_store_obs_row;

typedef struct vigil_store_obs_list {
    size_t n;
    vigil_store_obs_row *rows;
    bool truncated; /* more rows matched than max_rows */
} vigil_store_obs_list;

/*
 * A patient's observation sets with t_ms in [from_ms, to_ms], oldest first,
 * at most max_rows (audited read). *out is filled on success and empty on
 * error; either way vigil_store_obs_list_fini may be called on it.
 */
vigil_status vigil_store_obs_range(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                   int64_t from_ms, int64_t to_ms, size_t max_rows,
                                   vigil_store_obs_list *out, vigil_err *err);

/* One observation set's time and vital signs: what the AI needs of a
 * patient's history. */
typedef struct vigil_store_vitals {
    int64_t t_ms;
    vigil_obs obs;
} vigil_store_vitals;

/*
 * The patient's most recent sets with t_ms in [from_ms, to_ms] (at most
 * max, the latest ones), oldest first, into out (max entries); *n gets the
 * count. Only times and vitals: no score, no strings, one indexed read.
 * An audited read ("obs.read"), like vigil_store_obs_range.
 */
vigil_status vigil_store_obs_recent(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                    int64_t from_ms, int64_t to_ms, size_t max,
                                    vigil_store_vitals *out, size_t *n, vigil_err *err);

/* Free a list's rows and strings; leaves it empty. NULL is a no-op. */
void vigil_store_obs_list_fini(vigil_store_obs_list *l);

/* ---- escalation: episodes, alerts, acknowledgements --------------------- */

/*
 * Escalation levels (../shared/spec/escalation.md "Levels") are stored on the
 * RCP Chart 4 response scale: VIGIL_RESP_NURSE_ASSESS is "ward",
 * VIGIL_RESP_URGENT_WARD "urgent-ward", VIGIL_RESP_URGENT "urgent",
 * VIGIL_RESP_EMERGENCY "emergency". VIGIL_RESP_ROUTINE ("none") opens nothing.
 */
const char *vigil_store_level_name(vigil_news2_response level);

typedef enum vigil_store_trigger {
    VIGIL_STORE_TRIGGER_NEWS2 = 0,
    VIGIL_STORE_TRIGGER_AI,
    VIGIL_STORE_TRIGGER_STAFF_CONCERN,
    VIGIL_STORE_TRIGGER_MARTHAS_RULE,
    VIGIL_STORE_TRIGGER_COUNT
} vigil_store_trigger;

/* "news2", "ai", "staff-concern", "marthas-rule". */
const char *vigil_store_trigger_name(vigil_store_trigger t);

/*
 * Open an escalation episode at level with its one alert (raised at t_ms).
 * trigger_ref is the id of what triggered it (score id, concern id, Martha's
 * Rule call id) or 0. supersedes_id, when non-zero, is an open episode of
 * the same patient closed in the same transaction ("superseded": a higher
 * level opens a new episode). Ids of the new episode and alert come back.
 */
vigil_status vigil_store_episode_open(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                      vigil_news2_response level, vigil_store_trigger trigger,
                                      int64_t trigger_ref, int64_t supersedes_id, int64_t t_ms,
                                      int64_t *out_episode_id, int64_t *out_alert_id,
                                      vigil_err *err);

/* Close an open episode at t_ms with a reason (required). */
vigil_status vigil_store_episode_close(vigil_store *st, const vigil_actor *who, int64_t episode_id,
                                       int64_t t_ms, const char *reason, vigil_err *err);

/* Record that an unacknowledged alert was repeated at t_ms, at rota step
 * rota_step (0 = first responder), to notified (a role or rota name). */
vigil_status vigil_store_alert_repeat(vigil_store *st, const vigil_actor *who, int64_t alert_id,
                                      int64_t t_ms, int rota_step, const char *notified,
                                      vigil_err *err);

typedef enum vigil_store_ack_action {
    VIGIL_STORE_ACK_ATTENDING = 0, /* on the way to review */
    VIGIL_STORE_ACK_REVIEWED,      /* reviewed; plan made at this level */
    VIGIL_STORE_ACK_ESCALATED,     /* escalated further */
    VIGIL_STORE_ACK_DECLINED,      /* declined to escalate: reason required */
    VIGIL_STORE_ACK_COUNT
} vigil_store_ack_action;

/* "attending", "reviewed", "escalated", "declined". */
const char *vigil_store_ack_action_name(vigil_store_ack_action a);

/*
 * Acknowledge an alert: who->user (a registered, enabled user) did action
 * at t_ms. reason may be NULL except for VIGIL_STORE_ACK_DECLINED, where a
 * non-blank reason is required (REQ ESC-DECLINE-REASON; VIGIL_ERR_ARG).
 */
vigil_status vigil_store_alert_ack(vigil_store *st, const vigil_actor *who, int64_t alert_id,
                                   int64_t t_ms, vigil_store_ack_action action, const char *reason,
                                   int64_t *out_ack_id, vigil_err *err);

/* An escalation episode as read back, with its alert and its latest state. */
typedef struct vigil_store_episode {
    int64_t id;
    int64_t patient_id;
    char nhs_number[VIGIL_NHS_NUMBER_LEN + 1];
    char ward[VIGIL_STORE_NAME_MAX + 1]; /* current ward, "" when not admitted */
    char bed[VIGIL_STORE_NAME_MAX + 1];
    vigil_news2_response level;
    vigil_store_trigger trigger;
    int64_t trigger_ref;
    int64_t opened_ms;
    int64_t closed_ms; /* 0 while open */
    int64_t alert_id;
    int64_t alert_raised_ms;
    int n_repeats;
    int64_t last_repeat_ms; /* 0 when never repeated */
    int rota_step;          /* of the last repeat, 0 when never repeated */
    int n_acks;
    int64_t last_ack_ms;                    /* 0 when not acknowledged */
    vigil_store_ack_action last_ack_action; /* valid when n_acks > 0 */
    char last_ack_by[VIGIL_ID_MAX];
} vigil_store_episode;

typedef struct vigil_store_episode_list {
    size_t n;
    vigil_store_episode *rows;
} vigil_store_episode_list;

/* Open episodes (all, or those of patients currently on ward when ward is
 * non-NULL), oldest first (audited read, one record per episode). *out is
 * empty on error; release it with vigil_store_episode_list_fini. */
vigil_status vigil_store_episodes_open(vigil_store *st, const vigil_actor *who, const char *ward,
                                       vigil_store_episode_list *out, vigil_err *err);
void vigil_store_episode_list_fini(vigil_store_episode_list *l);

/* One event of a patient's escalation history: an alert raised, repeated,
 * acknowledged or closed, a staff concern, a Martha's Rule call or review, a
 * daily answer, an AI opt-out or its withdrawal, a Scale 2 decision, a plan.
 * Strings borrowed, valid during the callback only. */
typedef struct vigil_store_history_event {
    int64_t t_ms;
    const char *kind;   /* "alert", "alert-repeat", "ack", "episode-close", "staff-concern",
                           "marthas-call", "marthas-review", "daily-answer", "ai-optout",
                           "ai-optout-withdrawn", "scale2", "scale2-end", "plan" */
    const char *what;   /* a short phrase: "emergency", "declined", "family" ... */
    const char *by;     /* who (a username, a responder, or "vigil" for the policy) */
    const char *detail; /* why: a reason, a concern, a note, the trigger ("" when none) */
} vigil_store_history_event;

typedef vigil_status (*vigil_store_history_cb)(void *ctx, const vigil_store_history_event *e,
                                               vigil_err *err);

/* Patient patient_id's escalation history, newest first, at most limit
 * events: one audited read (record "patient.history"). cb's error stops the
 * walk and is returned. */
vigil_status vigil_store_patient_history(vigil_store *st, const vigil_actor *who,
                                         int64_t patient_id, size_t limit,
                                         vigil_store_history_cb cb, void *ctx, vigil_err *err);

/* ---- deterioration outcomes (issue 14) ---------------------------------- */

/* What happened to the patient: the outcomes a local validation and the
 * live monitoring compare the AI's and NEWS2's alerts with. */
typedef enum vigil_store_outcome_kind {
    VIGIL_STORE_OUTCOME_ICU_UNPLANNED = 0, /* unplanned admission to critical care */
    VIGIL_STORE_OUTCOME_ARREST_CALL,       /* cardiac arrest call */
    VIGIL_STORE_OUTCOME_DEATH,
    VIGIL_STORE_OUTCOME_SEPSIS, /* sepsis diagnosis */
    VIGIL_STORE_OUTCOME_KIND_COUNT
} vigil_store_outcome_kind;

/* "icu-unplanned", "cardiac-arrest-call", "death", "sepsis"; NULL when invalid. */
const char *vigil_store_outcome_kind_name(vigil_store_outcome_kind k);
/* The kind called name; -1 when none. */
int vigil_store_outcome_kind_from_name(const char *name);

#define VIGIL_STORE_OUTCOME_SOURCE_MAX 15 /* "api", "fhir", "hl7" */

typedef struct vigil_store_outcome {
    int64_t id;
    int64_t patient_id;
    int64_t admission_id;
    vigil_store_outcome_kind kind;
    int64_t t_ms;        /* when it happened */
    int64_t recorded_ms; /* when it was recorded */
    char source[VIGIL_STORE_OUTCOME_SOURCE_MAX + 1];
    char recorded_by[VIGIL_STORE_NAME_MAX + 1];
    char note[VIGIL_STORE_TEXT_MAX + 1];
} vigil_store_outcome;

/*
 * Record an outcome of the patient's admission admission_id (0: the
 * patient's latest admission, open or discharged: outcomes are often coded
 * after discharge). t_ms is when it happened, not before the admission;
 * source names the channel ("api", "fhir", "hl7"); note is optional. The same
 * (admission, kind, t_ms) twice is VIGIL_ERR_CONFLICT. Audited (the API
 * decides who may record: clinical roles; feeds record as their system actor).
 */
vigil_status vigil_store_outcome_record(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                        int64_t admission_id, vigil_store_outcome_kind kind,
                                        int64_t t_ms, int64_t recorded_ms, const char *source,
                                        const char *note, int64_t *out_id, vigil_err *err);

/* The patient's outcomes, oldest first, at most cap into out (caller-owned);
 * *out_n the count. Audited as one read. */
vigil_status vigil_store_outcomes_of(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                     vigil_store_outcome *out, size_t cap, size_t *out_n,
                                     vigil_err *err);

/* ---- concerns and Martha's Rule ----------------------------------------- */

/* A member of staff (who->user) is worried about the patient: concern in their
 * words (required). */
vigil_status vigil_store_staff_concern(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                       int64_t t_ms, const char *concern, int64_t *out_id,
                                       vigil_err *err);

typedef enum vigil_store_caller {
    VIGIL_STORE_CALLER_PATIENT = 0,
    VIGIL_STORE_CALLER_FAMILY,
    VIGIL_STORE_CALLER_CARER,
    VIGIL_STORE_CALLER_STAFF,
    VIGIL_STORE_CALLER_COUNT
} vigil_store_caller;

/* "patient", "family", "carer", "staff". */
const char *vigil_store_caller_name(vigil_store_caller c);

/* NHS England Martha's Rule categories: the kind of concern ... */
typedef enum vigil_store_marthas_category {
    VIGIL_STORE_MR_ACUTE_DETERIORATION = 0,
    VIGIL_STORE_MR_COMMUNICATION, /* communication and coordination concern */
    VIGIL_STORE_MR_CATEGORY_COUNT
} vigil_store_marthas_category;

/* ... and what the review led to. */
typedef enum vigil_store_marthas_outcome {
    VIGIL_STORE_MR_CHANGE_IN_CARE = 0, /* change in care on the ward */
    VIGIL_STORE_MR_TRANSFER,           /* transfer to a higher level of care */
    VIGIL_STORE_MR_NO_CHANGE,
    VIGIL_STORE_MR_OUTCOME_COUNT
} vigil_store_marthas_outcome;

/* "acute-deterioration", "communication-coordination";
 * "change-in-care", "transfer-higher-level", "no-change". */
const char *vigil_store_marthas_category_name(vigil_store_marthas_category c);
const char *vigil_store_marthas_outcome_name(vigil_store_marthas_outcome o);

/* A Martha's Rule call. Strings borrowed. */
typedef struct vigil_store_marthas_call {
    int64_t patient_id;
    vigil_store_caller caller;
    const char *caller_name; /* optional ("daughter"), NULL or "" */
    const char *channel;     /* required: "phone", "app", "in person", ... */
    int64_t t_ms;            /* when the call was made */
    const char *concern;     /* required: the concern in the caller's words */
} vigil_store_marthas_call;

/*
 * Record a Martha's Rule call (append-only: calls are never changed or
 * removed; the schema refuses UPDATE and DELETE). The ward at the time is
 * taken from the patient's current bed stay.
 */
vigil_status vigil_store_marthas_call_add(vigil_store *st, const vigil_actor *who,
                                          const vigil_store_marthas_call *call, int64_t *out_id,
                                          vigil_err *err);

typedef struct vigil_store_marthas_review {
    int64_t call_id;
    const char *responder; /* required: who reviewed (name or user) */
    int64_t t_ms;          /* when the review took place (>= call time) */
    vigil_store_marthas_category category;
    vigil_store_marthas_outcome outcome;
    const char *note; /* optional */
} vigil_store_marthas_review;

/* Record the one review of a call (VIGIL_ERR_CONFLICT when it has one;
 * append-only too). */
vigil_status vigil_store_marthas_review_add(vigil_store *st, const vigil_actor *who,
                                            const vigil_store_marthas_review *rev, int64_t *out_id,
                                            vigil_err *err);

/*
 * Write the Martha's Rule log for calls with t_ms in [from_ms, to_ms] as CSV
 * (RFC 4180, header row, times ISO 8601 UTC) to out, for the monthly return
 * (audited read, one record per call). Columns: call_id, called_at,
 * patient_id, nhs_number, ward, caller, caller_name, channel, concern,
 * recorded_by, responder, reviewed_at, minutes_to_review, category,
 * outcome, note. *out_n (optional) gets the number of calls written.
 */
/*
 * The same for a reader whose ward scope is wards[0..n_wards) ("*" for every
 * ward; NULL: every ward): calls of patients on other wards, or not admitted
 * (unless "*"), are neither written nor audited as read.
 */
vigil_status vigil_store_marthas_export_csv_scoped(vigil_store *st, const vigil_actor *who,
                                                   const char *const *wards, size_t n_wards,
                                                   int64_t from_ms, int64_t to_ms, FILE *out,
                                                   size_t *out_n, vigil_err *err);
vigil_status vigil_store_marthas_export_csv(vigil_store *st, const vigil_actor *who,
                                            int64_t from_ms, int64_t to_ms, FILE *out,
                                            size_t *out_n, vigil_err *err);

/* ---- patient state: daily answer, AI opt-out, Scale 2, plans ------------ */

typedef enum vigil_store_feeling {
    VIGIL_STORE_FEEL_BETTER = 0,
    VIGIL_STORE_FEEL_SAME,
    VIGIL_STORE_FEEL_WORSE,
    VIGIL_STORE_FEEL_COUNT
} vigil_store_feeling;

/* "better", "same", "worse". */
const char *vigil_store_feeling_name(vigil_store_feeling f);

/* Record the patient's answer to "do you feel better, the same or worse?"
 * asked by who->user at t_ms. */
vigil_status vigil_store_daily_answer(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                      int64_t t_ms, vigil_store_feeling answer, int64_t *out_id,
                                      vigil_err *err);

/* The patient opts out of AI scoring at t_ms (recorded by who->user; note
 * optional). VIGIL_ERR_CONFLICT when already opted out. */
vigil_status vigil_store_ai_optout(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                   int64_t t_ms, const char *note, int64_t *out_id, vigil_err *err);

/* The patient withdraws the opt-out at t_ms. VIGIL_ERR_NOT_FOUND when none. */
vigil_status vigil_store_ai_optout_withdraw(vigil_store *st, const vigil_actor *who,
                                            int64_t patient_id, int64_t t_ms, vigil_err *err);

/*
 * A clinical decision that the patient's SpO2 is scored on Scale 2 from t_ms
 * (RCP NEWS2: target 88-92%, made by a competent clinical decision maker).
 * who->user must be a registered doctor (VIGIL_ERR_DENIED); reason required.
 * VIGIL_ERR_CONFLICT when a decision is already in force.
 */
vigil_status vigil_store_scale2_set(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                    int64_t t_ms, const char *reason, int64_t *out_id,
                                    vigil_err *err);

/* End the Scale 2 decision in force (doctor; reason required). */
vigil_status vigil_store_scale2_end(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                    int64_t t_ms, const char *reason, vigil_err *err);

/* A revised escalation plan. Strings borrowed. */
typedef struct vigil_store_plan {
    int64_t patient_id;
    int64_t t_ms;          /* when made */
    const char *reason;    /* required: why the usual response does not fit */
    const char *plan;      /* required: what is accepted and what still escalates */
    int64_t review_ms;     /* required, > t_ms: when it must be reviewed */
    int64_t expires_ms;    /* required, >= review_ms: after this it no longer applies */
    vigil_esc_level level; /* the response accepted while NEWS2 is within the usual range */
    int news2_usual_max;   /* 0-20: NEWS2 totals up to this are this patient's usual */
} vigil_store_plan;

/* Record a revised escalation plan (who->user must be a registered doctor:
 * VIGIL_ERR_DENIED). A plan never overrides staff or family concern; that
 * is policy, not storage. */
vigil_status vigil_store_plan_add(vigil_store *st, const vigil_actor *who,
                                  const vigil_store_plan *plan, int64_t *out_id, vigil_err *err);

/* Revoke a plan at t_ms (doctor; reason required). */
vigil_status vigil_store_plan_revoke(vigil_store *st, const vigil_actor *who, int64_t plan_id,
                                     int64_t t_ms, const char *reason, vigil_err *err);

/* What the scoring and the ward list need to know about a patient at now_ms. */
typedef struct vigil_store_patient_state {
    bool ai_opted_out;
    int64_t ai_optout_since_ms;
    bool scale2; /* a Scale 2 decision is in force */
    int64_t scale2_since_ms;
    bool plan_active; /* a plan made before now_ms, not revoked, not expired */
    int64_t plan_id;
    int64_t plan_review_ms;
    int64_t plan_expires_ms;
    int64_t plan_made_ms;
    bool plan_has_terms; /* level and news2_usual_max stored (not for plans made before
                            schema version 4: shown, not applied) */
    vigil_esc_level plan_level;
    int plan_news2_usual_max;
    char plan_by[VIGIL_ID_MAX];
    char plan_reason[VIGIL_ESC_TEXT_MAX]; /* cut to fit, on a UTF-8 boundary */
    bool has_daily;
    vigil_store_feeling daily; /* the latest answer, when has_daily */
    int64_t daily_ms;
    vigil_news2_response open_level; /* highest open episode, VIGIL_RESP_ROUTINE if none */
    int64_t open_episode_id;
    int n_unreviewed_marthas; /* Martha's Rule calls with no review yet */
} vigil_store_patient_state;

/* Read the state above (audited read). */
vigil_status vigil_store_patient_state_get(vigil_store *st, const vigil_actor *who,
                                           int64_t patient_id, int64_t now_ms,
                                           vigil_store_patient_state *out, vigil_err *err);

/* ---- the ward list ------------------------------------------------------- */

typedef struct vigil_store_ward_entry {
    vigil_patient patient;
    int64_t admission_id;
    char bed[VIGIL_STORE_NAME_MAX + 1];
    int64_t bed_since_ms;
    int64_t last_obs_id; /* 0 when none */
    int64_t last_obs_ms; /* when the latest set was measured: due/overdue input */
    bool has_score;      /* of the latest scored set (latest by measured time, a time
                            ahead of the set's arrival counting as its arrival): */
    int64_t score_id;
    int64_t score_obs_ms;
    int64_t score_order_ms; /* min(measured, received): the order "latest" means */
    vigil_news2 news2;
    bool has_ai;
    double ai_prob;
    bool ai_low_confidence;
    /* When the latest scored set is incomplete (REQ ESC-PARTIAL-NEVER-LOWERS):
     * the latest complete set's score, and the highest-scoring incomplete
     * set measured after it (or on record, when none is complete). */
    bool has_complete_score;
    int64_t complete_obs_ms;
    vigil_news2 complete_news2;
    bool has_partial_peak;
    int64_t partial_peak_obs_ms;
    vigil_news2 partial_peak_news2;
    vigil_store_patient_state state;
} vigil_store_ward_entry;

typedef struct vigil_store_ward_list {
    size_t n;
    vigil_store_ward_entry *rows;
} vigil_store_ward_list;

/*
 * The patients currently on ward (open admission, current bed stay on that
 * ward), by bed, each with its latest observation time, latest score
 * (news2.monitoring is the due-time input) and state at now_ms. Audited
 * read: one `ward.list` record names every patient shown (their ids in its
 * detail; a ward too long for one record's detail gets one record per part,
 * "part i/n"). The read's transaction commits before this returns but
 * without waiting for the disk: it reaches the disk with the next durable
 * commit or vigil_store_sync (the server calls it every second). *out is
 * empty on error; release it with vigil_store_ward_list_fini.
 */
vigil_status vigil_store_ward_list_get(vigil_store *st, const vigil_actor *who, const char *ward,
                                       int64_t now_ms, vigil_store_ward_list *out, vigil_err *err);
void vigil_store_ward_list_fini(vigil_store_ward_list *l);

/* Where one patient is now, with what the ward list shows for them. */
typedef struct vigil_store_patient_current {
    vigil_store_ward_entry entry;        /* as a ward list row; admission_id 0 and bed ""
                                            when the patient has no open admission */
    char ward[VIGIL_STORE_NAME_MAX + 1]; /* current ward, "" when not admitted */
    int64_t admitted_ms;                 /* 0 when not admitted */
    int64_t score_id;                    /* of the latest scored set (entry.news2), 0 if none */
} vigil_store_patient_current;

/*
 * One patient's current admission, bed, latest observation and score and
 * state at now_ms, in one transaction (audited read "patient.current").
 * VIGIL_ERR_NOT_FOUND when there is no such patient.
 */
vigil_status vigil_store_patient_current_get(vigil_store *st, const vigil_actor *who,
                                             int64_t patient_id, int64_t now_ms,
                                             vigil_store_patient_current *out, vigil_err *err);

/* ---- rotas and pages (docs/store.md "Rotas and pages") ------------------ */

/*
 * A rota post is (ward, level, step): ward is a ward name or "*" (every
 * ward without a holder of its own for that post), level is one of the
 * escalation levels ("ward", "urgent-ward", "urgent", "emergency") or
 * "in-charge" (step 0 the nurse in charge, step 1 the site manager: paged
 * when an alert reaches the top of its rota or a post has no holder), and
 * step is the rota step the policy climbs (0 = first responder). A shift
 * gives a post to a user from from_ms until to_ms (exclusive); posts may
 * have several holders at once (cover). Shifts are never deleted: ending
 * one early records who ended it and when.
 */
#define VIGIL_STORE_ROTA_STEPS_MAX 16
#define VIGIL_STORE_LEVEL_TEXT_MAX 15 /* "urgent-ward", "in-charge" */

typedef struct vigil_store_shift {
    int64_t id;                              /* 0 before it is stored */
    char ward[VIGIL_STORE_NAME_MAX + 1];     /* a ward or "*" */
    char level[VIGIL_STORE_LEVEL_TEXT_MAX + 1];
    int step;                                /* 0 .. VIGIL_STORE_ROTA_STEPS_MAX - 1 */
    char username[VIGIL_ID_MAX];             /* an enabled user */
    int64_t from_ms, to_ms;                  /* to_ms > from_ms */
    char created_by[VIGIL_ID_MAX];           /* filled on read */
} vigil_store_shift;

/* Add a shift (audited "rota.shift-add"). who->user must be an enabled user
 * (the server decides which roles may edit which wards). VIGIL_ERR_ARG for
 * an unknown level, a step out of range, to_ms <= from_ms;
 * VIGIL_ERR_NOT_FOUND when username is no enabled user. */
vigil_status vigil_store_shift_add(vigil_store *st, const vigil_actor *who,
                                   const vigil_store_shift *s, int64_t *out_id, vigil_err *err);

/* End shift id at t_ms (to_ms becomes min(to_ms, t_ms); audited
 * "rota.shift-end"). *out (may be NULL) gets the shift as it was.
 * VIGIL_ERR_NOT_FOUND when there is no such shift in force or to come. */
vigil_status vigil_store_shift_end(vigil_store *st, const vigil_actor *who, int64_t id,
                                   int64_t t_ms, vigil_store_shift *out, vigil_err *err);

/* Shifts overlapping [from_ms, to_ms) of ward (and of "*"; NULL: every
 * ward), by ward, level, step, start; at most max into out; *n the count.
 * Staff data, not patient data: not audited. */
vigil_status vigil_store_shifts_get(vigil_store *st, const char *ward, int64_t from_ms,
                                    int64_t to_ms, vigil_store_shift *out, size_t max, size_t *n,
                                    vigil_err *err);

/* The users holding post (ward, level, step) at t_ms: the ward's own
 * holders, else those of "*". At most max into out; *n the count (0: a
 * gap). */
vigil_status vigil_store_rota_holders(vigil_store *st, const char *ward, const char *level,
                                      int step, int64_t t_ms, char (*out)[VIGIL_ID_MAX],
                                      size_t max, size_t *n, vigil_err *err);

/* A post nobody holds at t_ms. */
typedef struct vigil_store_rota_gap {
    char ward[VIGIL_STORE_NAME_MAX + 1];
    char level[VIGIL_STORE_LEVEL_TEXT_MAX + 1];
    int step;
} vigil_store_rota_gap;

/* Every gap at t_ms: for each ward with a patient in a bed now or a shift
 * of its own, each level's steps 0 .. steps - 1 and in-charge steps 0 (the
 * nurse in charge) and 1 (the site manager), the posts with no holder (own
 * or "*"). At most max into out; *n the count
 * (all of them, even past max). */
vigil_status vigil_store_rota_gaps(vigil_store *st, int64_t t_ms, int steps,
                                   vigil_store_rota_gap *out, size_t max, size_t *n,
                                   vigil_err *err);

/* How a page reaches its recipient: the web app (the responder's signed-in
 * phone or tablet polls for it) or the webhook of a paging gateway. */
typedef enum vigil_store_channel {
    VIGIL_STORE_CHANNEL_WEB = 0,
    VIGIL_STORE_CHANNEL_WEBHOOK,
    VIGIL_STORE_CHANNEL_COUNT
} vigil_store_channel;

/* "web", "webhook". */
const char *vigil_store_channel_name(vigil_store_channel c);

/* A page to write in the same transaction as the alert or repeat that
 * causes it (the outbox). Strings borrowed for the call. */
typedef struct vigil_store_page_req {
    const char *recipient; /* a username; NULL or "": nobody holds the post (a gap): the page
                              is stored "unrouted", shown and counted, never sent */
    vigil_store_channel channel;
    const char *post;      /* the post paged, e.g. "emergency step 1", "in-charge step 0" */
    int rota_step;
} vigil_store_page_req;

/* The delivery state of a page. Delivered, read and acknowledged are
 * separate times on the page; state is where sending stands. */
typedef enum vigil_store_page_state {
    VIGIL_STORE_PAGE_PENDING = 0, /* to send (webhook) or to be fetched (web) */
    VIGIL_STORE_PAGE_DELIVERED,   /* the gateway took it / the responder's app fetched it */
    VIGIL_STORE_PAGE_FAILED,      /* given up after the last attempt */
    VIGIL_STORE_PAGE_CANCELLED,   /* the alert was acknowledged before it was sent */
    VIGIL_STORE_PAGE_UNROUTED,    /* nobody held the post: never sent */
    VIGIL_STORE_PAGE_STATE_COUNT
} vigil_store_page_state;

/* "pending", "delivered", "failed", "cancelled", "unrouted". */
const char *vigil_store_page_state_name(vigil_store_page_state s);

/* A stored page. */
typedef struct vigil_store_page {
    int64_t id; /* the page id: unique in the store, never reused */
    int64_t alert_id;
    int64_t patient_id;
    char ward[VIGIL_STORE_NAME_MAX + 1]; /* where the patient was when it was paged */
    char bed[VIGIL_STORE_NAME_MAX + 1];
    char level[VIGIL_STORE_LEVEL_TEXT_MAX + 1];
    char post[VIGIL_STORE_NAME_MAX + 1];
    char recipient[VIGIL_ID_MAX]; /* "" when unrouted */
    vigil_store_channel channel;
    vigil_store_page_state state;
    int rota_step;
    int attempts;
    int64_t created_ms, next_ms;
    int64_t delivered_ms, read_ms, acked_ms; /* 0 when not (yet) */
    char last_error[VIGIL_STORE_NAME_MAX + 1];
    int64_t notice_of; /* 0: a page; else this is the acknowledgement notice of that
                          webhook page, telling the gateway the alert was acknowledged */
} vigil_store_page;

/*
 * vigil_store_episode_open and vigil_store_alert_repeat, writing pages[0..n)
 * in the same transaction (each audited "page.queue"), so a page is queued
 * exactly when its alert or repeat is stored. n may be 0.
 */
vigil_status vigil_store_episode_open_paged(vigil_store *st, const vigil_actor *who,
                                            int64_t patient_id, vigil_news2_response level,
                                            vigil_store_trigger trigger, int64_t trigger_ref,
                                            int64_t supersedes_id, int64_t t_ms,
                                            const vigil_store_page_req *pages, size_t n_pages,
                                            int64_t *out_episode_id, int64_t *out_alert_id,
                                            vigil_err *err);
vigil_status vigil_store_alert_repeat_paged(vigil_store *st, const vigil_actor *who,
                                            int64_t alert_id, int64_t t_ms, int rota_step,
                                            const char *notified,
                                            const vigil_store_page_req *pages, size_t n_pages,
                                            vigil_err *err);

/*
 * vigil_store_alert_repeat_paged, once per interval whichever node asks (REQ
 * ESC-REPEAT-ONCE): in the same transaction, under a lock on the alert that
 * every other repeat of it waits for (any connection, process or node), the
 * repeat and its pages are written only when the alert was last sent (its
 * latest repeat, else its raising) at or before t_ms - min_gap_ms. Otherwise
 * VIGIL_ERR_CONFLICT and nothing is written: another node repeated it (a
 * lease changing hands, a node restarting) and this one's repeat would page
 * the same people twice. min_gap_ms >= 0.
 */
vigil_status vigil_store_alert_repeat_once(vigil_store *st, const vigil_actor *who,
                                           int64_t alert_id, int64_t t_ms, int64_t min_gap_ms,
                                           int rota_step, const char *notified,
                                           const vigil_store_page_req *pages, size_t n_pages,
                                           vigil_err *err);

/* Pending pages of channel due at now_ms (next_ms <= now_ms), oldest
 * first, at most max into out; *n the count. */
vigil_status vigil_store_pages_due(vigil_store *st, vigil_store_channel channel, int64_t now_ms,
                                   vigil_store_page *out, size_t max, size_t *n, vigil_err *err);

typedef enum vigil_store_attempt_outcome {
    VIGIL_STORE_ATTEMPT_DELIVERED = 0,
    VIGIL_STORE_ATTEMPT_RETRY, /* failed; tried again at next_ms */
    VIGIL_STORE_ATTEMPT_FAILED, /* failed; no more attempts */
    VIGIL_STORE_ATTEMPT_OUTCOME_COUNT
} vigil_store_attempt_outcome;

/* Record one delivery attempt of a pending page at t_ms and its outcome
 * (detail: e.g. "HTTP 503", "timeout"), audited "page.attempt" in the same
 * transaction; RETRY sets next_ms. VIGIL_ERR_CONFLICT when the page is no
 * longer pending (acknowledged meanwhile: the attempt is still recorded). */
vigil_status vigil_store_page_attempt(vigil_store *st, const vigil_actor *who, int64_t page_id,
                                      int64_t t_ms, vigil_store_attempt_outcome outcome,
                                      int64_t next_ms, const char *detail, vigil_err *err);

/* A pending page fails for good at t_ms (as vigil_store_page_attempt with
 * VIGIL_STORE_ATTEMPT_FAILED), and, in the same transaction, fallback[0..n)
 * are queued for its alert (REQ PAGE-FAILED-IN-CHARGE: the nurse in charge
 * learns that a page reached nobody). n may be 0. A page no longer pending
 * gets the attempt recorded and no fallback. */
vigil_status vigil_store_page_failed(vigil_store *st, const vigil_actor *who, int64_t page_id,
                                     int64_t t_ms, const char *detail,
                                     const vigil_store_page_req *fallback, size_t n,
                                     vigil_err *err);

/* The pages to username (who->user) created since since_ms, newest first,
 * at most max; web pages still pending become delivered at now_ms (audited
 * "page.delivered"). An audited read ("page.read-list"). */
vigil_status vigil_store_pages_for(vigil_store *st, const vigil_actor *who, int64_t since_ms,
                                   int64_t now_ms, vigil_store_page *out, size_t max, size_t *n,
                                   vigil_err *err);

/* The recipient (who->user) has read page id at t_ms (the first time
 * counts; audited "page.read"). VIGIL_ERR_NOT_FOUND when it is not theirs. */
vigil_status vigil_store_page_read(vigil_store *st, const vigil_actor *who, int64_t page_id,
                                   int64_t t_ms, vigil_store_page *out, vigil_err *err);

/* The pages of alert_id, oldest first (staff view of delivery). */
vigil_status vigil_store_pages_of_alert(vigil_store *st, int64_t alert_id, vigil_store_page *out,
                                        size_t max, size_t *n, vigil_err *err);

/* ---- non-urgent e-mail summaries (issue 16) ------------------------------ */

/* A summary e-mail of one period to one address, queued in the store (the
 * outbox again) and sent by the pager through a local SMTP relay. Summaries
 * carry counts per ward only: no patient, bed or NHS number; an alert is
 * never sent by e-mail (pages have no e-mail channel). */
typedef struct vigil_store_summary {
    int64_t id;                              /* never reused: the Message-ID */
    char recipient[VIGIL_STORE_NAME_MAX + 1]; /* an e-mail address */
    int64_t from_ms, to_ms;                  /* the period, [from, to) */
    vigil_store_page_state state;            /* pending, delivered or failed */
    int attempts;
    int64_t created_ms, next_ms, delivered_ms;
    char last_error[VIGIL_STORE_NAME_MAX + 1];
} vigil_store_summary;

/* True when address is one plain e-mail address (local@domain, no blanks,
 * control characters, <>, commas or quotes): safe in an SMTP envelope and a
 * header. */
bool vigil_store_email_address_ok(const char *address);

/* The end of the last period queued (0: none yet). */
vigil_status vigil_store_summary_last(vigil_store *st, int64_t *out_to_ms, vigil_err *err);

/* Queue a summary of [from_ms, to_ms) to each of to[0..n) in one
 * transaction, each audited "summary.queue". VIGIL_ERR_CONFLICT when a
 * period ending after from_ms is already queued (a period is summarised
 * once). */
vigil_status vigil_store_summaries_queue(vigil_store *st, const vigil_actor *who,
                                         const char *const *to, size_t n, int64_t from_ms,
                                         int64_t to_ms, vigil_err *err);

/* Pending summaries due at now_ms, oldest first, at most max; *n the count. */
vigil_status vigil_store_summaries_due(vigil_store *st, int64_t now_ms, vigil_store_summary *out,
                                       size_t max, size_t *n, vigil_err *err);

/* Record one sending attempt of a pending summary (as
 * vigil_store_page_attempt; audited "summary.attempt"). */
vigil_status vigil_store_summary_attempt(vigil_store *st, const vigil_actor *who,
                                         int64_t summary_id, int64_t t_ms,
                                         vigil_store_attempt_outcome outcome, int64_t next_ms,
                                         const char *detail, vigil_err *err);

#define VIGIL_STORE_SUMMARY_LEVELS 4 /* ward, urgent-ward, urgent, emergency */

/* One ward's figures for a period: alerts raised in it by level (indexed as
 * vigil_news2_response's ward .. emergency, 0..3), how many were
 * acknowledged by to_ms and how fast, those open and unacknowledged at
 * to_ms (raised at any time), pages of the period that failed or found
 * nobody on the rota, and Martha's Rule calls of the period and those not
 * reviewed by to_ms. The ward is where the patient was when the alert was
 * raised ("" when not in a bed). */
typedef struct vigil_store_ward_summary {
    char ward[VIGIL_STORE_NAME_MAX + 1];
    unsigned alerts[VIGIL_STORE_SUMMARY_LEVELS];
    unsigned acked;
    int64_t ack_median_ms, ack_max_ms; /* -1 when none acknowledged */
    unsigned unacked_open;
    unsigned pages_failed, pages_unrouted;
    unsigned marthas_calls, marthas_unreviewed;
} vigil_store_ward_summary;

/* Every ward with something to report for [from_ms, to_ms), by ward; at
 * most max into out, *n all of them. Counts only: not audited as a read of
 * patient data. */
vigil_status vigil_store_ward_summaries(vigil_store *st, int64_t from_ms, int64_t to_ms,
                                        vigil_store_ward_summary *out, size_t max, size_t *n,
                                        vigil_err *err);

/* ---- users, roles, passwords --------------------------------------------- */

typedef enum vigil_store_role {
    VIGIL_STORE_ROLE_NURSE = 0,
    VIGIL_STORE_ROLE_DOCTOR,
    VIGIL_STORE_ROLE_OUTREACH,
    VIGIL_STORE_ROLE_SAFETY_OFFICER,
    VIGIL_STORE_ROLE_ADMIN,
    VIGIL_STORE_ROLE_COUNT
} vigil_store_role;

/* "nurse", "doctor", "outreach", "safety-officer", "admin". */
const char *vigil_store_role_name(vigil_store_role r);

typedef struct vigil_store_user {
    int64_t id;
    char username[VIGIL_ID_MAX];
    char display_name[VIGIL_STORE_NAME_MAX + 1];
    vigil_store_role role;
    bool disabled;
    size_t n_wards;
    char wards[VIGIL_STORE_WARDS_MAX][VIGIL_STORE_NAME_MAX + 1]; /* "*" = every ward */
} vigil_store_user;

/*
 * Add a user. password (>= VIGIL_PASSWORD_MIN characters) is hashed with
 * argon2id (libsodium crypto_pwhash_str, interactive limits: ~70 ms, 64 MiB)
 * and never stored. wards: n_wards (1..VIGIL_STORE_WARDS_MAX) ward names or
 * "*". VIGIL_ERR_CONFLICT when the username exists.
 */
vigil_status vigil_store_user_add(vigil_store *st, const vigil_actor *who, const char *username,
                                  const char *display_name, vigil_store_role role,
                                  const char *password, const char *const *wards, size_t n_wards,
                                  int64_t *out_id, vigil_err *err);

/*
 * Check username and password. VIGIL_OK with *out filled when they match an
 * enabled user; VIGIL_ERR_DENIED otherwise (unknown users cost the same
 * time as known ones). Each attempt is audited ("auth.login" /
 * "auth.fail"). Callers must throttle attempts (each costs 64 MiB).
 */
vigil_status vigil_store_user_login(vigil_store *st, const char *username, const char *password,
                                    vigil_store_user *out, vigil_err *err);

/* Read a user (not their hash). VIGIL_ERR_NOT_FOUND if none. */
vigil_status vigil_store_user_get(vigil_store *st, const char *username, vigil_store_user *out,
                                  vigil_err *err);

/* Replace a user's password (hashed as above). */
vigil_status vigil_store_user_set_password(vigil_store *st, const vigil_actor *who,
                                           const char *username, const char *password,
                                           vigil_err *err);

/* Record refused access as one audit record "access.denied" (entity
 * "route", no patient): who tried (who->user, "anonymous" without a
 * session) and, in detail, a summary such as "403 GET /api/patients/{} x12
 * from 10.0.0.5 since 2026-12-07T03:50:00Z" (cut to fit). The server
 * aggregates (one record per user, route, status and minute, with its count)
 * so a flood of denials cannot flood the store. VIGIL_ERR_ARG for a bad actor
 * or an empty detail. */
vigil_status vigil_store_audit_denied(vigil_store *st, const vigil_actor *who, const char *detail,
                                      vigil_err *err);

/* Enable a disabled user again (audited "user.enable"); VIGIL_ERR_NOT_FOUND
 * when there is no such disabled user. */
vigil_status vigil_store_user_enable(vigil_store *st, const vigil_actor *who, const char *username,
                                     vigil_err *err);

/* Disable a user at t_ms: their logins fail from then on, and every session
 * of theirs (vigil_store_session_new) ends in the same transaction, on every
 * node of the store at once. *out_sessions_ended (may be NULL) gets how many
 * were stored (live or not yet swept). Audited "user.disable". */
vigil_status vigil_store_user_disable(vigil_store *st, const vigil_actor *who, const char *username,
                                      int64_t t_ms, size_t *out_sessions_ended, vigil_err *err);

/* One user as the admin's list shows them: never their password hash. */
typedef struct vigil_store_user_row {
    vigil_store_user user;
    int64_t created_ms;
    int64_t disabled_ms;   /* 0 while enabled */
    int64_t last_login_ms; /* the latest successful sign-in (audit "auth.login"), 0 if none */
} vigil_store_user_row;

typedef struct vigil_store_user_list {
    size_t n;
    vigil_store_user_row *rows;
} vigil_store_user_list;

/*
 * Every user, by username, with wards, enabled or not, and last sign-in
 * (audited read "user.list"). The last sign-in is read from the audit chain
 * (one pass over its auth.login records: the cost grows with the chain).
 * *out is empty on error; release it with vigil_store_user_list_fini.
 */
vigil_status vigil_store_user_list_get(vigil_store *st, const vigil_actor *who,
                                       vigil_store_user_list *out, vigil_err *err);
void vigil_store_user_list_fini(vigil_store_user_list *l);

/* Hash a password into out ("$argon2id$..." NUL-terminated). Reentrant. */
vigil_status vigil_password_hash(const char *password, char out[VIGIL_PASSWORD_HASH_MAX],
                                 vigil_err *err);

/* True when password matches hash (constant time in the password). A hash
 * not in libsodium's argon2id form, or asking for more than 256 MiB, 16
 * passes or 4 lanes, is false. Uses the calling thread's reserved memory when
 * it has some (below), else allocates for the call. */
bool vigil_password_verify(const char *hash, const char *password);

/* Reserve, and touch, the calling thread's memory for checking passwords
 * (64 MiB, argon2id's interactive limit), kept until
 * vigil_password_scratch_release on the same thread: a thread checking many
 * sign-ins then holds one fixed block instead of mapping and unmapping 64 MiB
 * for each (flat memory under a flood of sign-ins, issue 12). Idempotent.
 * VIGIL_ERR_NOMEM when it cannot be had: checks then allocate per call. */
vigil_status vigil_password_scratch_reserve(vigil_err *err);
void vigil_password_scratch_release(void);

/* ---- secrets shared by the nodes of one store (issue 15) ----------------- */

#define VIGIL_STORE_SECRET_NAME_MAX 63 /* bytes of a name: a-z, 0-9, '-' and '.' */
#define VIGIL_STORE_SECRET_MAX 64      /* bytes of a secret */

/*
 * The secret called name, kept in the store so every process and node using
 * it has the same one (the bedside codes' key, "bedside-code-key"). When the
 * store has no secret of that name, candidate (len bytes, 1 to
 * VIGIL_STORE_SECRET_MAX: fresh random bytes, or a key the caller kept
 * elsewhere before) is stored; either way out (len bytes) gets the one
 * stored. Atomic: callers racing on any connections, processes or nodes all
 * get the first one committed. A stored secret is never changed or removed.
 * Not audited (no patient data). candidate and out are borrowed for the
 * call and may be the same buffer.
 * VIGIL_ERR_ARG for a bad name, length or pointer; VIGIL_ERR_MISMATCH when
 * the stored secret is not len bytes (out unchanged); VIGIL_ERR_DENIED on a
 * store opened read-only. Same thread rules as every call on st.
 */
vigil_status vigil_store_secret_ensure(vigil_store *st, const char *name, const uint8_t *candidate,
                                       size_t len, uint8_t *out, vigil_err *err);

/* ---- sign-in sessions shared by the nodes of one store (issue 15) -------- */

#define VIGIL_STORE_SESSION_HASH_LEN 32 /* bytes of a session token's hash */
/* A session's last use is written again only when it moved by this much (or
 * by a tenth of the idle timeout, when that is less): never a durable write
 * per request. The stored last use is therefore up to this much behind, and a
 * session may end that much before its idle timeout, never after it. */
#define VIGIL_STORE_SESSION_TOUCH_MS 60000

/* The rules every session follows (the server's configuration). */
typedef struct vigil_store_session_rules {
    int64_t idle_ms;  /* a session ends this long after its last use (> 0) */
    int64_t max_ms;   /* and this long after it began, however used (> 0) */
    size_t per_user;  /* a user's sessions at most: a further one ends their least recently
                         used (>= 1) */
    size_t total;     /* live sessions in the store at most: a further one is refused, nobody
                         else is signed out for it (>= 1) */
} vigil_store_session_rules;

/*
 * Store a new session of username, begun at now_ms, known by hash (the
 * caller's hash of a random token: the store never sees the token; the
 * server uses BLAKE2b-256). In one transaction, serialised with every other
 * sign-in and every disabling on any node: sessions past their idle or
 * absolute limit are deleted; when the user holds rules->per_user live
 * sessions their least recently used ends (never another user's); when
 * rules->total live sessions remain the new one is refused with
 * VIGIL_ERR_NOMEM and nothing is written. VIGIL_ERR_DENIED when the user is
 * unknown or disabled (checked inside the transaction: a user disabled
 * meanwhile gets no session); VIGIL_ERR_CONFLICT when hash is already a
 * session's. Durable on return. Not audited (the sign-in itself is:
 * vigil_store_user_login's "auth.login"). Same thread rules as every call on st.
 */
vigil_status vigil_store_session_new(vigil_store *st, const uint8_t *hash, const char *username,
                                     int64_t now_ms, const vigil_store_session_rules *rules,
                                     vigil_err *err);

/*
 * The user of the live session known by hash at now_ms, read from the store
 * on every call (another node's sign-out or disabling counts at once): VIGIL_OK
 * with *out (their role and wards as stored now); VIGIL_ERR_NOT_FOUND when
 * there is no such session, it is past its idle or absolute limit, or its
 * user is disabled. Marks the session used at now_ms, written to the store
 * (without waiting for the disk: a crash can only make it end sooner) when
 * the stored last use is VIGIL_STORE_SESSION_TOUCH_MS or more behind; a
 * failure of that write does not fail the call. Unaudited.
 */
vigil_status vigil_store_session_get(vigil_store *st, const uint8_t *hash, int64_t now_ms,
                                     const vigil_store_session_rules *rules, vigil_store_user *out,
                                     vigil_err *err);

/* End the session known by hash (sign-out), on every node at once; durable on
 * return. *out_ended (may be NULL): whether there was one. Unaudited. */
vigil_status vigil_store_session_end(vigil_store *st, const uint8_t *hash, bool *out_ended,
                                     vigil_err *err);

/* ---- several nodes on one store (issue 15 item 4) ------------------------ */

#define VIGIL_STORE_LEASE_NAME_MAX 63 /* bytes of a lease's name: a-z, 0-9, '-' and '.' */

/*
 * Take or keep the lease called name (VIGIL_STORE_LEASE_NAME_MAX bytes,
 * a-z, 0-9, '-', '.') for st, without waiting: *out_held is true while st
 * holds it and false while another handle does (in this process, another or
 * on another node of the same database). Call it again every second or two:
 * the lease is released when st is closed, its process dies or (PostgreSQL)
 * its connection to the database drops, and the next call on another handle
 * then takes it; a holder whose connection dropped finds *out_held false at
 * its next call. One handle per lease: the server opens one for it and makes
 * no other call on it. PostgreSQL: a session-level advisory lock; SQLite: a
 * lock on a byte of <database>.lease (held by every handle of a database with
 * no file). Not audited (the caller logs a take-over). An error means "not
 * held" (*out_held false). Same thread rules as every call on st.
 */
vigil_status vigil_store_lease_try(vigil_store *st, const char *name, bool *out_held,
                                   vigil_err *err);

/* Record that who (the node: user its name, reason "lease") took the lease
 * called name: one audit record "lease.taken", entity "lease", detail as
 * given (who held it before, when). VIGIL_ERR_ARG for a bad actor or an
 * empty detail. */
vigil_status vigil_store_audit_lease(vigil_store *st, const vigil_actor *who, const char *detail,
                                     vigil_err *err);

/*
 * The change feed: *out advances when another connection (another process,
 * another node, or another handle of this process) has committed, since the
 * last call, a write to the escalation's tables: episodes, alerts, repeats,
 * acknowledgements, Martha's Rule calls and reviews, staff concerns. Never
 * waits, never opens a transaction: PostgreSQL counts the notifications
 * (LISTEN vigil_feed) that such writes send on commit; SQLite gives 0 always
 * (one node by design: see docs/server.md "Several nodes"). Not audited.
 * (The ward list's rows in memory follow every other write the ward list can
 * see through the same notifications: docs/store.md.)
 */
vigil_status vigil_store_changes(vigil_store *st, int64_t *out, vigil_err *err);

/* ---- monitoring rows (issue 14: the live monitor, validate --db) --------- */

/* One stored observation set as the monitoring reads it: no name, no NHS
 * number; the admission it belongs to, its ward at the time, the vital signs
 * as measured, the live AI's probability, and what is known of its outcome. */
typedef struct vigil_store_set_row {
    int64_t obs_id, patient_id, admission_id;
    int64_t t_ms;                        /* when measured */
    int64_t received_ms;                 /* when vigil received it */
    char ward[VIGIL_STORE_NAME_MAX + 1]; /* the bed stay's ward at t_ms ("" when none) */
    vigil_obs obs; /* the set as stored: its vital signs (vigil/vitals.h reads them), age_y
                      (NaN when not recorded), spo2_scale, pregnant */
    vigil_admin_sex sex; /* the patient's, as stored now; NONE when not recorded */
    int news2_total;       /* -1 when the set has no score */
    double ai_prob;        /* the live model's probability; NaN when not scored by it */
    int64_t outcome_ms;    /* the admission's first outcome at or after t_ms; -1 when none */
    int64_t discharged_ms; /* -1 while admitted */
} vigil_store_set_row;

/* Called once per row; a non-OK return stops the walk and is returned.
 * row is borrowed for the call. */
typedef vigil_status (*vigil_store_set_row_cb)(void *ctx, const vigil_store_set_row *row,
                                               vigil_err *err);

/*
 * Every observation set of an admission measured in [from_ms, to_ms), in
 * (admission, time, id) order, in one read transaction (a consistent
 * snapshot; works on a VIGIL_STORE_READONLY connection). Not audited: the
 * rows leave the store only as aggregate monitoring figures (callers that
 * show rows to a person audit that themselves). Thread-safe per connection.
 */
vigil_status vigil_store_set_rows(vigil_store *st, int64_t from_ms, int64_t to_ms,
                                  vigil_store_set_row_cb cb, void *ctx, vigil_err *err);

/*
 * The ward of the patient's open bed stay into out_ward ("" when not
 * admitted or not in a bed), for an access decision taken BEFORE any
 * audited read (issue 12: no read is audited for a patient the user may not
 * see). Not audited: it reveals only where a patient is, which the caller
 * uses to refuse or to go on to an audited read, never shows. NOT_FOUND when
 * there is no such patient; ARG on a bad argument. Thread-safe per
 * connection; works on a VIGIL_STORE_READONLY connection.
 */
vigil_status vigil_store_patient_ward(vigil_store *st, int64_t patient_id,
                                      char out_ward[VIGIL_STORE_NAME_MAX + 1], vigil_err *err);

/* ---- moving a store to another backend (vigil migrate) ------------------ */

#define VIGIL_STORE_COPY_TABLES 40 /* the most tables a copy reports */

/* One table of a copy. */
typedef struct vigil_store_copy_table {
    char name[64];
    int64_t n_from; /* rows read from the source */
    int64_t n_to;   /* rows the target held before its commit */
    bool same;      /* the target's rows are the source's, value for value and in key order */
} vigil_store_copy_table;

typedef struct vigil_store_copy_report {
    vigil_store_copy_table tables[VIGIL_STORE_COPY_TABLES]; /* in copy order */
    size_t n_tables;
    char mismatch[64]; /* the first table whose rows differ after the copy; "" when none */
} vigil_store_copy_report;

/*
 * Copy every row of every table of `from` into `to`, with the same ids and
 * values (the audit table and its head included, so the chain and its head
 * are the source's): `to` may be another backend (SQLite into PostgreSQL).
 * `from` is only read (open it VIGIL_STORE_READONLY: then it must be at
 * this vigil's schema version), in one snapshot; `to` is written in ONE
 * transaction, after which its identity columns give ids past the copied
 * ones. Before the commit the target's rows are read back in the same
 * transaction and compared with the source's, table by table (count, and a
 * digest of every value in key order); any difference rolls everything
 * back. Nothing is audited: the copy adds no record to the chain.
 *
 * Returns VIGIL_OK (copied, compared, committed; *out filled);
 * VIGIL_ERR_CONFLICT when `to` is not empty (any row, or an audit head past
 * 0: err names the table; nothing written); VIGIL_ERR_MISMATCH when the two
 * schemas are not this vigil's (a table or column this vigil does not know,
 * or one missing on either side: err names it; nothing written), or when the
 * rows read back differ (out->mismatch and err name the table; rolled back);
 * any backend error as the backend gives it (rolled back). Neither store may
 * be inside a batch. The source must not be written while this runs (stop
 * `vigil serve` first): the copy is of one snapshot, and rows committed
 * after it are not in the target. Same thread rules as every call on each
 * store.
 */
vigil_status vigil_store_copy(vigil_store *from, vigil_store *to, vigil_store_copy_report *out,
                              vigil_err *err);

#endif
