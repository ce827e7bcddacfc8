/*
 * A tiny AML (ACPI Machine Language) emitter: just the objects a static
 * DSDT needs (Scope, Device, Name, Package, integers, strings, buffers and
 * resource templates). Pure code, host unit-tested.
 *
 * Errors are sticky: a call after an error or past the end of the buffer
 * does nothing but keep counting, so a caller emits a whole table and
 * checks once with aml_finish(). With buf == NULL and cap == 0 the emitter
 * only measures.
 */
#ifndef WORKER_PLATFORM_AML_H
#define WORKER_PLATFORM_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 16		/* open Scope/Device/Package nesting */
#define AML_PKGLEN_MAX 0x0fffffffu	/* largest 4-byte PkgLength */

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;			/* bytes emitted, even past cap */
	bool overflow;			/* len went past cap */
	bool invalid;			/* bad name, string or nesting */
	unsigned int depth;
	size_t open[AML_MAX_DEPTH];	/* where each open PkgLength goes */
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);

/* 0 if the stream is complete and fits, -ENOSPC or -EINVAL otherwise. */
int aml_finish(const struct aml *a);

/* Raw bytes (a table header, for instance). */
void aml_bytes(struct aml *a, const void *p, size_t n);

/*
 * A NameString from ASL-like text: an optional '\' or run of '^', then
 * dot-separated segments of 1..4 characters ("\_SB.VMOD", "_HID"). Short
 * segments are padded with '_' as iasl does.
 */
void aml_name_string(struct aml *a, const char *path);

/* Smallest encoding: ZeroOp, OneOp, or Byte/Word/DWord/QWord const. */
void aml_integer(struct aml *a, uint64_t v);

/* A String object; printable ASCII only. */
void aml_string(struct aml *a, const char *s);

/* EISAID("PNP0501"): the compressed 32-bit id as a DWord constant. */
void aml_eisaid(struct aml *a, const char *id);

/* A Buffer whose size and contents are known up front. */
void aml_buffer(struct aml *a, const void *bytes, size_t n);

/* Name (path, <object>): emit the object right after this call. */
void aml_name(struct aml *a, const char *path);

/* Open objects with a PkgLength; close each with aml_end(). */
void aml_scope_begin(struct aml *a, const char *path);
void aml_device_begin(struct aml *a, const char *path);
void aml_package_begin(struct aml *a, uint8_t num_elements);
void aml_end(struct aml *a);

/* Bytes a PkgLength needs when the rest of its package is body_len. */
unsigned int aml_pkglen_size(size_t body_len);

/*
 * Resource template contents (ACPI 6.5 section 6.4), assembled before
 * being emitted as one Buffer with aml_resource_template().
 */
#define AML_RES_MAX 256

struct aml_res {
	uint8_t bytes[AML_RES_MAX];
	size_t len;
	bool overflow;
};

void aml_res_init(struct aml_res *r);

/* IO (Decode16, min, max, align, len): small I/O port descriptor. */
void aml_res_io16(struct aml_res *r, uint16_t min, uint16_t max,
		  uint8_t align, uint8_t len);

/*
 * QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable,
 * ReadWrite, 0, base, base + size - 1, 0, size). size must not be 0.
 */
void aml_res_qword_memory(struct aml_res *r, uint64_t base, uint64_t size);

/* Adds the End Tag and emits Buffer () { descriptors }. */
void aml_resource_template(struct aml *a, const struct aml_res *r);

#endif
