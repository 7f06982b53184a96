/*
 * fuzz_tz.c: libFuzzer target for the TZif reader (vigil/tz.h, RFC 8536).
 * Built and run by scripts/fuzz.sh; seeds in fuzz/corpus/tz (zone files of
 * Debian's tzdata, public domain: Europe/Paris, America/New_York,
 * Australia/Sydney, Asia/Kolkata).
 *
 * Invariant: any bytes are refused or read, never read past their end; a
 * zone read gives every instant an offset within +-26 hours, and every
 * local time either one instant whose local time it is, or a refusal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vigil/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond) check_at((cond), #cond, __LINE__)

static void check_at(int cond, const char *what, int line)
{
    if (!cond) {
        fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, line, what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vigil_tz *tz = NULL;
    if (vigil_tz_parse("Fuzz/Zone", data, size, &tz, NULL) != VIGIL_OK) {
        check(tz == NULL);
        return 0;
    }
    /* instants from 1900 to 2100, a prime step so every hour of the day is hit */
    for (int64_t t = -2208988800000LL; t < 4102444800000LL; t += 7919LL * 3600000LL) {
        int32_t off = vigil_tz_offset_at(tz, t);
        check(off >= -26 * 3600 && off <= 26 * 3600);
        int64_t local = t + (int64_t)off * 1000, back = 0;
        vigil_status st = vigil_tz_local_to_utc(tz, local, &back, NULL);
        check(st == VIGIL_OK || st == VIGIL_ERR_CONFLICT);
        if (st == VIGIL_OK) {
            check(back + (int64_t)vigil_tz_offset_at(tz, back) * 1000 == local);
        }
    }
    vigil_tz_free(tz);
    return 0;
}
