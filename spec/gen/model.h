/*
 * The spec model: spec/jmsg.json loaded, validated and held in plain C
 * structs.  Back ends (emit_c.c, emit_lua.c) read only this model, never the
 * JSON, so a new output language is a new back end and nothing else.
 */
#ifndef JM_SPEC_GEN_MODEL_H
#define JM_SPEC_GEN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum spec_type { ST_STRING, ST_INTEGER, ST_NUMBER, ST_BOOLEAN, ST_OBJECT, ST_ARRAY, ST_NULL };

struct spec_field {
	char *key;        /* JSON key on the wire: "content-length" */
	char *ident;      /* identifier for code: "content_length" */
	char *doc;
	enum spec_type type;
	bool required;
	bool has_min, has_max;
	int64_t min, max;
	char **enums;
	size_t n_enums;
};

struct spec_error {
	char *id;
	char *severity;   /* "error", "warning", "note" */
	char *recovery;   /* "lost_framing", "if_length_known", "continue" */
	char *text;
	bool wire;        /* "wire": false: the decoder's own trouble (out of
	                     memory), never caused by bytes on the wire */
};

struct spec_problem {
	char *id;
	char *severity;
	char *text;
};

struct spec_frame_field {
	char *id;
	char *type;       /* "u2be", "json_object", "dispatch" */
	int size;         /* fixed size, or 0 */
	char *size_from;  /* earlier field or "header.KEY" giving the size */
	int64_t min_size, max_size;
};

struct spec {
	int version;
	char *name, *abbrev, *transport, *doc;
	int default_port;
	struct spec_frame_field *frame;
	size_t n_frame;
	struct spec_field *fields;
	size_t n_fields;
	char *json_content_type;   /* the content-type dispatched to JSON */
	char *content_type_key;    /* header key content dispatches on */
	char *content_encoding_key; /* header key naming the JSON content's encoding */
	char *summary_verb;        /* content member shown bare in a one-line view, or NULL */
	char **summary_quoted;     /* content members shown quoted after it */
	size_t n_summary_quoted;
	char **json_encodings;
	size_t n_json_encodings;
	int64_t max_header_len, default_max_content_len, max_json_depth;
	struct spec_error *errors;
	size_t n_errors;
	struct spec_problem *problems;
	size_t n_problems;
	/* Errors of the framings in spec/framings/ (proto/framing.h): their own
	 * recoveries ("lost_framing", "continue", "resync"), ids shared with the
	 * errors and problems above. */
	struct spec_error *framing_errors;
	size_t n_framing_errors;
};

/* Load and validate.  On failure prints one line per problem to `err` and
 * returns -1, with nothing left allocated (no spec_free needed). */
int spec_load(struct spec *s, const char *path, FILE *err);
void spec_free(struct spec *s);

/* "content-length" -> "CONTENT_LENGTH" (into buf). */
const char *spec_upper_ident(const char *s, char *buf, size_t cap);
const char *spec_type_name(enum spec_type t);

int emit_c(const struct spec *s, const char *h_path, const char *c_path);
int emit_lua(const struct spec *s, const char *template_path, const char *path);

struct jmf_framing;
/* The dissector of one framing file (emit_framing.c): TEMPLATE copied with
 * the framing's and the framing errors' tables at its marker line. */
int emit_framing_lua(const struct spec *s, const struct jmf_framing *fr, const char *template_path,
		     const char *path);
/* A C file holding each framing file's JSON text, named by its "name", so
 * the program knows the framings by name (proto/framing_builtin.c). */
int emit_framings_c(int n, char **paths, const char *c_path);

#endif
