/*
 * fhir_ctx.c: the parse context shared by the FHIR reader: the FHIRPath of
 * the element being read, the first failure as an OperationOutcome issue,
 * typed JSON getters that refuse wrong types, strict loading, and the
 * allocator hooks.
 *
 * Does not: interpret any resource (fhir_observation.c, fhir_bundle.c).
 * Invariant: the first failure wins; later calls to vigil__fhir_fail do not
 * overwrite it, so the issue always names the element that stopped parsing.
 * Spec: FHIR R4 JSON representation (no nulls, no empty strings, UTF-8);
 * OperationOutcome.issue (severity, code, diagnostics, expression).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fhir_int.h"

void vigil__fhir_ctx_init(fhir_ctx *c, const char *root)
{
    memset(c, 0, sizeof *c);
    vigil__fhir_set_path(c, root);
}

void vigil__fhir_set_path(fhir_ctx *c, const char *path)
{
    c->len = 0;
    c->path[0] = '\0';
    if (path != NULL) {
        vigil__fhir_push_key(c, path);
        /* push_key added a leading '.'; drop it */
        memmove(c->path, c->path + 1, c->len);
        c->len--;
    }
}

/* Append text to the path. Room for "..." is always kept: when a component
 * does not fit the path ends "..." so a cut expression is never mistaken for
 * a real element, and _pop still restores the exact earlier path. */
static size_t push_text(fhir_ctx *c, const char *text)
{
    size_t old = c->len;
    size_t n = strlen(text);
    bool cut = c->len >= 3 && memcmp(c->path + c->len - 3, "...", 3) == 0;
    if (cut) {
        return old;
    }
    if (c->len + n + 4 <= sizeof c->path) {
        memcpy(c->path + c->len, text, n + 1);
        c->len += n;
    } else {
        memcpy(c->path + c->len, "...", 4);
        c->len += 3;
    }
    return old;
}

size_t vigil__fhir_push_key(fhir_ctx *c, const char *key)
{
    char buf[72];
    snprintf(buf, sizeof buf, ".%s", key);
    return push_text(c, buf);
}

size_t vigil__fhir_push_index(fhir_ctx *c, size_t i)
{
    char buf[32];
    snprintf(buf, sizeof buf, "[%zu]", i);
    return push_text(c, buf);
}

void vigil__fhir_pop(fhir_ctx *c, size_t old_len)
{
    if (old_len < sizeof c->path) {
        c->len = old_len;
        c->path[old_len] = '\0';
    }
}

vigil_status vigil__fhir_status_of(vigil_fhir_issue_type t)
{
    switch (t) {
    case VIGIL_FHIR_ISSUE_EXCEPTION:
        return VIGIL_ERR_NOMEM;
    default:
        return VIGIL_ERR_PARSE;
    }
}

static vigil_status vfail(fhir_ctx *c, bool with_path, vigil_fhir_issue_type code, const char *fmt,
                          va_list ap)
{
    if (c->failed) {
        return vigil__fhir_status_of(c->issue.code);
    }
    c->failed = true;
    c->issue.code = code;
    c->issue.severity = (code == VIGIL_FHIR_ISSUE_STRUCTURE || code == VIGIL_FHIR_ISSUE_EXCEPTION)
                            ? VIGIL_FHIR_SEV_FATAL
                            : VIGIL_FHIR_SEV_ERROR;
    c->issue.expression[0] = '\0';
    if (with_path) {
        snprintf(c->issue.expression, sizeof c->issue.expression, "%s", c->path);
    }
    vsnprintf(c->issue.diagnostics, sizeof c->issue.diagnostics, fmt, ap);
    return vigil__fhir_status_of(code);
}

vigil_status vigil__fhir_fail(fhir_ctx *c, vigil_fhir_issue_type code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vigil_status st = vfail(c, true, code, fmt, ap);
    va_end(ap);
    return st;
}

vigil_status vigil__fhir_fail_at(fhir_ctx *c, const char *key, vigil_fhir_issue_type code,
                                 const char *fmt, ...)
{
    size_t old = vigil__fhir_push_key(c, key);
    va_list ap;
    va_start(ap, fmt);
    vigil_status st = vfail(c, true, code, fmt, ap);
    va_end(ap);
    vigil__fhir_pop(c, old);
    return st;
}

vigil_status vigil__fhir_fail_nopath(fhir_ctx *c, vigil_fhir_issue_type code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vigil_status st = vfail(c, false, code, fmt, ap);
    va_end(ap);
    return st;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

/* Shared shape of the typed getters: absent, required or wrong type. */
static vigil_status lookup(fhir_ctx *c, json_t *obj, const char *key, bool required, json_type want,
                           const char *want_name, json_t **out)
{
    *out = NULL;
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        if (required) {
            return vigil__fhir_fail_at(c, key, VIGIL_FHIR_ISSUE_REQUIRED, "%s is required", key);
        }
        return VIGIL_OK;
    }
    bool ok = json_typeof(v) == want || (want == JSON_REAL && json_typeof(v) == JSON_INTEGER);
    if (!ok) {
        return vigil__fhir_fail_at(c, key, VIGIL_FHIR_ISSUE_STRUCTURE, "%s must be %s, not %s", key,
                                   want_name, json_type_name(v));
    }
    *out = v;
    return VIGIL_OK;
}

vigil_status vigil__fhir_get_object(fhir_ctx *c, json_t *obj, const char *key, bool required,
                                    json_t **out)
{
    return lookup(c, obj, key, required, JSON_OBJECT, "an object", out);
}

vigil_status vigil__fhir_get_array(fhir_ctx *c, json_t *obj, const char *key, bool required,
                                   json_t **out)
{
    vigil_status st = lookup(c, obj, key, required, JSON_ARRAY, "an array", out);
    if (st == VIGIL_OK && *out != NULL && json_array_size(*out) == 0) {
        /* FHIR JSON: an array is never empty (absent instead). */
        *out = NULL;
        return vigil__fhir_fail_at(c, key, VIGIL_FHIR_ISSUE_STRUCTURE,
                                   "%s is an empty array; FHIR JSON omits empty arrays", key);
    }
    return st;
}

vigil_status vigil__fhir_get_string(fhir_ctx *c, json_t *obj, const char *key, bool required,
                                    const char **out)
{
    json_t *v = NULL;
    *out = NULL;
    vigil_status st = lookup(c, obj, key, required, JSON_STRING, "a string", &v);
    if (st != VIGIL_OK || v == NULL) {
        return st;
    }
    const char *s = json_string_value(v);
    if (json_string_length(v) == 0) {
        return vigil__fhir_fail_at(c, key, VIGIL_FHIR_ISSUE_VALUE, "%s is an empty string", key);
    }
    if (strlen(s) != json_string_length(v)) {
        /* jansson refuses \u0000 already; belt and braces for C strings */
        return vigil__fhir_fail_at(c, key, VIGIL_FHIR_ISSUE_VALUE, "%s holds a NUL character", key);
    }
    *out = s;
    return VIGIL_OK;
}

vigil_status vigil__fhir_get_number(fhir_ctx *c, json_t *obj, const char *key, bool required,
                                    bool *present, double *out)
{
    json_t *v = NULL;
    *present = false;
    vigil_status st = lookup(c, obj, key, required, JSON_REAL, "a number", &v);
    if (st != VIGIL_OK || v == NULL) {
        return st;
    }
    *out = json_number_value(v);
    *present = true;
    return VIGIL_OK;
}

vigil_status vigil__fhir_copy_id(fhir_ctx *c, const char *key, const char *s, char *dst, size_t cap)
{
    size_t n = strlen(s);
    if (n >= cap) {
        return vigil__fhir_fail_at(c, key, VIGIL_FHIR_ISSUE_TOO_LONG,
                                   "%s '%.40s...' is %zu characters; vigil keeps at most %zu", key,
                                   s, n, cap - 1);
    }
    memcpy(dst, s, n + 1);
    return VIGIL_OK;
}

bool vigil__fhir_is_id(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char ch = s[n];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
        if (!ok || n >= 64) {
            return false;
        }
    }
    return n >= 1;
}

bool vigil__fhir_utf8_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char b = p[i];
        size_t len;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            len = 2;
            cp = b & 0x1Fu;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3;
            cp = b & 0x0Fu;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4;
            cp = b & 0x07u;
        } else {
            return false;
        }
        if (i + len > n) {
            return false;
        }
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i + k] & 0x3Fu);
        }
        /* refuse overlong forms, surrogates and values past U+10FFFF */
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return false;
        }
        i += len;
    }
    return true;
}

void *vigil__fhir_malloc(size_t n)
{
    json_malloc_t m = NULL;
    json_free_t f = NULL;
    json_get_alloc_funcs(&m, &f);
    return m(n == 0 ? 1 : n);
}

void vigil__fhir_mfree(void *p)
{
    if (p == NULL) {
        return;
    }
    json_malloc_t m = NULL;
    json_free_t f = NULL;
    json_get_alloc_funcs(&m, &f);
    f(p);
}

json_t *vigil__fhir_load(fhir_ctx *c, const char *json, size_t len)
{
    if (len > VIGIL_FHIR_MAX_BYTES) {
        vigil__fhir_fail_nopath(c, VIGIL_FHIR_ISSUE_TOO_COSTLY,
                                "the request is %zu bytes; vigil reads at most %u", len,
                                VIGIL_FHIR_MAX_BYTES);
        return NULL;
    }
    json_error_t e;
    /* REQ FHIR-JSON-STRICT: duplicate keys, trailing text and \u0000 refused */
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);
    if (root != NULL) {
        return root;
    }
    /* jansson leaves the error text empty when it cannot even start (its
     * lexer buffer allocation failed); that is out of memory too */
    if (json_error_code(&e) == json_error_out_of_memory || e.text[0] == '\0') {
        vigil__fhir_fail_nopath(c, VIGIL_FHIR_ISSUE_EXCEPTION, "out of memory reading JSON");
    } else {
        vigil__fhir_fail_nopath(c, VIGIL_FHIR_ISSUE_STRUCTURE,
                                "not valid JSON at line %d, column %d: %s", e.line, e.column,
                                e.text);
    }
    return NULL;
}
