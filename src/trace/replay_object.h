/*
 * replay_object.h - the `TraceReplay` model: a recorded (or generated)
 * map/unmap trace replayed through a GenericIOMMU from a config.
 *
 * It is trace_replay (replay.h) into trace_sink_generic, built from
 * parameters: the trace file (binary `.iotrace`, or Linux ftrace text that
 * is imported when the object is created, told apart by the file's first
 * eight bytes), the IOMMU, and the device traffic added to each mapped
 * buffer. docs/traces.md describes the replay; docs/params.md the
 * parameters.
 */
#ifndef SIM_TRACE_REPLAY_OBJECT_H
#define SIM_TRACE_REPLAY_OBJECT_H

#include "engine/object.h"

extern const struct sim_model trace_model_replay;       /* "TraceReplay" */

#endif /* SIM_TRACE_REPLAY_OBJECT_H */
