/*
 * txtwriter.h - stats.txt: a gem5-like human-readable table of a dump.
 */
#ifndef STATS_TXTWRITER_H
#define STATS_TXTWRITER_H

#include "stats/registry.h"

/*
 * Write the registry's last dump to `path` (through path.tmp, fsync and
 * rename, so an existing file is replaced whole or not at all).
 * SIM_ESTATE if nothing was dumped yet, SIM_EIO on a write failure; the
 * message is in stats_registry_errmsg().
 */
int stats_txt_write(struct stats_registry *r, const char *path);

#endif /* STATS_TXTWRITER_H */
