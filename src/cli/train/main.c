/*
 * main.c: the `vigil-train` command, the training half of the vigil CLI built as
 * its own binary so that the serving binary (`vigil`) never links src/train or
 * libxgboost (STYLE.md section 1). `vigil train ARGS` runs this binary with ARGS.
 * Does not: serve, score or evaluate (those are `vigil` commands).
 */
#include <stdio.h>
#include <string.h>

#include "../cli.h"

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("vigil-train %s\n", VIGIL_VERSION);
        return VIGIL_EXIT_OK;
    }
    return vigil_cli_train(argc, argv);
}
