/* test_store_episode.c: when an escalation episode may supersede another
 * (src/store/episode.c, issue 15 item 1), on every backend. */
#include "store_fixture.h"

/* An episode may supersede only an open episode of its own patient: one of
 * another patient's is refused, naming supersedes_id, and nothing is
 * written (no episode, no alert, no page, no audit record; the other
 * patient's episode stays open). */
static void episode_cannot_supersede_another_patients_episode_and_writes_nothing(void **state)
{
    fx *f = *state;
    char a[11], b[11];
    fx_nhs(5101, a);
    fx_nhs(5102, b);
    int64_t pa = fx_patient(f, a, NULL, "Ann"), pb = fx_patient(f, b, NULL, "Bob");
    int64_t ea = 0, aa = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, pa, VIGIL_RESP_URGENT,
                                              VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, &ea, &aa, &e),
                     VIGIL_OK);
    int64_t records = fx_audit_count(f);
    fx_user(f, "dr.patel", VIGIL_STORE_ROLE_DOCTOR);
    records = fx_audit_count(f);
    vigil_store_page_req page = {.recipient = "dr.patel",
                                 .channel = VIGIL_STORE_CHANNEL_WEB,
                                 .post = "emergency step 1",
                                 .rota_step = 1};
    int64_t eb = 0, ab = 0;
    memset(&e, 0, sizeof e);
    vigil_status s = vigil_store_episode_open_paged(f->st, &FX_FEED, pb, VIGIL_RESP_EMERGENCY,
                                                    VIGIL_STORE_TRIGGER_NEWS2, 0, ea, T0 + MIN_MS,
                                                    &page, 1, &eb, &ab, &e);
    if (s != VIGIL_ERR_ARG || strcmp(e.field, "supersedes_id") != 0) {
        fail_msg("superseding another patient's episode: %s (%s: %s), not refused",
                 vigil_status_str(s), e.field, e.msg);
    }
    assert_int_equal(fx_count(f, "SELECT count(*) FROM episode"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM episode WHERE closed_ms IS NULL"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM alert"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page"), 0);
    assert_int_equal(fx_audit_count(f), records);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(episode_cannot_supersede_another_patients_episode_and_writes_nothing, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
