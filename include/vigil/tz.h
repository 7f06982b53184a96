/*
 * vigil/tz.h: IANA time zones (Europe/Paris, America/New_York, ...) read
 * from the system's compiled TZif files (RFC 8536, Debian package tzdata,
 * /usr/share/zoneinfo), to turn a sender's local wall-clock time without a
 * UTC offset into Unix time.
 *
 * What it does: parse a TZif file (version 1 to 4; the 64-bit data of
 * version 2+, and its footer's POSIX TZ rule for instants after the last
 * transition); convert a local time to UTC, refusing a local time that a
 * clock change skips or repeats (vigil never guesses the time of a vital
 * sign); give the UTC offset in force at an instant.
 *
 * What it does not do: read the TZ environment variable, call localtime()
 * or setenv() (a zone is an explicit, immutable value, safe to share between
 * threads), leap seconds (the "right/" zones are refused).
 *
 * Ownership: vigil_tz_load and vigil_tz_parse allocate; vigil_tz_free
 * releases (NULL is a no-op). A loaded zone is never changed, so any number
 * of threads may use one at once.
 */
#ifndef VIGIL_TZ_H
#define VIGIL_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/status.h"

typedef struct vigil_tz vigil_tz;

#define VIGIL_TZ_NAME_MAX 64

/*
 * Load the zone called name ("Europe/Paris") from dir (NULL: $TZDIR if set
 * when called, else /usr/share/zoneinfo). name must be a relative path of
 * letters, digits, '_', '-', '+' and '/' parts, without "." or ".." parts,
 * at most VIGIL_TZ_NAME_MAX - 1 bytes. Returns VIGIL_OK with *out owned by
 * the caller; VIGIL_ERR_ARG for a malformed name; VIGIL_ERR_NOT_FOUND when
 * there is no such file (is tzdata installed?); VIGIL_ERR_PARSE when the file
 * is not valid TZif; VIGIL_ERR_IO, VIGIL_ERR_NOMEM. err names the zone.
 */
vigil_status vigil_tz_load(const char *name, const char *dir, vigil_tz **out, vigil_err *err);

/* Parse TZif bytes data[0..len) as the zone called name. Same returns as
 * vigil_tz_load (never VIGIL_ERR_NOT_FOUND / VIGIL_ERR_IO). */
vigil_status vigil_tz_parse(const char *name, const unsigned char *data, size_t len,
                            vigil_tz **out, vigil_err *err);

void vigil_tz_free(vigil_tz *tz);

/* The zone's name as given to vigil_tz_load. Borrowed, lives as long as tz. */
const char *vigil_tz_name(const vigil_tz *tz);

/* The UTC offset (local minus UTC) in force at Unix time utc_ms, in seconds. */
int32_t vigil_tz_offset_at(const vigil_tz *tz, int64_t utc_ms);

/*
 * The Unix time of a local wall-clock time, given as milliseconds since
 * 1970-01-01T00:00 of the local calendar. Returns VIGIL_OK with *out_utc_ms;
 * VIGIL_ERR_CONFLICT when the local time does not exist (clocks go forward)
 * or happens twice (clocks go back), with err saying which and naming the
 * zone. *out_utc_ms is unchanged on error.
 */
vigil_status vigil_tz_local_to_utc(const vigil_tz *tz, int64_t local_ms, int64_t *out_utc_ms,
                                   vigil_err *err);

#endif
