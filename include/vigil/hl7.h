/*
 * vigil/hl7.h: HL7 version 2 messages for the ward: bytes in, validated
 * observation and ADT events out, and acknowledgements back.
 *
 * Specs: HL7 v2.5.1 chapter 2 (control: MSH, encoding rules, escape
 * sequences, acknowledgement MSA/ERR, tables 0008, 0357, 0516), chapter 3
 * (ADT A01, A02, A03, A08; PID, PV1, EVN), chapter 7 (ORU^R01; OBR, OBX).
 * The mappings (LOINC codes, units, oxygen and ACVPU conventions, which
 * errors are AE and which AR) are in docs/hl7.md.
 *
 * What it does: splits a message into segments, fields, repetitions,
 * components and subcomponents using the encoding characters the message
 * declares in MSH-1 and MSH-2; decodes escape sequences on access; checks
 * the header (message type MSH-9, processing id MSH-11, version MSH-12);
 * turns ORU^R01 vital signs into vigil_obs_event values and ADT A01/A02/
 * A03/A08 into vigil_adt_event values; builds the ACK.
 *
 * What it does not do: no sockets, threads or clock (src/server owns them;
 * MLLP framing is vigil/mllp.h); no store look-ups (whether a patient is
 * known is the caller's question, answered with an AE 204 ACK); no batches
 * (FHS/BHS); no enhanced-mode (commit) acknowledgements; no names,
 * addresses or other personal data beyond identifiers (see docs/hl7.md).
 * The SpO2 scale is never inferred from HL7: events carry Scale 1, and the
 * caller applies a patient's recorded Scale 2 decision.
 *
 * Memory: no allocation anywhere. A parsed message (vigil_hl7_msg) holds
 * views into the caller's text; results (vigil_hl7_result) are copies.
 * Thread safety: reentrant; no globals.
 */
#ifndef VIGIL_HL7_H
#define VIGIL_HL7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/status.h"
#include "vigil/tz.h"
#include "vigil/ward.h"

#define VIGIL_HL7_MAX_SEGMENTS 512 /* a longer message is refused (AR) */
#define VIGIL_HL7_MAX_LEN 262144   /* bytes; a longer message is refused (AR) */
#define VIGIL_HL7_MAX_EVENTS 16    /* observation sets in one ORU^R01 */
#define VIGIL_HL7_MAX_REPS 100     /* repetitions of one field; more is refused (AR) */
#define VIGIL_HL7_HDR_MAX 228      /* an MSH field kept for the ACK (HD is 227 long) */
#define VIGIL_HL7_CTRL_MAX 200     /* MSH-10 as received (199 in v2.7+) */
#define VIGIL_HL7_ACK_MAX 8192     /* bytes: always enough for vigil_hl7_ack_build */

/* ---------------------------------------------------------------- parsing */

/* A run of bytes inside a message: borrowed, not NUL-terminated. */
typedef struct vigil_hl7_view {
    const char *p;
    size_t n;
} vigil_hl7_view;

/* Encoding characters: MSH-1 and the four characters of MSH-2. */
typedef struct vigil_hl7_seps {
    char field; /* MSH-1, normally | */
    char comp;  /* MSH-2[1], normally ^ */
    char rep;   /* MSH-2[2], normally ~ */
    char esc;   /* MSH-2[3], normally \ */
    char sub;   /* MSH-2[4], normally & */
} vigil_hl7_seps;

/*
 * A parsed message: segment boundaries into the caller's text, which must
 * stay unchanged and alive as long as the vigil_hl7_msg and every view taken
 * from it are used. Segments are numbered from 0 (segment 0 is MSH).
 */
typedef struct vigil_hl7_msg {
    const char *text;
    size_t len;
    vigil_hl7_seps seps;
    size_t n_seg;
    vigil_hl7_view seg[VIGIL_HL7_MAX_SEGMENTS]; /* each without its terminator */
} vigil_hl7_msg;

/* The acknowledgement code (HL7 table 0008, original mode). */
typedef enum vigil_hl7_ack_code {
    VIGIL_HL7_AA = 0, /* application accept */
    VIGIL_HL7_AE,     /* application error: read, but its content is refused */
    VIGIL_HL7_AR,     /* application reject: unreadable or unsupported header */
    VIGIL_HL7_ACK_CODE_COUNT
} vigil_hl7_ack_code;

/* HL7 table 0357, message error condition codes (ERR-3). */
typedef enum vigil_hl7_errcode {
    VIGIL_HL7_E_ACCEPTED = 0,
    VIGIL_HL7_E_SEGMENT_SEQUENCE = 100,
    VIGIL_HL7_E_REQUIRED_MISSING = 101,
    VIGIL_HL7_E_DATA_TYPE = 102,
    VIGIL_HL7_E_TABLE_VALUE = 103,
    VIGIL_HL7_E_UNSUPPORTED_MESSAGE = 200,
    VIGIL_HL7_E_UNSUPPORTED_EVENT = 201,
    VIGIL_HL7_E_UNSUPPORTED_PROCESSING = 202,
    VIGIL_HL7_E_UNSUPPORTED_VERSION = 203,
    VIGIL_HL7_E_UNKNOWN_KEY = 204,
    VIGIL_HL7_E_DUPLICATE_KEY = 205,
    VIGIL_HL7_E_RECORD_LOCKED = 206,
    VIGIL_HL7_E_INTERNAL = 207,
} vigil_hl7_errcode;

/* Why a message was refused: vigil's own reason, sent as ERR-5. */
typedef enum vigil_hl7_reason {
    VIGIL_HL7_R_NONE = 0,
    VIGIL_HL7_R_EMPTY,                  /* no bytes */
    VIGIL_HL7_R_OVERSIZE,               /* too long or too many segments */
    VIGIL_HL7_R_CONTROL_BYTE,           /* a control byte (binary data) in the text */
    VIGIL_HL7_R_NO_MSH,                 /* the first segment is not MSH */
    VIGIL_HL7_R_BAD_ENCODING,           /* MSH-1/MSH-2 encoding characters unusable */
    VIGIL_HL7_R_BAD_SEGMENT,            /* a segment id that is not 3 upper-case letters/digits */
    VIGIL_HL7_R_SECOND_MSH,             /* two messages in one */
    VIGIL_HL7_R_BAD_HEADER,             /* MSH-9/10/11/12 missing or malformed */
    VIGIL_HL7_R_UNSUPPORTED_MESSAGE,    /* MSH-9 message code */
    VIGIL_HL7_R_UNSUPPORTED_EVENT,      /* MSH-9 trigger event */
    VIGIL_HL7_R_UNSUPPORTED_VERSION,    /* MSH-12 */
    VIGIL_HL7_R_UNSUPPORTED_PROCESSING, /* MSH-11 */
    VIGIL_HL7_R_MISSING_SEGMENT,        /* a required segment is missing or out of order */
    VIGIL_HL7_R_MISSING_FIELD,          /* a required field is empty */
    VIGIL_HL7_R_BAD_TIMESTAMP,          /* not a valid HL7 date/time, or not precise enough */
    VIGIL_HL7_R_AMBIGUOUS_TIME,         /* local time without offset that is skipped or repeated */
    VIGIL_HL7_R_BAD_NHS_NUMBER,         /* fails the NHS number format or check digit */
    VIGIL_HL7_R_BAD_IDENTIFIER,         /* an identifier too long or with unusable bytes */
    VIGIL_HL7_R_CONFLICTING_ID,         /* two different NHS numbers for one patient */
    VIGIL_HL7_R_NO_PATIENT_ID,          /* neither NHS number nor local MRN */
    VIGIL_HL7_R_VALUE_TYPE,             /* OBX-2 not NM for a numeric vital sign */
    VIGIL_HL7_R_NOT_NUMERIC,            /* OBX-5 not an HL7 NM number */
    VIGIL_HL7_R_BAD_UNITS,              /* OBX-6 units not accepted for the observation */
    VIGIL_HL7_R_IMPLAUSIBLE,            /* outside the NEWS2 plausibility bounds */
    VIGIL_HL7_R_BAD_CODE,               /* a coded value not in its table (ACVPU, OBX-11) */
    VIGIL_HL7_R_RETRACTION,             /* OBX-11 W or D: retractions are not taken over HL7 */
    VIGIL_HL7_R_DUPLICATE,              /* one parameter twice, differently, at one time */
    VIGIL_HL7_R_TOO_MANY_EVENTS,        /* more than VIGIL_HL7_MAX_EVENTS observation sets */
    VIGIL_HL7_R_INTERNAL,               /* a bug or a caller error */
    VIGIL_HL7_R_UNKNOWN_PATIENT,        /* set by the caller: not on vigil's ward list */
    VIGIL_HL7_R_SENTINEL,               /* OBX-5 is a device's "no measurement" value (-999 ...) */
    VIGIL_HL7_R_DEMO,                   /* OBX-8 marks demo or test data: never stored as real */
    VIGIL_HL7_R_STATUS,                 /* OBX-11 status not accepted from this sender */
    VIGIL_HL7_R_NO_VITAL_SIGNS,         /* no result carried a vital sign vigil uses */
    VIGIL_HL7_R_UNKNOWN_SENDER,         /* set by the caller: MSH-3/MSH-4 not on its sender list */
    VIGIL_HL7_R_COUNT
} vigil_hl7_reason;

/* Where in the message (ERR-2, an ERL): 0 means not applicable. */
typedef struct vigil_hl7_loc {
    char seg[4];  /* segment id, "" when none */
    unsigned seq; /* 1-based occurrence of that segment id in the message */
    unsigned field;
    unsigned rep;
    unsigned comp;
} vigil_hl7_loc;

/* Why a message was refused, everything the ACK and a log need. */
typedef struct vigil_hl7_fault {
    vigil_hl7_ack_code ack; /* AA when there is no fault */
    vigil_hl7_errcode code; /* table 0357 */
    vigil_hl7_reason reason;
    vigil_status status; /* the vigil_status the failing call returned */
    vigil_hl7_loc loc;
    char text[VIGIL_ERR_MSG_MAX]; /* for people: names segment, field and value */
} vigil_hl7_fault;

/* Reset fault to "accepted" (AA, code 0). NULL is a no-op. */
void vigil_hl7_fault_clear(vigil_hl7_fault *fault);

/*
 * Split text[0..len) into segments and read the encoding characters from
 * MSH-1 and MSH-2. Segments end at CR, LF or CR LF; empty lines are skipped.
 * Checks: at most VIGIL_HL7_MAX_LEN bytes and VIGIL_HL7_MAX_SEGMENTS
 * segments; no control bytes other than CR, LF and TAB; the first segment is
 * MSH; MSH-1 and the four MSH-2 characters are distinct, not letters, digits,
 * blanks or control bytes (v2.7's fifth, truncation character is allowed and
 * ignored); every segment id is three upper-case letters or digits; one MSH.
 * text is borrowed (see vigil_hl7_msg). Returns VIGIL_OK or VIGIL_ERR_PARSE
 * (VIGIL_ERR_ARG for NULL pointers) with fault (may be NULL) filled: always AR;
 * on error *out must not be used (vigil_hl7_decode still reads the header
 * from the MSH line alone for the ACK).
 */
vigil_status vigil_hl7_parse(const char *text, size_t len, vigil_hl7_msg *out,
                             vigil_hl7_fault *fault);

/* The three-letter id of segment i (empty past the end): a view into msg->text. */
vigil_hl7_view vigil_hl7_seg_id(const vigil_hl7_msg *msg, size_t i);

/*
 * Index of the first segment with id (e.g. "PID") at or after index from,
 * or msg->n_seg when there is none.
 */
size_t vigil_hl7_find(const vigil_hl7_msg *msg, const char *id, size_t from);

/*
 * The raw (still escaped) text at segment i, field, repetition rep,
 * component comp, subcomponent sub, numbered from 1 as HL7 writes them
 * (PID-3(2).4.1 is field 3, rep 2, comp 4, sub 1). comp 0 means the whole
 * repetition, sub 0 the whole component. MSH-1 is the field separator and
 * MSH-2 the encoding characters, never split. An absent part is an empty
 * view (VIGIL_OK). Returns VIGIL_ERR_ARG for field 0, rep 0, sub without
 * comp, or i out of range. The view borrows msg->text.
 */
vigil_status vigil_hl7_get(const vigil_hl7_msg *msg, size_t i, unsigned field, unsigned rep,
                           unsigned comp, unsigned sub, vigil_hl7_view *out);

/* Number of repetitions of a field (0 when empty or absent). */
unsigned vigil_hl7_reps(const vigil_hl7_msg *msg, size_t i, unsigned field);

/*
 * Decode escape sequences of in (HL7 v2.5.1 section 2.7): \F\ \S\ \T\ \R\
 * \E\ give the separators and escape character of seps, \Xhh..\ gives the
 * bytes hh.. (pairs of hex digits), \.br\ gives LF, \H\ and \N\ (highlight
 * on/off) are dropped. Writes at most cap - 1 bytes and a NUL to out
 * (cap >= 1) and the length to *out_n (may be NULL). Returns
 * VIGIL_ERR_PARSE for an unterminated, unknown or malformed sequence or one
 * giving a NUL byte, VIGIL_ERR_NOMEM when out is too small (out then holds a
 * truncated, NUL-terminated prefix), VIGIL_ERR_ARG for NULL pointers.
 */
vigil_status vigil_hl7_unescape(const vigil_hl7_seps *seps, vigil_hl7_view in, char *out,
                                size_t cap, size_t *out_n);

/*
 * Escape text[0..n) for use as field content with seps: separators and the
 * escape character become \F\ \S\ \T\ \R\ \E\, control bytes become \Xhh\.
 * Same out/cap/out_n contract as vigil_hl7_unescape.
 */
vigil_status vigil_hl7_escape(const vigil_hl7_seps *seps, const char *text, size_t n, char *out,
                              size_t cap, size_t *out_n);

/* ------------------------------------------------------------ date/time */

/* How to read a date/time that has no UTC offset (HL7: "the local time of the sender"). */
typedef enum vigil_hl7_tz {
    VIGIL_HL7_TZ_EUROPE_LONDON = 0, /* GMT/BST by the UK rule since 1996; the skipped and the
                                       repeated hour are refused as ambiguous */
    VIGIL_HL7_TZ_UTC,               /* treat as UTC */
    VIGIL_HL7_TZ_REFUSE,            /* refuse: every time must carry an offset */
    VIGIL_HL7_TZ_ZONE,              /* an IANA zone (vigil/tz.h) given beside it; a local time
                                       skipped or repeated by a clock change is refused */
    VIGIL_HL7_TZ_COUNT
} vigil_hl7_tz;

/* Precision a date/time must have at least. */
typedef enum vigil_hl7_prec {
    VIGIL_HL7_PREC_YEAR = 4,   /* YYYY */
    VIGIL_HL7_PREC_DAY = 8,    /* YYYYMMDD */
    VIGIL_HL7_PREC_MINUTE = 12 /* YYYYMMDDHHMM */
} vigil_hl7_prec;

/*
 * Parse an HL7 DTM (the first component of TS) YYYY[MM[DD[HH[MM[SS[.S[S[S
 * [S]]]]]]]]][+/-ZZZZ] into Unix milliseconds UTC. Missing parts count as
 * their start (month 1, day 1, 00:00:00). Fractions beyond milliseconds are
 * truncated. Years 1900 to 2999. Needs at least min_prec digits. Without an
 * offset, tz decides. Returns VIGIL_OK; VIGIL_ERR_PARSE for a malformed or
 * impossible date/time, too little precision, or no offset under
 * VIGIL_HL7_TZ_REFUSE; VIGIL_ERR_CONFLICT for a local time skipped or
 * repeated by a clock change; VIGIL_ERR_ARG for NULL. err may be NULL.
 */
vigil_status vigil_hl7_dtm_parse(const char *s, size_t n, vigil_hl7_prec min_prec, vigil_hl7_tz tz,
                                 int64_t *out_ms, vigil_err *err);

/* As vigil_hl7_dtm_parse, with the zone for VIGIL_HL7_TZ_ZONE (borrowed; NULL
 * refuses a local time, naming no zone). REQ HL7-TIME-ZONE */
vigil_status vigil_hl7_dtm_parse_zone(const char *s, size_t n, vigil_hl7_prec min_prec,
                                      vigil_hl7_tz tz, const vigil_tz *zone, int64_t *out_ms,
                                      vigil_err *err);

/* Format Unix ms as YYYYMMDDHHMMSS+0000 (20 bytes and a NUL). */
void vigil_hl7_dtm_format(int64_t t_ms, char out[21]);

/* --------------------------------------------------------------- options */

enum {
    VIGIL_HL7_PROC_P = 1u << 0, /* production */
    VIGIL_HL7_PROC_T = 1u << 1, /* training */
    VIGIL_HL7_PROC_D = 1u << 2, /* debugging */
};

/* ---------------------------------------------------- interface profile */

/* The NEWS2 parameters (and the oxygen observations) an OBX can set. */
typedef enum vigil_hl7_param {
    VIGIL_HL7_P_RR = 0, /* respiration rate, /min */
    VIGIL_HL7_P_HR,     /* pulse, /min */
    VIGIL_HL7_P_SPO2,   /* SpO2, % */
    VIGIL_HL7_P_SBP,    /* systolic blood pressure, mmHg */
    VIGIL_HL7_P_TEMP,   /* temperature, Celsius (Fahrenheit converted) */
    VIGIL_HL7_P_FIO2,   /* inhaled oxygen concentration, % */
    VIGIL_HL7_P_O2FLOW, /* inhaled oxygen flow, L/min */
    VIGIL_HL7_P_ACVPU,  /* A C V P U */
    VIGIL_HL7_P_UNUSED, /* known, not used by NEWS2 (diastolic, panels) */
    VIGIL_HL7_P_COUNT
} vigil_hl7_param;

/* "rr", "hr", "spo2", "sbp", "temp", "fio2", "o2_flow", "acvpu", "unused"; "" else. */
const char *vigil_hl7_param_name(vigil_hl7_param p);

/* Coding systems of OBX-3 a profile accepts (bits). */
enum {
    VIGIL_HL7_SYS_LN = 1u << 0,       /* LOINC with coding system LN */
    VIGIL_HL7_SYS_LN_BLANK = 1u << 1, /* a LOINC code with no coding system */
    VIGIL_HL7_SYS_MDC = 1u << 2,      /* ISO/IEEE 11073-10101 (MDC), as IHE PCD-01 sends */
    VIGIL_HL7_SYS_SCT = 1u << 3,      /* SNOMED CT */
};

#define VIGIL_HL7_PROFILE_LIST_MAX 8   /* demo flags, sentinels */
#define VIGIL_HL7_PROFILE_CODES_MAX 16 /* local code map entries */

/* One entry of a sender's local code map: OBX-3 code and system -> parameter. */
typedef struct vigil_hl7_local_code {
    char code[32];
    char system[24]; /* OBX-3.3 (or .6); "" matches an empty coding system */
    vigil_hl7_param param;
} vigil_hl7_local_code;

/*
 * How one sender's feed is read (docs/hl7.md "Interface profiles"). Plain
 * data, copyable; vigil_hl7_profile_init gives the default, and
 * vigil_hl7_profile_parse reads the small text format of a profile file.
 */
typedef struct vigil_hl7_profile {
    char name[VIGIL_ID_MAX];
    char sending_app[VIGIL_ID_MAX]; /* MSH-3.1 it applies to; "" = any */
    char sending_fac[VIGIL_ID_MAX]; /* MSH-4.1 it applies to; "" = any */
    bool pid3_untyped_mrn;          /* a PID-3 id with no CX.5 type is the hospital number */
    unsigned systems;               /* VIGIL_HL7_SYS_* accepted */
    uint32_t statuses;              /* OBX-11 letters accepted: bit (letter - 'A') */
    bool has_tz;                    /* local_tz set: overrides vigil_hl7_opts.local_tz */
    vigil_hl7_tz local_tz;
    char tz_name[VIGIL_TZ_NAME_MAX]; /* local_tz VIGIL_HL7_TZ_ZONE: the IANA name */
    /* local_tz VIGIL_HL7_TZ_ZONE: the zone, loaded by whoever read the file
     * (vigil_hl7_profile_parse does no I/O and leaves it NULL; a NULL zone
     * refuses local times). Borrowed: must outlive every use of the profile. */
    const vigil_tz *zone;
    size_t n_demo;
    char demo[VIGIL_HL7_PROFILE_LIST_MAX][16]; /* OBX-8 values marking demo/test data */
    size_t n_sentinels;
    double sentinels[VIGIL_HL7_PROFILE_LIST_MAX]; /* OBX-5 values meaning "no measurement" */
    size_t n_codes;
    vigil_hl7_local_code codes[VIGIL_HL7_PROFILE_CODES_MAX];
} vigil_hl7_profile;

/*
 * The default profile: an untyped PID-3 identifier is the hospital number
 * when no typed one is sent; LOINC (LN or no system), MDC and SNOMED CT codes; OBX-11 F, C and R;
 * the caller's time zone; OBX-8 "DEMO" is demo data; sentinels -999,
 * 8388607 (the IEEE 11073 FLOAT "not a number") and -100.
 */
void vigil_hl7_profile_init(vigil_hl7_profile *p);

/*
 * Read a profile from text[0..len): lines of `key = value`, `#` comments
 * (docs/hl7.md lists the keys). Starts from the default, so a file states
 * only what differs. Returns VIGIL_OK, or VIGIL_ERR_PARSE with err naming
 * the line; on error *out is unchanged. err may be NULL.
 */
vigil_status vigil_hl7_profile_parse(const char *text, size_t len, vigil_hl7_profile *out,
                                     vigil_err *err);

typedef struct vigil_hl7_opts {
    unsigned processing;   /* MSH-11 values accepted (VIGIL_HL7_PROC_*); default P only */
    vigil_hl7_tz local_tz; /* times without offset; default Europe/London */
    const vigil_tz *zone;  /* local_tz VIGIL_HL7_TZ_ZONE: the zone (borrowed) */
    /* Sender profiles, borrowed (must outlive every call using opts): the
     * first whose sending_app/sending_fac match MSH-3.1/MSH-4.1 applies;
     * when none does, the built-in default. NULL/0 by default. */
    const vigil_hl7_profile *profiles;
    size_t n_profiles;
} vigil_hl7_opts;

/* Defaults: production messages only, Europe/London local time, no profiles. */
void vigil_hl7_opts_init(vigil_hl7_opts *opts);

/* ---------------------------------------------------------------- header */

typedef enum vigil_hl7_kind {
    VIGIL_HL7_KIND_NONE = 0, /* not read, or unsupported */
    VIGIL_HL7_KIND_ORU_R01,
    VIGIL_HL7_KIND_ADT, /* A01, A02, A03 or A08 */
    VIGIL_HL7_KIND_ACK, /* an acknowledgement: never answer it */
    VIGIL_HL7_KIND_COUNT
} vigil_hl7_kind;

/*
 * What the ACK needs from the original MSH, copied. Raw fields are kept as
 * received (still escaped with the message's own separators, seps); the ACK
 * builder transcodes them into the standard encoding characters.
 */
typedef struct vigil_hl7_header {
    bool seps_valid; /* seps read from the message; else use the defaults */
    vigil_hl7_seps seps;
    char sending_app[VIGIL_HL7_HDR_MAX];   /* MSH-3 raw */
    char sending_fac[VIGIL_HL7_HDR_MAX];   /* MSH-4 raw */
    char receiving_app[VIGIL_HL7_HDR_MAX]; /* MSH-5 raw */
    char receiving_fac[VIGIL_HL7_HDR_MAX]; /* MSH-6 raw */
    char control_raw[VIGIL_HL7_CTRL_MAX];  /* MSH-10 raw, echoed in MSA-2 */
    char control_id[VIGIL_ID_MAX];         /* MSH-10 decoded; "" if unusable */
    char msg_code[4];                      /* MSH-9.1, e.g. "ORU" */
    char trigger[4];                       /* MSH-9.2, e.g. "R01" */
    char processing_id[2];                 /* MSH-11.1 */
    char version[12];                      /* MSH-12.1 */
    bool has_time;
    int64_t t_ms; /* MSH-7, Unix ms UTC */
    vigil_hl7_kind kind;
} vigil_hl7_header;

/*
 * Read MSH of a parsed message into out and check it: MSH-9 is ORU^R01,
 * ADT^A01/A02/A03/A08 or ACK; MSH-10 present (at most 63 bytes decoded);
 * MSH-11 accepted by opts; MSH-12 one of 2.3, 2.3.1, 2.4, 2.5, 2.5.1, 2.6,
 * 2.7, 2.7.1, 2.8, 2.8.1, 2.8.2, 2.9; MSH-7 a valid date/time when present.
 * out is filled as far as it could be read even on error (for the ACK).
 * Returns VIGIL_OK, or VIGIL_ERR_PARSE / VIGIL_ERR_MISMATCH with fault: AR.
 * opts may be NULL (defaults).
 */
vigil_status vigil_hl7_header_read(const vigil_hl7_msg *msg, const vigil_hl7_opts *opts,
                                   vigil_hl7_header *out, vigil_hl7_fault *fault);

/* ------------------------------------------------------------ ORU^R01 */

#define VIGIL_HL7_MAX_WARNINGS 8 /* results refused, reported in the ACK (more are counted) */

/* Counts of what an ORU^R01 carried. */
typedef struct vigil_hl7_oru_info {
    size_t n_obx;        /* OBX segments */
    size_t n_used;       /* OBX that set a NEWS2 parameter */
    size_t n_unknown;    /* OBX with a code vigil does not know: ignored */
    size_t n_unused;     /* OBX vigil knows but NEWS2 does not use (diastolic, panels) */
    size_t n_superseded; /* OBX whose parameter a preferred code set (ECG HR over pleth rate) */
    size_t n_not_final;  /* OBX with a status the profile does not accept (also refused) */
    size_t n_refused;    /* OBX with a vital sign refused (units, value, status, demo) */
    size_t n_conflicting; /* OBX not stored: two different values of one rank for one
                             parameter of one set (each named in warnings) */
    bool corrected[VIGIL_HL7_MAX_EVENTS]; /* event i holds a corrected (C) result */
    char profile[VIGIL_ID_MAX];           /* the interface profile applied ("default") */
    size_t n_warnings; /* min(n_refused + conflicts + notes, VIGIL_HL7_MAX_WARNINGS) */
    /* Why each refused result was refused (ack AA, reason, location, text), and an
     * informational note (reason no-vital-signs) when no result carried a vital sign. */
    vigil_hl7_fault warnings[VIGIL_HL7_MAX_WARNINGS];
} vigil_hl7_oru_info;

/*
 * Extract the vital signs of an ORU^R01 (header already read) into
 * events[0..cap): one event per patient and observation time, in the order
 * first seen, each with vigil_obs_init defaults for what was not carried.
 * See docs/hl7.md for the codes, units and rules. Returns VIGIL_OK with
 * *out_n events (possibly 0 when no OBX carried a NEWS2 parameter), or an
 * error with fault (AE) naming the segment, field and value; on error
 * *out_n is 0 and events hold nothing usable. info and fault may be NULL.
 */
vigil_status vigil_hl7_oru_extract(const vigil_hl7_msg *msg, const vigil_hl7_header *hdr,
                                   const vigil_hl7_opts *opts, vigil_obs_event *events, size_t cap,
                                   size_t *out_n, vigil_hl7_oru_info *info, vigil_hl7_fault *fault);

/* ------------------------------------------------------------------ ADT */

typedef enum vigil_adt_kind {
    VIGIL_ADT_NONE = 0,
    VIGIL_ADT_ADMIT,     /* A01 admit/visit notification */
    VIGIL_ADT_TRANSFER,  /* A02 transfer a patient */
    VIGIL_ADT_DISCHARGE, /* A03 discharge/end visit */
    VIGIL_ADT_UPDATE,    /* A08 update patient information */
    VIGIL_ADT_KIND_COUNT
} vigil_adt_kind;

/* A PL (person location), decoded: PV1-3 / PV1-6. "" when absent. */
typedef struct vigil_location {
    char ward[VIGIL_ID_MAX];     /* PL.1 point of care */
    char room[VIGIL_ID_MAX];     /* PL.2 */
    char bed[VIGIL_ID_MAX];      /* PL.3 */
    char facility[VIGIL_ID_MAX]; /* PL.4.1 */
} vigil_location;

/*
 * One ADT event. Identifiers only: no name, address or date of birth
 * (docs/hl7.md, data minimisation). Copyable, no heap pointers.
 */
typedef struct vigil_adt_event {
    vigil_adt_kind kind;
    char nhs_number[VIGIL_NHS_NUMBER_LEN + 1]; /* validated, or "" */
    char mrn[VIGIL_ID_MAX];                    /* local hospital number, or "" */
    char visit_number[VIGIL_ID_MAX];           /* PV1-19.1, or "" */
    char discharge_disposition[16]; /* PV1-36.1 (user table 0112: the site's codes), or "" */
    char patient_class[4];                     /* PV1-2, e.g. "I" inpatient, or "" */
    vigil_location location;                   /* PV1-3 assigned location */
    vigil_location prior_location;             /* PV1-6 prior location (A02) */
    int64_t t_ms;                              /* EVN-6, else EVN-2, else MSH-7 */
    bool has_admit_t;
    int64_t admit_t_ms; /* PV1-44 */
    bool has_discharge_t;
    int64_t discharge_t_ms;       /* PV1-45 */
    char source_id[VIGIL_ID_MAX]; /* MSH-10 */
    vigil_admin_sex sex;          /* PID-8; NONE when not given */
} vigil_adt_event;

void vigil_adt_event_init(vigil_adt_event *ev);

/* "admit", "transfer", "discharge", "update"; "" for none. */
const char *vigil_adt_kind_name(vigil_adt_kind k);

/*
 * Extract an ADT A01/A02/A03/A08 (header already read). Needs PID with an
 * NHS number or MRN and PV1; PV1-3 with at least a ward for A01 and A02.
 * Returns VIGIL_OK or an error with fault (AE); on error *out is unchanged.
 */
vigil_status vigil_hl7_adt_extract(const vigil_hl7_msg *msg, const vigil_hl7_header *hdr,
                                   const vigil_hl7_opts *opts, vigil_adt_event *out,
                                   vigil_hl7_fault *fault);

/* ------------------------------------------------------ one-call decode */

typedef struct vigil_hl7_result {
    vigil_hl7_header hdr;
    vigil_hl7_kind kind;
    size_t n_events;
    vigil_obs_event events[VIGIL_HL7_MAX_EVENTS]; /* ORU^R01 */
    vigil_hl7_oru_info oru;
    vigil_adt_event adt;   /* ADT */
    vigil_hl7_fault fault; /* AA when accepted */
} vigil_hl7_result;

/*
 * Parse, read the header and extract, in one call. Always fills out->hdr
 * as far as it could be read and out->fault (AA on success), so the caller
 * can build the ACK whatever happened. Returns VIGIL_OK or the failing
 * step's status. out is a copy: text may be freed afterwards. opts may be
 * NULL (defaults). vigil_hl7_msg lives on the stack here (about 8 KiB).
 */
vigil_status vigil_hl7_decode(const char *text, size_t len, const vigil_hl7_opts *opts,
                              vigil_hl7_result *out);

/* ------------------------------------------------------------------ ACK */

typedef struct vigil_hl7_ack_opts {
    const char *control_id; /* this ACK's MSH-10: 1 to 63 printable ASCII bytes, required */
    int64_t t_ms;           /* this ACK's MSH-7, Unix ms UTC */
    const char *app;        /* MSH-3 when the original's MSH-5 is empty; may be NULL */
    const char *facility;   /* MSH-4 when the original's MSH-6 is empty; may be NULL */
    /* Results refused within an accepted message (vigil_hl7_oru_info.warnings),
     * each written as one more ERR with ERR-4 W (or I for a note); may be NULL. */
    const vigil_hl7_fault *warnings;
    size_t n_warnings;
} vigil_hl7_ack_opts;

/*
 * Build the ACK for a message whose header is orig (as far as it could be
 * read) and whose outcome is fault (NULL or AA: accepted). Written with the
 * standard encoding characters |^~\& whatever the original used (fields
 * echoed from it are transcoded). Segments, each ended by CR:
 *   MSH  sending and receiving application/facility swapped (o->app and
 *        o->facility stand in for an empty original MSH-5/MSH-6), MSH-7
 *        o->t_ms, MSH-9 ACK^<trigger>^ACK, MSH-10 o->control_id, MSH-11 and
 *        MSH-12 echoed when valid (else P and 2.5.1)
 *   MSA  MSA-1 AA/AE/AR, MSA-2 the original MSH-10
 *   ERR  (AE/AR only) ERR-2 location, ERR-3 <code>^<text>^HL70357, ERR-4 E,
 *        ERR-5 <reason>^^99VIGIL, ERR-8 fault->text
 * Writes to out (cap bytes; VIGIL_HL7_ACK_MAX always suffices) with a NUL
 * after, and the length without the NUL to *out_n. Returns VIGIL_ERR_ARG for
 * a control id that is empty, too long, not printable ASCII or contains a
 * delimiter, or a NULL pointer; VIGIL_ERR_NOMEM when cap is too small (out
 * is then ""). Not MLLP-framed: use vigil_mllp_encode. Reentrant.
 */
vigil_status vigil_hl7_ack_build(const vigil_hl7_header *orig, const vigil_hl7_fault *fault,
                                 const vigil_hl7_ack_opts *o, char *out, size_t cap, size_t *out_n);

/* ---------------------------------------------------------------- names */

const char *vigil_hl7_ack_code_name(vigil_hl7_ack_code c); /* "AA" "AE" "AR" */
const char *vigil_hl7_errcode_text(vigil_hl7_errcode c);   /* table 0357 text */
const char *vigil_hl7_reason_name(vigil_hl7_reason r);     /* "implausible", ... */
const char *vigil_hl7_kind_name(vigil_hl7_kind k);         /* "ORU^R01", "ADT", "ACK" */

/*
 * Mark fault as "unknown patient" (AE 204, VIGIL_HL7_R_UNKNOWN_PATIENT,
 * located at PID-3) for a message whose patient is not on vigil's list:
 * the caller's decision, since this module does not look patients up.
 */
void vigil_hl7_fault_unknown_patient(vigil_hl7_fault *fault, const char *id);

#endif
