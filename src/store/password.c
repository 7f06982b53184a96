/*
 * password.c: password hashes. argon2id with libsodium's interactive limits
 * (64 MiB, 2 passes) to make a hash; the reference implementation
 * (libargon2) to check one, in memory the calling thread reserved once.
 *
 * Why a reserved arena (issue 12 soak): libsodium maps 64 MiB for every
 * check and unmaps it after, so under a flood of sign-ins the server's
 * resident memory swung by 64 MiB with each one (RSS between 1x and 2x of
 * its own size in the soak), every check page-faulted 16,384 fresh pages
 * (zeroed by the kernel) and its unmapping interrupted the other cores
 * (TLB shootdown) where HL7 ingest runs. The sign-in thread reserves the
 * arena at its start and touches it, so the server's memory is its size
 * from the first second and a check costs the hash only.
 *
 * Does not: decide who may sign in (server/auth.c), or keep a password.
 * Invariant: a hash is checked only when its text is exactly libsodium's
 * form ($argon2id$v=19$m=M,t=T,p=P$salt$hash, unpadded base64) within the
 * bounds below, so a damaged stored hash is refused rather than asking for
 * gigabytes of memory.
 */
#include <argon2.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "store_int.h"
#include "vigil/store.h"

_Static_assert(VIGIL_PASSWORD_HASH_MAX >= crypto_pwhash_STRBYTES, "hash buffer too small");

#define PASSWORD_MAX_BYTES 1024

/* What a stored hash may ask for: libsodium's own strings use m=65536,
 * t=2, p=1 (interactive); up to 4x its memory is accepted, no more. */
#define HASH_M_MAX_KIB (4u * 65536u)
#define HASH_T_MAX 16u
#define HASH_P_MAX 4u
#define SALT_MAX 64u
#define OUT_MIN 16u
#define OUT_MAX 64u

/* The calling thread's reserved memory (vigil_password_scratch_reserve). */
static _Thread_local uint8_t *scratch;
static _Thread_local size_t scratch_len;

static int scratch_alloc(uint8_t **memory, size_t bytes)
{
    if (scratch != NULL && bytes <= scratch_len) {
        *memory = scratch;
        return ARGON2_OK;
    }
    *memory = malloc(bytes);
    return *memory != NULL ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
}

static void scratch_free(uint8_t *memory, size_t bytes)
{
    (void)bytes; /* libargon2 has wiped it before this call */
    if (memory != scratch) {
        free(memory);
    }
}

vigil_status vigil_password_scratch_reserve(vigil_err *err)
{
    if (scratch != NULL) {
        return VIGIL_OK;
    }
    size_t len = (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "password",
                             "the sign-in check's %zu bytes of memory could not be reserved", len);
    }
    /* touch every page now: the memory is resident from here on, and a
     * check never waits for the kernel to fault it in */
    memset(p, 0, len);
    scratch = p;
    scratch_len = len;
    return VIGIL_OK;
}

void vigil_password_scratch_release(void)
{
    if (scratch != NULL) {
        sodium_memzero(scratch, scratch_len);
        munmap(scratch, scratch_len);
        scratch = NULL;
        scratch_len = 0;
    }
}

static vigil_status check_password(const char *pw, vigil_err *err)
{
    if (pw == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "password", "no password given");
    }
    size_t bytes = strlen(pw), chars = 0;
    for (const unsigned char *p = (const unsigned char *)pw; *p != '\0'; p++) {
        chars += (*p & 0xC0u) != 0x80u; /* count UTF-8 lead bytes */
    }
    if (chars < VIGIL_PASSWORD_MIN || bytes > PASSWORD_MAX_BYTES) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "password", "a password needs %d to %d characters",
                             VIGIL_PASSWORD_MIN, PASSWORD_MAX_BYTES);
    }
    return VIGIL_OK;
}

vigil_status vigil_password_hash(const char *password, char out[VIGIL_PASSWORD_HASH_MAX],
                                 vigil_err *err)
{
    vigil_status s = check_password(password, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    if (sodium_init() < 0) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "libsodium failed to initialise");
    }
    char h[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(h, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "password",
                             "argon2id could not get its %zu bytes of memory",
                             (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE);
    }
    memcpy(out, h, sizeof h);
    sodium_memzero(h, sizeof h);
    return VIGIL_OK;
}

/* Read a decimal u32 in [lo, hi] at *p, ending at stop; advance past stop. */
static bool read_u32(const char **p, char stop, uint32_t lo, uint32_t hi, uint32_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t n = 0;
    while (*s >= '0' && *s <= '9' && n < 10) {
        v = v * 10u + (uint64_t)(*s - '0');
        s++;
        n++;
    }
    if (n == 0 || (n > 1 && (*p)[0] == '0') || *s != stop || v < lo || v > hi) {
        return false;
    }
    *out = (uint32_t)v;
    *p = s + 1;
    return true;
}

/* Decode unpadded standard base64 [s, end) into out (cap bytes). */
static bool read_b64(const char *s, const char *end, uint8_t *out, size_t cap, size_t *n)
{
    const char *last = NULL;
    return sodium_base642bin(out, cap, s, (size_t)(end - s), NULL, n, &last,
                             sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 0 &&
           last == end;
}

bool vigil_password_verify(const char *hash, const char *password)
{
    if (hash == NULL || password == NULL || sodium_init() < 0 ||
        memchr(hash, '\0', crypto_pwhash_STRBYTES) == NULL ||
        strlen(password) > PASSWORD_MAX_BYTES) {
        return false;
    }
    static const char head[] = "$argon2id$v=19$m=";
    if (strncmp(hash, head, sizeof head - 1) != 0) {
        return false;
    }
    const char *p = hash + sizeof head - 1;
    uint32_t m, t, lanes;
    if (!read_u32(&p, ',', 8, HASH_M_MAX_KIB, &m) || strncmp(p, "t=", 2) != 0) {
        return false;
    }
    p += 2;
    if (!read_u32(&p, ',', 1, HASH_T_MAX, &t) || strncmp(p, "p=", 2) != 0) {
        return false;
    }
    p += 2;
    if (!read_u32(&p, '$', 1, HASH_P_MAX, &lanes) || m < 8u * lanes) {
        return false;
    }
    const char *dollar = strchr(p, '$');
    if (dollar == NULL) {
        return false;
    }
    uint8_t salt[SALT_MAX], want[OUT_MAX], got[OUT_MAX];
    size_t salt_n = 0, want_n = 0;
    if (!read_b64(p, dollar, salt, sizeof salt, &salt_n) || salt_n < ARGON2_MIN_SALT_LENGTH ||
        !read_b64(dollar + 1, dollar + 1 + strlen(dollar + 1), want, sizeof want, &want_n) ||
        want_n < OUT_MIN) {
        return false;
    }
    argon2_context ctx = {
        .out = got,
        .outlen = (uint32_t)want_n,
        .pwd = (uint8_t *)(uintptr_t)password,
        .pwdlen = (uint32_t)strlen(password),
        .salt = salt,
        .saltlen = (uint32_t)salt_n,
        .t_cost = t,
        .m_cost = m,
        .lanes = lanes,
        .threads = 1, /* lanes computed in turn: a sign-in never starts threads */
        .version = ARGON2_VERSION_13,
        .allocate_cbk = scratch_alloc,
        .free_cbk = scratch_free,
        .flags = ARGON2_DEFAULT_FLAGS,
    };
    /* argon2_verify_ctx computes into ctx.out and compares in constant time */
    bool ok = argon2_verify_ctx(&ctx, (const char *)want, Argon2_id) == ARGON2_OK;
    sodium_memzero(got, sizeof got);
    return ok;
}
