/*
 * The physical memory map: the firmware's ranges, cleaned up (sorted,
 * no overlaps, RAM trimmed to whole pages) and then annotated with what
 * the hypervisor carved out of RAM. Everything still MEM_RAM at the end
 * belongs to the root partition.
 */
#ifndef HV_MEMMAP_H
#define HV_MEMMAP_H

#include <hv/bootinfo.h>

enum mem_type {
	MEM_RAM = 1,		/* usable RAM, owned by the root */
	MEM_RESERVED,		/* firmware reserved, or unknown type */
	MEM_ACPI,		/* ACPI reclaimable */
	MEM_NVS,		/* ACPI NVS */
	MEM_UNUSABLE,		/* bad RAM */
	MEM_HV_IMAGE,		/* the hypervisor image, text to bss */
	MEM_BOOT_MODULE,	/* a Multiboot module (root kernel, initrd) */
	MEM_HV_POOL,		/* the hypervisor's own page pool */
	MEM_HV_BOOT,		/* hypervisor, needed during boot (AP trampoline) */
};

#define MEMMAP_MAX 320

struct mem_region {
	u64 base;
	u64 end;		/* exclusive */
	enum mem_type type;
};

struct memmap {
	u32 n;
	struct mem_region r[MEMMAP_MAX];
};

const char *mem_type_name(enum mem_type t);

/* Builds the map from the loader's ranges. False if it overflowed. */
bool memmap_init(struct memmap *m, const struct boot_mem_range *fw, u32 n);

/*
 * Gives [base, base+len) (widened to whole pages) the type t where it is
 * RAM. Returns false if part of the range was not RAM (left as it was),
 * or if the map overflowed.
 */
bool memmap_claim(struct memmap *m, u64 base, u64 len, enum mem_type t);

/*
 * Takes size bytes of RAM within [floor, ceiling), from the top down, in
 * pieces starting on 2 MiB boundaries where the RAM allows (so a piece
 * may be up to 2 MiB - 4 KiB larger than what was left to take). The pieces
 * become type t and are written to out. Returns the number of pieces, 0
 * if there was not enough RAM (the map is then unchanged).
 */
u32 memmap_take_top(struct memmap *m, u64 size, u64 floor, u64 ceiling,
		    enum mem_type t, struct mem_region *out, u32 max_out);

/* Every region of type t becomes RAM again (returned to the root). */
void memmap_release(struct memmap *m, enum mem_type t);

u64 memmap_total(const struct memmap *m, enum mem_type t);
u64 memmap_end(const struct memmap *m);	/* end of the highest range */

/* Type of the page holding pa (MEM_RESERVED if no range covers it). */
enum mem_type memmap_type_at(const struct memmap *m, u64 pa);

#endif
