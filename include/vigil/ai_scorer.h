/*
 * vigil/ai_scorer.h: the ward server's AI, a vigil_scorer (vigil/server.h)
 * backed by a model bundle (vigil/model.h): the patient's recent observation
 * events become a timeline, the same feature code as training turns it into
 * a feature vector, and the bundle gives a calibrated risk, a low-confidence
 * flag (inputs outside the training ranges) and the top factors up and down
 * in words, as JSON.
 *
 * Honesty: the shipped bundles learned from ICU data (hourly vitals and
 * labs); on a ward only the vital signs arrive, so most lab inputs are
 * missing and the out-of-range guard will often mark scores low-confidence.
 * Local validation must come before clinical use.
 *
 * Thread safety: score() may be called from several threads; each call
 * builds its own timeline and workspace.
 */
#ifndef VIGIL_AI_SCORER_H
#define VIGIL_AI_SCORER_H

#include "vigil/server.h"

/* Load the bundle at path and fill *out (its close() frees everything). */
vigil_status vigil_ai_scorer_open(const char *bundle_path, vigil_scorer *out, vigil_err *err);

#endif
