/*
 * error.h - the project-wide error convention.
 *
 * Every fallible function returns 0 on success or a negative SIM_E* code.
 * The codes and their messages live in one X-macro list so the enum and
 * sim_strerror() can never drift apart (the idea of libuv's UV_ERRNO_MAP).
 *
 * A code says *what* class of thing went wrong; *where* and the details go in
 * a message built with sim_error_format(), which always reads
 *     "where: what is wrong (got X, expected Y)"
 * so that every layer, from the engine to the config loader, reports alike.
 */
#ifndef SIM_ERROR_H
#define SIM_ERROR_H

#include <stddef.h>

#define SIM_ERROR_MAP(X)                                                     \
    X(INVAL,    "invalid argument")                                          \
    X(NOMEM,    "out of memory")                                             \
    X(PAST,     "event scheduled in the past")                               \
    X(BUSY,     "event is already scheduled")                                \
    X(NOTSCHED, "event is not scheduled")                                    \
    X(RANGE,    "value out of range")                                        \
    X(PARSE,    "malformed value")                                           \
    X(UNIT,     "unknown or missing unit")                                   \
    X(OVERFLOW, "value overflows its type")                                  \
    X(NOENT,    "no such object or file")                                    \
    X(EXIST,    "already exists")                                            \
    X(IO,       "input/output error")                                        \
    X(NOSYS,    "operation not supported")                                   \
    X(STATE,    "operation not allowed in this state")                       \
    X(REFUSED,  "refused by the model")                                      \
    X(FAULT,    "translation fault")

enum sim_errno {
    SIM_OK = 0,
#define SIM_ERROR_ENUM_(name, msg) SIM_E##name,
    SIM__E_FIRST = -1000,               /* codes run -999, -998, ... */
    SIM_ERROR_MAP(SIM_ERROR_ENUM_)
#undef SIM_ERROR_ENUM_
    SIM__E_LAST
};

/* The message of a code; "unknown error" for anything not in the map. */
const char *sim_strerror(int err);

/* The code's symbolic name ("SIM_EINVAL"), for logs and tests. */
const char *sim_errname(int err);

/*
 * Format "where: what (detail)" into buf (always NUL-terminated, truncated to
 * len). detail is printf-style and may be NULL. Returns err unchanged so a
 * caller can write `return sim_error_format(buf, n, err, path, "got %d", x);`.
 */
int sim_error_format(char *buf, size_t len, int err, const char *where,
                     const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif /* SIM_ERROR_H */
