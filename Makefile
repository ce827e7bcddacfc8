# microhv: the hypervisor image, host unit tests, QEMU runs and tests.
#
#   make            build/microhv.elf (Multiboot 1 and 2)
#   make iso        build/microhv.iso (GRUB, Multiboot 2)
#   make demo       hypervisor, root Linux and a Linux child in QEMU TCG,
#                   the child's console on this terminal
#   make run        hypervisor and root Linux, the root's shell here
#   make test       unit tests + QEMU end-to-end tests; last line: N passed, N failed
#   make unit       host unit tests only

BUILD ?= build
CC ?= gcc
LD ?= ld
PYTHON ?= python3
QEMU ?= qemu-system-x86_64
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

HV_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns \
	-fno-strict-aliasing \
	-fno-stack-protector -fno-pic -fno-pie -mno-red-zone \
	-mgeneral-regs-only -mcmodel=small -fno-asynchronous-unwind-tables \
	-fno-omit-frame-pointer -fcf-protection=none \
	-Ihv/include -Iinclude -MMD -MP
HV_ASFLAGS := -Ihv/include -Iinclude -D__ASSEMBLER__ -MMD -MP
HV_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 \
	-z noexecstack --no-warn-rwx-segments -T hv/hv.ld

HV_C := $(sort $(wildcard hv/*/*.c hv/arch/x86/*.c))
HV_S := $(sort $(wildcard hv/arch/x86/*.S hv/svm/*.S))
HV_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(HV_C)) \
	  $(patsubst %.S,$(BUILD)/%.o,$(HV_S))

# Pure hypervisor code, built for the host against the fake arch.
HV_PURE := hv/lib/printf.c hv/lib/strlcpy.c hv/core/options.c \
	hv/core/vendor.c hv/boot/multiboot.c hv/boot/mbimage.c hv/boot/linux.c \
	hv/arch/x86/decode.c hv/arch/x86/regcheck.c hv/partition/gwalk.c \
	hv/partition/vlapic.c hv/partition/stimer.c hv/partition/cpuid.c \
	hv/partition/rootmsr.c hv/partition/ioapic_filter.c \
	hv/partition/pci_cf8.c hv/mm/memmap.c \
	hv/mm/palloc.c hv/mm/pgtable.c hv/mm/pool.c hv/mm/frame.c \
	hv/acpi/tables.c hv/iommu/ivrs.c hv/iommu/event.c hv/svm/caps.c \
	hv/vmx/caps.c
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror \
	-Wno-unused-parameter -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -Ihv/include -Iinclude \
	-Itests/unit -MMD -MP
UNIT_OBJ := $(patsubst %.c,$(BUILD)/unit/%.o,$(HV_PURE) $(UNIT_SRC))

# Pure parts of the root stack (VMBus server, VSPs, the worker's platform
# pieces), built for the host with libc and tested the same way.
ROOT_PURE := $(sort $(wildcard root/vmbus/*.c root/vsp/*.c \
	root/worker/platform/*.c)) root/worker/logbound.c hv/boot/linux.c
ROOT_UNIT_SRC := $(sort $(wildcard tests/unit/root/*.c)) tests/unit/main.c
ROOT_UNIT_CFLAGS := $(filter-out -Ihv/include,$(UNIT_CFLAGS)) -Iroot \
	-Ihv/include -D_GNU_SOURCE
ROOT_UNIT_OBJ := $(patsubst %.c,$(BUILD)/unit-root/%.o,$(ROOT_PURE) \
	$(ROOT_UNIT_SRC))

# Test kernels: one image per directory under tests/kernels/ (but lib/).
TK_NAMES := $(sort $(patsubst tests/kernels/%/main.c,%,$(wildcard tests/kernels/*/main.c)))
TK_LIB_SRC := $(sort $(wildcard tests/kernels/lib/*.c tests/kernels/lib/*.S)) \
	hv/lib/printf.c hv/lib/string.c hv/lib/strlcpy.c
TK_LIB_OBJ := $(patsubst %,$(BUILD)/tk/obj/%.o,$(basename $(TK_LIB_SRC)))
TK_ELFS := $(patsubst %,$(BUILD)/tk/%.elf,$(TK_NAMES))
TK_CFLAGS := $(HV_CFLAGS) -Itests/kernels/lib

.PHONY: all iso run demo test unit clean kernels fuzz bench
all: $(BUILD)/microhv.elf $(TK_ELFS)
kernels: $(TK_ELFS)

$(BUILD)/tk/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(TK_CFLAGS) $(if $(filter tests/kernels/%/main.c,$<),-DTK_NAME='"$(notdir $(patsubst %/,%,$(dir $<)))"') -c -o $@ $<

$(BUILD)/tk/obj/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(HV_ASFLAGS) -c -o $@ $<

$(BUILD)/tk/%.elf: $(BUILD)/tk/obj/tests/kernels/%/main.o $(TK_LIB_OBJ) tests/kernels/lib/kernel.ld
	@echo "  LD      $@"
	$(Q)$(LD) -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack \
		--no-warn-rwx-segments -T tests/kernels/lib/kernel.ld -o $@ \
		$< $(TK_LIB_OBJ)
# Reached only through the pattern rule above: keep them, or make deletes
# them after every build and rebuilds the kernels next time.
.SECONDARY: $(TK_LIB_OBJ) \
	$(patsubst %,$(BUILD)/tk/obj/tests/kernels/%/main.o,$(TK_NAMES))

$(BUILD)/microhv.elf: $(HV_OBJ) hv/hv.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(HV_LDFLAGS) -o $@ $(HV_OBJ)

$(BUILD)/hv/%.o: hv/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HV_CFLAGS) -c -o $@ $<

$(BUILD)/hv/%.o: hv/%.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(HV_ASFLAGS) -c -o $@ $<

$(BUILD)/unit/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(UNIT_CFLAGS) -c -o $@ $<

$(BUILD)/unit/unit-tests: $(UNIT_OBJ)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(UNIT_CFLAGS) -o $@ $(UNIT_OBJ)

$(BUILD)/unit-root/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(ROOT_UNIT_CFLAGS) -c -o $@ $<

$(BUILD)/unit/root-unit-tests: $(ROOT_UNIT_OBJ)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(ROOT_UNIT_CFLAGS) -o $@ $(ROOT_UNIT_OBJ) -lpthread

unit: $(BUILD)/unit/unit-tests $(BUILD)/unit/root-unit-tests
	$(BUILD)/unit/unit-tests
	$(BUILD)/unit/root-unit-tests

iso: $(BUILD)/microhv.iso
$(BUILD)/microhv.iso: $(BUILD)/microhv.elf scripts/mkiso.sh
	scripts/mkiso.sh $@ $(BUILD)/microhv.elf ""

ROOT ?= linux
run: $(BUILD)/microhv.elf $(TK_ELFS)
	@if [ "$(ROOT)" = linux ]; then scripts/mkroot.sh $(BUILD); fi
	ROOT=$(ROOT) scripts/run.sh $(BUILD)/microhv.elf $(ARGS)

demo: $(BUILD)/microhv.elf $(TK_ELFS)
	scripts/mkroot.sh $(BUILD)
	RUN=demo MEM=$${MEM:-2G} scripts/run.sh $(BUILD)/microhv.elf $(ARGS)

test: $(BUILD)/microhv.elf $(TK_ELFS) $(BUILD)/unit/unit-tests \
	$(BUILD)/unit/root-unit-tests
	$(PYTHON) tests/run.py --build $(BUILD)

bench: $(BUILD)/microhv.elf $(TK_ELFS)
	$(PYTHON) scripts/bench.py

fuzz: $(BUILD)/microhv.elf $(TK_ELFS)
	scripts/fuzz-long.sh $(FUZZ_ITERATIONS) $(FUZZ_SEEDS)

clean:
	rm -rf $(BUILD)

-include $(HV_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(ROOT_UNIT_OBJ:.o=.d) $(TK_LIB_OBJ:.o=.d) \
	$(patsubst %,$(BUILD)/tk/obj/tests/kernels/%/main.d,$(TK_NAMES))
