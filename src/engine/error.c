/*
 * error.c - messages for the SIM_E* codes and the one "where: what" formatter.
 */
#include "engine/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *sim_strerror(int err)
{
    switch (err) {
    case SIM_OK:
        return "success";
#define SIM_ERROR_STR_(name, msg) case SIM_E##name: return msg;
    SIM_ERROR_MAP(SIM_ERROR_STR_)
#undef SIM_ERROR_STR_
    default:
        return "unknown error";
    }
}

const char *sim_errname(int err)
{
    switch (err) {
    case SIM_OK:
        return "SIM_OK";
#define SIM_ERROR_NAME_(name, msg) case SIM_E##name: return "SIM_E" #name;
    SIM_ERROR_MAP(SIM_ERROR_NAME_)
#undef SIM_ERROR_NAME_
    default:
        return "SIM_E?";
    }
}

int sim_error_format(char *buf, size_t len, int err, const char *where,
                     const char *detail_fmt, ...)
{
    int n;

    if (!buf || len == 0)
        return err;
    n = snprintf(buf, len, "%s: %s", where && *where ? where : "iommusim",
                 sim_strerror(err));
    if (detail_fmt && n >= 0 && (size_t)n + 3 < len) {
        va_list ap;
        size_t off = (size_t)n;

        off += (size_t)snprintf(buf + off, len - off, " (");
        va_start(ap, detail_fmt);
        n = vsnprintf(buf + off, len - off, detail_fmt, ap);
        va_end(ap);
        if (n >= 0 && off + (size_t)n + 1 < len)
            snprintf(buf + off + (size_t)n, len - off - (size_t)n, ")");
    }
    return err;
}
