/* avroschema.c - see avroschema.h.
 *
 * Two passes over the JSON: the first collects named types (with their
 * full names, to resolve references) and enforces the counting caps; the
 * second finds, by a fixed point, the records that have a finite value
 * and the size of their smallest value. Both recurse on the JSON only
 * (never through a reference), so their depth is the JSON's nesting,
 * capped at TP_AVROSCHEMA_MAX_DEPTH.
 */
#include "avroschema.h"
#include "utf8.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_named {
        char *fullname; /* owned */
        char *ns;       /* owned: namespace for references in its fields */
        json_t *def;    /* borrowed from the document */
        int is_record;
        int known;   /* record: finite value found */
        size_t size; /* record: nodes of its smallest value, once known */
};

struct tp_scheck {
        struct tp_named named[TP_AVROSCHEMA_MAX_NAMED];
        size_t n_named, n_fields, n_nodes;
        char *errstr;
        size_t errstr_size;
};

static const char *const tp_primitives[] = {
        "null", "boolean", "int", "long", "float", "double", "bytes", "string"};

static int tp_is_primitive(const char *s)
{
        for (size_t i = 0; i < TP_ARRAY_LEN(tp_primitives); i++)
                if (strcmp(s, tp_primitives[i]) == 0)
                        return 1;
        return 0;
}

/* Full name of name in namespace ns (heap). */
static char *tp_fullname(const char *name, const char *ns)
{
        size_t n;
        char *full;
        if (strchr(name, '.') || !ns || !*ns)
                return tp_xstrdup(name);
        n = strlen(ns) + strlen(name) + 2;
        full = tp_xmalloc(n);
        snprintf(full, n, "%s.%s", ns, name);
        return full;
}

static struct tp_named *tp_lookup(struct tp_scheck *sc, const char *ref,
                                  const char *ns)
{
        char *full = tp_fullname(ref, ns);
        struct tp_named *found = NULL;
        for (size_t i = 0; i < sc->n_named && !found; i++)
                if (strcmp(sc->named[i].fullname, full) == 0 ||
                    strcmp(sc->named[i].fullname, ref) == 0)
                        found = &sc->named[i];
        free(full);
        return found;
}

static int tp_refuse(struct tp_scheck *sc, const char *what, const char *name)
{
        char shown[64];
        if (!name) {
                snprintf(sc->errstr, sc->errstr_size, "writer schema %s", what);
                return -1;
        }
        tp_utf8_escape(shown, sizeof(shown), name, strlen(name));
        snprintf(sc->errstr, sc->errstr_size, "writer schema %s: \"%s\"", what,
                 shown);
        return -1;
}

static const char *tp_type_name(json_t *t)
{
        return json_string_value(json_object_get(t, "type"));
}

static int tp_is_named_def(const char *type)
{
        return type &&
               (strcmp(type, "record") == 0 || strcmp(type, "error") == 0 ||
                strcmp(type, "enum") == 0 || strcmp(type, "fixed") == 0);
}

static int tp_is_record(const char *type)
{
        return type &&
               (strcmp(type, "record") == 0 || strcmp(type, "error") == 0);
}

/* ---- pass 1: names and caps --------------------------------------------- */

static int tp_collect(struct tp_scheck *sc, json_t *t, const char *ns,
                      int depth);

static int tp_collect_named(struct tp_scheck *sc, json_t *t, const char *type,
                            const char *ns, int depth)
{
        const char *name = json_string_value(json_object_get(t, "name"));
        const char *own_ns = json_string_value(json_object_get(t, "namespace"));
        struct tp_named *nd;
        json_t *fields, *f;
        size_t k;
        const char *dot;
        char *full;

        if (!name)
                return 0; /* the Avro parser refuses it */
        if (sc->n_named >= TP_AVROSCHEMA_MAX_NAMED)
                return tp_refuse(sc, "has too many named types", NULL);
        if (own_ns)
                ns = own_ns;
        full = tp_fullname(name, ns);
        for (k = 0; k < sc->n_named; k++) {
                if (strcmp(sc->named[k].fullname, full) == 0) {
                        /* avro-c refuses it too, but leaks what it built */
                        tp_refuse(sc, "defines a named type twice", full);
                        free(full);
                        return -1;
                }
        }
        nd = &sc->named[sc->n_named++];
        nd->fullname = full;
        dot = strrchr(nd->fullname, '.');
        nd->ns = dot ? tp_xstrndup(nd->fullname, (size_t)(dot - nd->fullname))
                     : tp_xstrdup("");
        nd->def = t;
        nd->is_record = tp_is_record(type);
        if (strcmp(type, "fixed") == 0 &&
            json_integer_value(json_object_get(t, "size")) >
                    TP_AVROSCHEMA_MAX_FIXED)
                return tp_refuse(sc, "has a fixed type that is too large",
                                 nd->fullname);
        if (!nd->is_record)
                return 0;
        fields = json_object_get(t, "fields");
        if (!json_is_array(fields))
                return 0;
        if (json_array_size(fields) > TP_AVROSCHEMA_MAX_FIELDS - sc->n_fields)
                return tp_refuse(sc, "has too many fields", NULL);
        sc->n_fields += json_array_size(fields);
        ns = nd->ns;
        json_array_foreach(fields, k, f)
        {
                if (tp_collect(sc, json_object_get(f, "type"), ns, depth + 1))
                        return -1;
        }
        return 0;
}

static int tp_collect(struct tp_scheck *sc, json_t *t, const char *ns,
                      int depth)
{
        const char *type;
        size_t k;
        json_t *b;

        if (!t)
                return 0;
        if (depth > TP_AVROSCHEMA_MAX_DEPTH)
                return tp_refuse(sc, "nests types too deeply", NULL);
        if (++sc->n_nodes > TP_AVROSCHEMA_MAX_NODES)
                return tp_refuse(sc, "has too many types", NULL);
        if (json_is_array(t)) {
                json_array_foreach(t, k, b)
                {
                        if (tp_collect(sc, b, ns, depth + 1))
                                return -1;
                }
                return 0;
        }
        if (!json_is_object(t))
                return 0;
        type = tp_type_name(t);
        if (tp_is_named_def(type))
                return tp_collect_named(sc, t, type, ns, depth);
        if (type && strcmp(type, "array") == 0)
                return tp_collect(sc, json_object_get(t, "items"), ns,
                                  depth + 1);
        if (type && strcmp(type, "map") == 0)
                return tp_collect(sc, json_object_get(t, "values"), ns,
                                  depth + 1);
        if (!type)
                return tp_collect(sc, json_object_get(t, "type"), ns,
                                  depth + 1);
        return 0;
}

/* ---- pass 2: finite values and their size -------------------------------- */

/* Size of the smallest value of t, or 0 when not known (yet) to be
 * finite. Unions, arrays and maps end a cycle: they cost one node and
 * are not followed. */
static size_t tp_min_size(struct tp_scheck *sc, json_t *t, const char *ns)
{
        const char *type;
        struct tp_named *nd;
        size_t k, best = 0;
        json_t *b;

        if (json_is_string(t)) {
                const char *ref = json_string_value(t);
                if (tp_is_primitive(ref))
                        return 1;
                nd = tp_lookup(sc, ref, ns);
                if (!nd || !nd->is_record)
                        return 1; /* enum, fixed, or left to the parser */
                return nd->known ? nd->size : 0;
        }
        if (json_is_array(t)) {
                /* One node whatever the branch; some branch must end. */
                json_array_foreach(t, k, b)
                {
                        if (tp_min_size(sc, b, ns))
                                best = 1;
                }
                return best;
        }
        if (!json_is_object(t))
                return 1;
        type = tp_type_name(t);
        if (tp_is_record(type)) {
                const char *name =
                        json_string_value(json_object_get(t, "name"));
                const char *own =
                        json_string_value(json_object_get(t, "namespace"));
                nd = name ? tp_lookup(sc, name, own ? own : ns) : NULL;
                return nd && nd->known ? nd->size : (nd ? 0 : 1);
        }
        if (!type)
                return tp_min_size(sc, json_object_get(t, "type"), ns);
        return 1; /* primitive, enum, fixed, array, map */
}

/* Size of a record's smallest value, 0 while some field is not known to
 * be finite. Saturates above the cap. */
static size_t tp_record_size(struct tp_scheck *sc, struct tp_named *nd)
{
        json_t *fields = json_object_get(nd->def, "fields"), *f;
        size_t k, size = 1;

        json_array_foreach(fields, k, f)
        {
                size_t s = tp_min_size(sc, json_object_get(f, "type"), nd->ns);
                if (s == 0)
                        return 0;
                size += s;
                if (size > TP_AVROSCHEMA_MAX_EXPANDED)
                        size = TP_AVROSCHEMA_MAX_EXPANDED + 1;
        }
        return size;
}

static int tp_check_finite(struct tp_scheck *sc)
{
        int changed = 1;

        while (changed) {
                changed = 0;
                /* Inner definitions come after outer ones: from the end,
                 * a schema without recursion settles in one sweep. */
                for (size_t i = sc->n_named; i-- > 0;) {
                        struct tp_named *nd = &sc->named[i];
                        if (!nd->is_record || nd->known)
                                continue;
                        nd->size = tp_record_size(sc, nd);
                        if (nd->size) {
                                nd->known = 1;
                                changed = 1;
                        }
                }
        }
        for (size_t i = 0; i < sc->n_named; i++) {
                struct tp_named *nd = &sc->named[i];
                if (nd->is_record && !nd->known)
                        return tp_refuse(sc,
                                         "has a record that contains itself "
                                         "without a way to end",
                                         nd->fullname);
                if (nd->is_record && nd->size > TP_AVROSCHEMA_MAX_EXPANDED)
                        return tp_refuse(sc,
                                         "has a record too large once "
                                         "expanded",
                                         nd->fullname);
        }
        return 0;
}

int tp_avroschema_check(const char *json, size_t len, char *errstr,
                        size_t errstr_size)
{
        struct tp_scheck *sc = tp_xcalloc(1, sizeof(*sc));
        json_error_t jerr;
        json_t *root = json_loadb(json, len, 0, &jerr);
        int rc = 0;

        sc->errstr = errstr;
        sc->errstr_size = errstr_size;
        if (root) {
                rc = tp_collect(sc, root, "", 0);
                if (rc == 0)
                        rc = tp_check_finite(sc);
        }
        for (size_t i = 0; i < sc->n_named; i++) {
                free(sc->named[i].fullname);
                free(sc->named[i].ns);
        }
        json_decref(root);
        free(sc);
        return rc;
}
