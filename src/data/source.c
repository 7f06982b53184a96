/*
 * source.c: "next file" sources for the research-data reader: a path (one
 * file, an archive read in place through libarchive, or a folder walked
 * recursively with archives inside it opened in turn) and an in-memory list.
 *
 * Does not: interpret file contents (reader.c does), extract anything to
 * disk, or follow more than VIGIL__DATA_MAX_DEPTH folder levels.
 * Invariants: names come out in a deterministic order (folder entries sorted
 * by byte order, archive members in stored order); each yielded buffer is
 * NUL-terminated one byte past its length and owned by the source.
 */
#include "data_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Refuse single files larger than this (the data files are kilobytes). */
#define FILE_MAX_BYTES ((size_t)512 * 1024 * 1024)

typedef struct path_source {
    char **files; /* every regular file under the root, sorted */
    size_t n_files, cap_files, next_file;
    struct archive *ar;  /* the archive being read, or NULL */
    const char *ar_path; /* borrowed from files[] */
    char *name;          /* current name (heap) */
    size_t name_cap;
    char *buf; /* current file bytes + NUL */
    size_t cap;
} path_source;

static vigil_status buf_reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) {
        return VIGIL_OK;
    }
    size_t n = *cap ? *cap : 4096;
    while (n < need) {
        n *= 2;
    }
    char *p = realloc(*buf, n);
    if (p == NULL) {
        return VIGIL_ERR_NOMEM;
    }
    *buf = p;
    *cap = n;
    return VIGIL_OK;
}

static char *str_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL) {
        memcpy(p, s, n);
    }
    return p;
}

static char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    bool slash = a > 0 && dir[a - 1] == '/';
    char *p = malloc(a + b + 2);
    if (p == NULL) {
        return NULL;
    }
    memcpy(p, dir, a);
    size_t k = a;
    if (!slash) {
        p[k++] = '/';
    }
    memcpy(p + k, name, b + 1);
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static vigil_status add_file(path_source *ps, char *path)
{
    if (ps->n_files == ps->cap_files) {
        size_t n = ps->cap_files ? ps->cap_files * 2 : 64;
        char **p = realloc(ps->files, n * sizeof *p);
        if (p == NULL) {
            free(path);
            return VIGIL_ERR_NOMEM;
        }
        ps->files = p;
        ps->cap_files = n;
    }
    ps->files[ps->n_files++] = path;
    return VIGIL_OK;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

/* Collect dir's entries (sorted, hidden skipped), then recurse into folders
 * in that order so the whole walk is sorted depth-first. */
static vigil_status walk_dir(path_source *ps, const char *dir, int depth, vigil_err *err)
{
    if (depth > VIGIL__DATA_MAX_DEPTH) {
        return vigil_err_set(err, VIGIL_ERR_IO, "path", "%s: folders nested too deep", dir);
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        return vigil_err_set(err, VIGIL_ERR_IO, "path", "%s: %s", dir, strerror(errno));
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    vigil_status st = VIGIL_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **p = realloc(names, nc * sizeof *p);
            if (p == NULL) {
                st = VIGIL_ERR_NOMEM;
                break;
            }
            names = p;
            cap = nc;
        }
        names[n] = str_dup(de->d_name);
        if (names[n] == NULL) {
            st = VIGIL_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (st != VIGIL_OK) {
        free_names(names, n);
        return vigil_err_set(err, st, "path", "out of memory listing %s", dir);
    }
    if (n > 1) {
        qsort(names, n, sizeof *names, cmp_str);
    }
    for (size_t i = 0; i < n && st == VIGIL_OK; i++) {
        char *full = path_join(dir, names[i]);
        if (full == NULL) {
            st = vigil_err_set(err, VIGIL_ERR_NOMEM, "path", "out of memory");
            break;
        }
        struct stat sb;
        if (stat(full, &sb) != 0) {
            free(full); /* a dangling link: nothing to read */
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            st = walk_dir(ps, full, depth + 1, err);
            free(full);
        } else if (S_ISREG(sb.st_mode)) {
            st = add_file(ps, full);
            if (st != VIGIL_OK) {
                vigil_err_set(err, st, "path", "out of memory");
            }
        } else {
            free(full);
        }
    }
    free_names(names, n);
    return st;
}

bool vigil__data_looks_like_archive(const unsigned char *h, size_t n)
{
    if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) {
        return true; /* gzip */
    }
    if (n >= 3 && memcmp(h, "BZh", 3) == 0) {
        return true; /* bzip2 */
    }
    if (n >= 6 && memcmp(h,
                         "\xfd"
                         "7zXZ\0",
                         6) == 0) {
        return true; /* xz */
    }
    if (n >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0) {
        return true; /* zstd */
    }
    if (n >= 4 && memcmp(h, "PK\x03\x04", 4) == 0) {
        return true; /* zip */
    }
    if (n >= 6 && memcmp(h, "7z\xbc\xaf\x27\x1c", 6) == 0) {
        return true; /* 7-zip */
    }
    if (n >= 262 && memcmp(h + 257, "ustar", 5) == 0) {
        return true; /* tar */
    }
    return false;
}

static vigil_status set_name(path_source *ps, const char *a, const char *b)
{
    size_t la = strlen(a), lb = b ? strlen(b) : 0;
    vigil_status st = buf_reserve(&ps->name, &ps->name_cap, la + lb + 2);
    if (st != VIGIL_OK) {
        return st;
    }
    memcpy(ps->name, a, la);
    if (b != NULL) {
        ps->name[la] = ':';
        memcpy(ps->name + la + 1, b, lb);
        ps->name[la + 1 + lb] = '\0';
    } else {
        ps->name[la] = '\0';
    }
    return VIGIL_OK;
}

/* Read the rest of the current archive member into ps->buf. */
static vigil_status read_member(path_source *ps, struct archive_entry *e, size_t *out_len,
                                vigil_err *err)
{
    size_t len = 0;
    la_int64_t sz = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    if (sz < 0 || (uint64_t)sz > FILE_MAX_BYTES) {
        return vigil_err_set(err, VIGIL_ERR_IO, "file", "%s: member too large", ps->name);
    }
    if (buf_reserve(&ps->buf, &ps->cap, (size_t)sz + 1) != VIGIL_OK) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "file", "out of memory");
    }
    for (;;) {
        if (ps->cap - len < 4096 + 1) {
            if (ps->cap > FILE_MAX_BYTES) {
                return vigil_err_set(err, VIGIL_ERR_IO, "file", "%s: member too large", ps->name);
            }
            if (buf_reserve(&ps->buf, &ps->cap, ps->cap * 2) != VIGIL_OK) {
                return vigil_err_set(err, VIGIL_ERR_NOMEM, "file", "out of memory");
            }
        }
        la_ssize_t r = archive_read_data(ps->ar, ps->buf + len, ps->cap - len - 1);
        if (r == 0) {
            break;
        }
        if (r < 0) {
            return vigil_err_set(err, VIGIL_ERR_IO, "file", "%s: %s", ps->name,
                                 archive_error_string(ps->ar));
        }
        len += (size_t)r;
    }
    ps->buf[len] = '\0';
    *out_len = len;
    return VIGIL_OK;
}

static vigil_status read_plain(path_source *ps, FILE *f, const char *path, size_t *out_len,
                               vigil_err *err)
{
    size_t len = 0;
    for (;;) {
        if (ps->cap - len < 65536 + 1) {
            if (len > FILE_MAX_BYTES) {
                return vigil_err_set(err, VIGIL_ERR_IO, "file", "%s: file too large", path);
            }
            if (buf_reserve(&ps->buf, &ps->cap, len + 65536 + 1) != VIGIL_OK) {
                return vigil_err_set(err, VIGIL_ERR_NOMEM, "file", "out of memory");
            }
        }
        size_t r = fread(ps->buf + len, 1, ps->cap - len - 1, f);
        len += r;
        if (r == 0) {
            if (ferror(f)) {
                return vigil_err_set(err, VIGIL_ERR_IO, "file", "%s: read error", path);
            }
            break;
        }
    }
    ps->buf[len] = '\0';
    *out_len = len;
    return VIGIL_OK;
}

static void close_archive(path_source *ps)
{
    if (ps->ar != NULL) {
        archive_read_free(ps->ar);
        ps->ar = NULL;
    }
}

static vigil_status open_archive(path_source *ps, const char *path, vigil_err *err)
{
    ps->ar = archive_read_new();
    if (ps->ar == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "file", "out of memory");
    }
    archive_read_support_filter_all(ps->ar);
    archive_read_support_format_all(ps->ar);
    if (archive_read_open_filename(ps->ar, path, 1 << 16) != ARCHIVE_OK) {
        vigil_status st =
            vigil_err_set(err, VIGIL_ERR_IO, "file", "%s: %s", path, archive_error_string(ps->ar));
        close_archive(ps);
        return st;
    }
    ps->ar_path = path;
    return VIGIL_OK;
}

static vigil_status path_next(void *self, const char **out_name, char **out_data, size_t *out_len,
                              vigil_err *err)
{
    path_source *ps = self;
    for (;;) {
        if (ps->ar != NULL) {
            struct archive_entry *e = NULL;
            int r = archive_read_next_header(ps->ar, &e);
            if (r == ARCHIVE_EOF) {
                close_archive(ps);
                continue;
            }
            if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                vigil_status st = vigil_err_set(err, VIGIL_ERR_IO, "file", "%s: %s", ps->ar_path,
                                                archive_error_string(ps->ar));
                close_archive(ps);
                return st;
            }
            if (archive_entry_filetype(e) != AE_IFREG) {
                continue;
            }
            if (set_name(ps, ps->ar_path, archive_entry_pathname(e)) != VIGIL_OK) {
                return vigil_err_set(err, VIGIL_ERR_NOMEM, "file", "out of memory");
            }
            vigil_status st = read_member(ps, e, out_len, err);
            if (st != VIGIL_OK) {
                return st;
            }
            *out_name = ps->name;
            *out_data = ps->buf;
            return VIGIL_OK;
        }
        if (ps->next_file >= ps->n_files) {
            *out_name = NULL;
            *out_data = NULL;
            *out_len = 0;
            return VIGIL_OK;
        }
        const char *path = ps->files[ps->next_file++];
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            return vigil_err_set(err, VIGIL_ERR_IO, "file", "%s: %s", path, strerror(errno));
        }
        unsigned char head[512];
        size_t nh = fread(head, 1, sizeof head, f);
        if (vigil__data_looks_like_archive(head, nh)) {
            fclose(f);
            vigil_status st = open_archive(ps, path, err);
            if (st != VIGIL_OK) {
                return st;
            }
            continue;
        }
        rewind(f);
        vigil_status st = set_name(ps, path, NULL);
        if (st == VIGIL_OK) {
            st = read_plain(ps, f, path, out_len, err);
        } else {
            vigil_err_set(err, st, "file", "out of memory");
        }
        fclose(f);
        if (st != VIGIL_OK) {
            return st;
        }
        *out_name = ps->name;
        *out_data = ps->buf;
        return VIGIL_OK;
    }
}

static void path_close(void *self)
{
    path_source *ps = self;
    if (ps == NULL) {
        return;
    }
    close_archive(ps);
    for (size_t i = 0; i < ps->n_files; i++) {
        free(ps->files[i]);
    }
    free(ps->files);
    free(ps->name);
    free(ps->buf);
    free(ps);
}

vigil_status vigil__data_list_files(const char *path, char ***out_files, size_t *out_n,
                                    vigil_err *err)
{
    path_source tmp = {0};
    struct stat sb;
    if (stat(path, &sb) != 0) {
        return vigil_err_set(err, VIGIL_ERR_IO, "path", "%s: %s", path, strerror(errno));
    }
    vigil_status st = VIGIL_OK;
    if (S_ISDIR(sb.st_mode)) {
        st = walk_dir(&tmp, path, 0, err);
    } else if (S_ISREG(sb.st_mode)) {
        char *p = str_dup(path);
        st = p ? add_file(&tmp, p) : VIGIL_ERR_NOMEM;
        if (st != VIGIL_OK) {
            vigil_err_set(err, st, "path", "out of memory");
        }
    } else {
        st = vigil_err_set(err, VIGIL_ERR_IO, "path", "%s: not a file or folder", path);
    }
    if (st != VIGIL_OK) {
        for (size_t i = 0; i < tmp.n_files; i++) {
            free(tmp.files[i]);
        }
        free(tmp.files);
        return st;
    }
    *out_files = tmp.files;
    *out_n = tmp.n_files;
    return VIGIL_OK;
}

vigil_status vigil_file_source_open_path(const char *path, vigil_file_source *out, vigil_err *err)
{
    if (path == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "path", "no path");
    }
    path_source *ps = calloc(1, sizeof *ps);
    if (ps == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "path", "out of memory");
    }
    vigil_status st = vigil__data_list_files(path, &ps->files, &ps->n_files, err);
    if (st != VIGIL_OK) {
        free(ps);
        return st;
    }
    ps->cap_files = ps->n_files;
    out->next = path_next;
    out->close = path_close;
    out->self = ps;
    return VIGIL_OK;
}

typedef struct mem_source {
    const vigil_mem_file *files;
    size_t n, next;
    char *buf;
    size_t cap;
} mem_source;

static vigil_status mem_next(void *self, const char **out_name, char **out_data, size_t *out_len,
                             vigil_err *err)
{
    mem_source *ms = self;
    if (ms->next >= ms->n) {
        *out_name = NULL;
        *out_data = NULL;
        *out_len = 0;
        return VIGIL_OK;
    }
    const vigil_mem_file *f = &ms->files[ms->next++];
    if (buf_reserve(&ms->buf, &ms->cap, f->len + 1) != VIGIL_OK) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "file", "out of memory");
    }
    if (f->len > 0) {
        memcpy(ms->buf, f->data, f->len);
    }
    ms->buf[f->len] = '\0';
    *out_name = f->name;
    *out_data = ms->buf;
    *out_len = f->len;
    return VIGIL_OK;
}

static void mem_close(void *self)
{
    mem_source *ms = self;
    if (ms != NULL) {
        free(ms->buf);
        free(ms);
    }
}

vigil_status vigil_file_source_open_memory(const vigil_mem_file *files, size_t n,
                                           vigil_file_source *out, vigil_err *err)
{
    if ((files == NULL && n > 0) || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "files", "no files");
    }
    mem_source *ms = calloc(1, sizeof *ms);
    if (ms == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "files", "out of memory");
    }
    ms->files = files;
    ms->n = n;
    out->next = mem_next;
    out->close = mem_close;
    out->self = ms;
    return VIGIL_OK;
}
