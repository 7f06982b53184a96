/*
 * sq_schema.c: the SQLite schema as an ordered list of migrations.
 * Migration i (0-based) takes PRAGMA user_version from i to i + 1 and runs
 * in one transaction (sq_core.c).
 *
 * Rules: a released migration is never edited (a database that ran it
 * would differ from one that runs the edited text); change the schema by
 * appending a migration. Constants here (plausibility bounds, names) are
 * copies of those in vigil/news2.h and store.c as of the migration; changing
 * those needs a new migration too.
 *
 * The constraints are the second line of defence: store.c checks the same
 * rules (and more) before SQL runs. STRICT tables refuse values of the
 * wrong type. Spec: docs/store.md "Schema".
 */
#include "sqlite_int.h"

/* REQ NHS-NUMBER-CHECK in SQL: modulus 11 over the first nine digits,
 * weights 10..2; a remainder giving 10 never matches a digit. */
#define NHS_DIGIT(i, w) "CAST(substr(nhs_number, " #i ", 1) AS INTEGER) * " #w
/* clang-format off */
#define NHS_CHECK                                                                   \
    "(11 - ((" NHS_DIGIT(1, 10) " + " NHS_DIGIT(2, 9) " + " NHS_DIGIT(3, 8)       \
    " + " NHS_DIGIT(4, 7) " + " NHS_DIGIT(5, 6) " + " NHS_DIGIT(6, 5)             \
    " + " NHS_DIGIT(7, 4) " + " NHS_DIGIT(8, 3) " + " NHS_DIGIT(9, 2)             \
    ") % 11)) % 11 = CAST(substr(nhs_number, 10, 1) AS INTEGER)"
/* clang-format on */

#define LEVELS "('ward', 'urgent-ward', 'urgent', 'emergency')"
#define SUB(col) col " INTEGER CHECK (" col " BETWEEN 0 AND 3),\n"
#define APPEND_ONLY(t)                                                                             \
    "CREATE TRIGGER " t "_no_update BEFORE UPDATE ON " t " BEGIN\n"                                \
    "  SELECT RAISE(ABORT, '" t " is append-only');\nEND;\n"                                       \
    "CREATE TRIGGER " t "_no_delete BEFORE DELETE ON " t " BEGIN\n"                                \
    "  SELECT RAISE(ABORT, '" t " is append-only');\nEND;\n"

/* clang-format off */
static const char migration_1[] =
    "PRAGMA application_id = 1447642956;\n" /* SQ_APPLICATION_ID, "VIGL" */

    /* -- users and roles -- */
    "CREATE TABLE app_user (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  username TEXT NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 63),\n"
    "  display_name TEXT NOT NULL,\n"
    "  role TEXT NOT NULL CHECK (role IN ('nurse', 'doctor', 'outreach', 'safety-officer',\n"
    "                                     'admin')),\n"
    "  password_hash TEXT NOT NULL CHECK (password_hash GLOB '$argon2id$*'),\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  disabled_ms INTEGER\n"
    ") STRICT;\n"
    "CREATE TABLE user_ward (\n"
    "  user_id INTEGER NOT NULL REFERENCES app_user(id),\n"
    "  ward TEXT NOT NULL CHECK (length(ward) BETWEEN 1 AND 127),\n"
    "  PRIMARY KEY (user_id, ward)\n"
    ") STRICT;\n"

    /* -- patients, admissions, bed stays -- */
    "CREATE TABLE patient (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  nhs_number TEXT UNIQUE CHECK (nhs_number IS NULL OR (length(nhs_number) = 10\n"
    "    AND nhs_number NOT GLOB '*[^0-9]*' AND " NHS_CHECK ")),\n"
    "  mrn TEXT UNIQUE CHECK (mrn IS NULL OR length(mrn) BETWEEN 1 AND 63),\n"
    "  name TEXT NOT NULL DEFAULT '',\n"
    "  birth_date TEXT NOT NULL DEFAULT '',\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  CHECK (nhs_number IS NOT NULL OR mrn IS NOT NULL)\n"
    ") STRICT;\n"
    "CREATE TABLE admission (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  admitted_ms INTEGER NOT NULL,\n"
    "  discharged_ms INTEGER CHECK (discharged_ms IS NULL OR discharged_ms >= admitted_ms)\n"
    ") STRICT;\n"
    "CREATE UNIQUE INDEX admission_open ON admission(patient_id) WHERE discharged_ms IS NULL;\n"
    "CREATE TABLE bed_stay (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  admission_id INTEGER NOT NULL REFERENCES admission(id),\n"
    "  ward TEXT NOT NULL CHECK (length(ward) BETWEEN 1 AND 127),\n"
    "  bed TEXT NOT NULL DEFAULT '',\n"
    "  from_ms INTEGER NOT NULL,\n"
    "  to_ms INTEGER CHECK (to_ms IS NULL OR to_ms >= from_ms)\n"
    ") STRICT;\n"
    "CREATE UNIQUE INDEX bed_stay_open ON bed_stay(admission_id) WHERE to_ms IS NULL;\n"
    "CREATE INDEX bed_stay_ward_open ON bed_stay(ward, bed) WHERE to_ms IS NULL;\n"

    /* -- observation sets: every NEWS2 input, NULL when not measured -- */
    "CREATE TABLE obs_set (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  admission_id INTEGER REFERENCES admission(id),\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  rr_bpm REAL CHECK (rr_bpm BETWEEN 0 AND 80),\n"
    "  spo2_pct REAL CHECK (spo2_pct BETWEEN 20 AND 100),\n"
    "  spo2_scale INTEGER NOT NULL CHECK (spo2_scale IN (1, 2)),\n"
    "  o2 TEXT CHECK (o2 IN ('air', 'oxygen')),\n"
    "  sbp_mmhg REAL CHECK (sbp_mmhg BETWEEN 30 AND 300),\n"
    "  hr_bpm REAL CHECK (hr_bpm BETWEEN 10 AND 300),\n"
    "  acvpu TEXT CHECK (acvpu IN ('A', 'C', 'V', 'P', 'U')),\n"
    "  temp_c REAL CHECK (temp_c BETWEEN 25 AND 45),\n"
    "  age_y REAL CHECK (age_y BETWEEN 0 AND 130),\n"
    "  pregnant INTEGER CHECK (pregnant IN (0, 1)),\n"
    "  source TEXT NOT NULL CHECK (source IN ('unknown', 'hl7', 'fhir', 'api', 'replay')),\n"
    "  source_id TEXT CHECK (source_id IS NULL OR length(source_id) BETWEEN 1 AND 63),\n"
    "  recorded_by TEXT,\n"
    "  received_ms INTEGER NOT NULL\n"
    ") STRICT;\n"
    /* a resent message (same source, same id) is found, never stored twice */
    "CREATE UNIQUE INDEX obs_set_source ON obs_set(source, source_id)\n"
    "  WHERE source_id IS NOT NULL;\n"
    "CREATE INDEX obs_set_patient_t ON obs_set(patient_id, t_ms);\n"

    /* -- scores: one per observation set -- */
    "CREATE TABLE score (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  obs_set_id INTEGER NOT NULL UNIQUE REFERENCES obs_set(id),\n"
    "  scored_ms INTEGER NOT NULL,\n"
    "  news2_total INTEGER NOT NULL CHECK (news2_total BETWEEN 0 AND 20),\n"
    /* sub-scores: NULL when the parameter was not measured */
    SUB("sub_rr") SUB("sub_spo2")
    "  sub_o2 INTEGER CHECK (sub_o2 IN (0, 2)),\n"
    SUB("sub_sbp") SUB("sub_hr") SUB("sub_acvpu") SUB("sub_temp")
    "  complete INTEGER NOT NULL CHECK (complete IN (0, 1)),\n"
    "  risk TEXT NOT NULL CHECK (risk IN ('low', 'low-medium', 'medium', 'high')),\n"
    "  monitoring TEXT NOT NULL CHECK (monitoring IN ('12-hourly', '4-6-hourly', 'hourly',\n"
    "                                                 'continuous')),\n"
    "  response TEXT NOT NULL CHECK (response IN ('routine', 'nurse-assess', 'urgent-ward',\n"
    "                                             'urgent', 'emergency')),\n"
    "  flags INTEGER NOT NULL,\n"
    "  spo2_scale INTEGER NOT NULL CHECK (spo2_scale IN (1, 2)),\n"
    /* the AI: all NULL when no AI score was made (opt-out, no model) */
    "  ai_risk REAL,\n"
    "  ai_prob REAL CHECK (ai_prob BETWEEN 0 AND 1),\n"
    /* JSON checked in store.c (jansson): json_valid() is not allowed in a
     * schema with trusted_schema off */
    "  explanation TEXT,\n"
    "  model_version TEXT,\n"
    "  CHECK ((ai_prob IS NULL) = (model_version IS NULL)\n"
    "         AND (ai_prob IS NULL) = (ai_risk IS NULL))\n"
    ") STRICT;\n"

    /* -- escalation -- */
    "CREATE TABLE episode (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  level TEXT NOT NULL CHECK (level IN " LEVELS "),\n"
    "  trigger TEXT NOT NULL CHECK (trigger IN ('news2', 'ai', 'staff-concern', "
    "'marthas-rule')),\n"
    "  trigger_ref INTEGER,\n"
    "  opened_ms INTEGER NOT NULL,\n"
    "  opened_by TEXT NOT NULL,\n"
    "  closed_ms INTEGER,\n"
    "  closed_by TEXT,\n"
    "  close_reason TEXT,\n"
    "  superseded_by INTEGER REFERENCES episode(id),\n"
    "  CHECK (closed_ms IS NULL OR (closed_ms >= opened_ms AND closed_by IS NOT NULL\n"
    "         AND length(trim(close_reason)) > 0))\n"
    ") STRICT;\n"
    "CREATE INDEX episode_open ON episode(patient_id) WHERE closed_ms IS NULL;\n"
    "CREATE TABLE alert (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  episode_id INTEGER NOT NULL UNIQUE REFERENCES episode(id),\n" /* one per episode */
    "  level TEXT NOT NULL CHECK (level IN " LEVELS "),\n"
    "  raised_ms INTEGER NOT NULL\n"
    ") STRICT;\n"
    "CREATE TABLE alert_repeat (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  alert_id INTEGER NOT NULL REFERENCES alert(id),\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  rota_step INTEGER NOT NULL CHECK (rota_step >= 0),\n"
    "  notified TEXT NOT NULL,\n"
    "  recorded_by TEXT NOT NULL\n"
    ") STRICT;\n"
    "CREATE INDEX alert_repeat_alert ON alert_repeat(alert_id, t_ms);\n"
    "CREATE TABLE ack (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  alert_id INTEGER NOT NULL REFERENCES alert(id),\n"
    "  username TEXT NOT NULL REFERENCES app_user(username),\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  action TEXT NOT NULL CHECK (action IN ('attending', 'reviewed', 'escalated', "
    "'declined')),\n"
    "  reason TEXT,\n"
    /* REQ ESC-DECLINE-REASON */
    "  CHECK (action <> 'declined' OR length(trim(coalesce(reason, ''))) > 0)\n"
    ") STRICT;\n"
    "CREATE INDEX ack_alert ON ack(alert_id, t_ms);\n"

    /* -- concerns and Martha's Rule (append-only log) -- */
    "CREATE TABLE staff_concern (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  username TEXT NOT NULL,\n"
    "  concern TEXT NOT NULL CHECK (length(trim(concern)) > 0)\n"
    ") STRICT;\n"
    "CREATE TABLE marthas_call (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  caller TEXT NOT NULL CHECK (caller IN ('patient', 'family', 'carer', 'staff')),\n"
    "  caller_name TEXT,\n"
    "  channel TEXT NOT NULL CHECK (length(trim(channel)) > 0),\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  concern TEXT NOT NULL CHECK (length(trim(concern)) > 0),\n"
    "  ward TEXT,\n"
    "  recorded_by TEXT NOT NULL,\n"
    "  recorded_ms INTEGER NOT NULL\n"
    ") STRICT;\n"
    "CREATE INDEX marthas_call_t ON marthas_call(t_ms);\n"
    APPEND_ONLY("marthas_call")
    "CREATE TABLE marthas_review (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  call_id INTEGER NOT NULL UNIQUE REFERENCES marthas_call(id),\n"
    "  responder TEXT NOT NULL,\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  category TEXT NOT NULL CHECK (category IN ('acute-deterioration',\n"
    "                                             'communication-coordination')),\n"
    "  outcome TEXT NOT NULL CHECK (outcome IN ('change-in-care', 'transfer-higher-level',\n"
    "                                           'no-change')),\n"
    "  note TEXT,\n"
    "  recorded_by TEXT NOT NULL,\n"
    "  recorded_ms INTEGER NOT NULL\n"
    ") STRICT;\n"
    APPEND_ONLY("marthas_review")

    /* -- patient state -- */
    "CREATE TABLE daily_answer (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  answer TEXT NOT NULL CHECK (answer IN ('better', 'same', 'worse')),\n"
    "  asked_by TEXT NOT NULL\n"
    ") STRICT;\n"
    "CREATE INDEX daily_answer_patient ON daily_answer(patient_id, t_ms);\n"
    "CREATE TABLE ai_optout (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  from_ms INTEGER NOT NULL,\n"
    "  recorded_by TEXT NOT NULL,\n"
    "  note TEXT,\n"
    "  withdrawn_ms INTEGER CHECK (withdrawn_ms IS NULL OR withdrawn_ms >= from_ms),\n"
    "  withdrawn_by TEXT,\n"
    "  CHECK ((withdrawn_ms IS NULL) = (withdrawn_by IS NULL))\n"
    ") STRICT;\n"
    "CREATE UNIQUE INDEX ai_optout_active ON ai_optout(patient_id) WHERE withdrawn_ms IS NULL;\n"
    "CREATE TABLE scale2_decision (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  from_ms INTEGER NOT NULL,\n"
    "  decided_by TEXT NOT NULL REFERENCES app_user(username),\n"
    "  reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),\n"
    "  ended_ms INTEGER CHECK (ended_ms IS NULL OR ended_ms >= from_ms),\n"
    "  ended_by TEXT REFERENCES app_user(username),\n"
    "  end_reason TEXT,\n"
    "  CHECK ((ended_ms IS NULL) = (ended_by IS NULL) AND (ended_ms IS NULL) = (end_reason IS "
    "NULL))\n"
    ") STRICT;\n"
    "CREATE UNIQUE INDEX scale2_active ON scale2_decision(patient_id) WHERE ended_ms IS NULL;\n"
    "CREATE TABLE escalation_plan (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  made_ms INTEGER NOT NULL,\n"
    "  made_by TEXT NOT NULL REFERENCES app_user(username),\n"
    "  reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),\n"
    "  plan TEXT NOT NULL CHECK (length(trim(plan)) > 0),\n"
    "  review_ms INTEGER NOT NULL,\n"
    "  expires_ms INTEGER NOT NULL,\n"
    "  revoked_ms INTEGER,\n"
    "  revoked_by TEXT REFERENCES app_user(username),\n"
    "  revoke_reason TEXT,\n"
    /* REQ ESC-PLAN-EXPIRES */
    "  CHECK (review_ms > made_ms AND expires_ms >= review_ms),\n"
    "  CHECK ((revoked_ms IS NULL) = (revoked_by IS NULL) AND\n"
    "         (revoked_ms IS NULL) = (revoke_reason IS NULL))\n"
    ") STRICT;\n"
    "CREATE INDEX escalation_plan_patient ON escalation_plan(patient_id, made_ms);\n"

    /* -- the audit trail: hash-chained, append-only -- */
    "CREATE TABLE audit (\n"
    "  seq INTEGER PRIMARY KEY,\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  actor TEXT NOT NULL,\n"
    "  action TEXT NOT NULL,\n"
    "  entity TEXT NOT NULL,\n"
    "  entity_id INTEGER NOT NULL,\n"
    "  patient_id INTEGER NOT NULL,\n"
    "  reason TEXT NOT NULL,\n"
    "  detail TEXT NOT NULL,\n"
    "  prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),\n"
    "  hash BLOB NOT NULL CHECK (length(hash) = 32)\n"
    ") STRICT;\n"
    "CREATE INDEX audit_patient ON audit(patient_id, seq);\n"
    APPEND_ONLY("audit")
    "CREATE TABLE audit_head (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "  seq INTEGER NOT NULL,\n"
    "  hash BLOB NOT NULL CHECK (length(hash) = 32)\n"
    ") STRICT;\n"
    "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));\n"
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head BEGIN\n"
    "  SELECT RAISE(ABORT, 'audit_head cannot be deleted');\nEND;\n";
/* clang-format on */

/*
 * Migration 2: the same constraints, cheaper to check. SQLite evaluates a
 * CHECK of the form "x IN (constant list)" by building an ephemeral table
 * on every row written (about 4-5 us each, measured: docs/store.md
 * "Figures"); "x = a OR x = b" is the same rule at a fraction of the cost.
 * The tables written for every observation set or alert are rebuilt with the
 * OR form (SQLite cannot alter a constraint in place): the documented
 * twelve-step procedure (create, copy, drop, rename, re-index), run with
 * foreign keys off and PRAGMA foreign_key_check before the commit
 * (sq_core.c migrate_step). Rows, ids and indexes are kept. The rarer
 * tables (users, acknowledgements, Martha's Rule, daily answers) keep the
 * IN form.
 */
/* clang-format off */
#define IS2(c, a, b) "(" c " = " a " OR " c " = " b ")"
#define LEVEL_OK "(level = 'ward' OR level = 'urgent-ward' OR level = 'urgent' OR level = 'emergency')"
static const char migration_2[] =
    "CREATE TABLE obs_set_v2 (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  admission_id INTEGER REFERENCES admission(id),\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  rr_bpm REAL CHECK (rr_bpm BETWEEN 0 AND 80),\n"
    "  spo2_pct REAL CHECK (spo2_pct BETWEEN 20 AND 100),\n"
    "  spo2_scale INTEGER NOT NULL CHECK " IS2("spo2_scale", "1", "2") ",\n"
    "  o2 TEXT CHECK " IS2("o2", "'air'", "'oxygen'") ",\n"
    "  sbp_mmhg REAL CHECK (sbp_mmhg BETWEEN 30 AND 300),\n"
    "  hr_bpm REAL CHECK (hr_bpm BETWEEN 10 AND 300),\n"
    "  acvpu TEXT CHECK (acvpu = 'A' OR acvpu = 'C' OR acvpu = 'V' OR acvpu = 'P' OR acvpu = 'U'),\n"
    "  temp_c REAL CHECK (temp_c BETWEEN 25 AND 45),\n"
    "  age_y REAL CHECK (age_y BETWEEN 0 AND 130),\n"
    "  pregnant INTEGER CHECK " IS2("pregnant", "0", "1") ",\n"
    "  source TEXT NOT NULL CHECK (source = 'unknown' OR source = 'hl7' OR source = 'fhir' OR\n"
    "                              source = 'api' OR source = 'replay'),\n"
    "  source_id TEXT CHECK (source_id IS NULL OR length(source_id) BETWEEN 1 AND 63),\n"
    "  recorded_by TEXT,\n"
    "  received_ms INTEGER NOT NULL\n"
    ") STRICT;\n"
    "INSERT INTO obs_set_v2 SELECT * FROM obs_set;\n"
    "DROP TABLE obs_set;\n"
    "ALTER TABLE obs_set_v2 RENAME TO obs_set;\n"
    "CREATE UNIQUE INDEX obs_set_source ON obs_set(source, source_id)\n"
    "  WHERE source_id IS NOT NULL;\n"
    "CREATE INDEX obs_set_patient_t ON obs_set(patient_id, t_ms);\n"

    "CREATE TABLE score_v2 (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  obs_set_id INTEGER NOT NULL UNIQUE REFERENCES obs_set(id),\n"
    "  scored_ms INTEGER NOT NULL,\n"
    "  news2_total INTEGER NOT NULL CHECK (news2_total BETWEEN 0 AND 20),\n"
    SUB("sub_rr") SUB("sub_spo2")
    "  sub_o2 INTEGER CHECK " IS2("sub_o2", "0", "2") ",\n"
    SUB("sub_sbp") SUB("sub_hr") SUB("sub_acvpu") SUB("sub_temp")
    "  complete INTEGER NOT NULL CHECK " IS2("complete", "0", "1") ",\n"
    "  risk TEXT NOT NULL CHECK (risk = 'low' OR risk = 'low-medium' OR risk = 'medium' OR\n"
    "                            risk = 'high'),\n"
    "  monitoring TEXT NOT NULL CHECK (monitoring = '12-hourly' OR monitoring = '4-6-hourly' OR\n"
    "                                  monitoring = 'hourly' OR monitoring = 'continuous'),\n"
    "  response TEXT NOT NULL CHECK (response = 'routine' OR response = 'nurse-assess' OR\n"
    "                                response = 'urgent-ward' OR response = 'urgent' OR\n"
    "                                response = 'emergency'),\n"
    "  flags INTEGER NOT NULL,\n"
    "  spo2_scale INTEGER NOT NULL CHECK " IS2("spo2_scale", "1", "2") ",\n"
    "  ai_risk REAL,\n"
    "  ai_prob REAL CHECK (ai_prob BETWEEN 0 AND 1),\n"
    "  explanation TEXT,\n"
    "  model_version TEXT,\n"
    "  CHECK ((ai_prob IS NULL) = (model_version IS NULL)\n"
    "         AND (ai_prob IS NULL) = (ai_risk IS NULL))\n"
    ") STRICT;\n"
    "INSERT INTO score_v2 SELECT * FROM score;\n"
    "DROP TABLE score;\n"
    "ALTER TABLE score_v2 RENAME TO score;\n"

    "CREATE TABLE episode_v2 (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  level TEXT NOT NULL CHECK " LEVEL_OK ",\n"
    "  trigger TEXT NOT NULL CHECK (trigger = 'news2' OR trigger = 'ai' OR\n"
    "                               trigger = 'staff-concern' OR trigger = 'marthas-rule'),\n"
    "  trigger_ref INTEGER,\n"
    "  opened_ms INTEGER NOT NULL,\n"
    "  opened_by TEXT NOT NULL,\n"
    "  closed_ms INTEGER,\n"
    "  closed_by TEXT,\n"
    "  close_reason TEXT,\n"
    "  superseded_by INTEGER REFERENCES episode(id),\n"
    "  CHECK (closed_ms IS NULL OR (closed_ms >= opened_ms AND closed_by IS NOT NULL\n"
    "         AND length(trim(close_reason)) > 0))\n"
    ") STRICT;\n"
    "INSERT INTO episode_v2 SELECT * FROM episode;\n"
    "DROP TABLE episode;\n"
    "ALTER TABLE episode_v2 RENAME TO episode;\n"
    "CREATE INDEX episode_open ON episode(patient_id) WHERE closed_ms IS NULL;\n"

    "CREATE TABLE alert_v2 (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  episode_id INTEGER NOT NULL UNIQUE REFERENCES episode(id),\n"
    "  level TEXT NOT NULL CHECK " LEVEL_OK ",\n"
    "  raised_ms INTEGER NOT NULL\n"
    ") STRICT;\n"
    "INSERT INTO alert_v2 SELECT * FROM alert;\n"
    "DROP TABLE alert;\n"
    "ALTER TABLE alert_v2 RENAME TO alert;\n";
/* clang-format on */

/*
 * Migration 3: the AI's low-confidence flag (an input outside the training
 * ranges) is kept with its score, so a score read back after a restart is
 * still marked; NULL when there is no AI part (and for rows scored before).
 */
static const char migration_3[] =
    "ALTER TABLE score ADD COLUMN ai_low_confidence INTEGER\n"
    "  CHECK (ai_low_confidence IS NULL OR ai_low_confidence = 0 OR ai_low_confidence = 1);\n";

/*
 * Migration 4: a revised escalation plan's terms (the level it accepts and
 * the NEWS2 total up to which that level applies), so the plan applies
 * again after a restart; NULL for plans recorded before (shown, not
 * applied, until a doctor records them again).
 */
static const char migration_4[] =
    "ALTER TABLE escalation_plan ADD COLUMN level TEXT\n"
    "  CHECK (level IS NULL OR level = 'none' OR level = 'ward' OR level = 'urgent-ward' OR\n"
    "         level = 'urgent' OR level = 'emergency');\n"
    "ALTER TABLE escalation_plan ADD COLUMN news2_usual_max INTEGER\n"
    "  CHECK (news2_usual_max IS NULL OR news2_usual_max BETWEEN 0 AND 20);\n";

/*
 * Migration 5: a resent message is found by its sender too (issue 11): HL7
 * makes MSH-10 unique per sending system only, so two senders (or a device
 * whose counter restarted under another name) may reuse a control id. The
 * sender is MSH-3 and MSH-4 for HL7, '' for the rest and for rows before.
 */
static const char migration_5[] =
    "ALTER TABLE obs_set ADD COLUMN source_sender TEXT NOT NULL DEFAULT ''\n"
    "  CHECK (length(source_sender) <= 63);\n"
    "DROP INDEX obs_set_source;\n"
    "CREATE UNIQUE INDEX obs_set_source ON obs_set(source, source_sender, source_id)\n"
    "  WHERE source_id IS NOT NULL;\n";

/*
 * Migration 6: deterioration outcomes (issue 14), linked to the admission
 * they ended or complicated, for local validation and live monitoring. One
 * row per (admission, kind, time): a resent outcome is a conflict.
 */
static const char migration_6[] =
    "CREATE TABLE outcome (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  admission_id INTEGER NOT NULL REFERENCES admission(id),\n"
    "  kind TEXT NOT NULL CHECK (kind IN ('icu-unplanned', 'cardiac-arrest-call', 'death',\n"
    "                                     'sepsis')),\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  recorded_ms INTEGER NOT NULL,\n"
    "  source TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 15),\n"
    "  recorded_by TEXT NOT NULL,\n"
    "  note TEXT NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE UNIQUE INDEX outcome_once ON outcome(admission_id, kind, t_ms);\n"
    "CREATE INDEX outcome_time ON outcome(t_ms);\n"
    "CREATE INDEX outcome_patient ON outcome(patient_id, t_ms);\n";

/*
 * Migration 7: silent mode (issue 14): a shadow model's score of a stored
 * score row, for local validation on the live feed; never shown, alerted on
 * or read by the escalation policy.
 */
static const char migration_7[] =
    "CREATE TABLE shadow_score (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  score_id INTEGER NOT NULL REFERENCES score(id),\n"
    "  model_version TEXT NOT NULL CHECK (length(model_version) BETWEEN 1 AND 63),\n"
    "  risk REAL NOT NULL,\n"
    "  prob REAL NOT NULL CHECK (prob >= 0 AND prob <= 1),\n"
    "  low_confidence INTEGER NOT NULL CHECK (low_confidence IN (0, 1)),\n"
    "  stored_ms INTEGER NOT NULL\n"
    ");\n"
    "CREATE UNIQUE INDEX shadow_score_once ON shadow_score(score_id, model_version);\n";

/*
 * Migration 8: rotas and the page outbox (issue 16). A shift gives a rota
 * post (ward or '*', level or 'in-charge', step) to a user for a time; a
 * page is queued in the same transaction as the alert or repeat that causes
 * it, its id never reused (AUTOINCREMENT: a receiver de-duplicates on it);
 * every delivery attempt is kept (append-only) and audited.
 */
static const char migration_8[] =
    "CREATE TABLE rota_shift (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  ward TEXT NOT NULL CHECK (length(ward) BETWEEN 1 AND 127),\n"
    "  level TEXT NOT NULL CHECK (level = 'ward' OR level = 'urgent-ward' OR level = 'urgent'\n"
    "    OR level = 'emergency' OR level = 'in-charge'),\n"
    "  step INTEGER NOT NULL CHECK (step BETWEEN 0 AND 15),\n"
    "  username TEXT NOT NULL REFERENCES app_user(username),\n"
    "  from_ms INTEGER NOT NULL,\n"
    "  to_ms INTEGER NOT NULL CHECK (to_ms > from_ms),\n"
    "  created_by TEXT NOT NULL,\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  ended_by TEXT,\n"
    "  ended_ms INTEGER\n"
    ") STRICT;\n"
    "CREATE INDEX rota_shift_post ON rota_shift(ward, level, step, to_ms);\n"
    "CREATE TABLE page (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  alert_id INTEGER NOT NULL REFERENCES alert(id),\n"
    "  repeat_id INTEGER REFERENCES alert_repeat(id),\n"
    "  patient_id INTEGER NOT NULL REFERENCES patient(id),\n"
    "  ward TEXT NOT NULL,\n"
    "  bed TEXT NOT NULL,\n"
    "  level TEXT NOT NULL,\n"
    "  post TEXT NOT NULL CHECK (length(post) BETWEEN 1 AND 127),\n"
    "  rota_step INTEGER NOT NULL CHECK (rota_step BETWEEN 0 AND 15),\n"
    "  recipient TEXT,\n"
    "  channel TEXT NOT NULL CHECK (channel = 'web' OR channel = 'webhook'),\n"
    "  state TEXT NOT NULL CHECK (state = 'pending' OR state = 'delivered' OR state = 'failed'\n"
    "    OR state = 'cancelled' OR state = 'unrouted'),\n"
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  next_ms INTEGER NOT NULL,\n"
    "  delivered_ms INTEGER,\n"
    "  read_ms INTEGER,\n"
    "  acked_ms INTEGER,\n"
    "  last_error TEXT NOT NULL DEFAULT '',\n"
    "  CHECK ((recipient IS NULL) = (state = 'unrouted'))\n"
    ") STRICT;\n"
    "CREATE INDEX page_due ON page(channel, next_ms) WHERE state = 'pending';\n"
    "CREATE INDEX page_recipient ON page(recipient, created_ms);\n"
    "CREATE INDEX page_alert ON page(alert_id);\n"
    "CREATE TABLE page_attempt (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  page_id INTEGER NOT NULL REFERENCES page(id),\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  outcome TEXT NOT NULL CHECK (outcome = 'delivered' OR outcome = 'retry'\n"
    "    OR outcome = 'failed'),\n"
    "  detail TEXT NOT NULL\n"
    ") STRICT;\n"
    "CREATE INDEX page_attempt_page ON page_attempt(page_id, t_ms);\n"
    APPEND_ONLY("page_attempt");

/*
 * Migration 9: receipts to the gateway and e-mail summaries (issue 16).
 * When an alert is acknowledged, each of its webhook pages the gateway
 * already took gets an acknowledgement notice (kind 'ack', notice_of the
 * page), sent through the same outbox, so the gateway can stop the bleep.
 * Non-urgent summaries (counts per ward, never an alert) are queued per
 * period and address and sent by e-mail; every attempt kept (append-only).
 */
static const char migration_9[] =
    "ALTER TABLE page ADD COLUMN kind TEXT NOT NULL DEFAULT 'page' CHECK (kind = 'page' OR "
    "kind = 'ack');\n"
    "ALTER TABLE page ADD COLUMN notice_of INTEGER REFERENCES page(id);\n"
    "CREATE UNIQUE INDEX page_ack_once ON page(notice_of) WHERE notice_of IS NOT NULL;\n"
    "CREATE TABLE summary_mail (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  recipient TEXT NOT NULL CHECK (length(recipient) BETWEEN 3 AND 127),\n"
    "  from_ms INTEGER NOT NULL,\n"
    "  to_ms INTEGER NOT NULL CHECK (to_ms > from_ms),\n"
    "  state TEXT NOT NULL CHECK (state = 'pending' OR state = 'delivered' OR state = 'failed'),\n"
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  next_ms INTEGER NOT NULL,\n"
    "  delivered_ms INTEGER,\n"
    "  last_error TEXT NOT NULL DEFAULT ''\n"
    ") STRICT;\n"
    "CREATE INDEX summary_mail_due ON summary_mail(next_ms) WHERE state = 'pending';\n"
    "CREATE TABLE summary_attempt (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  summary_id INTEGER NOT NULL REFERENCES summary_mail(id),\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  outcome TEXT NOT NULL CHECK (outcome = 'delivered' OR outcome = 'retry'\n"
    "    OR outcome = 'failed'),\n"
    "  detail TEXT NOT NULL\n"
    ") STRICT;\n"
    APPEND_ONLY("summary_attempt");

/*
 * Migration 10 (issue 14): the patient's administrative sex (HL7 PID-8, FHIR
 * Patient.gender, the API), so the live monitor and `vigil validate --db`
 * have a sex subgroup; '' for patients stored before and when never stated.
 * And obs_set(t_ms): the monitor's and validate's reads of a date range
 * (vigil_store_set_rows) otherwise scan every set ever stored (docs/store.md
 * "Indexes", measured). Additive only: a column with a default, an index.
 */
static const char migration_10[] =
    "ALTER TABLE patient ADD COLUMN sex TEXT NOT NULL DEFAULT ''\n"
    "  CHECK (sex IN ('', 'female', 'male', 'other', 'unknown'));\n"
    "CREATE INDEX obs_set_t ON obs_set(t_ms);\n";

/*
 * Migration 11 (issue 15): secrets every node sharing the store must share:
 * the bedside codes' key, kept before in a file beside the database, which a
 * store without a file (PostgreSQL) or a second node cannot use. Stored once
 * and never changed (append-only). Additive only.
 */
static const char migration_11[] =
    "CREATE TABLE secret (\n"
    "  name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),\n"
    "  value BLOB NOT NULL CHECK (length(value) BETWEEN 1 AND 64),\n"
    "  created_ms INTEGER NOT NULL\n"
    ") STRICT, WITHOUT ROWID;\n"
    APPEND_ONLY("secret");

/*
 * Migration 12 (issue 15): sign-in sessions, shared by every node of one
 * store (they were in each server process's memory): a sign-in on one node
 * works on every node, and a sign-out or a user disabled ends it on all of
 * them. Only the token's hash (BLAKE2b-256, made by the server) is kept, never
 * the token. last_ms is the last use as last written (at most a minute
 * behind: docs/server.md). Rows are deleted when a session ends. Additive.
 */
static const char migration_12[] =
    "CREATE TABLE session (\n"
    "  token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),\n"
    "  user_id INTEGER NOT NULL REFERENCES app_user(id),\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  last_ms INTEGER NOT NULL CHECK (last_ms >= created_ms)\n"
    ") STRICT, WITHOUT ROWID;\n"
    "CREATE INDEX session_of_user ON session(user_id, last_ms);\n";

const char *const vigil__sqlite_migrations[] = {migration_1, migration_2, migration_3,
                                                migration_4, migration_5, migration_6,
                                                migration_7, migration_8, migration_9,
                                                migration_10, migration_11, migration_12};
const int vigil__sqlite_n_migrations =
    (int)(sizeof vigil__sqlite_migrations / sizeof vigil__sqlite_migrations[0]);

_Static_assert(sizeof vigil__sqlite_migrations / sizeof vigil__sqlite_migrations[0] ==
                   VIGIL_STORE_SCHEMA_VERSION,
               "one migration per schema version");
