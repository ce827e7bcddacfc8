/*
 * A small x86 instruction decoder for MMIO emulation: the MOV forms a
 * kernel uses for device registers (8B/89 with 66/REX prefixes, C7 with
 * an immediate). Pure code: unit-tested and fed random bytes.
 */
#ifndef HV_DECODE_H
#define HV_DECODE_H

#include <hv/types.h>

struct mmio_insn {
	u8 len;			/* bytes, prefixes included */
	u8 size;		/* operand size: 2, 4 or 8 */
	bool write;		/* a store to memory */
	bool has_imm;		/* the stored value is imm, not a register */
	u8 reg;			/* register number 0-15 (x86 order) */
	u64 imm;
};

/*
 * Decodes the instruction at code (avail bytes readable) executed in
 * 64-bit mode if long_mode, else 32-bit. NULL or why it cannot.
 */
const char *decode_mmio(const u8 *code, u32 avail, bool long_mode,
			struct mmio_insn *out);

#endif
