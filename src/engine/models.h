/*
 * models.h - the engine's own models: a clock domain and event sources.
 *
 * They are real, small objects whose behaviour has a closed form, so a
 * config that builds them exercises the whole object path (descriptor,
 * Python class, validation, creation, simulation, readouts) and its output
 * can be checked exactly: a periodic source fires floor((T - start) /
 * period) + 1 times by time T, a Poisson source about rate * T times.
 * Registered in py/registry.c like every other model.
 */
#ifndef SIM_MODELS_H
#define SIM_MODELS_H

#include "engine/object.h"

extern const struct sim_model sim_model_clock_domain;      /* "ClockDomain" */
extern const struct sim_model sim_model_periodic_source;   /* "PeriodicSource" */
extern const struct sim_model sim_model_poisson_source;    /* "PoissonSource" */
extern const struct sim_model sim_model_trace_source;      /* "TraceSource" */

/* The sim_clock of a created ClockDomain object. */
const struct sim_clock *sim_clock_domain_clock(const struct sim_object *obj);

#endif /* SIM_MODELS_H */
