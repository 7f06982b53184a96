/*
 * cmd_train.c: `vigil-train` (also reached as `vigil train`), one training data
 * set in, one model bundle out (src/train/pipeline.c). Progress on stderr.
 * Built into the vigil-train binary only: the serving binary never links
 * src/train or libxgboost (STYLE.md section 1; tests/arch/test_layering.sh).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli.h"
#include "vigil/train.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vigil-train --task sepsis2019|mortality2012 --data PATH --out BUNDLE\n"
            "                   [--config FILE] [--outcomes FILE] [--model-id ID]\n"
            "                   [--model-version V] [--max-stays N]\n"
            "\n"
            "Train a deterioration model on ONE training data set and write a model bundle:\n"
            "trees (XGBoost JSON), feature specification and hash, Platt calibration,\n"
            "training ranges, thresholds chosen on the training data, internal validation\n"
            "figures and a model card. Stays are split 70/15/15 (train / early stopping /\n"
            "calibration and thresholds) by a hash of the stay id. No test data is read:\n"
            "score test data with 'vigil evaluate --model BUNDLE --data PATH'.\n"
            "\n"
            "  --task T          sepsis2019 (hourly, PhysioNet 2019) or mortality2012\n"
            "                    (in-hospital death at hour 48, PhysioNet 2012)\n"
            "  --data PATH       training data (folder or archive)\n"
            "  --out BUNDLE      the bundle to write (JSON)\n"
            "  --config FILE     hyperparameters and feature exclusions (JSON; see models/)\n"
            "  --outcomes FILE   PhysioNet 2012 Outcomes file (found beside the data otherwise)\n"
            "  --model-id ID     default vigil-<task>\n"
            "  --model-version V default 1.0.0\n"
            "  --max-stays N     only the first N stays (for a quick check)\n"
            "\n"
            "The result is trained on ICU research data and is not validated for clinical use.\n"
            "'vigil train ...' runs this binary (vigil-train, beside vigil).\n");
}

static void on_log(const char *line, void *ctx)
{
    (void)ctx;
    vigil_cli_progress_done();
    fprintf(stderr, "vigil train: %s\n", line);
}

static void on_round(int round, int max_rounds, double auc, void *ctx)
{
    (void)ctx;
    char what[64];
    snprintf(what, sizeof what, "boosting (validation AUROC %.4f)", auc);
    vigil_cli_bar(what, (size_t)round + 1, (size_t)max_rounds);
}

int vigil_cli_train(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"task", required_argument, NULL, 't'},
        {"data", required_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'o'},
        {"config", required_argument, NULL, 'c'},
        {"outcomes", required_argument, NULL, 'u'},
        {"model-id", required_argument, NULL, 'i'},
        {"model-version", required_argument, NULL, 'v'},
        {"max-stays", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    vigil_pipeline_opts o = {.model_version = "1.0.0", .log = on_log, .progress = on_round};
    char id[96];
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            o.task = optarg;
            break;
        case 'd':
            o.data_path = optarg;
            break;
        case 'o':
            o.out_path = optarg;
            break;
        case 'c':
            o.config_path = optarg;
            break;
        case 'u':
            o.outcomes = optarg;
            break;
        case 'i':
            o.model_id = optarg;
            break;
        case 'v':
            o.model_version = optarg;
            break;
        case 'm': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || v <= 0) {
                fprintf(stderr, "vigil train: --max-stays needs a positive number\n");
                return VIGIL_EXIT_USAGE;
            }
            o.max_stays = (size_t)v;
            break;
        }
        case 'h':
            usage(stdout);
            return VIGIL_EXIT_OK;
        default:
            fprintf(stderr, "Run 'vigil-train --help' for the options.\n");
            return VIGIL_EXIT_USAGE;
        }
    }
    if (o.task == NULL || o.data_path == NULL || o.out_path == NULL || optind < argc) {
        fprintf(stderr, "vigil train: --task, --data and --out are required\n");
        return VIGIL_EXIT_USAGE;
    }
    if (o.model_id == NULL) {
        snprintf(id, sizeof id, "vigil-%s", o.task);
        o.model_id = id;
    }
    vigil_err err = {0};
    vigil_status st = vigil_pipeline_train(&o, &err);
    vigil_cli_progress_done();
    if (st != VIGIL_OK) {
        fprintf(stderr, "vigil train: %s\n", err.msg[0] != '\0' ? err.msg : vigil_status_str(st));
        return st == VIGIL_ERR_IO ? VIGIL_EXIT_IO : VIGIL_EXIT_DATA;
    }
    return VIGIL_EXIT_OK;
}
