/* MMIO instruction decoding. Pure code: unit-tested on the host. */
#include <hv/decode.h>
#include <hv/string.h>

/* Bytes of ModRM, SIB and displacement after the opcode, or 0 if bad. */
static u32 modrm_len(const u8 *p, u32 avail, bool long_mode)
{
	u8 modrm, mod, rm;
	u32 n = 1;

	if (avail < 1)
		return 0;
	modrm = p[0];
	mod = modrm >> 6;
	rm = modrm & 7;
	if (mod == 3)
		return 0;		/* a register, not memory */
	if (rm == 4) {			/* SIB */
		if (avail < 2)
			return 0;
		n++;
		if (mod == 0 && (p[1] & 7) == 5)
			n += 4;		/* no base: disp32 */
	} else if (mod == 0 && rm == 5) {
		n += 4;			/* disp32, RIP-relative in long mode */
	}
	(void)long_mode;
	if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return n <= avail ? n : 0;
}

const char *decode_mmio(const u8 *code, u32 avail, bool long_mode,
			struct mmio_insn *o)
{
	u32 i = 0, m;
	u8 rex = 0, op;
	bool opsize = false;

	memset(o, 0, sizeof(*o));
	avail = MIN(avail, 15u);
	for (; i < avail; i++) {
		if (code[i] == 0x66)
			opsize = true;
		else if (code[i] == 0x2e || code[i] == 0x3e ||
			 code[i] == 0x26 || code[i] == 0x36 ||
			 code[i] == 0x64 || code[i] == 0x65)
			continue;	/* segment overrides */
		else
			break;
	}
	if (long_mode && i < avail && (code[i] & 0xf0) == 0x40)
		rex = code[i++];
	if (i >= avail)
		return "instruction truncated";
	op = code[i++];
	o->size = (rex & 8) ? 8 : opsize ? 2 : 4;
	switch (op) {
	case 0x89: o->write = true; break;	/* mov r/m, r */
	case 0x8b: break;			/* mov r, r/m */
	case 0xc7: o->write = o->has_imm = true; break;	/* mov r/m, imm */
	case 0xa1:				/* mov eAX, moffs */
	case 0xa3:				/* mov moffs, eAX */
		/* No ModRM: an absolute address as wide as addresses are
		 * (the fault says which GPA it names). */
		o->write = op == 0xa3;
		i += long_mode ? 8 : 4;
		if (i > avail)
			return "instruction truncated";
		o->len = (u8)i;
		return NULL;
	default: return "not a MOV the MMIO emulator knows";
	}
	m = modrm_len(code + i, avail - i, long_mode);
	if (!m)
		return "bad or register-only ModRM";
	if (op == 0xc7 && ((code[i] >> 3) & 7))
		return "C7 with a non-zero reg field";
	o->reg = (u8)(((code[i] >> 3) & 7) | ((rex & 4) ? 8 : 0));
	i += m;
	if (o->has_imm) {
		u32 isz = o->size == 2 ? 2 : 4;	/* imm32 sign-extends for 8 */
		s32 imm32 = 0;

		if (i + isz > avail)
			return "instruction truncated";
		if (isz == 2) {
			u16 v;
			memcpy(&v, code + i, 2);
			o->imm = v;
		} else {
			memcpy(&imm32, code + i, 4);
			o->imm = o->size == 8 ? (u64)(s64)imm32 : (u32)imm32;
		}
		i += isz;
	}
	o->len = (u8)i;
	return NULL;
}
