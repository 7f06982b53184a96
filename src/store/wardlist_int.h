/*
 * wardlist_int.h: private to src/store: the ward list and the patient view,
 * assembled from the backend's primitive reads (wardlist.c).
 */
#ifndef VIGIL_STORE_WARDLIST_INT_H
#define VIGIL_STORE_WARDLIST_INT_H

#include "store_int.h"

/* vigil_store_ward_list_get and vigil_store_patient_current_get once their
 * arguments are checked (store.c): the same contract. */
vigil_status vigil__store_ward_list(vigil_store *st, const vigil_actor *who, const char *ward,
                                    int64_t now_ms, vigil_store_ward_list *out, vigil_err *err);
vigil_status vigil__store_patient_current(vigil_store *st, const vigil_actor *who,
                                          int64_t patient_id, int64_t now_ms,
                                          vigil_store_patient_current *out, vigil_err *err);

/* A write through st may have changed patient_id's row (0: any patient's,
 * when the write names no patient): its row is read again from the backend
 * the next time. Called after every write, whatever it returned; returns s. */
vigil_status vigil__wl_wrote(vigil_store *st, int64_t patient_id, vigil_status s);
/* The same for the patients of put_obs_batch's out[0..n) (any patient's when
 * the call failed as a whole). */
void vigil__wl_wrote_obs(vigil_store *st, const vigil_store_put *out, size_t n, vigil_status s);
/* The same for put_ai_batch: the rows showing one of the scores. */
void vigil__wl_wrote_ai(vigil_store *st, const vigil_store_ai_item *items, size_t n,
                        vigil_status s);
/* Release the rows (vigil_store_close). */
void vigil__wl_free(vigil_store *st);
/* Rows the ward list and patient view took from memory so far (test support:
 * vigil_store_row_cache_hits). */
uint64_t vigil__wl_hits(const vigil_store *st);

#endif
