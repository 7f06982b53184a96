/*
 * sq_nodes.c: SQLite backend: several processes on one database file. The
 * lease is an open-file-description lock (F_OFD_SETLK) on one byte of the
 * file <database>.lease: held per handle (two handles of one process contend
 * as two processes do), released by the kernel when the handle closes the
 * file or its process dies, so another handle's next try takes it at once.
 * A database with no file (":memory:", a temporary one) has no other process:
 * every handle holds every lease.
 *
 * The change feed gives 0 always: the server does not follow other processes
 * writing the same file (one node by design on SQLite: the second process is
 * a standby that reloads its state when it takes the lease;
 * docs/server.md "Several nodes").
 *
 * Does not: decide what runs under a lease (src/server/nodes.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sqlite_int.h"

/* The byte of the lease file a name locks: FNV-1a of the name, 4,096 bytes. */
static off_t lease_byte(const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *c = name; *c != '\0'; c++) {
        h = (h ^ (uint8_t)*c) * 16777619u;
    }
    return (off_t)(h % 4096u);
}

void sq_lease_close(sq *q)
{
    if (q->lease_open) {
        close(q->lease_fd); /* releases the lock */
        q->lease_open = false;
        q->lease_held = false;
    }
}

vigil_status vigil__sq_lease_try(void *be, const char *name, bool *out_held, vigil_err *err)
{
    sq *q = be;
    *out_held = false;
    const char *file = sqlite3_db_filename(q->db, "main");
    if (file == NULL || file[0] == '\0') {
        *out_held = true; /* no file: no other process can open this database */
        return VIGIL_OK;
    }
    if (!q->lease_open) {
        char path[4096];
        int w = snprintf(path, sizeof path, "%s.lease", file);
        if (w < 0 || (size_t)w >= sizeof path) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "store", "the database's path is too long");
        }
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            return vigil_err_set(err, VIGIL_ERR_IO, "lease", "%s: %s", path, strerror(errno));
        }
        q->lease_fd = fd;
        q->lease_open = true;
    }
    if (q->lease_held) {
        *out_held = true; /* an OFD lock lasts until the file is closed */
        return VIGIL_OK;
    }
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = lease_byte(name);
    fl.l_len = 1;
    if (fcntl(q->lease_fd, F_OFD_SETLK, &fl) == 0) {
        q->lease_held = true;
        *out_held = true;
        return VIGIL_OK;
    }
    if (errno == EAGAIN || errno == EACCES) {
        return VIGIL_OK; /* another handle holds it */
    }
    return vigil_err_set(err, VIGIL_ERR_IO, "lease", "lock: %s", strerror(errno));
}

vigil_status vigil__sq_changes(void *be, int64_t *out, vigil_err *err)
{
    (void)be;
    (void)err;
    *out = 0;
    return VIGIL_OK;
}
