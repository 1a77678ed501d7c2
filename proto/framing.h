/*
 * Framings: the ways a byte stream is cut into messages other than the
 * tutorial's own (proto/jmsg.h), described as data in spec/framings/NAME.json
 * (spec/README.md says what each key means), sans I/O.
 *
 *   kind           a message is                          on the wire
 *   length_prefix  WIDTH ASCII decimal digits, then      00012Hello, world
 *                  that many payload bytes
 *   fixed          exactly SIZE bytes; trailing PAD      Hello, world!#####...  (30)
 *                  bytes are not payload
 *   delimited      payload, then DELIMITER (the first    Hello, world!#*#
 *                  occurrence ends the message)
 *   close          all of a direction's bytes up to FIN  Hello, world!<FIN>
 *   raw            (built in, no file) a run of bytes in one direction until
 *                  the other side sends or the direction ends
 *   jmsg           (built in) the tutorial's protocol: decoded by jm_decoder,
 *                  named here so a program can take any framing by name
 *
 * This header is the framing model with its loader: plain structs filled
 * from a framing file by json-c.  The spec generator (spec/gen) uses the same
 * loader, so a file the generator accepts is a file the program accepts;
 * that is why nothing here needs the generated jmsg_spec.h.  The codec (a
 * streaming decoder per direction and an encoder) is framing_codec.h.
 */
#ifndef JM_PROTO_FRAMING_H
#define JM_PROTO_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------- model */

typedef enum jmf_kind {
	JMF_JMSG,
	JMF_RAW,
	JMF_LENGTH_PREFIX,
	JMF_FIXED,
	JMF_DELIMITED,
	JMF_CLOSE,
} jmf_kind;

/* Limits a framing file's values must keep within. */
#define JMF_NAME_MAX 32          /* bytes of "name" */
#define JMF_WIDTH_MAX 9          /* digits of a length prefix (fits 32 bits) */
#define JMF_SIZE_MAX 1048576     /* bytes of a fixed-size message */
#define JMF_DELIM_MAX 64         /* bytes of a delimiter */
#define JMF_PAYLOAD_MAX 1073741824ULL /* limits.max_payload, 1 GiB */
#define JMF_RAW_MAX_PAYLOAD 16777216ULL /* raw's built-in limit, 16 MiB */
#define JMF_FILE_MAX 65536       /* bytes of a framing file */

typedef struct jmf_framing {
	char name[JMF_NAME_MAX + 1];      /* "ascii-length" */
	char proto[JMF_NAME_MAX + 6];     /* "jmsg_ascii_length": Wireshark's protocol */
	jmf_kind kind;
	unsigned width;                   /* length_prefix: digits */
	uint32_t size;                    /* fixed: bytes a message */
	uint8_t pad;                      /* fixed: the pad byte */
	uint8_t delim[JMF_DELIM_MAX];     /* delimited */
	size_t delim_len;
	uint64_t max_payload;             /* largest payload (fixed: size) */
} jmf_framing;

const char *jmf_kind_name(jmf_kind k);   /* "length_prefix" */

/* Loads and checks a framing file.  Every mistake is one line on `err`
 * ("PATH: KEY: what is wrong"), then a count line; returns 0, or -1 when the
 * file is unreadable, not JSON, or has any mistake (*f is then unusable).
 * `err` may be NULL (nothing printed). */
int jmf_load_file(jmf_framing *f, const char *path, FILE *err);
/* The same from JSON text; `label` stands for the path in messages. */
int jmf_load_text(jmf_framing *f, const char *text, size_t len, const char *label, FILE *err);
/* raw or jmsg: the built-in framings that have no file. */
void jmf_builtin(jmf_framing *f, jmf_kind kind);

/* A framing by name or path, as a user gives it to --framing: "jmsg",
 * "raw", the name of a file in spec/framings/ (built into the program:
 * "ascii-length", "fixed", "delimited", "close"), or else the path of a
 * framing file.  Returns 0, or -1 with the reason on `err`
 * (proto/framing_builtin.c). */
int jmf_resolve(jmf_framing *f, const char *name_or_path, FILE *err);
/* The i-th built-in name ("jmsg", "raw", then the files'), NULL past the last. */
const char *jmf_builtin_name(size_t i);

/* The framing files built into the program (generated from spec/framings/
 * by jmsg-gen framings-c into jmsg_framings.c). */
typedef struct jmf_builtin_file {
	const char *name;
	const char *text;    /* the file's JSON text */
	size_t len;
} jmf_builtin_file;
extern const jmf_builtin_file jmf_builtin_files[];
extern const size_t jmf_n_builtin_files;

#endif
