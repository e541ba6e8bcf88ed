/*
 * config-apply.h -- applying a configuration to the running daemon: at
 * start-up, and on reload by difference.
 */
#ifndef CORRAL_CONFIG_APPLY_H
#define CORRAL_CONFIG_APPLY_H

#include <stdbool.h>

struct corrald;
struct config;

/* [daemon] settings into d->config (not over command-line options). */
void config_daemon_settings(struct corrald *, const struct config *, bool reload);
/* Check what can be checked without starting anything (--check-config). */
int config_check(struct corrald *, const struct config *, char **cause);
/* Create the configured queues and pools. 0, or -1 with *cause. */
int config_apply_startup(struct corrald *, const struct config *, char **cause);
/* Install the [access] rules (and regrant the connections). 0, or -1 with *cause. */
int config_apply_access(struct corrald *, const struct config *, char **cause);
/* Reread the file and apply the difference; -1 with *cause (then nothing changed if invalid). */
int config_reload(struct corrald *, char **cause);

#endif
