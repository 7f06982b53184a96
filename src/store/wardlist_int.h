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

#endif
