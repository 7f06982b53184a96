/*
 * main.c: the `vigil` command. Dispatches to subcommands; owns process-wide
 * concerns (exit status, usage text). Uses include/vigil/ only.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const vigil_cli_cmd commands[] = {
    {"news2", vigil_cli_news2, "score observation sets with NEWS2 (RCP 2017)"},
    {"audit", vigil_cli_audit, "verify a store's hash-chained audit trail"},
    {"migrate", vigil_cli_migrate,
     "copy a store into an empty one (SQLite into PostgreSQL), chain verified"},
    {"data", vigil_cli_data, "read PhysioNet research data and report counts and issues"},
    {"evaluate", vigil_cli_evaluate, "evaluate NEWS2 and other scores on research data"},
    {"validate", vigil_cli_validate,
     "write a local validation report (HTML) of a model bundle beside NEWS2"},
    {"monitor", vigil_cli_monitor,
     "replay data through the live-monitoring alarms (drift, alert rate, calibration)"},
    {"explain", vigil_cli_explain, "explain one patient's AI risk in plain words"},
    {"adapt", vigil_cli_adapt, "adapt a model bundle's calibration and threshold to a hospital"},
    {"train", vigil_cli_train_exec, "train a model bundle on research data (runs vigil-train)"},
    {"hl7", vigil_cli_hl7, "check HL7 v2 messages: extracted events, refusals, ACKs"},
    {"serve", vigil_cli_serve, "run the ward service: MLLP/HL7 in, JSON API and FHIR out"},
    {"vitals", vigil_cli_vitals, "print the table of vital signs vigil reads (JSON, --js)"},
    {"replay", vigil_cli_replay,
     "send PhysioNet stays as HL7 over MLLP: demo ward and load generator"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil <command> [options]\n"
               "\n"
               "vigil is an early-warning and escalation system for hospital wards.\n"
               "The AI risk model is trained on ICU research data and must be validated\n"
               "locally before any clinical use.\n"
               "\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(f, "\n"
               "options:\n"
               "  -h, --help     show this help\n"
               "  --version      print the version\n"
               "\n"
               "Run 'vigil <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return VIGIL_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("vigil %s\n", VIGIL_VERSION);
        return VIGIL_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(cmd, commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "vigil: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return VIGIL_EXIT_USAGE;
}
