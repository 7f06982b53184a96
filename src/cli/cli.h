/*
 * cli.h: the vigil command's subcommands. Each returns the process exit
 * status: VIGIL_EXIT_OK, VIGIL_EXIT_DATA (some input refused),
 * VIGIL_EXIT_USAGE (bad options), VIGIL_EXIT_IO (a file could not be read).
 */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

enum {
    VIGIL_EXIT_OK = 0,
    VIGIL_EXIT_DATA = 1,
    VIGIL_EXIT_USAGE = 2,
    VIGIL_EXIT_IO = 3,
};

typedef struct vigil_cli_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} vigil_cli_cmd;

int vigil_cli_news2(int argc, char **argv);
int vigil_cli_audit(int argc, char **argv);
int vigil_cli_hl7(int argc, char **argv);
int vigil_cli_serve(int argc, char **argv);

#endif
