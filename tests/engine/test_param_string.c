/*
 * test_param_string.c - string and path parameters: any text is a string
 * and prints back as itself (lists split at commas); a path must name an
 * existing, readable, non-directory file, else one "what (got 'x')"
 * message; an object keeps its own copy of both, so the caller's text may
 * go; a check reports a missing file with the object's other problems.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/error.h"
#include "engine/object.h"

void test_param_string_parse_format(void);
void test_param_path_checks(void);
void test_param_string_object_owns_text(void);

static const struct sim_param p_str = {
    .name = "label", .type = SIM_PT_STRING, .def = "", .doc = "a label",
};
static const struct sim_param p_strs = {
    .name = "labels", .type = SIM_PT_STRING, .def = "", .flags = SIM_PF_LIST,
    .doc = "labels",
};
static const struct sim_param p_path = {
    .name = "file", .type = SIM_PT_PATH, .doc = "a file",
};

void test_param_string_parse_format(void)
{
    struct sim_value v;
    char err[256], buf[64];

    CU_ASSERT_STRING_EQUAL(sim_param_type_name(SIM_PT_STRING), "string");
    CU_ASSERT_STRING_EQUAL(sim_param_type_name(SIM_PT_PATH), "path");
    /* Any text, kept as given: spaces, commas, what looks like a number. */
    const char *texts[] = { "nic0", "", "a, b c", "42", "none" };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        CU_ASSERT_EQUAL(sim_param_parse(&p_str, texts[i], &v, err, sizeof(err)), 0);
        CU_ASSERT_PTR_EQUAL(v.s, texts[i]);
        CU_ASSERT_EQUAL(sim_param_format(&p_str, &v, buf, sizeof(buf)), (int)strlen(texts[i]));
        CU_ASSERT_STRING_EQUAL(buf, texts[i]);
    }
    /* The default (NULL text) is the declared one. */
    CU_ASSERT_EQUAL(sim_param_parse(&p_str, NULL, &v, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(v.s, "");

    /* A list: items at commas, one blank after a comma dropped, as for
     * every list type; its canonical text has no blanks. */
    CU_ASSERT_EQUAL_FATAL(sim_param_parse(&p_strs, "rx, tx,ctl", &v, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(v.list.n, 3);
    CU_ASSERT_STRING_EQUAL(v.list.items[0].s, "rx");
    CU_ASSERT_STRING_EQUAL(v.list.items[1].s, "tx");
    CU_ASSERT_STRING_EQUAL(v.list.items[2].s, "ctl");
    sim_param_format(&p_strs, &v, buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "rx,tx,ctl");
    sim_param_value_free(&p_strs, &v);
    CU_ASSERT_EQUAL(sim_param_parse(&p_strs, "", &v, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(v.list.n, 0);
}

void test_param_path_checks(void)
{
    char file[] = "/tmp/iommusim-path-XXXXXX", dir[] = "/tmp/iommusim-dir-XXXXXX";
    char missing[64], buf[128], err[256];
    struct sim_value v;
    int fd = mkstemp(file);

    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(missing, sizeof(missing), "%s/nope.iotrace", dir);

    CU_ASSERT_EQUAL(sim_param_parse(&p_path, file, &v, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(v.s, file);
    sim_param_format(&p_path, &v, buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, file);

    CU_ASSERT_EQUAL(sim_param_parse(&p_path, missing, &v, err, sizeof(err)), SIM_ENOENT);
    snprintf(buf, sizeof(buf), "no such file (got '%s')", missing);
    CU_ASSERT_STRING_EQUAL(err, buf);
    /* A path through a regular file is as missing as one through nothing. */
    snprintf(missing, sizeof(missing), "%s/x", file);
    CU_ASSERT_EQUAL(sim_param_parse(&p_path, missing, &v, err, sizeof(err)), SIM_ENOENT);

    CU_ASSERT_EQUAL(sim_param_parse(&p_path, dir, &v, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "a directory, not a file (got '"));
    CU_ASSERT_EQUAL(sim_param_parse(&p_path, "", &v, err, sizeof(err)), SIM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty path (got '', expected the path of an "
                                       "existing file"));
    /* Required: no default, no text. */
    CU_ASSERT_EQUAL(sim_param_parse(&p_path, NULL, &v, err, sizeof(err)), SIM_ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "missing required parameter"));
    unlink(file);
    rmdir(dir);
}

/* A model with a string, a path and an int: what a trace reader declares. */
static const struct sim_param sp_params[] = {
    { .name = "label", .type = SIM_PT_STRING, .def = "dev", .doc = "a label" },
    { .name = "file", .type = SIM_PT_PATH, .doc = "a file" },
    { .name = "n", .type = SIM_PT_INT, .def = "1", .min = "0", .doc = "a count" },
};
static const struct sim_model sp_model = {
    .name = "StringsForTest", .doc = "test", .params = sp_params, .nparams = 3,
};

struct problems {
    int n;
    char text[4][300];
};

static void collect(void *ctx, const char *param, const char *msg)
{
    struct problems *p = ctx;

    if (p->n < 4)
        snprintf(p->text[p->n], sizeof(p->text[0]), "%s: %s", param, msg);
    p->n++;
}

void test_param_string_object_owns_text(void)
{
    char file[] = "/tmp/iommusim-obj-XXXXXX", label[32], path[160], err[512];
    const char *texts[3];
    struct problems pr = { 0 };
    struct sim_world w;
    struct sim_object *o;
    int fd = mkstemp(file);

    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    /* The texts live in buffers the caller then overwrites. */
    snprintf(label, sizeof(label), "nic0");
    snprintf(path, sizeof(path), "%s", file);
    texts[0] = label;
    texts[1] = path;
    texts[2] = NULL;
    sim_world_init(&w, 1);
    CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, &sp_model, "sys.dev", texts, err, sizeof(err)), 0);
    memset(label, 'x', sizeof(label) - 1);
    memset(path, 'y', sizeof(path) - 1);
    o = sim_world_find(&w, "sys.dev");
    CU_ASSERT_STRING_EQUAL(o->values[0].s, "nic0");
    CU_ASSERT_STRING_EQUAL(o->values[1].s, file);
    CU_ASSERT_PTR_EQUAL(o->values[1].s, o->texts[1]);
    CU_ASSERT_STRING_EQUAL(o->texts[0], "nic0");

    /* A missing file is reported with the object's other problems, and
     * sim_world_add names the object and parameter. */
    unlink(file);
    texts[0] = NULL;
    texts[1] = file;
    texts[2] = "-1";
    CU_ASSERT_EQUAL(sim_model_check(&sp_model, texts, collect, &pr, NULL), 2);
    snprintf(path, sizeof(path), "file: no such file (got '%s')", file);
    CU_ASSERT_STRING_EQUAL(pr.text[0], path);
    CU_ASSERT_PTR_NOT_NULL(strstr(pr.text[1], "n: value too small"));
    texts[2] = NULL;
    CU_ASSERT_EQUAL(sim_world_add(&w, &sp_model, "sys.dev1", texts, err, sizeof(err)),
                    SIM_ENOENT);
    snprintf(path, sizeof(path), "sys.dev1.file: no such file (got '%s')", file);
    CU_ASSERT_STRING_EQUAL(err, path);
    sim_world_destroy(&w);
}
