/* schema_mutator.c - libFuzzer custom mutator for fuzz_decode's writer
 * schema mode ('{' WRITER-SCHEMA-JSON '\0' AVRO-BODY).
 *
 * Byte mutations rarely keep a schema parseable, so they seldom reach the
 * schema checks and avro-c's resolution with anything new. Here the JSON
 * is parsed (jansson) and changed as a hostile producer would change the
 * contract: a record given a field of its own type (required or in a
 * union), a type wrapped in arrays, maps or unions, nesting made deep, a
 * record widened with many fields, a field retyped as another named type
 * or a primitive, a field removed, a named type redefined. The body is
 * then mutated by libFuzzer's own mutator half of the time. Inputs that
 * are not a parseable schema go to LLVMFuzzerMutate unchanged.
 *
 * Linked into the libFuzzer build only (it calls LLVMFuzzerMutate). */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed);

#define SM_MAX_SLOTS 512

/* Where a type sits: parent[key] for an object, parent[index] for a
 * union (a JSON array). */
struct sm_slot {
        json_t *parent;
        const char *key;
        size_t index;
};

struct sm_walk {
        struct sm_slot slots[SM_MAX_SLOTS];
        size_t n_slots;
        json_t *records[SM_MAX_SLOTS];
        size_t n_records;
        unsigned int rng;
};

static unsigned int sm_rand(struct sm_walk *w, unsigned int n)
{
        w->rng ^= w->rng << 13;
        w->rng ^= w->rng >> 17;
        w->rng ^= w->rng << 5;
        return n ? w->rng % n : 0;
}

static json_t *sm_get(const struct sm_slot *s)
{
        return s->key ? json_object_get(s->parent, s->key)
                      : json_array_get(s->parent, s->index);
}

static void sm_set(const struct sm_slot *s, json_t *t) /* steals t */
{
        if (s->key)
                json_object_set_new(s->parent, s->key, t);
        else
                json_array_set_new(s->parent, s->index, t);
}

static void sm_add_slot(struct sm_walk *w, json_t *parent, const char *key,
                        size_t index)
{
        if (w->n_slots < SM_MAX_SLOTS)
                w->slots[w->n_slots++] = (struct sm_slot){parent, key, index};
}

/* Collects every type slot and record below the type t. */
static void sm_walk_type(struct sm_walk *w, json_t *t, int depth)
{
        const char *kind;
        json_t *fields, *f;
        size_t i;

        if (depth > 64)
                return;
        if (json_is_array(t)) {
                json_array_foreach(t, i, f)
                {
                        sm_add_slot(w, t, NULL, i);
                        sm_walk_type(w, f, depth + 1);
                }
                return;
        }
        if (!json_is_object(t))
                return;
        kind = json_string_value(json_object_get(t, "type"));
        if (!kind)
                return;
        if (strcmp(kind, "record") == 0) {
                if (w->n_records < SM_MAX_SLOTS)
                        w->records[w->n_records++] = t;
                fields = json_object_get(t, "fields");
                json_array_foreach(fields, i, f)
                {
                        if (!json_is_object(f))
                                continue;
                        sm_add_slot(w, f, "type", 0);
                        sm_walk_type(w, json_object_get(f, "type"), depth + 1);
                }
        } else if (strcmp(kind, "array") == 0) {
                sm_add_slot(w, t, "items", 0);
                sm_walk_type(w, json_object_get(t, "items"), depth + 1);
        } else if (strcmp(kind, "map") == 0) {
                sm_add_slot(w, t, "values", 0);
                sm_walk_type(w, json_object_get(t, "values"), depth + 1);
        }
}

/* The full name of a record, as a reference to it. */
static json_t *sm_record_ref(json_t *rec, json_t *root)
{
        const char *name = json_string_value(json_object_get(rec, "name"));
        const char *ns = json_string_value(json_object_get(rec, "namespace"));
        char buf[512];
        if (!name)
                return json_string("null");
        if (!ns && !strchr(name, '.'))
                ns = json_string_value(json_object_get(root, "namespace"));
        if (ns && !strchr(name, '.')) {
                snprintf(buf, sizeof(buf), "%s.%s", ns, name);
                return json_string(buf);
        }
        return json_string(name);
}

static json_t *sm_wrap(struct sm_walk *w, json_t *t) /* steals t */
{
        switch (sm_rand(w, 3)) {
        case 0:
                return json_pack("{s:s, s:o}", "type", "array", "items", t);
        case 1:
                return json_pack("{s:s, s:o}", "type", "map", "values", t);
        default:
                return json_pack("[s, o]", "null", t);
        }
}

static void sm_add_field(json_t *rec, const char *name, json_t *type)
{
        json_t *fields = json_object_get(rec, "fields");
        if (!json_is_array(fields)) {
                json_decref(type);
                return;
        }
        json_array_append_new(
                fields, json_pack("{s:s, s:o}", "name", name, "type", type));
}

static const char *const sm_primitives[] = {
        "null", "boolean", "int", "long", "float", "double", "bytes", "string"};

/* One structural change of root; 0 when one was made. */
static int sm_mutate(struct sm_walk *w, json_t *root)
{
        json_t *rec, *t;
        const struct sm_slot *s;
        char name[32];
        unsigned int k;

        sm_walk_type(w, root, 0);
        if (w->n_records == 0)
                return -1;
        rec = w->records[sm_rand(w, (unsigned)w->n_records)];
        s = w->n_slots ? &w->slots[sm_rand(w, (unsigned)w->n_slots)] : NULL;
        snprintf(name, sizeof(name), "fz%u", sm_rand(w, 100000));
        switch (sm_rand(w, 8)) {
        case 0: /* a field of its own type, without a way to end */
                sm_add_field(rec, name, sm_record_ref(rec, root));
                return 0;
        case 1: /* the same, through a union or an array: legal */
                sm_add_field(rec, name, sm_wrap(w, sm_record_ref(rec, root)));
                return 0;
        case 2: /* wrap a type, once or many times */
                if (!s)
                        return -1;
                t = json_incref(sm_get(s));
                for (k = 1 + (sm_rand(w, 4) == 0 ? sm_rand(w, 48) : 0); k > 0;
                     k--)
                        t = sm_wrap(w, t);
                sm_set(s, t);
                return 0;
        case 3: /* widen: many fields at once */
                for (k = 1 + sm_rand(w, 2) * sm_rand(w, 3000); k > 0; k--) {
                        snprintf(name, sizeof(name), "fz%u_%u",
                                 sm_rand(w, 100000), k);
                        sm_add_field(
                                rec, name,
                                json_string(sm_primitives[sm_rand(
                                        w, sizeof(sm_primitives) /
                                                   sizeof(*sm_primitives))]));
                }
                return 0;
        case 4: /* retype as another named record */
                if (!s)
                        return -1;
                sm_set(s,
                       sm_record_ref(
                               w->records[sm_rand(w, (unsigned)w->n_records)],
                               root));
                return 0;
        case 5: /* retype as a primitive */
                if (!s)
                        return -1;
                sm_set(s, json_string(sm_primitives[sm_rand(
                                  w, sizeof(sm_primitives) /
                                             sizeof(*sm_primitives))]));
                return 0;
        case 6: /* remove a field */
                t = json_object_get(rec, "fields");
                if (!json_array_size(t))
                        return -1;
                json_array_remove(t, sm_rand(w, (unsigned)json_array_size(t)));
                return 0;
        default: /* a new record nested in a field, naming an existing one */
                t = json_pack("{s:s, s:s, s:[{s:s, s:o}]}", "type", "record",
                              "name", name, "fields", "name", "inner", "type",
                              sm_record_ref(rec, root));
                sm_add_field(rec, name, t);
                return 0;
        }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed)
{
        const uint8_t *nul;
        size_t json_len, body_len, out_len;
        json_t *root;
        char *text;
        struct sm_walk *w;
        uint8_t *body;

        if (size == 0 || data[0] != '{' || seed % 4 == 0)
                return LLVMFuzzerMutate(data, size, max_size);
        nul = memchr(data, 0, size);
        json_len = nul ? (size_t)(nul - data) : size;
        body_len = nul ? size - json_len - 1 : 0;
        root = json_loadb((const char *)data, json_len, 0, NULL);
        if (!root)
                return LLVMFuzzerMutate(data, size, max_size);
        w = calloc(1, sizeof(*w));
        if (!w) {
                json_decref(root);
                return LLVMFuzzerMutate(data, size, max_size);
        }
        w->rng = seed | 1u;
        text = sm_mutate(w, root) == 0 ? json_dumps(root, JSON_COMPACT) : NULL;
        json_decref(root);
        if (!text || strlen(text) + 1 + body_len > max_size) {
                free(text);
                free(w);
                return LLVMFuzzerMutate(data, size, max_size);
        }
        out_len = strlen(text);
        body = malloc(body_len + 1);
        if (!body) {
                free(text);
                free(w);
                return LLVMFuzzerMutate(data, size, max_size);
        }
        memcpy(body, data + json_len + (nul ? 1 : 0), body_len);
        if (sm_rand(w, 2) && body_len > 0)
                body_len = LLVMFuzzerMutate(body, body_len, body_len);
        memcpy(data, text, out_len);
        data[out_len] = 0;
        memcpy(data + out_len + 1, body, body_len);
        out_len += 1 + body_len;
        free(body);
        free(text);
        free(w);
        return out_len;
}
