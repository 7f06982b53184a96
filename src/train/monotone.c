/*
 * monotone.c: the clinical direction of a feature's effect on risk, for
 * XGBoost's monotone constraints (docs/model.md, "Monotone constraints").
 * A feature is constrained only where its direction is unambiguous in
 * clinical terms: lower oxygen saturation is never reassuring; a higher NEWS2
 * sub-score, a larger share of readings outside the normal range, a higher
 * shock index, lactate, creatinine, urea or bilirubin, and lower platelets
 * or Glasgow coma score are never reassuring (NEWS2: RCP 2017, chart 1;
 * Sepsis-3 SOFA components: Singer et al., JAMA 2016;315:801-10, table 1).
 * A U-shaped vital (respiration rate, heart rate, blood pressure,
 * temperature) is constrained through its distances above and below a
 * reference value (feature spec v4), each one-sided.
 * Deliberately NOT constrained: the raw levels and trends of those vitals
 * (too low and too high are both dangerous: a ward model reads the
 * distances in place of the raw levels), variability
 * (SD), lab changes, potassium, sodium, glucose, haemoglobin, white cells,
 * age and sex. Training only: inference is unchanged.
 */
#include <fnmatch.h>
#include <stddef.h>

#include "vigil/features.h"
#include "vigil/train.h"

/* REQ TRAIN-MONOTONE: one row per rule, shell patterns on feature names */
static const struct {
    const char *pattern;
    signed char direction; /* +1 higher is riskier, -1 lower is riskier */
} clinical_direction[] = {
    /* SpO2 level and its trajectory: one-sided (lower is worse) */
    {.pattern = "spo2_last", .direction = -1},
    {.pattern = "spo2_min*", .direction = -1},
    {.pattern = "spo2_max*", .direction = -1},
    {.pattern = "spo2_mean*", .direction = -1},
    {.pattern = "spo2_d[0-9]*", .direction = -1},
    {.pattern = "spo2_slope*", .direction = -1},
    {.pattern = "spo2_devbase", .direction = -1},
    /* SpO2 cannot rise far above normal, so its variability means dips */
    {.pattern = "spo2_sd*", .direction = +1},
    /* distance from the reference value, each side apart (spec v4): for a
     * U-shaped vital, farther from normal on either side is never
     * reassuring (SpO2 only below: a high saturation is not a danger) */
    {.pattern = "spo2_below*", .direction = +1},
    {.pattern = "hr_above*", .direction = +1},
    {.pattern = "hr_below*", .direction = +1},
    {.pattern = "resp_above*", .direction = +1},
    {.pattern = "resp_below*", .direction = +1},
    {.pattern = "sbp_above*", .direction = +1},
    {.pattern = "sbp_below*", .direction = +1},
    {.pattern = "temp_above*", .direction = +1},
    {.pattern = "temp_below*", .direction = +1},
    {.pattern = "map_above*", .direction = +1},
    {.pattern = "map_below*", .direction = +1},
    {.pattern = "dbp_above*", .direction = +1},
    {.pattern = "dbp_below*", .direction = +1},
    {.pattern = "etco2_above*", .direction = +1},
    {.pattern = "etco2_below*", .direction = +1},
    /* distance from normal: the share of readings outside the normal range */
    {.pattern = "*_abn6", .direction = +1},
    {.pattern = "*_abn24", .direction = +1},
    /* NEWS2 sub-scores (0-3, both tails of a U-shaped vital score up) and totals */
    {.pattern = "news2_rr", .direction = +1},
    {.pattern = "news2_spo2", .direction = +1},
    {.pattern = "news2_o2", .direction = +1},
    {.pattern = "news2_sbp", .direction = +1},
    {.pattern = "news2_hr", .direction = +1},
    {.pattern = "news2_acvpu", .direction = +1},
    {.pattern = "news2_temp", .direction = +1},
    {.pattern = "news2_total", .direction = +1},
    {.pattern = "news2_max24", .direction = +1},
    {.pattern = "news2_phys", .direction = +1},
    {.pattern = "news2_phys_d6", .direction = +1},
    {.pattern = "news2_phys_d24", .direction = +1},
    {.pattern = "news2_phys_mean24", .direction = +1},
    {.pattern = "news2_phys_max24", .direction = +1},
    /* ratios that rise with circulatory failure */
    {.pattern = "shock_index", .direction = +1},
    {.pattern = "mshock_index", .direction = +1},
    {.pattern = "age_shock_index", .direction = +1},
    /* organ dysfunction (SOFA) and hypoperfusion: the level, not its change */
    {.pattern = "lactate_last", .direction = +1},
    {.pattern = "creatinine_last", .direction = +1},
    {.pattern = "bun_last", .direction = +1},
    {.pattern = "bili_total_last", .direction = +1},
    {.pattern = "platelets_last", .direction = -1},
    {.pattern = "gcs_last", .direction = -1},
};

int vigil_train_clinical_direction(size_t j)
{
    const vigil_feature_info *fi = vigil_features_info(j);
    if (fi == NULL) {
        return 0;
    }
    for (size_t i = 0; i < sizeof clinical_direction / sizeof clinical_direction[0]; i++) {
        if (fnmatch(clinical_direction[i].pattern, fi->name, 0) == 0) {
            return clinical_direction[i].direction;
        }
    }
    return 0;
}
