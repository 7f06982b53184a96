/*
 * vigil/obs_text.h: set one field of an observation set from its text form,
 * with the names the `vigil news2` CSV uses. Pure: no I/O, no allocation.
 *
 * Field names: rr, spo2, scale (1 or 2), o2 (air or oxygen), sbp, hr,
 * acvpu (A, C, V, P or U), temp_c, age, pregnant (yes/no, true/false, 1/0).
 * An empty or blank value means "not measured" and leaves the field unset.
 * Values are parsed strictly and checked against the plausibility bounds of
 * vigil/news2.h, so an error names the field and the value.
 */
#ifndef VIGIL_OBS_TEXT_H
#define VIGIL_OBS_TEXT_H

#include <stdbool.h>

#include "vigil/news2.h"

/* True when name is one of the field names above. */
bool vigil_obs_text_known(const char *name);

/*
 * Set obs's field `name` from `value`. Returns VIGIL_OK;
 * VIGIL_ERR_NOT_FOUND for an unknown name; VIGIL_ERR_PARSE for a value that
 * is not of the field's form; VIGIL_ERR_IMPLAUSIBLE for a value outside its
 * bounds. On error obs is unchanged and err names field and value.
 */
vigil_status vigil_obs_set_text(vigil_obs *obs, const char *name, const char *value,
                                vigil_err *err);

#endif
