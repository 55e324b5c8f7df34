/*
 * internal.h - what py.c and module.c share (needs Python.h first).
 */
#ifndef PY_INTERNAL_H
#define PY_INTERNAL_H

/* The init function of the built-in `_iommusim` module. */
PyMODINIT_FUNC py_module_init(void);

#endif /* PY_INTERNAL_H */
